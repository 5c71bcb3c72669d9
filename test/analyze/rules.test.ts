import { describe, expect, test } from 'vitest';
import { compilePattern, compileRule, expandBraces, MAX_EXPANSION } from '../../src/analyze/rules.js';

/** Edges of the pattern language (rules.ts): what is accepted at each limit, and the exact error one step past it. */
describe('compilePattern at its limits', () => {
  test.for([
    { name: 'case, spaces and one trailing dot are dropped', pattern: '  S01.Example.COM. ', source: 's01.example.com', forms: 1 },
    { name: `a range of exactly ${MAX_EXPANSION} values`, pattern: 'x{0000..9999}.example.com', source: 'x{0000..9999}.example.com', forms: MAX_EXPANSION },
    { name: `groups multiplying to exactly ${MAX_EXPANSION}`, pattern: 'x{0..99}-{0..99}.example.com', source: 'x{0..99}-{0..99}.example.com', forms: MAX_EXPANSION },
    { name: 'a one-value range', pattern: 's{5..5}.example.com', source: 's{5..5}.example.com', forms: 1 },
    { name: 'a 253-character name', pattern: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(53)}.example`, source: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(53)}.example`, forms: 1 },
  ])('$name', ({ pattern, source, forms }) => {
    const r = compilePattern(pattern);
    if (!r.ok) throw new Error(r.error);
    expect([r.value.source, r.value.forms.length]).toEqual([source, forms]);
  });

  test.for([
    { pattern: '}a.example.com', error: '"}" at position 1 has no matching "{"' },
    { pattern: 'a}b{c}.example.com', error: '"}" at position 2 has no matching "{"' },
    { pattern: 'ab{c.example.com', error: '"{" at position 3 is never closed' },
    { pattern: 'x{0..10000}.example.com', error: `range {0..10000} has more than ${MAX_EXPANSION} values; use a "*" wildcard` },
    { pattern: 'x{0..99}-{0..100}.example.com', error: `expands to more than ${MAX_EXPANSION} names; narrow the ranges or use a "*" wildcard` },
    { pattern: '{,}', error: 'empty name (expanded "")' },
    { pattern: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(54)}.example`, error: 'longer than 253 characters' },
    { pattern: `${'a'.repeat(63)}.example.com`, error: '' },
    { pattern: `${'a'.repeat(64)}.example.com`, error: `label "${'a'.repeat(64)}" is longer than 63` },
    // An error in one expansion names it; an error in an unexpanded pattern does not.
    { pattern: '{a,b c}.example.com', error: 'label "b c" has a character outside a-z 0-9 - _ * (expanded "b c.example.com")' },
    { pattern: 'b c.example.com', error: 'label "b c" has a character outside a-z 0-9 - _ *' },
  ])('$pattern: $error', ({ pattern, error }) => {
    const r = compilePattern(pattern);
    expect(r.ok ? '' : r.error).toBe(error);
  });
});

describe('numeric ranges (bash rules)', () => {
  test.for([
    { body: '8..10', want: ['8', '9', '10'] },
    { body: '08..10', want: ['08', '09', '10'] },
    { body: '8..010', want: ['008', '009', '010'] },
    { body: '0..2', want: ['0', '1', '2'] },
    { body: '00..2', want: ['00', '01', '02'] },
  ])('{$body}', ({ body, want }) => {
    const r = expandBraces(`{${body}}`);
    expect(r.ok && r.value).toEqual(want);
  });
});

describe('compileRule', () => {
  test('optional fields default to empty; a bad pattern names the rule and the pattern as written', () => {
    const r = compileRule({ id: 'x', category: 'other', severity: 'low', confidence: 'C', patterns: ['a.example.com'] });
    expect([r.purpose, r.sources]).toEqual(['', []]);
    const full = compileRule({ id: 'y', category: 'other', severity: 'low', confidence: 'C', patterns: ['a.example.com'], purpose: 'p', sources: ['K1'] });
    expect([full.purpose, full.sources]).toEqual(['p', ['K1']]);
    expect(() => compileRule({ id: 'bad', category: 'other', severity: 'low', confidence: 'C', patterns: ['*.COM'] })).toThrow(
      'rule bad: pattern "*.COM": a wildcard needs at least 2 literal labels at the end (like *.kaspersky.com)',
    );
  });
});
