import { describe, expect, test } from 'vitest';
import { NetworkClock, Tick } from '../../src/engine/clock.js';

/**
 * The edges of the network clock's decision about a held packet (clock.ts): the next packet
 * makes it a step when it is out of step with network time and carries on from the held time
 * (ahead: not earlier than held - skew; behind: between held - skew and network time - skew),
 * a spike otherwise. Skew 10 s, network time T.
 */
const S = 1_000_000;
const SKEW = 10 * S;
const T = 1_727_740_800 * S;
/** One packet at `us` microseconds (the clock takes seconds and nanoseconds). */
const at = (c: NetworkClock, us: number): number => c.observe(Math.floor(us / S), (us - Math.floor(us / S) * S) * 1000);

describe('NetworkClock: what the packet after a held one makes of it', () => {
  test.for([
    // held ahead
    { name: 'ahead; next exactly held - skew: carries on, a step', held: T + 100 * S, next: T + 90 * S, want: Tick.HeldWasStep },
    { name: 'ahead; next 1 µs earlier than that: a spike', held: T + 100 * S, next: T + 90 * S - 1, want: Tick.HeldWasSpike | Tick.Held },
    { name: 'ahead; next past the held time: a step', held: T + 100 * S, next: T + 200 * S, want: Tick.HeldWasStep | Tick.Held },
    { name: 'ahead by just over the skew; next exactly at the skew of network time: in step wins, a spike', held: T + 15 * S, next: T + 10 * S, want: Tick.HeldWasSpike },
    { name: 'ahead by just over the skew; next 1 µs past the skew of network time: a step', held: T + 15 * S, next: T + 10 * S + 1, want: Tick.HeldWasStep },
    // held behind
    { name: 'behind; next exactly held - skew: carries on, a step', held: T - 100 * S, next: T - 110 * S, want: Tick.HeldWasStep },
    { name: 'behind; next 1 µs earlier than that: a spike', held: T - 100 * S, next: T - 110 * S - 1, want: Tick.HeldWasSpike | Tick.Held },
    { name: 'behind; next between the held time and network time: a step', held: T - 100 * S, next: T - 50 * S, want: Tick.HeldWasStep | Tick.Held },
    { name: 'behind; next far ahead of network time (the other way): a spike', held: T - 100 * S, next: T + 50 * S, want: Tick.HeldWasSpike | Tick.Held },
    { name: 'behind; next back in step: a spike', held: T - 100 * S, next: T - 5 * S, want: Tick.HeldWasSpike },
  ])('$name', ({ held, next, want }) => {
    const c = new NetworkClock(SKEW);
    at(c, T);
    expect(at(c, held)).toBe(Tick.Held);
    expect(at(c, next)).toBe(want);
    const step = (want & Tick.HeldWasStep) !== 0;
    expect([c.stepsForward + c.stepsBackward, c.spikesAhead + c.spikesBehind]).toEqual(step ? [1, 0] : [0, 1]);
    if (step) expect(held > T ? c.stepsForward : c.stepsBackward).toBe(1);
    else expect(held > T ? c.spikesAhead : c.spikesBehind).toBe(1);
  });

  test.for([0, -1, Number.NaN])('a skew of %s is refused', (skew) => {
    expect(() => new NetworkClock(skew)).toThrow(RangeError);
  });

  test('the smallest skew (1 µs) works', () => {
    const c = new NetworkClock(1);
    expect([at(c, T), at(c, T + 1), at(c, T + 3)]).toEqual([0, 0, Tick.Held]);
  });
});
