import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LruMap } from '../../src/common/lru.js';

describe('LruMap', () => {
  test('never holds more than its capacity, and counts (and reports) every eviction', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 400 }), (cap, keys) => {
        const evicted: number[] = [];
        const m = new LruMap<number, number>({ capacity: cap, onEvict: (k) => evicted.push(k) });
        const live = new Set<number>();
        let total = 0;
        for (const k of keys) {
          if (m.get(k) === undefined) m.set(k, k);
          live.add(k);
          for (const e of evicted.splice(0)) {
            live.delete(e);
            total++;
          }
          expect(m.size).toBeLessThanOrEqual(cap);
          expect(m.size).toBe(live.size);
        }
        expect(m.evictions).toBe(total);
        if (new Set(keys).size <= cap) expect(total).toBe(0);
        expect([...m.entries()].every(([k, v]) => k === v && live.has(k))).toBe(true);
      }),
    );
  });

  test('an entry used at least once every capacity/4 operations is never evicted, however many others come and go', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 200 }), fc.integer({ min: 1, max: 1000 }), fc.nat(), (cap, others, seed) => {
        const m = new LruMap<string, number>({ capacity: cap });
        m.set('hot', 1);
        const every = Math.max(1, Math.floor(cap / 4));
        let ops = 0;
        for (let i = 0; i < others; i++) {
          m.set(`k${seed}-${i}`, i);
          if (++ops % every === 0) expect(m.get('hot')).toBe(1);
        }
        expect(m.get('hot')).toBe(1);
      }),
    );
  });

  test('when full, the least recently used entry goes first', () => {
    const m = new LruMap<string, number>({ capacity: 4 });
    for (const k of ['a', 'b', 'c', 'd']) m.set(k, 0);
    m.set('e', 0); // evicts 'a': nothing was used yet, so the first in is the least recent
    expect(m.get('a')).toBeUndefined();
    // Using 'b' refreshes it: the next two arrivals evict 'c' and 'd', not 'b'.
    for (let i = 0; i < 3; i++) m.get('b');
    m.set('f', 0);
    m.set('g', 0);
    expect(m.get('b')).toBe(0);
    expect([m.get('c'), m.get('d')]).toEqual([undefined, undefined]);
    expect(m.evictions).toBe(3);
  });
});
