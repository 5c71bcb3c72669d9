import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as Y from 'yaml';
import { parseSubset } from '../src/config/fast-yaml.js';
import { parseConfig, parseYaml } from '../src/config/load.js';
import { KasmonError } from '../src/errors.js';

/**
 * The YAML subset reader (src/config/fast-yaml.ts) against the `yaml` package, the reference:
 * whenever the subset reader takes a text, `yaml` must read it without an error or warning
 * into the same tree (node kinds, flow or block, every scalar's value, type, source and
 * format, positions) and the same line starts; texts it does not take go to `yaml` anyway.
 * Random documents come in every style a config may be written in, then with random edits
 * (most of which leave the subset or break the YAML).
 */

/** Everything of a node the config readers can see, and more. */
function shape(n: unknown): unknown {
  if (Y.isMap(n)) return { map: n.range?.[0], flow: n.flow === true, items: n.items.map((p) => [shape(p.key), shape(p.value)]) };
  if (Y.isSeq(n)) return { seq: n.range?.[0], flow: n.flow === true, items: n.items.map(shape) };
  if (Y.isScalar(n)) {
    const v = n.value;
    return { value: typeof v === 'number' && Number.isNaN(v) ? 'NaN' : v, kind: typeof v, type: n.type, source: n.source, format: n.format, digits: n.minFractionDigits, at: n.range?.slice(0, 2) };
  }
  return n === null ? null : `unexpected ${String(n)}`;
}

interface Compared {
  /** The subset reader took the text. */
  taken: boolean;
  /** Why not, when it did not. */
  reason?: string;
}

/** Compare the two readers on `text`; fails the test when the subset reader took it and differs. */
function compare(text: string): Compared {
  const lc = new Y.LineCounter();
  const doc = Y.parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const fast = parseSubset(Y, text);
  if (!fast.ok) return { taken: false, reason: fast.reason };
  expect([...doc.errors, ...doc.warnings].map((e) => e.message), JSON.stringify(text)).toEqual([]);
  expect(shape(fast.doc.contents), JSON.stringify(text)).toEqual(shape(doc.contents));
  expect(fast.lc.lineStarts).toEqual(lc.lineStarts);
  // yaml's own methods work on the subset reader's nodes.
  expect(fast.doc.toJS()).toEqual(doc.toJS());
  return { taken: true };
}

// ─── random documents ────────────────────────────────────────────────────────────────────

const KEYS = ['a', 'b', 'id', 'pattern', 'patterns', 'severity', 'sources', 'x y', 'a-b', 'a_b', 'k1', 'é'] as const;
/** Keys that read as something other than a plain name (numbers, booleans, null) or nearly do. */
const ODD_KEYS = ['true', '1', 'null', 'a:b', 'a#b', 'key ', '-k', 'k:'] as const;
const STRINGS = [
  'a', 'x y', 'x y  z', 'high', 'A', 'C', '1', '0', '-1', '+1', '007', '0x1F', '0o17', '1.5', '1.50', '.5', '1e3', '-2E-2',
  '.inf', '-.Inf', '.nan', 'true', 'False', 'TRUE', 'yes', 'no', 'null', 'Null', '~', '', 'a#b', 'a#', 'http://x.y/z',
  'a:b', "it's", 'say "hi"', 'ksn-*-geo.k.com', 's{00..19}.k.com', '-x', 'ü', 'ключ', '2024-09-29T04:00:00Z', '64MiB',
  '192.0.2.1', '::1', '[::1]:20929', 'a\u00a0b', 'emoji 😀', '\ud800',
] as const;
/** Scalars that mostly leave the subset or need quotes: indicators, comments, escapes, tabs. */
const ODD_STRINGS = [
  'a #b', 'a: b', 'a:', '*.k.com', '- x', '-', ':x', '?x', '@x', '`x', '%x', '!x', '&x', '|', '>', '[x]', '{x}', 'x,y', 'x]',
  ' lead', 'trail ', 'tab\there', 'back\\slash', '---', '...', '#',
] as const;

type Tree = string | number | boolean | null | Tree[] | { [k: string]: Tree };

const scalar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 1, arbitrary: fc.integer({ min: -1000, max: 100_000 }) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);
const key = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.constantFrom(...ODD_KEYS) });
const { tree } = fc.letrec<{ tree: Tree; map: Tree; seq: Tree }>((t) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, t('map'), t('seq')),
  map: fc.uniqueArray(fc.tuple(key, t('tree')), { maxLength: 4, selector: ([k]) => k }).map((es) => Object.fromEntries(es)),
  seq: fc.array(t('tree'), { maxLength: 4 }),
}));
const topMap = fc.uniqueArray(fc.tuple(key, tree), { minLength: 1, maxLength: 5, selector: ([k]) => k }).map((es) => Object.fromEntries(es) as Tree);

/** Style choices, used in turn (cyclically) wherever the renderer has one to make. */
const styles = fc.array(fc.nat(99), { minLength: 16, maxLength: 64 });

/** `v` written plain reads back as the same string, in block and in flow context. */
function plainReadsBack(v: string): boolean {
  try {
    return isDeepStrictEqual(Y.parse(`k: ${v}\n`), { k: v }) && isDeepStrictEqual(Y.parse(`k: [${v}]\n`), { k: [v] });
  } catch {
    return false;
  }
}

class Renderer {
  private i = 0;
  /** `safe`: write what reads back as the same value (quote strings that would not); else anything goes. */
  constructor(
    private readonly c: readonly number[],
    private readonly safe = false,
  ) {}
  /** A choice in [0, n). */
  pick(n: number): number {
    return (this.c[this.i++ % this.c.length] ?? 0) % n;
  }
  chance(percent: number): boolean {
    return this.pick(100) < percent;
  }

  scalar(v: Tree, key = false): string {
    if (typeof v !== 'string') return v === null ? (this.pick(3) === 0 ? '~' : this.pick(2) === 0 || this.safe ? 'null' : '') : String(v);
    let style = this.pick(key ? 6 : 4);
    if (this.safe && style !== 1 && style !== 2 && !plainReadsBack(v)) style = 1;
    if (style === 1) return `'${v.replaceAll("'", "''")}'`;
    if (style === 2) return `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\t', '\\t')}"`;
    return v; // plain, whatever it is: the readers must agree on what it means
  }

  comment(): string {
    return this.chance(15) ? `${' '.repeat(1 + this.pick(3))}# c${this.pick(10)}` : this.chance(5) ? '  ' : '';
  }

  /** Blank and comment lines between entries. */
  gap(indent: number): string {
    if (!this.chance(20)) return '';
    return this.pick(2) === 0 ? '\n' : `${' '.repeat(this.pick(indent + 3))}# note\n`;
  }

  flow(v: Tree): string {
    if (Array.isArray(v)) return `[${v.map((x) => this.flow(x)).join(this.pick(2) === 0 ? ', ' : ',')}]`;
    if (v !== null && typeof v === 'object') {
      const sp = this.pick(2) === 0 ? ' ' : '';
      return `{${sp}${Object.entries(v).map(([k, x]) => `${this.scalar(k, true)}: ${this.flow(x)}`).join(', ')}${sp}}`;
    }
    return this.scalar(v);
  }

  /** `v` as the value after `key:` or `-` at column `col` (text starts right after the indicator). */
  value(v: Tree, col: number, inSeq: boolean): string {
    const isColl = v !== null && typeof v === 'object';
    const empty = isColl && (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);
    if (!isColl || empty || this.chance(25)) return ` ${this.flow(v)}${this.comment()}\n`;
    const step = 1 + this.pick(4);
    if (Array.isArray(v)) {
      const at = !inSeq && this.chance(30) ? col : col + step; // `key:` then `- x` at the key's column
      return `${this.comment()}\n${this.gap(at)}${this.seq(v, at)}`;
    }
    if (inSeq && this.chance(60)) return ' ' + this.map(v as Record<string, Tree>, col + 2, true); // - key: value
    return `${this.comment()}\n${this.gap(col + step)}${this.map(v as Record<string, Tree>, col + step)}`;
  }

  map(m: Record<string, Tree>, col: number, compactFirst = false): string {
    return Object.entries(m)
      .map(([k, v], i) => `${i === 0 && compactFirst ? '' : ' '.repeat(col)}${this.scalar(k, true)}${this.chance(5) ? ' ' : ''}:${this.value(v, col, false)}${this.gap(col)}`)
      .join('');
  }

  seq(s: Tree[], col: number): string {
    return s.map((v) => `${' '.repeat(col)}-${this.value(v, col, true)}${this.gap(col)}`).join('');
  }

  document(t: Tree): string {
    const head = this.chance(10) ? '---\n' : this.chance(10) ? '# config\n\n' : '';
    const body = t !== null && typeof t === 'object' && !Array.isArray(t) ? this.map(t, 0) : this.flow(t) + '\n';
    return head + (this.chance(20) ? body.slice(0, -1) : body); // with and without a final newline
  }
}

const EDIT_CHARS = [' ', ' ', '\n', ':', '-', '#', '"', "'", '[', ']', '{', '}', ',', '&', '*', '!', '|', '>', '\t', '\r', 'x', '\\', '?', '%', '@'] as const;
const edits = fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.constantFrom(...EDIT_CHARS)), { minLength: 1, maxLength: 3 });

/** Insert, replace or delete one character at each (position mod length). */
function edit(text: string, es: ReadonlyArray<readonly [number, number, string]>): string {
  let t = text;
  for (const [at, op, ch] of es) {
    const i = t.length === 0 ? 0 : at % t.length;
    t = op === 0 ? t.slice(0, i) + ch + t.slice(i) : op === 1 ? t.slice(0, i) + ch + t.slice(i + 1) : t.slice(0, i) + t.slice(i + 1);
  }
  return t;
}

describe('the subset reader agrees with yaml', () => {
  test.for(['config/default.yaml', 'config/example.yaml'])('on the shipped %s (and takes it)', (path) => {
    expect(compare(readFileSync(path, 'utf8'))).toEqual({ taken: true });
  });

  test('on random documents in every style; it takes most of them', () => {
    let taken = 0;
    let runs = 0;
    fc.assert(
      fc.property(topMap, styles, (t, st) => {
        runs++;
        if (compare(new Renderer(st).document(t)).taken) taken++;
      }),
      { numRuns: 2000 },
    );
    // The vocabulary has plenty of scalars that leave the subset (*x, &x, "\\", tabs ...);
    // a reader that took nothing would agree with anything.
    expect(taken / runs).toBeGreaterThan(0.3);
  });

  test('on random documents with random edits (most leave the subset or break the YAML)', () => {
    fc.assert(
      fc.property(topMap, styles, edits, (t, st, es) => {
        compare(edit(new Renderer(st).document(t), es));
      }),
      { numRuns: 3000 },
    );
  });

  test('on the shipped configs with random edits', () => {
    const texts = ['config/default.yaml', 'config/example.yaml'].map((p) => readFileSync(p, 'utf8'));
    fc.assert(
      fc.property(fc.nat(1), edits, (which, es) => {
        compare(edit(texts[which] ?? '', es));
      }),
      { numRuns: 1000 },
    );
  });

  test('the scalar tags it relies on are still the core schema\'s', () => {
    // fast-yaml.ts tests a plain scalar against the tags only when it starts with a character
    // one of these can start with (digits, + - . ~ n N t T f F): a yaml release that changed
    // them must be looked at.
    const tags = new Y.Document().schema.tags as unknown as Array<{ default?: unknown; test?: RegExp }>;
    expect(tags.filter((t) => t.default === true && t.test !== undefined).map((t) => t.test?.source)).toEqual([
      '^(?:~|[Nn]ull|NULL)?$',
      '^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$',
      '^0o[0-7]+$',
      '^[-+]?[0-9]+$',
      '^0x[0-9a-fA-F]+$',
      '^(?:[-+]?\\.(?:inf|Inf|INF)|\\.nan|\\.NaN|\\.NAN)$',
      '^[-+]?(?:\\.[0-9]+|[0-9]+(?:\\.[0-9]*)?)[eE][-+]?[0-9]+$',
      '^[-+]?(?:\\.[0-9]+|[0-9]+\\.[0-9]*)$',
    ]);
    expect(tags.some((t) => t.default === 'key')).toBe(false);
  });
});

describe('what the subset leaves to yaml', () => {
  test.for([
    ['an anchor and an alias', 'a: &x 1\nb: *x\n', /starting with "&"/],
    ['a tag', 'a: !!str 1\n', /starting with "!"/],
    ['a block scalar', 'a: |\n  text\n', /starting with "\|"/],
    ['a multi-line plain scalar', 'a: one\n  two\n', /continues the value/],
    ['a flow list over two lines', 'a: [1,\n  2]\n', /closes on another line/],
    ['a second document', 'a: 1\n---\nb: 2\n', /document marker/],
    ['a directive', '%YAML 1.2\n---\na: 1\n', /directive/],
    ['a tab', 'a:\t1\n', /U\+0009/],
    ['CR LF line ends', 'a: 1\r\nb: 2\r\n', /U\+000d/],
    ['a byte order mark', '\ufeffa: 1\n', /U\+feff/],
    ['a backslash escape', 'a: "x\\ty"\n', /backslash/],
    ['a duplicate key', 'a: 1\nb: 2\na: 3\n', /key "a" repeats/],
    ['a key that is not a string', '1: x\n', /not a string/],
    ['a complex key', '? a\n: 1\n', /starting with "\?"/],
    ['a list at the top', '- a\n', /top level is a list/],
    ['a scalar at the top', 'just words\n', /not a "key: value" line/],
    ['a trailing comma', 'a: [1, 2, ]\n', /trailing comma/],
    ['a pair inside a list', 'a: [x: 1]\n', /unexpected ":"/],
    ['a nested list on one line', 'a:\n  - - x\n', /list item after an indicator/],
    ['bad indentation', 'a:\n    b: 1\n  c: 2\n', /indented more than the keys/],
  ] as const)('%s', ([, text, why]) => {
    const r = parseSubset(Y, text);
    expect(r.ok ? 'taken' : r.reason).toMatch(why);
  });

  test('a text it leaves gets yaml\'s own document and errors', () => {
    expect(parseYaml('a: &x 1\nb: *x\n').doc.toJS()).toEqual({ a: 1, b: 1 });
    expect(parseYaml('a: 1\n---\nb: 2\n').doc.errors.map((e) => e.code)).toEqual(['MULTIPLE_DOCS']);
  });
});

describe('whole configs read the same through either reader', () => {
  const outcome = (text: string, subset: boolean): unknown => {
    try {
      return parseConfig(text, 'x.yaml', null, subset);
    } catch (e) {
      if (e instanceof KasmonError) return e.message;
      throw e;
    }
  };
  const plain = (p: string): Tree => Y.parse(readFileSync(p, 'utf8')) as Tree;
  const defaults = plain('config/default.yaml');

  test('config/default.yaml re-written in random styles, and with random edits: the same Config or the same messages', () => {
    let same = 0;
    fc.assert(
      fc.property(styles, fc.option(edits, { nil: undefined }), (st, es) => {
        const text = new Renderer(st, true).document(defaults);
        const t = es === undefined ? text : edit(text, es);
        const a = outcome(t, true);
        expect(a).toEqual(outcome(t, false));
        if (typeof a !== 'string') same++;
      }),
      { numRuns: 150 },
    );
    expect(same).toBeGreaterThan(0); // some runs produce a whole Config, not only errors
  });

  test('a large generated rule list is read by the subset reader, to the same Config', () => {
    const lines = ['extends: none', 'endpoints:', '  other:'];
    for (let i = 0; i < 2000; i++) {
      if (i % 2 === 0) lines.push(`    - id: r-${i}`, `      pattern: host${i}.example.com  # feed ${i}`, '      severity: high', '      confidence: C', `      sources: [feed, "x${i}"]`);
      else lines.push(`    - { id: r-${i}, patterns: ["h${i}-*.example.net", 'h${i}.example.org'], severity: low, confidence: B, purpose: 'it''s ${i}' }`);
    }
    const text = lines.join('\n') + '\n';
    expect(compare(text)).toEqual({ taken: true });
    const fast = parseConfig(text, 'x.yaml', undefined, true);
    expect(fast.endpoints).toHaveLength(2000);
    expect(isDeepStrictEqual(fast, parseConfig(text, 'x.yaml', undefined, false))).toBe(true);
  });
});
