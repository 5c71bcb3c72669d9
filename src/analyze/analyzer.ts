import { OBSERVATION_KINDS, type Observation, type ObservationKind } from '../capture/observation.js';
import type { PacketTime } from '../common/time.js';
import { shouldAlert, type AlertDecision } from './alerts.js';
import { ClientTable, type ClientLimits, type ClientState } from './clients.js';
import type { RuleMatch } from './hostnames.js';
import { phaseOf, type Phase } from './phases.js';
import type { AnalysisPolicy } from './policy.js';
import { CATEGORIES, severityAtLeast, type Category } from './rules.js';

/**
 * Observations → matches → per-client state → alert decisions, synchronously, on packet
 * time. Like Zeek's Intel::seen, every protocol reports names through the one entry point
 * `onObservation`; what happens next does not depend on where the name came from.
 */
export interface AnalyzerHooks {
  /** A new alert. Must not throw (the engine wraps it). */
  onAlert?(a: AlertDecision, client: ClientState): void;
  onMatch?(o: Observation, m: RuleMatch, phase: Phase, client: string): void;
}

export interface MatchCount {
  kind: ObservationKind;
  category: Category;
  phase: Phase;
  count: number;
}

/** Which host is the client: the asker of a query, the receiver of an answer, the initiator otherwise. */
export function clientOf(o: Observation): string {
  return o.kind === 'dns_answer' ? o.dst : o.src;
}

export class Analyzer {
  readonly clients: ClientTable;
  private policy: AnalysisPolicy;
  observations = 0;
  alertsRaised = 0;
  /** Post-cutoff contacts folded into a later alert (or never repeated). */
  alertsSuppressed = 0;
  /** Alerts raised by category (CATEGORIES index) × severity (SEVERITIES index): index c * 4 + s. */
  readonly alertCounts = new Array<number>(CATEGORIES.length * 4).fill(0);
  /** The latest judged time of a match, per category (µs; NaN: none). */
  readonly lastMatchMicros = new Array<number>(CATEGORIES.length).fill(Number.NaN);
  /** By (kind, category, phase) as a small integer: no string or Map lookup per observation. */
  private readonly matchCounts = new Array<MatchCount | undefined>(OBSERVATION_KINDS.length * CATEGORIES.length * 2).fill(undefined);

  constructor(
    policy: AnalysisPolicy,
    limits: ClientLimits,
    private readonly hooks: AnalyzerHooks = {},
  ) {
    this.policy = policy;
    this.clients = new ClientTable(limits);
  }

  /** Swaps the policy (reload): later observations are matched and judged by the new one; client state stays. */
  setPolicy(p: AnalysisPolicy): void {
    this.policy = p;
  }

  /**
   * One observation, judged at `at` (µs) — its own time, unless its packet's stamp was out of
   * step with network time (engine/clock.ts) — with `time` the same instant for output.
   * `age` is the ageing time now (idle expiry of clients).
   */
  onObservation(o: Observation, at: number = o.tsMicros, time: PacketTime = o.time, age = 0): void {
    this.observations++;
    const p = this.policy;
    let m = p.matcher.match(o.name);
    // An answer whose owner is unknown but whose CNAME target is Kaspersky's still counts.
    if (m === undefined && o.kind === 'dns_answer' && o.rrtype === 'CNAME' && o.data !== undefined) {
      m = p.matcher.match(o.data);
    }
    if (m === undefined) return;
    const phase = phaseOf(at, p.cutoffMicros);
    const after = phase === 'after';
    const client = clientOf(o);
    this.countMatch(o.kind, m, phase);
    const ci = m.categoryIndex;
    if (!(at <= this.lastMatchMicros[ci]!)) this.lastMatchMicros[ci] = at;
    const appliance = p.appliances.size > 0 && p.appliances.has(client);
    const state = this.clients.record(client, o, m, at, time, after, appliance, age);
    if (o.kind === 'dns_query' && p.publicDnsFallback.has(o.dst)) this.clients.publicDnsFallback(state, o.dst);
    this.hooks.onMatch?.(o, m, phase, client);
    if (!after || appliance || !severityAtLeast(m.severity, p.minAlertSeverity)) return;
    const cat = state.categories[ci]!;
    if (!shouldAlert(cat, at, p.suppressMicros)) {
      this.alertsSuppressed++;
      return;
    }
    const suppressed = cat.folded;
    cat.folded = 0;
    state.alerts++;
    this.alertsRaised++;
    this.alertCounts[ci * 4 + m.severityRank]!++;
    this.hooks.onAlert?.(
      { client, category: m.category, severity: m.severity, match: m, obs: o, at, time, suppressed, countAfter: cat.after, sequence: cat.sequence },
      state,
    );
  }

  private countMatch(kind: ObservationKind, m: RuleMatch, phase: Phase): void {
    const key = (OBSERVATION_KINDS.indexOf(kind) * CATEGORIES.length + m.categoryIndex) * 2 + (phase === 'after' ? 1 : 0);
    const c = this.matchCounts[key];
    if (c !== undefined) c.count++;
    else this.matchCounts[key] = { kind, category: m.category, phase, count: 1 };
  }

  matches(): MatchCount[] {
    // Code-unit order (locale-independent): category, then kind, then phase.
    const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
    return this.matchCounts
      .filter((c): c is MatchCount => c !== undefined)
      .map((c) => ({ ...c }))
      .sort((a, b) => cmp(a.category, b.category) || cmp(a.kind, b.kind) || cmp(a.phase, b.phase));
  }
}
