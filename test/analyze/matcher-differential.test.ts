import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Matcher } from '../../src/analyze/hostnames.js';
import { loadConfig } from '../../src/config/load.js';
import { compilePattern, compileRule, expandBraces, MAX_NAME_LEN, type RuleSpec } from '../../src/analyze/rules.js';

/**
 * Matcher.match against a naive reference written from the documentation alone: the header
 * of src/analyze/hostnames.ts (precedence) and of src/analyze/rules.ts (pattern syntax). The
 * reference takes every rule, every pattern, every brace expansion (rules.ts expandBraces, the
 * one piece it shares), tests the name against it label by label, and keeps the most specific
 * hit:
 * 1. an exact name;
 * 2. else the pattern whose literal tail (the labels after the last `*`) is the longest suffix
 *    of the name; at one suffix a label wildcard before the subdomain pattern `*.S`, a
 *    fixed-depth wildcard before a `*.`-prefixed one, then more literal characters (every
 *    character of the pattern but its `*`s and a leading `*.`);
 * 3. the later rule on any remaining tie (and within one rule, the later pattern: the same
 *    rule, but `pattern` is part of the result).
 * Names are compared lower-case without one trailing dot; an empty name, one longer than
 * MAX_NAME_LEN or one starting with a dot matches nothing. `*.S` matches any name ending in
 * `.S` (rules.ts: "any name ending in `.suffix`"); a `*` inside a label is one or more
 * characters other than a dot.
 */

interface Hit {
  id: string;
  pattern: string;
}

interface Candidate extends Hit {
  exact: boolean;
  /** Labels in the literal tail (wildcards only). */
  tail: number;
  subdomain: boolean;
  anyDepth: boolean;
  literal: number;
  /** Position of the (rule, pattern) in the rule list: later is larger. */
  order: number;
}

/** `*` = one or more characters; `s` is one label (no dots). */
function globLabel(p: string, s: string): boolean {
  if (p === '') return s === '';
  if (p[0] === '*') {
    for (let k = 1; k <= s.length; k++) if (globLabel(p.slice(1), s.slice(k))) return true;
    return false;
  }
  return s !== '' && s[0] === p[0] && globLabel(p.slice(1), s.slice(1));
}

/** Labels of `name` match `pats` one for one. */
function globLabels(pats: readonly string[], name: readonly string[]): boolean {
  return pats.length === name.length && pats.every((p, i) => globLabel(p, name[i]!));
}

/** How the expanded pattern `text` matches the normalised `name`, or undefined. */
function candidate(text: string, name: string, hit: Hit, order: number): Candidate | undefined {
  const base = { ...hit, order, exact: false, tail: 0, subdomain: false, anyDepth: false, literal: 0 };
  if (!text.includes('*')) return text === name ? { ...base, exact: true } : undefined;
  const pats = text.split('.');
  let tail = 0;
  while (tail < pats.length && !pats[pats.length - 1 - tail]!.includes('*')) tail++;
  const anyDepth = pats[0] === '*';
  const labels = name.split('.');
  const literal = (anyDepth ? text.slice(2) : text).replaceAll('*', '').length;
  if (anyDepth && pats.length === tail + 1) {
    const suffix = `.${pats.slice(1).join('.')}`;
    return name.length > suffix.length && name.endsWith(suffix) ? { ...base, tail, subdomain: true, anyDepth, literal } : undefined;
  }
  if (anyDepth) {
    // One or more whole labels for the leading `*.`, then the rest label for label.
    const rest = pats.slice(1);
    if (labels.length <= rest.length || labels.slice(0, labels.length - rest.length).some((l) => l === '')) return undefined;
    return globLabels(rest, labels.slice(labels.length - rest.length)) ? { ...base, tail, anyDepth, literal } : undefined;
  }
  return globLabels(pats, labels) ? { ...base, tail, literal } : undefined;
}

/** a before b when a is the more specific (negative), by the documented precedence. */
function precedence(a: Candidate, b: Candidate): number {
  if (a.exact !== b.exact) return a.exact ? -1 : 1;
  if (a.exact) return b.order - a.order;
  return (
    b.tail - a.tail ||
    Number(a.subdomain) - Number(b.subdomain) ||
    Number(a.anyDepth) - Number(b.anyDepth) ||
    b.literal - a.literal ||
    b.order - a.order
  );
}

/** The reference for a rule list: every pattern brace-expanded once, then checked name by name. */
function referenceFor(rules: readonly RuleSpec[]): (raw: string) => Hit | undefined {
  const forms = rules.flatMap((r, ri) =>
    r.patterns.flatMap((p, pi) => {
      const source = p.trim().toLowerCase().replace(/\.$/, '');
      const expanded = expandBraces(source);
      if (!expanded.ok) throw new Error(expanded.error);
      return expanded.value.map((text) => ({ text, hit: { id: r.id, pattern: source }, order: ri * 1000 + pi }));
    }),
  );
  return (raw) => {
    const lower = raw.toLowerCase();
    const name = lower.endsWith('.') ? lower.slice(0, -1) : lower;
    if (name === '' || name.length > MAX_NAME_LEN || name.startsWith('.')) return undefined;
    const hits = forms.map((f) => candidate(f.text, name, f.hit, f.order)).filter((c) => c !== undefined);
    const best = hits.sort(precedence)[0];
    return best === undefined ? undefined : { id: best.id, pattern: best.pattern };
  };
}

const reference = (rules: readonly RuleSpec[], raw: string): Hit | undefined => referenceFor(rules)(raw);

const ours = (m: Matcher, name: string): Hit | undefined => {
  const r = m.match(name);
  return r === undefined ? undefined : { id: r.id, pattern: r.pattern };
};

/** The names on which the matcher and the reference disagree, with both answers. */
function disagreements(m: Matcher, rs: readonly RuleSpec[], names: readonly string[]): Array<{ name: string; matcher: Hit | undefined; reference: Hit | undefined }> {
  const ref = referenceFor(rs);
  return names
    .map((name) => ({ name, matcher: ours(m, name), reference: ref(name) }))
    .filter((d) => !isDeepStrictEqual(d.matcher, d.reference));
}

const spec = (id: string, patterns: string[]): RuleSpec => ({ id, category: 'other', severity: 'low', confidence: 'C', patterns });

// ─── generators: few labels, so that rules and names collide often ───────────────────────

const ROOTS = ['k.com', 'b.k.com', 'x.b.k.com', 'k.net', 'co.uk'] as const;
const LABELS = ['a', 'b', 'x', 'ab', 'ba', 'abc', 's1', 's2', 's10', 'ksn-a-geo', 'ksn-geo', 'k', 'co'] as const;
const STAR_LABELS = ['*', '*', 'a*', '*b', 'a*b', '*a*', 's*', '**', 'ksn-*-geo', 'ksn-*'] as const;
const BRACED = ['{a,ab}', '{a*,b}', 's{1..2}', 's{09..10}', '{x,*}', '{ksn-*-geo,ksn-a-geo}'] as const;

const label = fc.constantFrom(...LABELS);
const starLabel = fc.constantFrom(...STAR_LABELS);
const anyLabel = fc.oneof({ weight: 3, arbitrary: label }, { weight: 3, arbitrary: starLabel }, { weight: 1, arbitrary: fc.constantFrom(...BRACED) });
const root = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...ROOTS) }, { weight: 1, arbitrary: fc.constant('k.{com,net}') }, { weight: 1, arbitrary: fc.constant('{,x.}b.k.com') });

const pattern = fc
  .oneof(
    // exact, or brace-expanded exact names
    fc.tuple(fc.array(label, { maxLength: 2 }), root).map(([ls, r]) => [...ls, r].join('.')),
    // *.S
    root.map((r) => `*.${r}`),
    // *.<labels>.S
    fc.tuple(fc.array(anyLabel, { minLength: 1, maxLength: 2 }), root).map(([ls, r]) => ['*', ...ls, r].join('.')),
    // fixed-depth label wildcards
    fc.tuple(fc.array(anyLabel, { minLength: 1, maxLength: 3 }), root).map(([ls, r]) => [...ls, r].join('.')),
  )
  .filter((p) => compilePattern(p).ok);

const rules = fc
  .array(fc.array(pattern, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 })
  .map((ps) => ps.map((patterns, i) => spec(`r${i}`, patterns)));

const FILLS = ['a', 'b', 'x', '1', '-', 'geo', 'a.b', 'x.y.z'] as const;

/** Fill in a pattern: one of its brace expansions, then 1-3 characters (or labels, for a leading `*.`) per `*`. */
function instance(p: string, pick: number, fills: readonly string[]): string {
  const forms = expandBraces(p);
  const text = forms.ok ? forms.value[pick % forms.value.length]! : p;
  let i = 0;
  const fill = (): string => fills[i++ % fills.length]!;
  return text
    .split('.')
    .map((l, at) => (at === 0 && l === '*' ? fill() : l.replaceAll('*', () => fill().replaceAll('.', ''))))
    .join('.');
}

/**
 * How to make one name near a rule list: an instance of one of its patterns (most often), or
 * labels on a known or foreign root; then as written, upper-cased, or with a trailing dot.
 */
const nameRecipe = fc.record({
  fromPattern: fc.nat(4),
  pattern: fc.nat(),
  pick: fc.nat(),
  fills: fc.array(fc.constantFrom(...FILLS), { minLength: 8, maxLength: 8 }),
  labels: fc.array(fc.constantFrom(...LABELS, 'q1', 'zz-9', 'a-b', '0'), { maxLength: 4 }),
  root: fc.constantFrom(...ROOTS, 'com', 'k', 'uk', 'b.k.org'),
  variant: fc.nat(2),
});
type NameRecipe = typeof nameRecipe extends fc.Arbitrary<infer T> ? T : never;

function nameFrom(rs: readonly RuleSpec[], r: NameRecipe): string {
  const patterns = rs.flatMap((x) => x.patterns);
  const n = r.fromPattern > 1 ? instance(patterns[r.pattern % patterns.length]!, r.pick, r.fills) : [...r.labels, r.root].join('.');
  return r.variant === 0 ? n : r.variant === 1 ? n.toUpperCase() : `${n}.`;
}

describe('Matcher.match agrees with a naive rule-by-rule reference', () => {
  test('random rule sets, names built from their patterns and around their roots', () => {
    fc.assert(
      fc.property(
        rules,
        fc.array(nameRecipe, { minLength: 1, maxLength: 20 }),
        (rs, recipes) => {
          const names = recipes.map((r) => nameFrom(rs, r));
          expect(disagreements(new Matcher(rs.map(compileRule)), rs, names)).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('arbitrary strings (empty labels, other characters, over-long names) under the same rules', () => {
    const odd = fc.oneof(
      fc.string({ maxLength: 12 }).map((s) => `${s}.k.com`),
      fc.string({ maxLength: 12 }).map((s) => `${s}.b.k.com`),
      fc.constantFrom('.k.com', '..k.com', 'a..k.com', 'a..b.k.com', 'k.com..', '.', '', 'k..com', 'ab.k.com..'),
      fc.tuple(fc.integer({ min: 120, max: 130 }), fc.boolean()).map(([n, dot]) => `${'a.'.repeat(n)}k.com${dot ? '.' : ''}`), // 245-266 characters
    );
    fc.assert(
      fc.property(rules, fc.array(odd, { minLength: 1, maxLength: 10 }), (rs, names) => {
        expect(disagreements(new Matcher(rs.map(compileRule)), rs, names)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  test('the default endpoint list, on the default rules as written in config/default.yaml', () => {
    const endpoints = loadConfig().endpoints;
    const specs = endpoints.map((r) => spec(r.id, r.patterns.map((p) => p.source)));
    const m = new Matcher(endpoints);
    fc.assert(
      fc.property(fc.array(nameRecipe, { minLength: 1, maxLength: 10 }), (recipes) => {
        expect(disagreements(m, specs, recipes.map((r) => nameFrom(specs, r)))).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});

describe('the reference itself', () => {
  // A reference that matched nothing would agree with a matcher that matches nothing.
  test.for<{ name: string; rules: RuleSpec[]; host: string; want: Hit | undefined }>([
    { name: 'exact', rules: [spec('e', ['a.k.com'])], host: 'A.k.com.', want: { id: 'e', pattern: 'a.k.com' } },
    { name: '*.S, any depth', rules: [spec('s', ['*.k.com'])], host: 'a.b.c.k.com', want: { id: 's', pattern: '*.k.com' } },
    { name: '*.S is not S', rules: [spec('s', ['*.k.com'])], host: 'k.com', want: undefined },
    { name: 'a label wildcard stays in its label', rules: [spec('w', ['a*.k.com'])], host: 'ab.c.k.com', want: undefined },
    { name: 'braces', rules: [spec('b', ['s{08..10}.k.com'])], host: 's09.k.com', want: { id: 'b', pattern: 's{08..10}.k.com' } },
    // Each precedence step, with the winner in the earlier rule (so "later rule" would pick the other).
    { name: 'exact before any wildcard', rules: [spec('exact', ['ab.k.com']), spec('wild', ['a*.k.com', '*.k.com'])], host: 'ab.k.com', want: { id: 'exact', pattern: 'ab.k.com' } },
    { name: 'longer suffix first', rules: [spec('deep', ['*.bb.k.com']), spec('wild', ['a*.b*.k.com'])], host: 'ab.bb.k.com', want: { id: 'deep', pattern: '*.bb.k.com' } },
    { name: 'label wildcard before *.S', rules: [spec('label', ['a*.k.com']), spec('sub', ['*.k.com'])], host: 'ab.k.com', want: { id: 'label', pattern: 'a*.k.com' } },
    { name: 'fixed depth before *.', rules: [spec('fixed', ['x.a*.k.com']), spec('any', ['*.abcd*.k.com'])], host: 'x.abcde.k.com', want: { id: 'fixed', pattern: 'x.a*.k.com' } },
    { name: 'more literal characters first', rules: [spec('long', ['ab*.k.com']), spec('short', ['a*.k.com'])], host: 'abc.k.com', want: { id: 'long', pattern: 'ab*.k.com' } },
    { name: 'later rule on a tie', rules: [spec('first', ['a*.k.com']), spec('second', ['*a.k.com'])], host: 'aba.k.com', want: { id: 'second', pattern: '*a.k.com' } },
    { name: 'later pattern of one rule on a tie', rules: [spec('one', ['a*.k.com', '*a.k.com'])], host: 'aba.k.com', want: { id: 'one', pattern: '*a.k.com' } },
  ])('$name', ({ rules: rs, host, want }) => {
    expect(reference(rs, host)).toEqual(want);
    expect(ours(new Matcher(rs.map(compileRule)), host)).toEqual(want);
    // A real contest: without the winning rule, another one matches the name.
    if (rs.length > 1) expect(reference(rs.filter((r) => r.id !== want?.id), host)).toBeDefined();
  });
});
