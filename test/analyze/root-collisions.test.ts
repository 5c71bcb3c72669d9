import { describe, expect, test } from 'vitest';
import { Matcher } from '../../src/analyze/hostnames.js';
import { compileRule, type RuleSpec } from '../../src/analyze/rules.js';
import { NameFilter } from '../../src/capture/app/name-filter.js';

/**
 * The matcher and the decoders' name filter find a name's root (its last two labels) by a
 * 32-bit FNV-1a hash, then compare the text: two roots with the same hash must stay apart.
 * 'wiu.f8o' and 's7s.6t7' are such a pair (same length, same hash, found by brute force).
 */
const A = 'wiu.f8o';
const B = 's7s.6t7';

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const spec = (id: string, patterns: string[]): RuleSpec => ({ id, category: 'other', severity: 'low', confidence: 'C', patterns });
const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

describe('roots whose hashes collide', () => {
  test('the pair collides', () => {
    expect([A.length, fnv1a(A)]).toEqual([B.length, fnv1a(B)]);
    expect(A).not.toBe(B);
  });

  test('Matcher: a name under one root never matches the rules of the other', () => {
    const only = new Matcher([compileRule(spec('a', [`*.${A}`, A]))]);
    expect([only.match(`x.${A}`)?.id, only.match(A)?.id]).toEqual(['a', 'a']);
    expect([only.match(`x.${B}`), only.match(B)]).toEqual([undefined, undefined]);
    const both = new Matcher([compileRule(spec('a', [`*.${A}`])), compileRule(spec('b', [`*.${B}`]))]);
    expect([both.match(`x.${A}`)?.id, both.match(`x.${B}`)?.id]).toEqual(['a', 'b']);
    expect(both.rootNames().sort()).toEqual([A, B].sort());
  });

  test('NameFilter.mayWant: only the root it was given passes', () => {
    const f = new NameFilter(() => true, [A]);
    expect([A, `x.${A}`, B, `x.${B}`].map((n) => f.mayWant(bytes(n), n.length))).toEqual([true, true, false, false]);
    const both = new NameFilter(() => true, [A, B]);
    expect([A, B, `x.${B}`].map((n) => both.mayWant(bytes(n), n.length))).toEqual([true, true, true]);
  });

  test('NameFilter without roots passes every name; with an empty list, none', () => {
    expect(new NameFilter(() => true, undefined).mayWant(bytes('example.org'), 11)).toBe(true);
    expect(new NameFilter(() => true, []).mayWant(bytes('example.org'), 11)).toBe(false);
  });
});
