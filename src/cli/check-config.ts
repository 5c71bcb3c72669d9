import { loadConfig } from '../config/load.js';
import { EXIT } from '../errors.js';
import { CHECK_CONFIG, parseCommand } from './options.js';

export function checkConfig(args: string[]): number {
  const { positionals } = parseCommand(CHECK_CONFIG, args);
  const c = loadConfig(positionals[0]);
  const rules = c.endpoints.reduce<Record<string, number>>((m, r) => ((m[r.category] = (m[r.category] ?? 0) + 1), m), {});
  const effective = {
    files: c.files,
    cutoff: c.cutoff.iso,
    observer: c.observer.name,
    alerts: c.alerts,
    limits: c.limits,
    time: c.time,
    dns: c.dns,
    public_dns_fallback: c.publicDnsFallback,
    appliances: c.appliances,
    rules_by_category: rules,
  };
  process.stdout.write(`config OK\n${JSON.stringify(effective, null, 2)}\n`);
  return EXIT.ok;
}
