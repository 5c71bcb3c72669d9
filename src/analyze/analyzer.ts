import { CONNECTION_REASONS, type Observation } from '../capture/observation.js';
import type { PacketTime } from '../common/time.js';
import { shouldAlert, type AlertDecision } from './alerts.js';
import { DnsAnswerCache, type DnsCacheLimits } from './attribution.js';
import { ClientTable, type CategoryState, type ClientLimits, type ClientState } from './clients.js';
import { EVIDENCE_INDEX, EVIDENCE_KINDS, kindEvidence, type EvidenceKind } from './evidence.js';
import { FINDING_SEVERITY, FINDINGS, type Finding } from './findings.js';
import type { RuleMatch } from './hostnames.js';
import { phaseOf, type Phase } from './phases.js';
import type { AnalysisPolicy } from './policy.js';
import { inScope } from './scope.js';
import { CATEGORIES, SEVERITIES, severityAtLeast, type Category } from './rules.js';
import { Timeline } from './timeline.js';

/**
 * Observations → matches → per-client state → alert decisions, synchronously, on packet
 * time. Like Zeek's Intel::seen, every protocol reports names through the one entry point
 * `onObservation`; what happens next does not depend on where the name came from.
 * Connections that showed no name (`ip_connection`) are attributed through the DNS-answer
 * cache or the configured Kaspersky ranges (attribution.ts) and then counted like a name.
 */
export interface AnalyzerHooks {
  /** A new alert. Must not throw (the engine wraps it). */
  onAlert?(a: AlertDecision, client: ClientState): void;
  onMatch?(o: Observation, m: RuleMatch, phase: Phase, client: string): void;
}

export interface MatchCount {
  kind: EvidenceKind;
  category: Category;
  phase: Phase;
  count: number;
}

export interface AnalyzerLimits extends ClientLimits {
  readonly dnsAnswers: DnsCacheLimits;
}

/** Which host is the client: the asker of a query, the receiver of an answer, the initiator otherwise. */
export function clientOf(o: Observation): string {
  return o.kind === 'dns_answer' ? o.dst : o.src;
}

const RESOLVED_IP = EVIDENCE_INDEX.resolved_ip;
const KASPERSKY_NETWORK = EVIDENCE_INDEX.kaspersky_network;
const SIGNATURE_UPDATE = FINDINGS.indexOf('signature_update');
const RESOLVER_BYPASS = FINDINGS.indexOf('resolver_bypass');

export class Analyzer {
  readonly clients: ClientTable;
  /** Addresses and CNAME targets of Kaspersky names, from DNS answers (attribution.ts). */
  readonly dns: DnsAnswerCache;
  /** Matches per hour by category (the HTML report's chart). */
  readonly timeline = new Timeline();
  private policy: AnalysisPolicy;
  observations = 0;
  /** Observations outside the report's scope (--since/--until/--client), not analysed. */
  outOfScope = 0;
  alertsRaised = 0;
  /** Post-cutoff contacts folded into a later alert (or never repeated). */
  alertsSuppressed = 0;
  /** Alerts raised by category (CATEGORIES index) × severity (SEVERITIES index): index c * SEVERITIES.length + s. */
  readonly alertCounts = new Array<number>(CATEGORIES.length * SEVERITIES.length).fill(0);
  /** The latest judged time of a match, per category (µs; NaN: none). */
  readonly lastMatchMicros = new Array<number>(CATEGORIES.length).fill(Number.NaN);
  /** Connections that showed no name, by CONNECTION_REASONS index; and how many were attributed, by way. */
  readonly connections = new Array<number>(CONNECTION_REASONS.length).fill(0);
  attributedByDns = 0;
  attributedByNetwork = 0;
  /** Findings by FINDINGS index × phase (0 before, 1 after). */
  readonly findingCounts = new Array<number>(FINDINGS.length * 2).fill(0);
  /** By (kind, category, phase) as a small integer: no string or Map lookup per observation. */
  private readonly matchCounts = new Array<MatchCount | undefined>(EVIDENCE_KINDS.length * CATEGORIES.length * 2).fill(undefined);

  constructor(
    policy: AnalysisPolicy,
    limits: AnalyzerLimits,
    private readonly hooks: AnalyzerHooks = {},
  ) {
    this.policy = policy;
    this.clients = new ClientTable(limits);
    this.dns = new DnsAnswerCache(limits.dnsAnswers);
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
    if (p.scope !== undefined && !inScope(p.scope, clientOf(o), o.tsMicros)) {
      this.outOfScope++;
      // The DNS-answer cache still learns (scope.ts): a connection in the scope may use the address.
      if (o.kind === 'dns_answer') this.answer(o, p.matcher.match(o.name), at);
      return;
    }
    let m: RuleMatch | undefined;
    let evidence: number;
    let name = o.name;
    if (o.kind === 'ip_connection') {
      const r = o.conn === undefined ? -1 : CONNECTION_REASONS.indexOf(o.conn);
      if (r >= 0) this.connections[r]!++;
      const a = this.dns.address(o.dst, at);
      if (a !== undefined) {
        m = a.match;
        name = a.name;
        evidence = RESOLVED_IP;
        this.attributedByDns++;
      } else {
        m = p.kasperskyNetworks.match(o.dst);
        if (m === undefined) return;
        evidence = KASPERSKY_NETWORK;
        this.attributedByNetwork++;
      }
    } else {
      evidence = kindEvidence(o.kind);
      m = p.matcher.match(o.name);
      if (o.kind === 'dns_answer') {
        m = this.answer(o, m, at);
        name = this.answerName;
      }
      if (m === undefined) return;
    }
    const phase = phaseOf(at, p.cutoffMicros);
    const after = phase === 'after';
    const client = clientOf(o);
    this.countMatch(evidence, m, phase);
    const ci = m.categoryIndex;
    if (!(at <= this.lastMatchMicros[ci]!)) this.lastMatchMicros[ci] = at;
    this.timeline.add(at, ci);
    const appliance = p.appliances.size > 0 && p.appliances.has(client);
    const state = this.clients.record(client, o, m, at, time, after, appliance, age, evidence, name);
    if (o.kind === 'dns_query') {
      if (p.publicDnsFallback.has(o.dst)) this.clients.publicDnsFallback(state, o.dst);
      if (p.internalResolvers.size > 0 && !p.internalResolvers.has(o.dst) && !p.internalResolvers.has(client)) {
        this.finding(state, RESOLVER_BYPASS, o.dst, o, m, at, time, after, appliance, name, evidence);
      }
    }
    this.hooks.onMatch?.(o, m, phase, client);
    const alertable = after && !appliance && severityAtLeast(m.severity, p.minAlertSeverity);
    if (alertable) {
      const cat = state.categories[ci]!;
      if (shouldAlert(cat, at, p.suppressMicros)) this.raise(state, cat, m.category, m.severity, m, o, at, time, undefined, name, evidence);
      else this.alertsSuppressed++;
    }
    if (o.http_path !== undefined && (o.kind === 'http_host' || o.kind === 'ip_connection')) {
      const u = p.updatePaths.classify(o.http_path);
      if (u !== undefined) this.finding(state, SIGNATURE_UPDATE, `${name}${o.http_path}`, o, m, at, time, after, appliance, name, evidence);
    }
  }

  /** The name the last `answer` counts for (a field, not a tuple: no array per answer). */
  private answerName = '';

  /**
   * A DNS answer: remembers what its address or CNAME target stands for, and says what the
   * record counts as for the client: the rule (undefined when it is not Kaspersky's), with the
   * name in `answerName`. A record whose owner is an alias of a Kaspersky name (a CNAME chain
   * that left Kaspersky's domains, e.g. for a CDN) counts for that name.
   */
  private answer(o: Observation, own: RuleMatch | undefined, at: number): RuleMatch | undefined {
    const via = this.dns.alias(o.name, at);
    const data = o.data;
    this.answerName = o.name;
    if (o.rrtype === 'CNAME') {
      if (data === undefined) return own;
      if (via !== undefined) {
        this.dns.noteAlias(data, via.name, via.match, at, o.ttl);
        if (own !== undefined) return own;
        this.answerName = via.name;
        return via.match;
      }
      if (own !== undefined) {
        this.dns.noteAlias(data, o.name, own, at, o.ttl);
        return own;
      }
      // A corporate alias whose answer chain reaches a Kaspersky name.
      const target = this.policy.matcher.match(data);
      if (target === undefined) return undefined;
      this.dns.noteAlias(data, data, target, at, o.ttl);
      return target;
    }
    if (data === undefined) return own;
    if (via !== undefined) {
      this.dns.noteAddress(data, via.name, via.match, at, o.ttl);
      if (own !== undefined) return own;
      this.answerName = via.name;
      return via.match;
    }
    if (own === undefined) return undefined;
    this.dns.noteAddress(data, o.name, own, at, o.ttl);
    return own;
  }

  private finding(
    state: ClientState,
    f: number,
    sample: string,
    o: Observation,
    m: RuleMatch,
    at: number,
    time: PacketTime,
    after: boolean,
    appliance: boolean,
    name: string,
    evidence: number,
  ): void {
    const s = this.clients.finding(state, f, at, time, after, sample);
    this.findingCounts[f * 2 + (after ? 1 : 0)]!++;
    const finding = FINDINGS[f]!;
    const severity = FINDING_SEVERITY[finding];
    if (!after || appliance || !severityAtLeast(severity, this.policy.minAlertSeverity)) return;
    if (shouldAlert(s, at, this.policy.suppressMicros)) this.raise(state, s, m.category, severity, m, o, at, time, finding, name, evidence);
    else this.alertsSuppressed++;
  }

  private raise(
    state: ClientState,
    s: CategoryState,
    category: Category,
    severity: AlertDecision['severity'],
    m: RuleMatch,
    o: Observation,
    at: number,
    time: PacketTime,
    finding: Finding | undefined,
    name: string,
    evidence: number,
  ): void {
    const suppressed = s.folded;
    s.folded = 0;
    state.alerts++;
    this.alertsRaised++;
    this.alertCounts[m.categoryIndex * SEVERITIES.length + SEVERITIES.indexOf(severity)]!++;
    this.hooks.onAlert?.(
      {
        client: state.client,
        category,
        severity,
        match: m,
        obs: o,
        name,
        evidence: EVIDENCE_KINDS[evidence]!,
        at,
        time,
        suppressed,
        countAfter: s.after,
        sequence: s.sequence,
        ...(finding !== undefined ? { finding } : {}),
      },
      state,
    );
  }

  private countMatch(evidence: number, m: RuleMatch, phase: Phase): void {
    const key = (evidence * CATEGORIES.length + m.categoryIndex) * 2 + (phase === 'after' ? 1 : 0);
    const c = this.matchCounts[key];
    if (c !== undefined) c.count++;
    else this.matchCounts[key] = { kind: EVIDENCE_KINDS[evidence]!, category: m.category, phase, count: 1 };
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
