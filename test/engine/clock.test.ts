import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { NetworkClock, Tick } from '../../src/engine/clock.js';

const S = 1_000_000;
const SKEW = 300 * S;
const YEAR = 365 * 86_400 * S;
const T = 1_727_684_102 * S;

/** A time in µs as the capture gives it (seconds, nanoseconds). */
const at = (c: NetworkClock, us: number): number => c.observe(Math.floor(us / S), (us - Math.floor(us / S) * S) * 1000);

/** Feeds times; returns the Tick bits per packet. */
function run(clock: NetworkClock, times: readonly number[]): number[] {
  return times.map((t) => at(clock, t));
}

describe('NetworkClock: packets in step', () => {
  test('the first packet sets network time; later ones within the skew move it forward only', () => {
    const c = new NetworkClock(SKEW);
    expect(run(c, [T, T + S, T + 0.5 * S, T + 2 * S])).toEqual([0, 0, 0, 0]);
    expect(c.now).toBe(T + 2 * S);
    expect(c.age).toBe(2 * S); // ageing advanced by the forward moves only
  });

  test('a packet exactly max_skew away is still in step; one microsecond more is held', () => {
    const c = new NetworkClock(SKEW);
    at(c, T);
    expect(at(c, T + SKEW)).toBe(0);
    expect(at(c, T + 2 * SKEW + 1)).toBe(Tick.Held);
    const b = new NetworkClock(SKEW);
    at(b, T);
    expect(at(b, T - SKEW)).toBe(0);
    expect(at(b, T - SKEW - 1)).toBe(Tick.Held);
  });
});

describe('NetworkClock: one bad stamp', () => {
  test.for([
    { name: 'a year ahead', bad: T + YEAR, ahead: 1, behind: 0 },
    { name: 'a year behind', bad: T - YEAR, ahead: 0, behind: 1 },
  ])('$name: held, then called a spike by the next packet; network time and ageing do not move', ({ bad, ahead, behind }) => {
    const c = new NetworkClock(SKEW);
    at(c, T);
    expect(at(c, bad)).toBe(Tick.Held);
    expect(c.holding).toBe(true);
    expect(at(c, T + S)).toBe(Tick.HeldWasSpike);
    expect(c.holding).toBe(false);
    expect(c.now).toBe(T + S);
    expect(c.age).toBe(S);
    expect([c.spikesAhead, c.spikesBehind, c.stepsForward, c.stepsBackward]).toEqual([ahead, behind, 0, 0]);
    expect(c.lastSpike).toBe(bad);
  });

  test('two different bad stamps in a row: both spikes (the second one held in place of the first)', () => {
    const c = new NetworkClock(SKEW);
    at(c, T);
    expect(at(c, T + YEAR)).toBe(Tick.Held);
    expect(at(c, T - YEAR)).toBe(Tick.HeldWasSpike | Tick.Held);
    expect(at(c, T + 2 * S)).toBe(Tick.HeldWasSpike);
    expect([c.spikesAhead, c.spikesBehind, c.now]).toEqual([1, 1, T + 2 * S]);
  });
});

describe('NetworkClock: the capture clock really moved', () => {
  test('a gap longer than the skew (a quiet link, the next file): a step forward; ageing advances by at most max_skew', () => {
    const c = new NetworkClock(SKEW);
    at(c, T);
    expect(at(c, T + 3600 * S)).toBe(Tick.Held);
    expect(at(c, T + 3601 * S)).toBe(Tick.HeldWasStep);
    expect([c.now, c.stepsForward, c.spikesAhead]).toEqual([T + 3601 * S, 1, 0]);
    expect(c.age).toBe(SKEW + S);
  });

  test('an older file after a newer one (or an NTP step back): a step backward; ageing never goes back', () => {
    const c = new NetworkClock(SKEW);
    run(c, [T, T + 10 * S]);
    expect(at(c, T - 30 * 86_400 * S)).toBe(Tick.Held);
    expect(at(c, T - 30 * 86_400 * S + S)).toBe(Tick.HeldWasStep);
    expect([c.stepsBackward, c.now]).toEqual([1, T - 30 * 86_400 * S + S]);
    expect(c.age).toBe(11 * S); // 10 s before, +1 s after the step
  });

  test('a packet back in step with the old time wins over one near the held time (ambiguous: a spike)', () => {
    const c = new NetworkClock(10 * S);
    at(c, T);
    expect(at(c, T + 15 * S)).toBe(Tick.Held); // 15 s ahead with a 10 s skew
    expect(at(c, T + 6 * S)).toBe(Tick.HeldWasSpike); // within 10 s of both: back to network time
    expect(c.now).toBe(T + 6 * S);
  });

  test('a sparse capture (contacts hours and days apart): every packet is a step, judged at its own time', () => {
    const c = new NetworkClock(SKEW);
    const times = [T, T + 2 * 3600 * S, T + 24 * 3600 * S, T + 30 * 86_400 * S];
    expect(run(c, times)).toEqual([0, Tick.Held, Tick.HeldWasStep | Tick.Held, Tick.HeldWasStep | Tick.Held]);
    expect(c.release()).toBe(true);
    expect([c.now, c.stepsForward, c.spikesAhead + c.spikesBehind]).toEqual([times[3], 3, 0]);
  });

  test('a stamp a year ahead in a sparse capture is still a spike: the next packet is earlier than it', () => {
    const c = new NetworkClock(SKEW);
    expect(run(c, [T, T + YEAR, T + 2 * 3600 * S, T + 24 * 3600 * S])).toEqual([0, Tick.Held, Tick.HeldWasSpike | Tick.Held, Tick.HeldWasStep | Tick.Held]);
    expect([c.spikesAhead, c.stepsForward, c.now]).toEqual([1, 1, T + 2 * 3600 * S]);
  });

  test('release(): a held packet with no successor is accepted as a step; nothing held, nothing to release', () => {
    const c = new NetworkClock(SKEW);
    at(c, T);
    expect(c.release()).toBe(false);
    at(c, T + YEAR);
    expect(c.release()).toBe(true);
    expect([c.now, c.stepsForward, c.holding]).toEqual([T + YEAR, 1, false]);
    expect(c.release()).toBe(false);
  });
});

describe('NetworkClock: properties', () => {
  // Per packet: at most max_skew for a step the packet confirms, plus at most max_skew for its own in-step move.
  test('ageing time never goes back and never moves more than 2 x max_skew per packet, whatever the stamps', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -2 * YEAR, max: 2 * YEAR }), { minLength: 1, maxLength: 200 }), (offsets) => {
        const c = new NetworkClock(SKEW);
        let prev = c.age;
        for (const o of offsets) {
          at(c, T + o);
          expect(c.age).toBeGreaterThanOrEqual(prev);
          expect(c.age - prev).toBeLessThanOrEqual(2 * SKEW);
          prev = c.age;
        }
      }),
    );
  });

  test('a single wild stamp among in-step packets never moves network time past the in-step packets', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60 * S }), { minLength: 2, maxLength: 50 }),
        fc.nat(),
        fc.integer({ min: SKEW + 1, max: 10 * YEAR }),
        fc.boolean(),
        (steps, where, far, ahead) => {
          const c = new NetworkClock(SKEW);
          let t = T;
          const times = steps.map((d) => (t += d));
          const i = 1 + (where % (times.length - 1)); // never first, never last
          times.splice(i, 0, ahead ? times[i - 1]! + far : times[i - 1]! - far);
          for (const x of times) at(c, x);
          expect(c.now).toBe(t);
          expect(c.spikesAhead + c.spikesBehind).toBe(1);
          expect(c.stepsForward + c.stepsBackward).toBe(0);
        },
      ),
    );
  });
});
