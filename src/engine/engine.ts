import type { AlertDecision } from '../analyze/alerts.js';
import { Analyzer } from '../analyze/analyzer.js';
import type { ClientState } from '../analyze/clients.js';
import { Decoder, type DecoderLimits } from '../capture/decoder.js';
import { defineIssue } from '../capture/issues.js';
import type { Observation } from '../capture/observation.js';
import type { RawFrame } from '../capture/read/frame.js';
import { fromMicros, type PacketTime } from '../common/time.js';
import type { Config } from '../config/load.js';
import { NetworkClock, Tick } from './clock.js';
import { totalsOf, type DecodeTotals } from './decode-totals.js';
import type { Policy } from './policy.js';

/**
 * One engine for every command: it owns the decoder, the analyzer, the network clock and the
 * policy they work under. `replay`, `names` and `monitor` are thin commands over it:
 * - `ingest(frame)` for every captured frame, synchronously (no allocation until a name is found);
 * - `tick(wallMs)` from a timer, when ageing runs on wall time (the live sensor);
 * - `reload(policy)` between chunks: the whole policy is swapped at once;
 * - `finish()` at the end of input.
 * Its state is read where it lives (`decoder`, `analyzer`, `clock`, `errors`) by reports and
 * metrics: nothing is copied per packet.
 *
 * Time. Every frame's stamp goes through the network clock (clock.ts). What a frame shows is
 * judged at its own time when it is in step, at network time when the next packet shows its
 * stamp was a spike; a frame out of step waits (its observations are held) until then.
 * Ageing time — what idle timeouts run on — comes from the clock in `packet` mode (replay: a
 * capture ages by its own time, deterministically) and from the wall clock in `wall` mode
 * (the sensor: an NTP step or a replayed stream can neither flush nor freeze its tables).
 *
 * Errors. Decoders never throw (they count issues). Analysis and the hooks that hand alerts to
 * sinks run inside the engine's own guard: an exception there is counted in `errors` with the
 * first one kept, the run goes on, and the command reports it as an error (not a decode issue).
 */

export const TIME_AHEAD = defineIssue('time', 'invalid', 'ahead_of_network_time');
export const TIME_BEHIND = defineIssue('time', 'invalid', 'behind_network_time');

/** Idle state is swept at most once per this much ageing time in `packet` mode. */
const SWEEP_EVERY_MICROS = 1_000_000;
/** In `wall` mode a held frame is released when no frame followed it for this long. */
const RELEASE_HELD_AFTER_MS = 1000;

export interface EngineOptions {
  /**
   * `analyze`: match, track clients, decide alerts (replay, monitor). `names`: only decode and
   * hand every observation on. `decode`: decode with analysis's name filter and hand each
   * observation on with the time it is judged at (`onJudged`), for an analyzer elsewhere (a
   * replay worker, `names --matched`).
   */
  mode: 'analyze' | 'names' | 'decode';
  /** `packet`: ageing follows the capture's clock. `wall`: ageing follows `tick(wallMs)`. */
  ageing: 'packet' | 'wall';
  limits: EngineLimits;
  /** `names` mode: every observation, in capture order. Must not throw (errors are counted). */
  onObservation?: (o: Observation) => void;
  /** `analyze` mode: every alert raised. Must not throw (errors are counted). */
  onAlert?: (a: AlertDecision, client: ClientState) => void;
  /** `analyze` mode: an analyzer to feed instead of one of its own (a replay shares one across its inputs). */
  analyzer?: Analyzer;
  /** Where exceptions are counted (a replay shares one across its inputs' engines). */
  errors?: EngineErrors;
  /** `decode` mode: every observation a rule may want (or that carried no name), with the time it is judged at. */
  onJudged?: (o: Observation, at: number, time: PacketTime) => void;
  /**
   * Called when network time crosses a multiple of `seconds` (before the frame that crossed it
   * is read; once per crossing, gaps skipped) and at `finish` (backfill: export/backfill.ts).
   */
  step?: { readonly seconds: number; onStep(tSec: number): void };
}

export interface EngineLimits extends DecoderLimits {
  readonly clientBytes: number;
  readonly maxClients: number;
  /** The DNS-answer cache (attribution): bytes, and the longest an answer is kept. */
  readonly dnsAnswerBytes: number;
  readonly dnsMaxTtlSeconds: number;
  /** Clients with no contact for this long (ageing time) leave the tables (`wall` mode only; 0 = never). */
  readonly clientIdleMicros: number;
  readonly maxSkewMicros: number;
}

export function engineLimits(config: Config): EngineLimits {
  const l = config.limits;
  return {
    maxFlows: l.maxFlows,
    flowBytes: l.memory.tcpFlows,
    flowIdleSeconds: l.flowIdleSeconds,
    fragmentBytes: l.memory.ipFragments,
    quicBytes: l.memory.quic,
    clientBytes: l.memory.clients,
    maxClients: l.maxClients,
    dnsAnswerBytes: l.memory.dnsAnswers,
    dnsMaxTtlSeconds: config.attribution.maxTtlSeconds,
    clientIdleMicros: 0,
    maxSkewMicros: config.time.maxSkewSeconds * 1_000_000,
  };
}

/** Exceptions caught by the engine's guard, by where they happened. */
export class EngineErrors {
  analysis = 0;
  output = 0;
  first: { where: 'analysis' | 'output'; error: Error } | undefined;

  record(where: 'analysis' | 'output', e: unknown): void {
    if (where === 'analysis') this.analysis++;
    else this.output++;
    this.first ??= { where, error: e instanceof Error ? e : new Error(String(e)) };
  }
}

/**
 * An analyzer fed by several engines in turn (a replay's inputs, decoded one by one or in
 * workers): alerts go to `onAlert` under the same guard an engine keeps (errors counted in
 * `errors`).
 */
export function sharedAnalyzer(policy: Policy, limits: EngineLimits, errors: EngineErrors, onAlert?: (a: AlertDecision, c: ClientState) => void): Analyzer {
  return new Analyzer(
    policy,
    { bytes: limits.clientBytes, maxClients: limits.maxClients, dnsAnswers: { bytes: limits.dnsAnswerBytes, maxTtlSeconds: limits.dnsMaxTtlSeconds } },
    {
      onAlert: (a, c) => {
        try {
          onAlert?.(a, c);
        } catch (e) {
          errors.record('output', e);
        }
      },
    },
  );
}

export class Engine {
  readonly clock: NetworkClock;
  readonly decoder: Decoder;
  readonly analyzer: Analyzer | undefined;
  readonly errors: EngineErrors;
  private policyNow: Policy;
  /** Observations of the held frame, judged once the next frame decides (see clock.ts). */
  private held: Observation[] = [];
  private holding = false;
  /** Ageing time in µs: from the clock (`packet`) or the last tick (`wall`). */
  private age = 0;
  private lastSweep = 0;
  private lastFrameWallMs = 0;
  private framesAtTick = 0;
  private readonly wallStartMs: number | undefined;
  /** Next step boundary in network time (µs); +Infinity without a step hook (one comparison per frame). */
  private nextStep = Number.POSITIVE_INFINITY;
  private readonly stepMicros: number;
  /** `opts.ageing === 'packet'`, read once per frame. */
  private readonly packetAgeing: boolean;

  constructor(
    policy: Policy,
    private readonly opts: EngineOptions,
  ) {
    this.policyNow = policy;
    this.errors = opts.errors ?? new EngineErrors();
    const l = opts.limits;
    this.clock = new NetworkClock(l.maxSkewMicros);
    const analyze = opts.mode === 'analyze';
    this.decoder = new Decoder((o) => this.observe(o), {
      dnsPorts: policy.dnsPorts,
      dnsHeuristic: policy.dnsHeuristic,
      limits: l,
      // `names` prints every name; analysis builds observations only for names a rule matches.
      nameFilter: opts.mode !== 'names' ? policy.nameFilter : undefined,
    });
    this.analyzer = !analyze
      ? undefined
      : opts.analyzer !== undefined
        ? opts.analyzer
        : new Analyzer(
          policy,
          { bytes: l.clientBytes, maxClients: l.maxClients, dnsAnswers: { bytes: l.dnsAnswerBytes, maxTtlSeconds: l.dnsMaxTtlSeconds } },
          { onAlert: (a, c) => this.alert(a, c) },
        );
    this.packetAgeing = opts.ageing === 'packet';
    if (opts.ageing === 'wall') this.wallStartMs = performance.now();
    this.stepMicros = (opts.step?.seconds ?? 0) * 1_000_000;
    if (opts.step !== undefined) this.nextStep = Number.NaN; // set from the first frame
  }

  get policy(): Policy {
    return this.policyNow;
  }

  /** Names the input the following frames come from (copied into observations). */
  setSource(name: string | undefined): void {
    this.decoder.setSource(name);
  }

  /** One captured frame (valid only during the call, see read/frame.ts). */
  ingest(f: RawFrame): void {
    const t = f.time;
    const clock = this.clock;
    const r = clock.observe(t.sec, t.nsec);
    // A step boundary crossed, or the clock has news about a held frame: the rare cases, out of line.
    if (r !== 0 || !(clock.now < this.nextStep)) this.clockEvent(r);
    if (this.packetAgeing && clock.age !== this.age) this.ageTo(clock.age);
    this.decoder.onFrame(f);
  }

  /** `ingest`'s rare cases: a step boundary crossed (sampled before the held frame, judged now, and this one count), a held frame decided. */
  private clockEvent(r: number): void {
    if (!(this.clock.now < this.nextStep)) this.crossStep();
    if (r !== 0) {
      if ((r & (Tick.HeldWasSpike | Tick.HeldWasStep)) !== 0) this.judgeHeld((r & Tick.HeldWasSpike) !== 0);
      this.holding = (r & Tick.Held) !== 0;
    }
  }

  /** Ageing time moved (`packet` mode): state is stamped with it, and idle state swept at most once per second of it. */
  private ageTo(age: number): void {
    this.age = age;
    this.decoder.now = age;
    if (age - this.lastSweep >= SWEEP_EVERY_MICROS) {
      this.lastSweep = age;
      this.decoder.expire(age);
    }
  }

  /**
   * The wall clock moved (`wall` mode; call it from a timer, e.g. every second): ageing time
   * follows it, idle state is swept, idle clients leave, and a frame held for a while with no
   * successor is accepted.
   */
  tick(wallMs: number = performance.now()): void {
    if (this.opts.ageing !== 'wall') return;
    // Frames since the last tick: the wall clock is read once a tick, not once a frame.
    const frames = this.decoder.stats.frames;
    if (frames !== this.framesAtTick) {
      this.framesAtTick = frames;
      this.lastFrameWallMs = wallMs;
    }
    this.age = Math.max(this.age, Math.round((wallMs - (this.wallStartMs ?? 0)) * 1000));
    this.decoder.now = this.age;
    this.decoder.expire(this.age);
    const idle = this.opts.limits.clientIdleMicros;
    if (this.analyzer !== undefined && idle > 0) this.analyzer.clients.expireIdle(this.age, idle);
    if (this.holding && wallMs - this.lastFrameWallMs >= RELEASE_HELD_AFTER_MS && this.clock.release()) {
      // Nothing is held any more: the next frame's names are judged as they come.
      this.holding = false;
      this.judgeHeld(false);
    }
  }

  /**
   * Swaps the whole policy: later frames are decoded with its DNS ports and name filter and
   * judged by its rules, cutoff and severities. Client state, flows and the clock stay. Call
   * it between chunks (signal handlers and timers run there anyway: ingest is synchronous).
   */
  reload(policy: Policy): void {
    this.policyNow = policy;
    this.decoder.setDnsPorts(policy.dnsPorts, policy.dnsHeuristic);
    if (this.analyzer !== undefined) {
      this.decoder.setNameFilter(policy.nameFilter);
      this.analyzer.setPolicy(policy);
    }
  }

  /** End of input: a held frame is accepted (nothing contradicts it), incomplete flows are counted. */
  finish(): void {
    if (this.clock.release()) this.judgeHeld(false);
    this.holding = false;
    this.decoder.finish();
    const step = this.opts.step;
    if (step !== undefined && Number.isFinite(this.clock.now)) {
      const end = Math.ceil(this.clock.now / this.stepMicros) * this.stepMicros;
      this.guard(() => step.onStep(end / 1_000_000));
    }
  }

  /** Network time reached the next step boundary: one sample there, the next boundary after now. */
  private crossStep(): void {
    const now = this.clock.now;
    if (this.opts.step === undefined || !Number.isFinite(now)) return;
    const first = Number.isNaN(this.nextStep);
    const boundary = first ? Math.ceil(now / this.stepMicros) * this.stepMicros : this.nextStep;
    if (!first || boundary === now) this.guard(() => this.opts.step!.onStep(boundary / 1_000_000));
    this.nextStep = Math.floor(now / this.stepMicros) * this.stepMicros + this.stepMicros;
  }

  private guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.errors.record('output', e);
    }
  }

  /** The decoder's and the clock's counters now, as plain data (reports add these up over inputs). */
  totals(): DecodeTotals {
    return totalsOf(this.decoder, this.clock);
  }

  /** Ageing time now (µs). */
  get ageMicros(): number {
    return this.age;
  }

  // ─── observations ────────────────────────────────────────────────────────────────────

  private observe(o: Observation): void {
    if (this.opts.mode === 'names') {
      try {
        this.opts.onObservation?.(o);
      } catch (e) {
        this.errors.record('output', e);
      }
      return;
    }
    if (this.holding) this.held.push(o);
    else this.judge(o, o.tsMicros, o);
  }

  /** The frame held before was a spike (judge its names at network time) or a real step (at their own time). */
  private judgeHeld(spike: boolean): void {
    const held = this.held;
    if (spike) this.decoder.count(this.clock.lastSpike > this.clock.now ? TIME_AHEAD : TIME_BEHIND);
    if (held.length === 0) return;
    this.held = [];
    const now = this.clock.now;
    for (const o of held) {
      if (spike) this.judge(o, now, undefined);
      else this.judge(o, o.tsMicros, o);
    }
  }

  private judge(o: Observation, at: number, own: Observation | undefined): void {
    try {
      const time = own !== undefined ? own.time : fromMicros(at);
      if (this.analyzer === undefined) this.opts.onJudged?.(o, at, time);
      else this.analyzer.onObservation(o, at, time, this.age);
    } catch (e) {
      this.errors.record('analysis', e);
    }
  }

  private alert(a: AlertDecision, c: ClientState): void {
    try {
      this.opts.onAlert?.(a, c);
    } catch (e) {
      this.errors.record('output', e);
    }
  }
}
