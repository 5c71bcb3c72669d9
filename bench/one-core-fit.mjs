// Splits a cold, pinned `kasmon replay` into a fixed cost per process and a sustained rate,
// from the same run on N and 2N packets of the same traffic (bench lines c and c3). The
// difference of the two walls is the time of N packets with every fixed cost removed
// (start-up, code loading, JIT warm-up, the report): the rate one core sustains, V8's
// helper threads included. See bench/README.md, "The 1.5 M packets/s target".

/**
 * @param {{packets: number, best: number} | undefined} small  line c (N packets, best wall s)
 * @param {{packets: number, best: number} | undefined} large  line c3 (more packets)
 * @param {number} target  packets/s
 * @returns {{rate: number, fixed: number, breakEven: number} | null} breakEven: the packet
 *   count from which a whole cold run averages `target` (-1: never, the rate is below it);
 *   null when the two runs cannot be fitted.
 */
export function oneCoreFit(small, large, target = 1.5e6) {
  if (!small || !large) return null;
  if (!(large.packets > small.packets) || !(large.best > small.best)) return null;
  const rate = (large.packets - small.packets) / (large.best - small.best);
  const fixed = small.best - small.packets / rate;
  // n / (fixed + n / rate) >= target  <=>  n >= target * fixed / (1 - target / rate)
  const breakEven = rate > target ? Math.ceil((target * Math.max(fixed, 0)) / (1 - target / rate)) : -1;
  return { rate, fixed, breakEven };
}
