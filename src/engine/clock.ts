/**
 * The network clock: what "now" is for a stream of packets, so that one packet with a wild
 * timestamp cannot move it (the idea of Zeek's network time and Suricata's flow-manager time,
 * with a guard neither has against a single bad stamp).
 *
 * Network time follows the packets while they stay within `maxSkew` of it (reordering between
 * interfaces or capture queues, a client's own drift). A packet further away, either way, is
 * *held*: the next packet decides what it was.
 * - The next packet is back within the skew of network time: the held one was a **spike**
 *   (a bad stamp). Network time does not move; what the held packet carried is judged at
 *   network time, and it is counted (`time/invalid/ahead_of_network_time` or `..._behind_...`).
 * - The next packet carries on from the held one — for a held packet ahead, it is not earlier
 *   than the held time (less the skew); for one behind, it lies between the held time (less
 *   the skew) and network time — : the capture's clock really **stepped** (a quiet link whose
 *   packets come minutes or days apart, the next file of a replay, an NTP step). Network time
 *   moves to the held time and the held packet is judged at its own time.
 * - Otherwise (the next packet went back toward network time, or further away still): the held
 *   packet was a spike, and the new one is looked at afresh (and may be held in its place).
 * At the end of input (or, live, after a moment without packets) a held packet is accepted as
 * a step: nothing later contradicts it.
 *
 * Besides network time the clock keeps *ageing time*, which idle timeouts of flows, fragments
 * and QUIC handshakes run on: it advances with network time but by at most `maxSkew` per step
 * and never backwards, so neither a bad stamp nor a real jump of the capture's clock flushes
 * state all at once or freezes it.
 */

/** What `observe` reports, as bits. */
export const Tick = {
  /** The packet held before this one was a spike: judge it at network time. */
  HeldWasSpike: 1,
  /** The packet held before this one was a real step: judge it at its own time. */
  HeldWasStep: 2,
  /** This packet is out of step and now held until the next one decides. */
  Held: 4,
} as const;

export class NetworkClock {
  /** Network time in microseconds (NaN before the first packet). */
  now = Number.NaN;
  /** Ageing time in microseconds: monotone, continuous (see above). Starts at 0. */
  age = 0;
  /** Time of the held packet (NaN when none). */
  held = Number.NaN;
  /** Spikes: held packets the next packet contradicted, by direction. */
  spikesAhead = 0;
  spikesBehind = 0;
  /** The time of the last spike (NaN before the first). */
  lastSpike = Number.NaN;
  /** Real jumps of the capture's clock, by direction. */
  stepsForward = 0;
  stepsBackward = 0;

  constructor(readonly maxSkew: number) {
    if (!(maxSkew > 0)) throw new RangeError('maxSkew must be > 0');
  }

  /** Whether a packet is being held (its observations wait for the next packet). */
  get holding(): boolean {
    return this.held === this.held; // not NaN
  }

  /**
   * Takes the next packet's time, as the capture gives it (seconds and nanoseconds: small
   * integers, so the per-frame call passes no boxed double); returns Tick bits.
   */
  observe(sec: number, nsec: number): number {
    const ts = sec * 1_000_000 + Math.floor(nsec / 1000);
    // The common case, small enough to be inlined into the per-frame path: nothing held, in step.
    const held = this.held;
    const d = ts - this.now;
    if (held !== held && d >= -this.maxSkew && d <= this.maxSkew) {
      if (d > 0) {
        this.now = ts;
        this.age += d;
      }
      return 0;
    }
    return this.observeRare(ts);
  }

  /** `observe` for the first packet, a packet after a held one, or one out of step. */
  private observeRare(ts: number): number {
    const now = this.now;
    if (now !== now) {
      this.now = ts; // the first packet defines network time
      return 0;
    }
    let r = 0;
    const held = this.held;
    if (held === held) {
      this.held = Number.NaN;
      const S = this.maxSkew;
      const inStep = ts >= now - S && ts <= now + S;
      const carriesOn = held > now ? ts >= held - S : ts >= held - S && ts < now - S;
      if (!inStep && carriesOn) {
        this.step(held);
        r = Tick.HeldWasStep;
      } else {
        if (held > now) this.spikesAhead++;
        else this.spikesBehind++;
        this.lastSpike = held;
        r = Tick.HeldWasSpike;
      }
    }
    const d = ts - this.now;
    if (d >= -this.maxSkew && d <= this.maxSkew) {
      if (d > 0) {
        this.now = ts;
        this.age += d;
      }
      return r;
    }
    this.held = ts;
    return r | Tick.Held;
  }

  /** No packet followed the held one (end of input, or a quiet moment live): accept it as a step. */
  release(): boolean {
    const held = this.held;
    if (held !== held) return false;
    this.held = Number.NaN;
    this.step(held);
    return true;
  }

  private step(to: number): void {
    const d = to - this.now;
    if (d > 0) {
      this.stepsForward++;
      this.age += Math.min(d, this.maxSkew);
    } else {
      this.stepsBackward++;
    }
    this.now = to;
  }
}
