import { effectiveDocument, effectiveSettings, toYaml } from '../config/effective.js';
import { loadConfig } from '../config/load.js';
import { EXIT } from '../errors.js';
import { CHECK_CONFIG, parseCommand } from './options.js';
import { version } from './version.js';

/**
 * `kasmon check-config [--format text|yaml|json] [file]`: every problem of the file at once
 * (exit 2, from loadConfig), or the effective settings. `text` (the default) is "config OK"
 * and the settings as JSON with the rules counted by category; `yaml` and `json` are the whole
 * effective config as a file check-config accepts (config/effective.ts).
 */
export function checkConfig(args: string[]): number {
  const { values, positionals } = parseCommand(CHECK_CONFIG, args);
  const c = loadConfig(positionals[0]);
  if (values.format === 'json') {
    process.stdout.write(`${JSON.stringify(effectiveDocument(c, loadConfig()), null, 2)}\n`);
  } else if (values.format === 'yaml') {
    const doc = effectiveDocument(c, loadConfig());
    const own = doc.extends === 'default' ? ['endpoints: the default rules (kasmon check-config --format yaml lists them), then the rules below'] : [];
    const header = [
      `kasmon ${version()} effective config from ${c.files.join(' + ')}`,
      'Every setting in force; use it as a config file (kasmon check-config FILE, --config FILE).',
      ...own,
    ];
    process.stdout.write(toYaml(doc, header));
  } else {
    const settings = effectiveSettings(c);
    const rules = c.endpoints.reduce<Record<string, number>>((m, r) => ((m[r.category] = (m[r.category] ?? 0) + 1), m), {});
    process.stdout.write(`config OK\n${JSON.stringify({ files: c.files, ...settings, rules_by_category: rules }, null, 2)}\n`);
  }
  return EXIT.ok;
}
