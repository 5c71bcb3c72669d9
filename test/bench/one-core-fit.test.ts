import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs bench helper, no type declarations
import { oneCoreFit } from '../../bench/one-core-fit.mjs';

type Fit = { rate: number; fixed: number; breakEven: number } | null;
const fit = oneCoreFit as (a?: { packets: number; best: number }, b?: { packets: number; best: number }, t?: number) => Fit;

/** Wall time of a run under the model the bench fits: fixed + packets / rate. */
const wall = (fixed: number, rate: number, packets: number): number => fixed + packets / rate;

describe('oneCoreFit (bench lines c and c3)', () => {
  it.each([
    [0.45, 2.46e6],
    [0.3, 1.6e6],
    [0.05, 5e6],
  ])('recovers fixed cost %s s and rate %s packets/s from two sizes', (fixed, rate) => {
    const r = fit({ packets: 1.2e6, best: wall(fixed, rate, 1.2e6) }, { packets: 2.4e6, best: wall(fixed, rate, 2.4e6) });
    expect(r).not.toBeNull();
    expect(r!.rate).toBeCloseTo(rate, -1);
    expect(r!.fixed).toBeCloseTo(fixed, 9);
  });

  it('break-even size: a whole run of that many packets averages the target, one fewer does not', () => {
    const fixed = 0.45;
    const rate = 2.46e6;
    const r = fit({ packets: 1.2e6, best: wall(fixed, rate, 1.2e6) }, { packets: 2.4e6, best: wall(fixed, rate, 2.4e6) })!;
    const n = r.breakEven;
    expect(n / wall(fixed, rate, n)).toBeGreaterThanOrEqual(1.5e6 * (1 - 1e-12));
    expect((n - 1) / wall(fixed, rate, n - 1)).toBeLessThan(1.5e6);
  });

  it('a sustained rate below the target never breaks even', () => {
    const r = fit({ packets: 1e6, best: wall(0.2, 1.2e6, 1e6) }, { packets: 2e6, best: wall(0.2, 1.2e6, 2e6) })!;
    expect(r.rate).toBeLessThan(1.5e6);
    expect(r.breakEven).toBe(-1);
  });

  it('no fit from a missing line, equal sizes, or a larger file that ran no longer', () => {
    expect(fit(undefined, { packets: 2, best: 1 })).toBeNull();
    expect(fit({ packets: 1e6, best: 1 }, undefined)).toBeNull();
    expect(fit({ packets: 1e6, best: 1 }, { packets: 1e6, best: 2 })).toBeNull();
    expect(fit({ packets: 1e6, best: 1 }, { packets: 2e6, best: 1 })).toBeNull();
    expect(fit({ packets: 1e6, best: 1 }, { packets: 2e6, best: Number.NaN })).toBeNull();
  });
});
