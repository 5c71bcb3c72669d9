import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Matcher } from '../src/analyze/hostnames.js';
import { effectiveDocument, toYaml } from '../src/config/effective.js';
import { loadConfig } from '../src/config/load.js';
import { MAX_PATTERN_FILE_PROBLEMS } from '../src/config/patterns-file.js';
import { KasmonError } from '../src/errors.js';

/** `patterns_file:`: a rule's patterns from a text file, one per line, relative to the config file. */
const dir = mkdtempSync(join(tmpdir(), 'kasmon-patterns-file-'));
mkdirSync(join(dir, 'feeds'));
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const rule = (id: string, key: string, severity = 'high'): string => `    - id: ${id}\n      ${key}\n      severity: ${severity}\n      confidence: C\n`;
const config = (name: string, rules: string): string => write(name, `extends: none\nendpoints:\n  other:\n${rules}`);

function loadError(path: string): string {
  try {
    loadConfig(path);
  } catch (e) {
    expect(e).toBeInstanceOf(KasmonError);
    return (e as KasmonError).message;
  }
  throw new Error('expected a config error');
}

describe('patterns_file', () => {
  test('one pattern per line; blank lines, # comments, spaces and CR ignored; the path is relative to the config file', () => {
    write('feeds/ti.txt', ['# a feed', 'evil.example.com', '', '   Mixed.Case.Example.NET.  ', 'c2.example.org # seen 2024-09', '*.bad.example.org\r', 'h{1..3}.example.io'].join('\n'));
    const c = loadConfig(config('ti.yaml', rule('ti', 'patterns_file: feeds/ti.txt')));
    expect(c.endpoints).toHaveLength(1);
    expect(c.endpoints[0]?.patterns.map((p) => p.source)).toEqual(['evil.example.com', 'mixed.case.example.net', 'c2.example.org', '*.bad.example.org', 'h{1..3}.example.io']);
    const m = new Matcher(c.endpoints);
    for (const n of ['evil.example.com', 'MIXED.case.example.net', 'c2.example.org', 'x.y.bad.example.org', 'h2.example.io']) expect(m.match(n)?.id, n).toBe('ti');
    expect(m.match('h4.example.io')).toBeUndefined();
  });

  test('a bad line is reported as FILE:LINE with the rule\'s field, after the config file\'s own problems', () => {
    write('feeds/bad.txt', ['ok.example.com', 'bad..example.com', '*.com', 'fine.example.com', 'spa ce.example.com'].join('\n'));
    const path = config('bad.yaml', rule('bad', 'patterns_file: feeds/bad.txt') + rule('sev', 'pattern: x.example.com', 'loud'));
    const shown = (p: string): string => join(dir, p); // the config's path is absolute, so is the feed's
    expect(loadError(path).split('\n')).toEqual([
      `invalid config ${path}: 4 problems`,
      `${path}:10: endpoints.other[1].severity: "loud" is not one of critical, high, medium, low, info`,
      `${shown('feeds/bad.txt')}:2: endpoints.other[0].patterns_file: "bad..example.com": empty label (a leading dot or "..")`,
      `${shown('feeds/bad.txt')}:3: endpoints.other[0].patterns_file: "*.com": a wildcard needs at least 2 literal labels at the end (like *.kaspersky.com)`,
      `${shown('feeds/bad.txt')}:5: endpoints.other[0].patterns_file: "spa ce.example.com": label "spa ce" has a character outside a-z 0-9 - _ *`,
    ]);
  });

  test(`past ${MAX_PATTERN_FILE_PROBLEMS} bad lines, one line says how many more`, () => {
    write('feeds/binary.txt', Array.from({ length: 100 }, (_, i) => `\u0000junk ${i}`).join('\n'));
    const msg = loadError(config('binary.yaml', rule('b', 'patterns_file: feeds/binary.txt')));
    expect(msg.split('\n')).toHaveLength(1 + MAX_PATTERN_FILE_PROBLEMS + 1);
    expect(msg).toContain(`binary.txt:100: endpoints.other[0].patterns_file: ${100 - MAX_PATTERN_FILE_PROBLEMS} more bad lines not shown (100 in all)`);
  });

  test.for([
    ['a missing file', 'patterns_file: feeds/nope.txt', ':5: endpoints.other[0].patterns_file: cannot read', 'no such file (the path is relative to the config file)'],
    ['a directory', 'patterns_file: feeds', ':5: endpoints.other[0].patterns_file: cannot read', 'it is a directory'],
    ['an empty name', 'patterns_file: ""', ':5: endpoints.other[0].patterns_file: empty; name a text file', ''],
    ['a file without patterns', 'patterns_file: feeds/empty.txt', ':5: endpoints.other[0].patterns_file: ', 'lists no patterns; write one name per line'],
    ['patterns and patterns_file', 'patterns: [a.example.com]\n      patterns_file: feeds/ti.txt', ':6: endpoints.other[0].patterns_file: use either "patterns" or "patterns_file", not both', ''],
  ] as const)('%s', ([, key, where, why]) => {
    write('feeds/empty.txt', '# nothing yet\n\n');
    const path = config('one.yaml', rule('r', key));
    const msg = loadError(path);
    expect(msg).toContain(`${path}${where}`);
    expect(msg).toContain(why);
  });

  test('a name in a feed and in another rule of the file is a duplicate, as in the YAML', () => {
    write('feeds/dup.txt', 'a.example.com\nb.example.com\n');
    const path = config('dup.yaml', rule('feed', 'patterns_file: feeds/dup.txt') + rule('yaml', 'pattern: b.example.com'));
    expect(loadError(path)).toContain(`${path}:8: endpoints.other: rule "yaml": "b.example.com" is already listed by rule "feed" at line 4; keep one`);
  });

  test('100,000 names from a feed, and the effective config written back lists them', () => {
    write('feeds/big.txt', Array.from({ length: 100_000 }, (_, i) => `host${i}.domain${i % 997}.example`).join('\n'));
    const c = loadConfig(config('big.yaml', rule('big', 'patterns_file: feeds/big.txt')));
    expect(c.endpoints[0]?.patterns).toHaveLength(100_000);
    expect(new Matcher(c.endpoints).match('host99999.domain299.example')?.id).toBe('big');
    const back = loadConfig(write('big-effective.yaml', toYaml(effectiveDocument(c, loadConfig()))));
    expect(back.endpoints).toStrictEqual(c.endpoints);
  });
});
