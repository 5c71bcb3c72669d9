import { OBSERVATION_KINDS, type Observation, type ObservationKind } from '../capture/observation.js';
import { AlertDecider, type AlertDecision } from './alerts.js';
import { ClientTracker, type ClientState } from './clients.js';
import type { RuleMatch } from './hostnames.js';
import { phaseOf, type Phase } from './phases.js';
import { CATEGORIES, severityAtLeast, type Category, type Severity } from './rules.js';

/**
 * Observations → matches → per-client state → alert decisions, synchronously, on packet
 * time. Like Zeek's Intel::seen, every protocol reports names through the one entry point
 * `onObservation`; what happens next does not depend on where the name came from.
 */
export interface AnalyzerOptions {
  matcher: { match(name: string): RuleMatch | undefined };
  cutoffMicros: number;
  suppressMicros: number;
  maxClients: number;
  /** Alerts below this severity are not raised (matches are still counted and reported). */
  minAlertSeverity: Severity;
  /** Public resolvers the product falls back to when system DNS fails (ENDPOINTS.md). */
  publicDnsFallback: readonly string[];
  /** Known appliances (e.g. gateways with an AV blade): reported separately, never alerted. */
  appliances: readonly string[];
}

export interface AnalyzerHooks {
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
  readonly clients: ClientTracker;
  readonly alerts: AlertDecider;
  observations = 0;
  alertsRaised = 0;
  /** By (kind, category, phase) as a small integer: no string or Map lookup per observation. */
  private readonly matchCounts = new Array<MatchCount | undefined>(OBSERVATION_KINDS.length * CATEGORIES.length * 2).fill(undefined);
  private readonly fallback: ReadonlySet<string>;
  private readonly appliances: ReadonlySet<string>;

  constructor(
    private readonly opts: AnalyzerOptions,
    private readonly hooks: AnalyzerHooks = {},
  ) {
    this.clients = new ClientTracker(opts.maxClients);
    this.alerts = new AlertDecider(opts.suppressMicros);
    this.fallback = new Set(opts.publicDnsFallback);
    this.appliances = new Set(opts.appliances);
  }

  onObservation(o: Observation): void {
    this.observations++;
    let m = this.opts.matcher.match(o.name);
    // An answer whose owner is unknown but whose CNAME target is Kaspersky's still counts.
    if (m === undefined && o.kind === 'dns_answer' && o.rrtype === 'CNAME' && o.data !== undefined) {
      m = this.opts.matcher.match(o.data);
    }
    if (m === undefined) return;
    const phase = phaseOf(o.tsMicros, this.opts.cutoffMicros);
    const client = clientOf(o);
    this.countMatch(o.kind, m.category, phase);
    const appliance = this.appliances.has(client);
    const state = this.clients.record(client, o, m, phase, appliance);
    if (o.kind === 'dns_query' && this.fallback.has(o.dst)) state.publicDnsFallback.add(o.dst);
    this.hooks.onMatch?.(o, m, phase, client);
    if (phase !== 'after' || appliance || !severityAtLeast(m.severity, this.opts.minAlertSeverity)) return;
    const a = this.alerts.decide(client, m, o);
    if (a === undefined) return;
    state.alerts++;
    this.alertsRaised++;
    this.hooks.onAlert?.(a, state);
  }

  private countMatch(kind: ObservationKind, category: Category, phase: Phase): void {
    const key = (OBSERVATION_KINDS.indexOf(kind) * CATEGORIES.length + CATEGORIES.indexOf(category)) * 2 + (phase === 'after' ? 1 : 0);
    const c = this.matchCounts[key];
    if (c !== undefined) c.count++;
    else this.matchCounts[key] = { kind, category, phase, count: 1 };
  }

  matches(): MatchCount[] {
    // Code-unit order (locale-independent): category, then kind, then phase.
    const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
    return this.matchCounts
      .filter((c): c is MatchCount => c !== undefined)
      .sort((a, b) => cmp(a.category, b.category) || cmp(a.kind, b.kind) || cmp(a.phase, b.phase));
  }
}
