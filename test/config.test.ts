import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { Matcher } from '../src/analyze/hostnames.js';
import { CATEGORIES } from '../src/analyze/rules.js';
import { loadConfigSnapshot, saveConfigSnapshot, SNAPSHOT_FORMAT } from '../src/config/snapshot.js';
import {
  DEFAULT_CONFIG_PATH,
  loadConfig,
  parseConfig,
  parseConfigBody,
  readDefaultConfig,
  tooDeep,
  type ConfigBody,
} from '../src/config/load.js';
import { cutoffRounding, parseTimestamp } from '../src/config/timestamp.js';
import { KasmonError } from '../src/errors.js';

const FILE = 'config/x.yaml';

/** The KasmonError parseConfig throws for `text`, or a failed expectation. */
function configError(text: string, base?: null): KasmonError {
  try {
    if (base === null) parseConfig(text, FILE, null);
    else parseConfig(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(KasmonError);
    const e = err as KasmonError;
    expect(e.code).toBe('ERR_CONFIG');
    expect(e.exitCode).toBe(2);
    return e;
  }
  throw new Error('expected a config error');
}

function loadError(path: string): KasmonError {
  try {
    loadConfig(path);
  } catch (err) {
    expect(err).toBeInstanceOf(KasmonError);
    return err as KasmonError;
  }
  throw new Error('expected a config error');
}

function isDeepFrozen(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return true;
  return Object.isFrozen(v) && Object.values(v).every(isDeepFrozen);
}

const rule = (id: string, pattern: string, severity = 'high'): string =>
  `    - { id: ${id}, pattern: "${pattern}", severity: ${severity}, confidence: A }`;

describe('config/default.yaml', () => {
  const c = loadConfig();

  test('loads with the documented defaults', () => {
    expect(DEFAULT_CONFIG_PATH.endsWith(join('config', 'default.yaml'))).toBe(true);
    expect(c.files).toEqual(['config/default.yaml']);
    expect(c.cutoff).toEqual({ micros: Date.parse('2024-09-29T04:00:00Z') * 1000, iso: '2024-09-29T04:00:00Z' });
    expect(c.observer.name).toBe(hostname());
    expect(c.alerts).toEqual({ suppressSeconds: 3600, minSeverity: 'medium', resolveSeconds: 3600 });
    expect(c.dns.ports).toEqual([53]);
    expect(c.publicDnsFallback.map((r) => r.address)).toEqual([
      '8.8.8.8',
      '1.1.1.1',
      '223.6.6.6',
      '9.9.9.9',
      '185.228.168.168',
    ]);
    expect(c.publicDnsFallback.filter((r) => r.evidence === 'strong').map((r) => r.address)).toEqual([
      '223.6.6.6',
      '185.228.168.168',
    ]);
    expect(c.appliances).toEqual([]);
    expect(c.limits.maxClients).toBeGreaterThan(0);
  });

  test('has rules in every category, each citing sources', () => {
    const counts = Object.fromEntries(CATEGORIES.map((cat) => [cat, c.endpoints.filter((r) => r.category === cat).length]));
    expect(counts).toEqual({
      update: 10,
      ksn: 5,
      activation: 4,
      certificates: 2,
      telemetry: 2,
      portals: 4,
      other: 5,
      'ultraav-migration': 2,
    });
    for (const r of c.endpoints) {
      expect(r.sources.length, r.id).toBeGreaterThan(0);
      expect(r.purpose, r.id).not.toBe('');
    }
  });

  test('is deep-frozen and cached', () => {
    expect(isDeepFrozen(c)).toBe(true);
    expect(() => {
      (c.alerts as { suppressSeconds: number }).suppressSeconds = 1;
    }).toThrow(TypeError);
    expect(loadConfig()).toBe(c);
    expect(loadConfig(DEFAULT_CONFIG_PATH)).toBe(c);
  });
});

describe('config/example.yaml', () => {
  const c = loadConfig('config/example.yaml');

  test('overrides cutoff (with offset), observer, alerts and appliances', () => {
    expect(c.files).toEqual(['config/default.yaml', 'config/example.yaml']);
    expect(c.cutoff).toEqual({ micros: Date.parse('2024-09-10T04:00:00Z') * 1000, iso: '2024-09-10T04:00:00Z' });
    expect(c.observer.name).toBe('sensor-hq-span1');
    expect(c.alerts).toEqual({ suppressSeconds: 3600, minSeverity: 'low', resolveSeconds: 3600 });
    expect(c.appliances).toEqual([{ address: '192.0.2.10', name: 'Check Point gateway HQ' }]);
    expect(c.dns.ports).toEqual([53]);
    expect(isDeepFrozen(c)).toBe(true);
  });

  test('adds a rule and replaces a default rule by id', () => {
    expect(c.endpoints).toHaveLength(loadConfig().endpoints.length + 1);
    expect(c.endpoints.filter((r) => r.id === 'portal-my')).toHaveLength(1);
    const m = new Matcher(c.endpoints);
    expect(m.match('ksc-mirror2.corp.example')).toMatchObject({ id: 'corp-ksc-mirror', category: 'update' });
    expect(m.match('my.kaspersky.com')).toMatchObject({ id: 'portal-my', severity: 'medium' });
    expect(m.match('s00.upd.kaspersky.com')?.category).toBe('update');
  });
});

describe('layering', () => {
  test('an empty file is the defaults', () => {
    const c = parseConfig('# nothing\n', FILE);
    const d = loadConfig();
    expect({ ...c, files: d.files }).toEqual(d);
  });

  test('a mapping merges key by key; a list replaces', () => {
    const c = parseConfig('alerts:\n  suppress_seconds: 60\ndns:\n  ports: [53, 5353]\n', FILE);
    expect(c.alerts).toEqual({ suppressSeconds: 60, minSeverity: 'medium', resolveSeconds: 3600 });
    expect(c.dns.ports).toEqual([53, 5353]);
    expect(c.dns.heuristic).toBe(true);
  });

  test('dns.heuristic: a boolean, on by default', () => {
    expect(loadConfig().dns.heuristic).toBe(true);
    expect(parseConfig('dns:\n  heuristic: false\n', FILE).dns).toEqual({ ports: [53], heuristic: false, internalResolvers: [] });
    expect(() => parseConfig('dns:\n  heuristic: maybe\n', FILE)).toThrow(/dns\.heuristic: expected true or false, got "maybe"/);
  });

  test('a user rule listing a default name wins over the default rule', () => {
    const c = parseConfig(['endpoints:', '  update:', rule('mine', 'www.kaspersky.com')].join('\n'), FILE);
    expect(new Matcher(c.endpoints).match('www.kaspersky.com')?.id).toBe('mine');
  });

  test('extends: none keeps only the user rules', () => {
    const c = parseConfig(['extends: none', 'endpoints:', '  update:', rule('mine', 'x.example.com')].join('\n'), FILE);
    expect(c.endpoints.map((r) => r.id)).toEqual(['mine']);
    expect(c.cutoff).toEqual(loadConfig().cutoff);
  });

  test('sinks: nested mappings merge key by key, URL lists replace', () => {
    const d = loadConfig().sinks;
    expect(d).toMatchObject({ queueSize: 10_000, spoolBytes: 64 * 1024 * 1024, retryInitialSeconds: 1, retryMaxSeconds: 120 });
    expect(d.alertmanager).toMatchObject({ urls: [], timeoutSeconds: 10, resendSeconds: 60 });
    const c = parseConfig('sinks:\n  alertmanager:\n    urls: [http://am1:9093, "https://am2.example.net/am"]\n    resend_seconds: 5\n  webhook:\n    secret_file: /etc/kasmon/hook.secret\n', FILE);
    expect(c.sinks.alertmanager).toEqual({ ...d.alertmanager, urls: ['http://am1:9093', 'https://am2.example.net/am'], resendSeconds: 5 });
    expect(c.sinks.webhook).toEqual({ ...d.webhook, secretFile: '/etc/kasmon/hook.secret' });
    expect(c.sinks.queueSize).toBe(d.queueSize);
  });

  test('appliance IPv6 addresses are stored in RFC 5952 form', () => {
    const c = parseConfig('appliances:\n  - { address: "2001:DB8:0:0:0:0:0:1", name: gw }\n', FILE);
    expect(c.appliances[0]?.address).toBe('2001:db8::1');
  });
});

describe('cutoff timestamps', () => {
  const at4 = Date.parse('2024-09-29T04:00:00Z') * 1000;
  test.for([
    ['2024-09-29T04:00:00Z', '2024-09-29T04:00:00Z', 0],
    ['2024-09-29T00:00:00-04:00', '2024-09-29T04:00:00Z', 0],
    ['2024-09-29T09:30+05:30', '2024-09-29T04:00:00Z', 0],
    ['2024-09-29 04:00:00z', '2024-09-29T04:00:00Z', 0],
    ['2024-09-29T04:00:00.123456789Z', '2024-09-29T04:00:00.123456Z', 123_456],
    ['2024-09-29T04:00:00,5+0000', '2024-09-29T04:00:00.500000Z', 500_000],
  ] as const)('%s → %s', ([input, iso, extra]) => {
    expect(parseTimestamp(input)).toEqual({ ok: true, value: { iso, micros: at4 + extra } });
  });

  test.for([
    ['2024-09-29 00:00', 'no UTC offset'],
    ['2024-09-29T04:00:00', 'no UTC offset'],
    ['2024-09-29', 'not an ISO 8601 timestamp'],
    ['yesterday', 'not an ISO 8601 timestamp'],
    ['2024-02-30T00:00:00Z', 'not a valid date'],
    ['2024-09-29T24:00:00Z', 'not a valid date'],
    ['1969-12-31T23:59:59Z', 'not a valid date'],
    ['2024-09-29T04:00:00+20:00', 'has the UTC offset +20:00, outside -14:00..+14:00 where every real time zone lies; check its sign and digits'],
    ['2024-09-29T04:00:00-1430', 'has the UTC offset -14:30, outside -14:00..+14:00'],
    ['2024-09-29T04:00:00+14:01', 'has the UTC offset +14:01, outside'],
    ['2024-09-29T04:00:00+99:00', 'has the UTC offset +99:00, outside'],
    ['2024-09-29T04:00:00+05:60', 'has the UTC offset +05:60, outside'],
  ] as const)('%s is rejected (%s)', ([input, why]) => {
    const r = parseTimestamp(input);
    expect(r.ok ? '' : r.error).toContain(why);
  });

  test('the ends of the offset range are accepted', () => {
    expect(parseTimestamp('2024-09-29T18:00:00+14:00')).toEqual({ ok: true, value: { iso: '2024-09-29T04:00:00Z', micros: at4 } });
    expect(parseTimestamp('2024-09-28T14:00:00-14:00')).toEqual({ ok: true, value: { iso: '2024-09-29T04:00:00Z', micros: at4 } });
  });

  test('digits beyond the microsecond: said, not silently dropped', () => {
    expect(cutoffRounding('2024-09-29T04:00:00.123456789Z')).toBe(
      'packet times are compared to the microsecond: the cutoff 2024-09-29T04:00:00.123456789Z is used as 2024-09-29T04:00:00.123456Z (a packet in that microsecond counts as after it)',
    );
    expect(cutoffRounding('2024-09-29T04:00:00.123456000Z')).toBeUndefined();
    expect(cutoffRounding('2024-09-29T04:00:00.5Z')).toBeUndefined();
    expect(cutoffRounding('nonsense')).toBeUndefined();
  });
});

describe('errors name file:line: field and how to fix it', () => {
  test('bad severity', () => {
    const text = [
      '# line 1',
      'endpoints:',
      '  update:',
      '    - { id: a, pattern: a.example.com, severity: high, confidence: A }',
      '    - { id: b, pattern: b.example.com, severity: high, confidence: A }',
      '    - { id: c, pattern: c.example.com, severity: high, confidence: A }',
      '    - id: d',
      '      pattern: d.example.com',
      '      confidence: A',
      '      sources: [K1]',
      '      purpose: line 11',
      '      severity: urgent',
    ].join('\n');
    expect(configError(text).message).toBe(
      [
        'invalid config config/x.yaml: 1 problem',
        'config/x.yaml:12: endpoints.update[3].severity: "urgent" is not one of critical, high, medium, low, info',
      ].join('\n'),
    );
    expect(configError(text.replace('urgent', 'hihg')).message).toContain('did you mean "high"?');
  });

  test('sink URLs and the external URL must be http(s) URLs', () => {
    const e = configError('monitor:\n  external_url: sensor1:20929\nsinks:\n  webhook:\n    urls: ["ftp://files.example.net/x", http://ok.example.net]\n');
    expect(e.message.split('\n').slice(1)).toEqual([
      'config/x.yaml:2: monitor.external_url: "sensor1:20929" is not an http:// or https:// URL; write it like http://alertmanager.example.net:9093',
      'config/x.yaml:5: sinks.webhook.urls[0]: "ftp://files.example.net/x" is not an http:// or https:// URL; write it like http://alertmanager.example.net:9093',
    ]);
  });

  test('unknown key, with a suggestion when one is close', () => {
    expect(configError('alerts:\n  suppress_second: 10\n').message).toContain(
      'config/x.yaml:2: alerts.suppress_second: unknown key; did you mean "suppress_seconds"?',
    );
    expect(configError('cutof: 2024-09-29T04:00:00Z\n').message).toContain('config/x.yaml:1: cutof: unknown key; did you mean "cutoff"?');
    expect(configError('endpoints:\n  updates: []\n').message).toContain('endpoints.updates: unknown key; did you mean "update"?');
    expect(configError('limits:\n  maxClients: 5\n').message).toContain('did you mean "max_clients"?');
    expect(configError('colour: red\n').message).toContain('colour: unknown key; expected one of extends, cutoff,');
  });

  test('cutoff without an offset', () => {
    expect(configError('\ncutoff: 2024-09-29 00:00\n').message).toContain(
      'config/x.yaml:2: cutoff: "2024-09-29 00:00" has no UTC offset, so it is ambiguous; add Z (UTC) or an offset like -04:00',
    );
    expect(configError('cutoff: 1727582400\n').message).toContain('cutoff: expected an ISO 8601 timestamp, got 1727582400');
  });

  test('a descending range', () => {
    const text = ['endpoints:', '  update:', rule('a', 's{19..00}.upd.example.com')].join('\n');
    expect(configError(text).message).toContain(
      'config/x.yaml:3: endpoints.update[0].pattern: "s{19..00}.upd.example.com": range {19..00} counts down; write {00..19}',
    );
  });

  test('a pattern expanding too far', () => {
    const text = ['endpoints:', '  other:', '    - id: a', '      severity: low', '      confidence: C', '      patterns:', '        - ok.example.com', '        - "x{0000..9999}.{a,b}.example.com"'].join('\n');
    expect(configError(text).message).toContain('config/x.yaml:8: endpoints.other[0].patterns[1]: "x{0000..9999}.{a,b}.example.com": expands to more than 10000 names');
  });

  test('not a YAML file', () => {
    expect(configError('a: 1\n\tb: 2\n').message).toBe(
      'invalid config config/x.yaml: 1 problem\nconfig/x.yaml:2: YAML syntax: Tabs are not allowed as indentation',
    );
    expect(configError('a: 1\nb: [unclosed\n').message).toContain('YAML syntax: Flow sequence');
    expect(configError('cutoff: 2024-09-29T04:00:00Z\n---\nb: 2\n').message).toContain(
      'config/x.yaml:2: YAML syntax: a config file holds one document',
    );
    expect(configError('\u0000\u0001PK\u0003\u0004: x').message).toContain('config/x.yaml:1: this is not a YAML text file');
    expect(configError('just some words\n').message).toContain('config/x.yaml:1: expected a mapping (key: value lines), got "just some words"');
    expect(configError('a: 1\na: 2\n').message).toContain('config/x.yaml:2: YAML syntax: Map keys must be unique');
  });

  test('missing or unreadable file', () => {
    const missing = loadError('config/does-not-exist.yaml');
    expect(missing.code).toBe('ERR_CONFIG');
    expect(missing.exitCode).toBe(2);
    expect(missing.message).toBe(
      'cannot read config file config/does-not-exist.yaml: no such file; check the path, or leave it out to use the defaults',
    );
    expect(loadError('config').message).toContain('it is a directory');
  });

  test('a bad file on disk names its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kasmon-config-'));
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'alerts:\n  min_severity: loud\n');
    expect(loadError(path).message).toContain(`${path}:2: alerts.min_severity: "loud" is not one of critical, high, medium, low, info`);
  });

  test('every problem is reported at once, sorted by line', () => {
    const text = [
      'cutoff: 2024-09-29T00:00', // 1
      'alerts:', // 2
      '  suppres_seconds: 5', // 3
      '  min_severity: loud', // 4
      'limits:', // 5
      '  max_clients: 100_000', // 6
      'dns:', // 7
      '  ports: [53, 53]', // 8
      'appliances:', // 9
      '  - { address: 10.0.0.300, name: gw }', // 10
      'endpoints:', // 11
      '  ksn:', // 12
      '    - { id: Bad Id, pattern: "*.com", severity: high, confidence: D }', // 13
    ].join('\n');
    const lines = configError(text).message.split('\n');
    expect(lines[0]).toBe('invalid config config/x.yaml: 9 problems');
    expect(lines.slice(1).map((l) => l.split(':').slice(0, 3).join(':'))).toEqual([
      'config/x.yaml:1: cutoff',
      'config/x.yaml:3: alerts.suppres_seconds',
      'config/x.yaml:4: alerts.min_severity',
      'config/x.yaml:6: limits.max_clients',
      'config/x.yaml:8: dns.ports',
      'config/x.yaml:10: appliances[0].address',
      'config/x.yaml:13: endpoints.ksn[0].id',
      'config/x.yaml:13: endpoints.ksn[0].confidence',
      'config/x.yaml:13: endpoints.ksn[0].pattern',
    ]);
    expect(lines.find((l) => l.includes('max_clients'))).toContain('drop the "_"');
  });

  test('duplicate ids and patterns within a file', () => {
    const text = ['endpoints:', '  update:', rule('a', 's{00..09}.x.example.com'), rule('a', 'y.example.com'), rule('b', 's05.x.example.com')].join('\n');
    const msg = configError(text).message;
    expect(msg).toContain('config/x.yaml:4: endpoints.update: rule id "a" is already used at line 3; ids must be unique');
    expect(msg).toContain('config/x.yaml:5: endpoints.update: rule "b": "s05.x.example.com" is already listed by rule "a" at line 3; keep one');
  });

  test('rule shape: pattern xor patterns, required fields', () => {
    expect(configError('endpoints:\n  update:\n    - { id: a, pattern: a.x.com, patterns: [b.x.com], severity: high, confidence: A }\n').message).toContain(
      'endpoints.update[0].patterns: use either "pattern" or "patterns", not both',
    );
    const msg = configError('endpoints:\n  update:\n    - { id: a }\n').message;
    expect(msg).toContain('config/x.yaml:3: endpoints.update[0].severity: missing; add "severity:"');
    expect(msg).toContain('endpoints.update[0].patterns: missing; add "pattern: <name>" or "patterns: [<name>, ...]"');
  });

  test('extends: none with no rules', () => {
    expect(configError('extends: none\n').message).toContain('config/x.yaml:1: extends: "none" drops the default endpoints');
    expect(configError('extends: yes\n').message).toContain('extends: "yes" is not one of default, none');
  });

  test('a complete file (no base) must state every key', () => {
    const msg = configError('cutoff: 2024-09-29T04:00:00Z\nalerts:\n  min_severity: high\n', null).message;
    expect(msg).toContain('config/x.yaml:3: alerts.suppress_seconds: missing; add "suppress_seconds:"');
    expect(msg).toContain('config/x.yaml:1: endpoints: missing; add "endpoints:"');
    expect(msg).toContain('config/x.yaml:1: observer: missing');
  });
});

describe('default-config snapshot (dist/default-config.json)', () => {
  const ROOT = fileURLToPath(new URL('../', import.meta.url));
  const BUILT = join(ROOT, 'dist', 'default-config.json');
  const text = readFileSync(DEFAULT_CONFIG_PATH, 'utf8');
  const hash = createHash('sha256').update(text).digest('hex');
  const fromYaml = parseConfig(text, 'config/default.yaml', null);

  interface SnapshotJson {
    format: number;
    sourceSha256: string;
    config: { observer: { name: string } } & Record<string, unknown>;
  }
  const built = (): SnapshotJson => {
    expect(existsSync(BUILT), `${BUILT} missing: run npm run build`).toBe(true);
    return JSON.parse(readFileSync(BUILT, 'utf8')) as SnapshotJson;
  };
  /** Write `content` (JSON-serialised unless a string) to a fresh temp file; returns its path. */
  const temp = (content: unknown, name = 'default-config.json'): string => {
    const path = join(mkdtempSync(join(tmpdir(), 'kasmon-snapshot-')), name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  /** The built snapshot with observer.name changed, so that a config read from it is recognisable. */
  const marked = (changes: Partial<SnapshotJson> = {}): SnapshotJson => {
    const s = built();
    return { ...s, config: { ...s.config, observer: { name: 'from-snapshot' } }, ...changes };
  };

  test('the build wrote the current format and the hash of config/default.yaml', () => {
    const s = built();
    expect(s.format).toBe(SNAPSHOT_FORMAT);
    expect(s.sourceSha256).toBe(hash);
  });

  test('it holds what parsing config/default.yaml gives, host name and files left to load time', () => {
    expect(loadConfigSnapshot(BUILT, text)).toStrictEqual(parseConfigBody(text, 'config/default.yaml', null));
    expect(built().config).not.toHaveProperty('files');
  });

  test('the Config read through it deep-equals a YAML parse, and is deep-frozen', () => {
    const c = readDefaultConfig(DEFAULT_CONFIG_PATH, BUILT);
    expect(c).toStrictEqual(fromYaml);
    expect(c.files).toEqual(['config/default.yaml']);
    expect(c.observer.name).toBe(hostname());
    expect(isDeepFrozen(c)).toBe(true);
  });

  test('a snapshot with the right hash is used (control for the fallback tests)', () => {
    expect(readDefaultConfig(DEFAULT_CONFIG_PATH, temp(marked())).observer.name).toBe('from-snapshot');
  });

  test('a snapshot whose hash does not match is ignored: the YAML is parsed', () => {
    const path = temp(marked({ sourceSha256: createHash('sha256').update(`${text} `).digest('hex') }));
    expect(readDefaultConfig(DEFAULT_CONFIG_PATH, path)).toStrictEqual(fromYaml);
  });

  test('an edited default.yaml is never shadowed by the snapshot of the old text', () => {
    const edited = text.replace('suppress_seconds: 3600', 'suppress_seconds: 60');
    expect(edited).not.toBe(text);
    const yamlPath = temp(edited, 'default.yaml');
    const c = readDefaultConfig(yamlPath, temp(marked()));
    expect(c.alerts.suppressSeconds).toBe(60);
    expect(c.observer.name).toBe(hostname());
    expect(c).toStrictEqual(parseConfig(edited, yamlPath, null));
  });

  test.for([
    ['missing', undefined],
    ['empty', ''],
    ['not JSON', 'not json'],
    ['truncated', JSON.stringify(marked()).slice(0, 500)],
    ['JSON null', 'null'],
    ['of another format', marked({ format: SNAPSHOT_FORMAT + 1 })],
    ['without a format', marked({ format: undefined as unknown as number })],
    ['missing a config key', { ...marked(), config: { ...marked().config, endpoints: undefined } }],
    ['holding a non-object config', { ...marked(), config: 'x' }],
  ] as const)('falls back to the YAML when the snapshot is %s', ([, content]) => {
    const path = content === undefined ? join(mkdtempSync(join(tmpdir(), 'kasmon-snapshot-')), 'none.json') : temp(content);
    expect(readDefaultConfig(DEFAULT_CONFIG_PATH, path)).toStrictEqual(fromYaml);
  });

  test.for([
    ['undefined field', (b: ConfigBody) => ({ ...b, appliances: undefined })],
    ['-0', (b: ConfigBody) => ({ ...b, limits: { ...b.limits, flowIdleSeconds: -0 } })],
    ['Infinity', (b: ConfigBody) => ({ ...b, limits: { ...b.limits, maxFlows: Infinity } })],
    ['Set', (b: ConfigBody) => ({ ...b, dns: { ports: new Set([53]) } })],
  ] as const)('saving refuses a config that does not survive JSON (%s)', ([what, change]) => {
    const path = join(mkdtempSync(join(tmpdir(), 'kasmon-snapshot-')), 'default-config.json');
    const body = change(parseConfigBody(text, 'config/default.yaml', null)) as unknown as ConfigBody;
    expect(() => saveConfigSnapshot(path, text, body), what).toThrow(/does not survive JSON/);
    expect(existsSync(path)).toBe(false);
  });

  test('a saved snapshot loads back only for the same text', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kasmon-snapshot-')), 'default-config.json');
    const body = parseConfigBody(text, 'config/default.yaml', null);
    saveConfigSnapshot(path, text, body);
    expect(loadConfigSnapshot(path, text)).toStrictEqual(body);
    expect(loadConfigSnapshot(path, `${text}\n`)).toBeUndefined();
  });

  test('built CLI: the default config does not load yaml; a user config file does', () => {
    built(); // the child would fall back to YAML (and fail below) without a current snapshot
    const script = `
      import { createRequire } from 'node:module';
      const { loadConfig } = await import(${JSON.stringify(new URL('../dist/config/load.js', import.meta.url).href)});
      const yamlLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes(${JSON.stringify(join('node_modules', 'yaml'))}));
      const defaults = loadConfig();
      const before = yamlLoaded();
      const user = loadConfig('config/example.yaml');
      console.log(JSON.stringify({ before, after: yamlLoaded(), defaults, observer: user.observer.name }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { before: boolean; after: boolean; defaults: unknown; observer: string };
    expect(out.before).toBe(false);
    expect(out.after).toBe(true);
    expect(out.observer).toBe('sensor-hq-span1');
    expect(out.defaults).toEqual(JSON.parse(JSON.stringify(fromYaml)));
  });
});

describe('check-config reports every problem at once', () => {
  test('a duplicate id, a bad value elsewhere and rules under an unknown category: all in one run', () => {
    const text = [
      'alerts:',
      '  min_severity: hihg',
      'endpoints:',
      '  update:',
      '    - { id: a, pattern: a.example.com, severity: high, confidence: A }',
      '    - { id: a, pattern: b.example.com, severity: high, confidence: A }',
      '  updates:',
      '    - { id: c, pattern: "bad..name", severity: hi, confidence: A }',
    ].join('\n');
    expect(configError(text).message).toBe(
      [
        'invalid config config/x.yaml: 5 problems',
        'config/x.yaml:2: alerts.min_severity: "hihg" is not one of critical, high, medium, low, info; did you mean "high"?',
        'config/x.yaml:6: endpoints.update: rule id "a" is already used at line 5; ids must be unique',
        'config/x.yaml:7: endpoints.updates: unknown key; did you mean "update"?',
        'config/x.yaml:8: endpoints.updates[0].severity: "hi" is not one of critical, high, medium, low, info',
        'config/x.yaml:8: endpoints.updates[0].pattern: "bad..name": empty label (a leading dot or "..")',
      ].join('\n'),
    );
  });

  test.for([
    ['flow brackets', `a: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`, /^config\/x\.yaml:1: more than 64 \[ or \{ open at once: the YAML is nested far deeper than any kasmon config/],
    ['indentation', Array.from({ length: 5_000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n'), /^config\/x\.yaml:258: indented 257 columns: the YAML is nested far deeper/],
  ] as const)('a deeply nested YAML (%s) says what is wrong, not "Maximum call stack size exceeded"', ([, text, want]) => {
    const msg = configError(text).message;
    expect(msg).not.toContain('call stack');
    expect(msg.split('\n')[1]).toMatch(want);
  });

  test('brackets and # inside quotes or comments do not count as nesting', () => {
    expect(tooDeep(`observer:\n  name: "${'['.repeat(100)}" # ${'{'.repeat(100)}\n`)).toBeUndefined();
  });
});
