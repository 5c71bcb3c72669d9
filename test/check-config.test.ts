import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as Y from 'yaml';
import { effectiveDocument, toYaml, yamlScalar } from '../src/config/effective.js';
import { parseSubset } from '../src/config/fast-yaml.js';
import { loadConfig, parseConfig, type Config } from '../src/config/load.js';

/**
 * check-config's output: the effective settings in the file's own keys, and as a YAML (or
 * JSON) file that check-config accepts and that reads back to the same settings.
 */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kasmon-check-config-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const kasmon = (args: string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, ['dist/cli.js', ...args], { cwd: ROOT, encoding: 'utf8' });

/** A Config without the files it came from: what "the same effective settings" compares. */
const settings = (c: Config): Omit<Config, 'files'> => {
  const { files: _files, ...rest } = c;
  return rest;
};

const rule = (id: string, pattern: string, category = 'update'): string => `  ${category}:\n    - { id: ${id}, pattern: "${pattern}", severity: high, confidence: A }\n`;

const CASES: ReadonlyArray<readonly [name: string, text: string | undefined]> = [
  ['the defaults', undefined],
  ['config/example.yaml', 'config/example.yaml'],
  ['a user rule listing a default name under another id (it wins)', `endpoints:\n${rule('mine', 'my.kaspersky.com')}`],
  ['a user wildcard as specific as a default one, in an earlier category', `endpoints:\n${rule('mine', 'ksn-*-geo.kaspersky-labs.com')}`],
  ['extends: none', `extends: none\nendpoints:\n${rule('only', 's{00..03}.example.com')}`],
  [
    'every kind of value',
    [
      'cutoff: 2024-09-29T00:00:00.123456-04:00',
      'observer: { name: "sensor: #1" }',
      'alerts: { min_severity: info, suppress_seconds: 0 }',
      'limits: { memory: { clients: 1536KiB, quic: 1048577 } }',
      'monitor: { listen: "[::1]:9000", api_token_file: /etc/kasmon/token, idle_link_ok: true }',
      'capture: { filter_add: "udp port 5353 or (tcp and port 853)", user: "" }',
      'dns: { ports: [53, 5353] }',
      'appliances: [{ address: "2001:DB8::1", name: "fw \'edge\'" }]',
      'public_dns_fallback: []',
      'endpoints:',
      '  other:',
      '    - id: x.1',
      '      patterns: ["*.Example.ORG.", "a-*.b.example.org", "{x,y}.example.org"]',
      '      severity: low',
      '      confidence: C',
      '      purpose: "Quotes \' and \\" and a colon: here"',
      '      sources: ["https://example.org/a,b", "true", "1.5", "#tag"]',
    ].join('\n'),
  ],
];

const load = (text: string | undefined): Config => (text === undefined ? loadConfig() : text.startsWith('config/') ? loadConfig(text) : loadConfig(file('in.yaml', text)));

describe('the effective config as YAML reads back to the same settings', () => {
  test.for(CASES)('%s', ([, text]) => {
    const c = load(text);
    const yaml = toYaml(effectiveDocument(c, loadConfig()), ['a header']);
    expect(settings(loadConfig(file('out.yaml', yaml)))).toStrictEqual(settings(c));
    // Every section is there: it reads as a complete file too (as config/default.yaml does).
    expect(() => parseConfig(yaml, 'out.yaml', null)).not.toThrow();
    // And it is within the YAML subset the fast reader takes.
    expect(parseSubset(Y, yaml).ok).toBe(true);
  });

  test('a file laid over the defaults prints its own rules under extends: default; one file prints all', () => {
    const example = effectiveDocument(loadConfig('config/example.yaml'), loadConfig());
    expect(example.extends).toBe('default');
    expect(Object.values(example.endpoints as Record<string, unknown[]>).flat().map((r) => (r as { id: string }).id)).toEqual(['corp-ksc-mirror', 'portal-my']);
    const defaults = effectiveDocument(loadConfig(), loadConfig());
    expect(defaults.extends).toBe('none');
    expect(Object.values(defaults.endpoints as Record<string, unknown[]>).flat()).toHaveLength(loadConfig().endpoints.length);
  });

  test('10,000 rules read back the same', () => {
    const lines = ['extends: none', 'endpoints:', '  other:'];
    for (let i = 0; i < 10_000; i++) lines.push(`    - { id: r${i}, patterns: ["h${i}.example.com", "h${i}-*.example.net"], severity: low, confidence: C, sources: [feed] }`);
    const c = load(lines.join('\n'));
    expect(settings(loadConfig(file('big.yaml', toYaml(effectiveDocument(c, loadConfig())))))).toStrictEqual(settings(c));
  });

  test('a scalar is written so that it reads back as itself, in a block and inside [ ]', () => {
    const tricky = fc.constantFrom('', ' ', 'a ', ' a', 'a: b', 'a:', 'a #b', '#', '- a', '-', '*', '&a', '!a', '|', '>', '@', '`', '%', '"', "'", '[', ']', '{', '}', ',', '?', ':', 'yes', 'true', 'NULL', '~', '1', '-1', '+1', '0x1', '0o7', '1e3', '.5', '.inf', '.NaN', '1_000', '1.5.6', '8.8.8.8', 'a\tb', 'a\nb', '\u2028', '\ufeff', 'ü', '---', '...');
    fc.assert(
      fc.property(fc.oneof(tricky, fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 })), (s) => {
        expect(Y.parse(`k: ${yamlScalar(s)}\n`)).toEqual({ k: s });
        expect(Y.parse(`k: [${yamlScalar(s)}, x]\n`)).toEqual({ k: [s, 'x'] });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('kasmon check-config', () => {
  test('text (the default): "config OK", then every setting in the file\'s snake_case keys, rules counted', () => {
    const r = kasmon(['check-config', 'config/example.yaml']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('config OK');
    const out = JSON.parse(r.stdout.slice('config OK\n'.length)) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['files', 'cutoff', 'observer', 'alerts', 'limits', 'time', 'monitor', 'capture', 'sinks', 'dns', 'attribution', 'update_paths', 'milestones', 'public_dns_fallback', 'appliances', 'rules_by_category']);
    expect(out).toMatchObject({
      files: ['config/default.yaml', 'config/example.yaml'],
      cutoff: '2024-09-10T04:00:00Z',
      observer: { name: 'sensor-hq-span1' },
      alerts: { suppress_seconds: 3600, min_severity: 'low' },
      limits: { max_clients: 100000, memory: { clients: '128MiB' } },
      monitor: { listen: '127.0.0.1:20929', idle_link_ok: false },
      capture: { buffer_kib: 32768, filter_add: '' },
      rules_by_category: { update: 11 },
    });
    expect(r.stdout).not.toMatch(/"[a-z]+[A-Z]\w*":/); // no camelCase key
  });

  test('--format yaml, fed back to check-config, prints the same; so does --format json', () => {
    for (const format of ['yaml', 'json']) {
      const first = kasmon(['check-config', '--format', format, 'config/example.yaml']);
      expect(first.status, first.stderr).toBe(0);
      const again = kasmon(['check-config', '--format', format, file(`again.${format}`, first.stdout)]);
      expect(again.status, again.stderr).toBe(0);
      const body = (s: string): string => s.replace(/^# kasmon .* effective config from .*\n/, '');
      expect(body(again.stdout)).toBe(body(first.stdout));
      const text = [first.stdout, again.stdout].map((s) => kasmon(['check-config', file('x.yaml', s)]).stdout.split('\n').filter((l) => !l.includes('.yaml')).join('\n'));
      expect(text[1]).toBe(text[0]);
    }
  });

  test('--format yaml without a file is the defaults, every rule included', () => {
    const r = kasmon(['check-config', '--format', 'yaml']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^# kasmon \S+ effective config from config\/default\.yaml\n/);
    expect(r.stdout).toContain('\nextends: none\n');
    expect(r.stdout).toContain("    - id: upd-snn\n      pattern: 's{00..19}.upd.kaspersky.com'\n");
  });

  test('--format with another value is a usage error naming the formats', () => {
    const r = kasmon(['check-config', '--format', 'toml']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/text, yaml, json/);
  });
});
