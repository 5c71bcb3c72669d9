import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Matcher, normalizeHostname } from '../../src/analyze/hostnames.js';
import { MAX_EXPANSION, compilePattern, compileRule, expandBraces } from '../../src/analyze/rules.js';
import type { Category, RuleSpec } from '../../src/analyze/rules.js';
import { loadConfig } from '../../src/config/load.js';

const matcher = new Matcher(loadConfig().endpoints);
const pad2 = (n: number): string => String(n).padStart(2, '0');
const range20 = Array.from({ length: 20 }, (_, i) => pad2(i));

interface Want {
  name: string;
  category: Category;
  id: string;
  severity?: string;
}

// Every row of ENDPOINTS.md resolves to its category (and the rule that lists it).
const positives: Want[] = [
  ...range20.map((n) => ({ name: `s${n}.upd.kaspersky.com`, category: 'update' as const, id: 'upd-snn' })),
  ...range20.map((n) => ({ name: `dnl-${n}.geo.kaspersky.com`, category: 'update' as const, id: 'upd-dnl-geo' })),
  { name: 'p00.upd.kaspersky.com', category: 'update', id: 'upd-pnn' },
  { name: 'p19.upd.kaspersky.com', category: 'update', id: 'upd-pnn' },
  { name: 'downloads.upd.kaspersky.com', category: 'update', id: 'upd-downloads', severity: 'high' },
  { name: 'cm.k.kaspersky-labs.com', category: 'update', id: 'upd-cm' },
  { name: 'edge.geo.kaspersky.com', category: 'update', id: 'upd-edge-geo' },
  { name: 'ds.kaspersky.com', category: 'update', id: 'upd-ds' },
  { name: 'rescuedisk.s.kaspersky-labs.com', category: 'update', id: 'upd-rescuedisk' },
  { name: 'products.s.kaspersky-labs.com', category: 'update', id: 'upd-products', severity: 'medium' },
  { name: 'dnl-test.kaspersky-labs.com', category: 'update', id: 'upd-dnl-test', severity: 'medium' },
  { name: 'dnl-test.s.kaspersky-labs.com', category: 'update', id: 'upd-dnl-test' },
  { name: 'dc1.ksn.kaspersky-labs.com', category: 'ksn', id: 'ksn-dc', severity: 'high' },
  { name: 'mdr.ksn.kaspersky-labs.com', category: 'ksn', id: 'ksn-dc' },
  { name: 'ksn-file-geo.kaspersky-labs.com', category: 'ksn', id: 'ksn-geo' },
  { name: 'ksn-tcert-geo.kaspersky-labs.com', category: 'ksn', id: 'ksn-geo' },
  { name: 'ksn-crypto-url-geo.kaspersky-labs.com', category: 'ksn', id: 'ksn-crypto-geo' },
  { name: 'ksn-crypto-wifiplus-geo.kaspersky-labs.com', category: 'ksn', id: 'ksn-crypto-geo' },
  { name: 'ksn-newservice-geo.kaspersky-labs.com', category: 'ksn', id: 'ksn-geo-other' },
  { name: 'ksn-dc1-cert.geoksn.kaspersky.com', category: 'ksn', id: 'ksn-geoksn' },
  { name: 'activation-v2.kaspersky.com', category: 'activation', id: 'act-v2', severity: 'high' },
  { name: 'activate.activation-v2.kaspersky.com', category: 'activation', id: 'act-v2-sub' },
  { name: 'refresh-bkg.activation-v2.kaspersky.com', category: 'activation', id: 'act-v2-sub' },
  { name: 'activation-v2.geo.kaspersky.com', category: 'activation', id: 'act-v2-geo' },
  { name: 'eu-1.ksc.kaspersky.com', category: 'activation', id: 'act-ksc-cloud' },
  { name: 'crl.kaspersky.com', category: 'certificates', id: 'cert-crl', severity: 'medium' },
  { name: 'touch.kaspersky.com', category: 'certificates', id: 'cert-touch' },
  { name: 'click.kaspersky.com', category: 'telemetry', id: 'tel-click', severity: 'low' },
  { name: 'gc.kis.v2.scr.kaspersky-labs.com', category: 'telemetry', id: 'tel-kis-script', severity: 'medium' },
  { name: 'my.kaspersky.com', category: 'portals', id: 'portal-my', severity: 'low' },
  { name: 'usa.kaspersky.com', category: 'portals', id: 'portal-usa' },
  { name: 'support.kaspersky.com', category: 'portals', id: 'portal-help' },
  { name: 'help.kaspersky.com', category: 'portals', id: 'portal-help' },
  { name: 'www.kaspersky.com', category: 'portals', id: 'portal-www' },
  { name: 'kaspersky.com', category: 'portals', id: 'portal-www' },
  { name: 'foo.kaspersky.com', category: 'other', id: 'other-kaspersky-com', severity: 'low' },
  { name: 'a.b.c.kaspersky.com', category: 'other', id: 'other-kaspersky-com' },
  // not in {00..19}: falls through to the *.kaspersky.com catch-all
  { name: 's20.upd.kaspersky.com', category: 'other', id: 'other-kaspersky-com' },
  { name: 'dnl-20.geo.kaspersky.com', category: 'other', id: 'other-kaspersky-com' },
  { name: 'dnl-1.geo.kaspersky.com', category: 'other', id: 'other-kaspersky-com' },
  { name: 'kaspersky-labs.com', category: 'other', id: 'other-kaspersky-labs' },
  { name: 'whatever.kaspersky-labs.com', category: 'other', id: 'other-kaspersky-labs' },
  // a label wildcard never crosses a dot, and needs a non-empty middle
  { name: 'ksn-a.b-geo.kaspersky-labs.com', category: 'other', id: 'other-kaspersky-labs' },
  { name: 'ksn--geo.kaspersky-labs.com', category: 'other', id: 'other-kaspersky-labs' },
  { name: 'x.ksn-file-geo.kaspersky-labs.com', category: 'other', id: 'other-kaspersky-labs' },
  { name: 'kaspersky.ru', category: 'other', id: 'other-regional' },
  { name: 'shop.kaspersky.de', category: 'other', id: 'other-regional' },
  { name: 'sub.kaspersky.co.uk', category: 'other', id: 'other-regional-co' },
  { name: 'kaspersky.co.jp', category: 'other', id: 'other-regional-co' },
  { name: 'kaspersky.com.cn', category: 'other', id: 'other-regional-com' },
  { name: 'www.kaspersky.com.au', category: 'other', id: 'other-regional-com' },
  { name: 'ultraav.com', category: 'ultraav-migration', id: 'ultraav', severity: 'info' },
  { name: 'www.ultraav.com', category: 'ultraav-migration', id: 'ultraav' },
  { name: 'ultravpn.com', category: 'ultraav-migration', id: 'ultravpn' },
  { name: 'app.ultravpn.com', category: 'ultraav-migration', id: 'ultravpn' },
  // normalisation: case and one trailing dot
  { name: 'S07.UPD.Kaspersky.COM.', category: 'update', id: 'upd-snn' },
];

describe('default endpoint list', () => {
  test.for(positives)('$name → $category ($id)', ({ name, category, id, severity }) => {
    const m = matcher.match(name);
    expect(m?.category).toBe(category);
    expect(m?.id).toBe(id);
    if (severity !== undefined) expect(m?.severity).toBe(severity);
  });

  const longName = `${'a'.repeat(60)}.`.repeat(5) + 'kaspersky.com'; // 318 chars
  test.for([
    ['notkaspersky.com'],
    ['kaspersky.com.evil.net'],
    ['evil-kaspersky.com'],
    ['kaspersky.org'],
    ['kaspersky.co'],
    ['kaspersky.co.us'],
    ['upd.kaspersky.com.attacker.example'],
    ['example.com'],
    ['com'],
    [''],
    ['.'],
    ['.kaspersky.com'],
    [longName],
  ] as const)('no match: %s', ([name]) => {
    expect(matcher.match(name)).toBeUndefined();
  });

  test('253 characters is the longest name that matches', () => {
    const suffix = '.kaspersky.com';
    const ok = 'b'.repeat(63) + '.' + 'c'.repeat(63) + '.' + 'd'.repeat(63) + '.' + 'e'.repeat(47) + suffix;
    expect(ok.length).toBe(253);
    expect(matcher.match(ok)?.category).toBe('other');
    expect(matcher.match(`x${ok}`)).toBeUndefined();
  });

  test('the match object is shared, frozen and carries the pattern as written', () => {
    const a = matcher.match('s01.upd.kaspersky.com');
    expect(a).toBe(matcher.match('s02.upd.kaspersky.com'));
    expect(a).toEqual({
      id: 'upd-snn',
      pattern: 's{00..19}.upd.kaspersky.com',
      category: 'update',
      severity: 'high',
      confidence: 'A',
      categoryIndex: 0, // CATEGORIES[0] = update
      severityRank: 1, // SEVERITIES[1] = high (critical is 0)
    });
    expect(Object.isFrozen(a)).toBe(true);
  });
});

const rule = (id: string, patterns: string[], category: Category = 'other'): RuleSpec => ({
  id,
  category,
  severity: 'low',
  confidence: 'C',
  patterns,
});
const build = (...specs: RuleSpec[]): Matcher => new Matcher(specs.map(compileRule));

describe('precedence', () => {
  test('exact beats every wildcard', () => {
    const m = build(rule('wild', ['*.example.com']), rule('lw', ['a*.example.com']), rule('exact', ['ab.example.com']));
    expect(m.match('ab.example.com')?.id).toBe('exact');
    expect(m.match('ac.example.com')?.id).toBe('lw');
    expect(m.match('b.example.com')?.id).toBe('wild');
  });

  test('the longer literal suffix wins, whatever the rule order', () => {
    const m = build(rule('deep', ['*.b.example.com']), rule('shallow', ['*.example.com']));
    expect(m.match('a.b.example.com')?.id).toBe('deep');
    expect(m.match('a.c.example.com')?.id).toBe('shallow');
    const r = build(rule('shallow', ['*.example.com']), rule('deep', ['*.b.example.com']));
    expect(r.match('a.b.example.com')?.id).toBe('deep');
  });

  test('at one suffix: fixed-depth label wildcards, then more literal characters, then *.S', () => {
    const m = build(
      rule('any', ['*.example.com']),
      rule('anydepth', ['*.ksn-*-geo.example.com']),
      rule('short', ['ksn-*-geo.example.com']),
      rule('long', ['ksn-crypto-*-geo.example.com']),
    );
    expect(m.match('ksn-crypto-x-geo.example.com')?.id).toBe('long');
    expect(m.match('ksn-x-geo.example.com')?.id).toBe('short');
    expect(m.match('a.ksn-x-geo.example.com')?.id).toBe('anydepth');
    expect(m.match('ksn-x.example.com')?.id).toBe('any');
  });

  test('the same concrete pattern in two rules: the later rule wins', () => {
    const m = build(rule('first', ['x.example.com', '*.example.com']), rule('second', ['x.example.com', '*.example.com']));
    expect(m.match('x.example.com')?.id).toBe('second');
    expect(m.match('y.example.com')?.id).toBe('second');
    const w = build(rule('first', ['k-*.example.com']), rule('second', ['k-*.example.com']));
    expect(w.match('k-1.example.com')?.id).toBe('second');
  });

  test('*.S never matches the apex; a lone * label is exactly one label', () => {
    const m = build(rule('sub', ['*.example.com']), rule('mid', ['a.*.example.net']));
    expect(m.match('example.com')).toBeUndefined();
    expect(m.match('a.x.example.net')?.id).toBe('mid');
    expect(m.match('a.x.y.example.net')).toBeUndefined();
    expect(m.match('b.x.example.net')).toBeUndefined();
  });

  test('no rules, no matches', () => {
    expect(new Matcher([]).match('kaspersky.com')).toBeUndefined();
  });
});

describe('root pre-filter (last two labels, hashed in place)', () => {
  test('exact names of one and two labels, and roots shared by exact and wildcard rules', () => {
    const m = build(rule('one', ['intranet']), rule('two', ['a.example']), rule('deep', ['*.x.co.uk']), rule('ex', ['w.co.uk']));
    expect(m.match('intranet')?.id).toBe('one');
    expect(m.match('INTRANET.')?.id).toBe('one');
    expect(m.match('foo.intranet')).toBeUndefined();
    expect(m.match('a.example')?.id).toBe('two');
    expect(m.match('c.a.example')).toBeUndefined(); // exact only: no subdomains
    expect(m.match('b.example')).toBeUndefined();
    expect(m.match('y.x.co.uk')?.id).toBe('deep');
    expect(m.match('w.co.uk')?.id).toBe('ex');
    expect(m.match('bbc.co.uk')).toBeUndefined(); // the root is known, the suffix is not
    expect(m.match('co.uk')).toBeUndefined();
  });

  test('names whose last two labels differ from every root in one character match nothing', () => {
    for (const n of ['s01.upd.kaspersky.con', 's01.upd.kaspersky.co', 's01.upd.kaspersk.com', 's01.upd.xkaspersky.com', 's01.upd.kaspersky-lab.com']) {
      expect(matcher.match(n)).toBeUndefined();
    }
    expect(matcher.match('s01.upd.kaspersky.com')?.id).toBe('upd-snn');
  });
});

describe('patterns', () => {
  test.for([
    ['s{00..19}.x.com', 20, 's00.x.com', 's19.x.com'],
    ['s{0..10}.x.com', 11, 's0.x.com', 's10.x.com'],
    ['s{8..10}.x.com', 3, 's8.x.com', 's10.x.com'],
    ['s{008..10}.x.com', 3, 's008.x.com', 's010.x.com'],
    ['ksn-crypto-{file,url}-geo.x.com', 2, 'ksn-crypto-file-geo.x.com', 'ksn-crypto-url-geo.x.com'],
    ['kaspersky.co.{uk,jp}', 2, 'kaspersky.co.uk', 'kaspersky.co.jp'],
    ['{,www.}x.com', 2, 'x.com', 'www.x.com'],
    ['h{1..2}-{a,b}.x.com', 4, 'h1-a.x.com', 'h2-b.x.com'],
    ['{a,a}.x.com', 1, 'a.x.com', 'a.x.com'],
  ] as const)('%s expands to %i names', ([p, n, first, last]) => {
    const r = expandBraces(p);
    expect(r.ok && r.value.length).toBe(n);
    expect(r.ok && r.value[0]).toBe(first);
    expect(r.ok && r.value.at(-1)).toBe(last);
  });

  test.for([
    ['s{19..00}.x.com', 'range {19..00} counts down; write {00..19}'],
    ['s{a}.x.com', '{a} is neither a range'],
    ['s{}.x.com', '{} is neither a range'],
    ['s{0{1,2}}.x.com', 'nested braces'],
    ['s{00..19.x.com', 'never closed'],
    ['s}.x.com', 'no matching'],
    ['x{0000..9999}.{a,b}.example.com', `more than ${MAX_EXPANSION}`],
    ['x{0..99999}.example.com', `more than ${MAX_EXPANSION}`],
    ['*.com', 'at least 2 literal labels'],
    ['kaspersky.*', 'at least 2 literal labels'],
    ['ksn-*.com', 'at least 2 literal labels'],
    ['a..example.com', 'empty label'],
    ['a b.example.com', 'character outside'],
    ['', 'empty pattern'],
    [`${'a'.repeat(64)}.example.com`, 'longer than 63'],
  ] as const)('%s is rejected: %s', ([p, why]) => {
    const r = compilePattern(p);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.error).toContain(why);
  });

  test('compileRule reports a bad pattern as ERR_CONFIG', () => {
    expect(() => compileRule(rule('bad', ['s{19..00}.x.com']))).toThrow(/rule bad: pattern "s\{19..00\}.x.com"/);
  });

  test('forms: exact, subdomain, label wildcard', () => {
    const r = compilePattern('{x,*,ksn-*-geo}.Example.COM.');
    expect(r.ok && r.value.source).toBe('{x,*,ksn-*-geo}.example.com');
    expect(r.ok && r.value.forms.map((f) => f.kind)).toEqual(['exact', 'subdomain', 'wildcard']);
  });
});

describe('normalizeHostname', () => {
  test.for([
    ['Example.COM.', 'example.com'],
    ['example.com..', 'example.com.'],
    ['example.com', 'example.com'],
    ['.', ''],
    ['', ''],
  ] as const)('%j → %j', ([input, want]) => {
    expect(normalizeHostname(input)).toBe(want);
  });
});

describe('properties', () => {
  const label = fc.stringMatching(/^[a-z0-9-]{1,20}$/);

  test('never throws, and only matches Kaspersky/UltraAV roots', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const m = matcher.match(s);
        if (m === undefined) return;
        const n = normalizeHostname(s);
        expect(n).toMatch(/(^|\.)(kaspersky(-labs)?\.[a-z.]+|ultra(av|vpn)\.com)$/);
      }),
    );
  });

  test('any subdomain of kaspersky.com matches something; any name under a foreign root matches nothing', () => {
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 4 }), (labels) => {
        expect(matcher.match(`${labels.join('.')}.kaspersky.com`)).toBeDefined();
        expect(matcher.match(`${labels.join('.')}.kaspersky.com.evil.net`)).toBeUndefined();
        expect(matcher.match(`${labels.join('.')}kaspersky.com`)).toBeUndefined(); // no label boundary
      }),
    );
  });
});
