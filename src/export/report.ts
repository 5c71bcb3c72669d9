import type { MatchCount } from '../analyze/analyzer.js';
import type { ClientState } from '../analyze/clients.js';
import { evidenceOf } from '../analyze/evidence.js';
import { FINDING_SEVERITY, FINDINGS } from '../analyze/findings.js';
import { CATEGORIES } from '../analyze/rules.js';
import { CONNECTION_REASONS, type ConnectionReason, type ObservationKind } from '../capture/observation.js';
import type { ReadResult } from '../capture/read/source.js';
import { coverageOf, coverageWarnings, type CoverageReport } from './coverage.js';
import { isoTime, type PacketTime } from '../common/time.js';
import type { Analyzer } from '../analyze/analyzer.js';
import { issueRows, type DecodeTotals } from '../engine/decode-totals.js';
import type { Engine } from '../engine/engine.js';
import type { Policy } from '../engine/policy.js';

/** The replay report: per-client findings plus what was read and what could not be decoded. */
export interface ClientReport {
  client: string;
  observer: string;
  /** First and last contact with a Kaspersky name, at the capture's precision. */
  first_seen: string;
  last_seen: string;
  /** First and last contact at or after the cutoff (null: none). */
  first_after_cutoff: string | null;
  last_after_cutoff: string | null;
  before_cutoff: number;
  after_cutoff: number;
  severity: string;
  severity_after_cutoff: string | null;
  categories: Array<{ category: string; before: number; after: number; first_after: string | null; last_after: string | null }>;
  /** Per name: contacts, where the client went for it (`ip:port` of TLS/HTTP/QUIC connections) and what DNS answered for it. */
  names: Array<{ name: string; category: string; rule: string; before: number; after: number; evidence: string[]; destinations: string[]; addresses: string[] }>;
  evidence: string[];
  /** What it did beyond contacting a name (analyze/findings.ts), most severe first. */
  findings: Array<{ finding: string; severity: string; before: number; after: number; first_after: string | null; last_after: string | null }>;
  /** Update paths it requested (host + path; the first few). */
  update_paths: string[];
  /** Resolvers other than dns.internal_resolvers it asked for Kaspersky names. */
  resolver_bypass: string[];
  ja4: string[];
  public_dns_fallback: string[];
  ech_seen: boolean;
  appliance: boolean;
  alerts: number;
}

export interface ReplayReport {
  cutoff: string;
  observer: string;
  /**
   * Present only when the report was limited (--since, --until, --client): the window of packet
   * time, the client networks, and how many observations fell outside and were not analysed.
   */
  scope?: { since: string | null; until: string | null; clients: string[]; observations_outside: number };
  /**
   * What the reader must know first, in words: large parts of the input that could not be
   * decoded (coverage.ts). Empty when there is nothing to say.
   */
  warnings: string[];
  /** Frames decoded out of frames read, and why the others were not. */
  coverage: CoverageReport;
  inputs: Array<{ file: string; format: string; gzip: boolean; frames: number; bytes: number; damaged: string | null }>;
  totals: {
    frames: number;
    bytes: number;
    observations: Record<ObservationKind, number>;
    matched_clients: number;
    clients_after_cutoff: number;
    alerts: number;
    alerts_suppressed: number;
  };
  matches: MatchCount[];
  /** Findings over all clients, by phase. */
  findings: Record<string, { before: number; after: number }>;
  /**
   * Connections that showed no name, by why, and how many were attributed to a Kaspersky name
   * (through a DNS answer, or a configured Kaspersky range).
   */
  attribution: { connections_without_name: Record<ConnectionReason, number>; attributed_by_dns: number; attributed_by_network: number };
  /** Matches per hour (start, UTC) by category: the HTML report's chart. */
  timeline: Array<{ hour: string; counts: Record<string, number> }>;
  /** The cutoff and the other dates of the ban (config `milestones`). */
  milestones: Array<{ at: string; label: string; sources: string[] }>;
  clients: ClientReport[];
  appliances: ClientReport[];
  /** Flows and messages that could carry a name but did not yield one, by reason. */
  names_not_recovered: Record<string, number>;
  /** Every decode issue by layer/kind/reason (the `name` layer included). */
  decode_issues: Array<{ layer: string; kind: string; reason: string; count: number }>;
  /** Bounded tables: how often something was evicted. */
  evictions: Record<string, number>;
  /**
   * Real jumps of the capture's clock (a quiet link, the next file): not problems, but a report
   * spanning them says so. Single bad stamps are decode issues (time/...).
   */
  clock: { steps_forward: number; steps_backward: number };
}

/**
 * Code-unit order: the same on every machine and locale (localeCompare depends on ICU data
 * and costs a collation per comparison; a report sorts thousands of names).
 */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const iso = (t: PacketTime | undefined): string | null => (t === undefined ? null : isoTime(t));

/** One client's part of the report. */
export function clientReport(c: ClientState, observer: string): ClientReport {
  const categories: ClientReport['categories'] = [];
  c.categories.forEach((v, i) => {
    if (v === undefined) return;
    categories.push({ category: CATEGORIES[i]!, before: v.before, after: v.after, first_after: iso(v.firstAfter), last_after: iso(v.lastAfter) });
  });
  return {
    client: c.client,
    observer,
    first_seen: isoTime(c.firstSeen),
    last_seen: isoTime(c.lastSeen),
    first_after_cutoff: iso(c.firstAfter),
    last_after_cutoff: iso(c.lastAfter),
    before_cutoff: c.before,
    after_cutoff: c.after,
    severity: c.severity,
    severity_after_cutoff: c.severityAfter ?? null,
    categories: categories.sort((a, b) => byText(a.category, b.category)),
    names: [...c.names]
      .map(([name, v]) => ({
        name,
        category: v.category,
        rule: v.rule,
        before: v.before,
        after: v.after,
        evidence: evidenceOf(v.evidenceBits),
        destinations: v.destinations.sort(byText),
        addresses: [...(v.addresses ?? [])].sort(byText),
      }))
      .sort((a, b) => byText(a.name, b.name)),
    evidence: c.evidence.sort(byText),
    findings: findingsOf(c),
    update_paths: [...c.updatePaths],
    resolver_bypass: [...c.resolverBypass].sort(byText),
    ja4: [...c.ja4].sort(byText),
    public_dns_fallback: [...c.publicDnsFallback].sort(byText),
    ech_seen: c.echSeen,
    appliance: c.appliance,
    alerts: c.alerts,
  };
}

function findingsOf(c: ClientState): ClientReport['findings'] {
  const out: ClientReport['findings'] = [];
  c.findings.forEach((f, i) => {
    if (f === undefined) return;
    const finding = FINDINGS[i]!;
    out.push({ finding, severity: FINDING_SEVERITY[finding], before: f.before, after: f.after, first_after: iso(f.firstAfter), last_after: iso(f.lastAfter) });
  });
  return out;
}

/** Report order: clients with post-cutoff contact first (most severe first), then by contacts after the cutoff, then by address. */
export function byConcern(a: ClientState, b: ClientState): number {
  const sa = a.severityAfterRank < 0 ? 9 : a.severityAfterRank;
  const sb = b.severityAfterRank < 0 ? 9 : b.severityAfterRank;
  if (sa !== sb) return sa - sb;
  if (a.after !== b.after) return b.after - a.after;
  return byText(a.client, b.client);
}

/**
 * A report whose per-client parts are made one client at a time as it is written: a replay
 * may hold a hundred thousand clients with hundreds of names each, and a report built whole
 * (objects, then one JSON string) would take several times the memory the clients do.
 */
export interface Report extends Omit<ReplayReport, 'clients' | 'appliances'> {
  /** Client states in report order (most concerning first). */
  readonly clientStates: readonly ClientState[];
  readonly applianceStates: readonly ClientState[];
}

/** What a report is made from: the analysis, and the decode totals of every input. */
export interface ReportSource {
  readonly policy: Policy;
  readonly analyzer: Analyzer | undefined;
  readonly totals: DecodeTotals;
}

/** An engine as a report source (the sensor, a single stream). */
export function engineSource(engine: Engine): ReportSource {
  return { policy: engine.policy, analyzer: engine.analyzer, totals: engine.totals() };
}

/** The report of what was seen, for the inputs read. */
export function buildReport(src: ReportSource | Engine, reads: readonly ReadResult[]): Report {
  const { policy, analyzer: a, totals: d } = 'totals' in src && typeof src.totals !== 'function' ? (src as ReportSource) : engineSource(src as Engine);
  const all = a === undefined ? [] : [...a.clients.clients()];
  const clientStates = all.filter((c) => !c.appliance).sort(byConcern);
  const applianceStates = all.filter((c) => c.appliance).sort(byConcern);
  const issues = issueRows(d);
  const coverage = coverageOf(d);
  return {
    cutoff: policy.config.cutoff.iso,
    observer: policy.observer,
    ...(policy.scope !== undefined
      ? { scope: { since: policy.scope.since ?? null, until: policy.scope.until ?? null, clients: [...policy.scope.clientNets], observations_outside: a?.outOfScope ?? 0 } }
      : {}),
    warnings: coverageWarnings(coverage, d),
    coverage,
    inputs: reads.map((x) => ({ file: x.input, format: x.format, gzip: x.gzip, frames: x.frames, bytes: x.bytes, damaged: x.damaged ?? null })),
    totals: {
      frames: d.frames,
      bytes: d.bytes,
      observations: { ...d.observations },
      matched_clients: clientStates.length,
      clients_after_cutoff: clientStates.filter((c) => c.after > 0).length,
      alerts: a?.alertsRaised ?? 0,
      alerts_suppressed: a?.alertsSuppressed ?? 0,
    },
    matches: a?.matches() ?? [],
    findings: Object.fromEntries(FINDINGS.map((f, i) => [f, { before: a?.findingCounts[i * 2] ?? 0, after: a?.findingCounts[i * 2 + 1] ?? 0 }])),
    attribution: {
      connections_without_name: Object.fromEntries(CONNECTION_REASONS.map((r, i) => [r, a?.connections[i] ?? 0])) as Record<ConnectionReason, number>,
      attributed_by_dns: a?.attributedByDns ?? 0,
      attributed_by_network: a?.attributedByNetwork ?? 0,
    },
    timeline: (a?.timeline.rows() ?? []).map(([h, counts]) => ({
      hour: new Date(h * 1000).toISOString().replace('.000Z', 'Z'),
      counts: Object.fromEntries(counts.flatMap((n, i) => (n > 0 ? [[CATEGORIES[i]!, n]] : []))),
    })),
    milestones: milestonesOf(policy),
    clientStates,
    applianceStates,
    names_not_recovered: Object.fromEntries(issues.filter((r) => r.layer === 'name').map((r) => [r.reason, r.count])),
    decode_issues: issues,
    // client_names: names not kept because a client reached MAX_NAMES_PER_CLIENT.
    evictions: {
      clients: a?.clients.evictions ?? 0,
      client_names: a?.clients.namesDropped ?? 0,
      dns_answers: a?.dns.evictions ?? 0,
      dns_answers_expired: a?.dns.expired ?? 0,
      ...d.evictions,
    },
    clock: { steps_forward: d.clock.stepsForward, steps_backward: d.clock.stepsBackward },
  };
}

/** The cutoff and the configured milestones, in time order. */
export function milestonesOf(policy: Policy): ReplayReport['milestones'] {
  const c = policy.config;
  const all = [
    { at: c.cutoff.iso, micros: c.cutoff.micros, label: 'Cutoff: no more signature and code updates in the US', sources: ['F1'] },
    ...c.milestones.map((m) => ({ at: m.at.iso, micros: m.at.micros, label: m.label, sources: [...m.sources] })),
  ];
  return all.sort((x, y) => x.micros - y.micros).map(({ at, label, sources }) => ({ at, label, sources }));
}

/** The whole report as one object (tests, small reports). */
export function reportObject(r: Report): ReplayReport {
  const { clientStates, applianceStates, ...rest } = r;
  const clients = clientStates.map((c) => clientReport(c, r.observer));
  const appliances = applianceStates.map((c) => clientReport(c, r.observer));
  return insertAfter(rest, 'matches', { clients, appliances }) as unknown as ReplayReport;
}

/** Keys in the report's order: `extra` goes right after `key`. */
function insertAfter(o: Record<string, unknown>, key: string, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    out[k] = v;
    if (k === key) Object.assign(out, extra);
  }
  return out;
}

const HOLE = '\u0000clients\u0000';

/**
 * The report as JSON text, in pieces: the same text as `JSON.stringify(reportObject(r), null, 2)`
 * plus a newline, but built one client at a time.
 */
export function* jsonReport(r: Report): Generator<string> {
  const { clientStates, applianceStates, ...rest } = r;
  const skeleton = JSON.stringify(insertAfter(rest, 'matches', { clients: HOLE, appliances: HOLE }), null, 2);
  const parts = skeleton.split(JSON.stringify(HOLE));
  yield parts[0]!;
  yield* jsonArray(clientStates, r.observer);
  yield parts[1]!;
  yield* jsonArray(applianceStates, r.observer);
  yield parts[2]!;
  yield '\n';
}

/** A JSON array of client reports at the indentation of a top-level key's value. */
function* jsonArray(states: readonly ClientState[], observer: string): Generator<string> {
  if (states.length === 0) {
    yield '[]';
    return;
  }
  yield '[';
  for (let i = 0; i < states.length; i++) {
    const text = JSON.stringify(clientReport(states[i]!, observer), null, 2).replaceAll('\n', '\n    ');
    yield `${i === 0 ? '' : ','}\n    ${text}`;
  }
  yield '\n  ]';
}

/** --since/--until/--client in words. */
export function scopeText(s: NonNullable<ReplayReport['scope']>): string {
  const when = s.since !== null && s.until !== null ? `from ${s.since} to before ${s.until}` : s.since !== null ? `from ${s.since} on` : s.until !== null ? `before ${s.until}` : 'at any time';
  const who = s.clients.length > 0 ? `of clients in ${s.clients.join(', ')}` : 'of every client';
  return `contacts ${when} (packet time) ${who}; ${s.observations_outside} observation${s.observations_outside === 1 ? '' : 's'} outside it not analysed`;
}
