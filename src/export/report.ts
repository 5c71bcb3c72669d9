import type { Analyzer, MatchCount } from '../analyze/analyzer.js';
import type { ClientState } from '../analyze/clients.js';
import { SEVERITIES } from '../analyze/rules.js';
import type { IssueCounter } from '../capture/issues.js';
import type { ObservationKind } from '../capture/observation.js';
import type { ReadResult } from '../capture/read/source.js';
import { isoTime } from '../common/time.js';

/** The replay report: per-client findings plus what was read and what could not be decoded. */
export interface ClientReport {
  client: string;
  first_seen: string;
  last_seen: string;
  before_cutoff: number;
  after_cutoff: number;
  severity: string;
  severity_after_cutoff: string | null;
  categories: Array<{ category: string; before: number; after: number; first_after: string | null }>;
  names: Array<{ name: string; category: string; rule: string; before: number; after: number }>;
  evidence: ObservationKind[];
  ja4: string[];
  public_dns_fallback: string[];
  ech_seen: boolean;
  appliance: boolean;
  alerts: number;
}

export interface ReplayReport {
  cutoff: string;
  observer: string;
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
  clients: ClientReport[];
  appliances: ClientReport[];
  /** Flows and messages that could carry a name but did not yield one, by reason. */
  names_not_recovered: Record<string, number>;
  /** Every decode issue by layer/kind/reason (the `name` layer included). */
  decode_issues: Array<{ layer: string; kind: string; reason: string; count: number }>;
  /** Bounded tables: how often something was evicted. */
  evictions: Record<string, number>;
}

/**
 * Code-unit order: the same on every machine and locale (localeCompare depends on ICU data
 * and costs a collation per comparison; a report sorts thousands of names).
 */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function microsToIso(us: number): string {
  const sec = Math.floor(us / 1_000_000);
  return isoTime({ sec, nsec: (us - sec * 1_000_000) * 1000, digits: 3 });
}

function clientReport(c: ClientState): ClientReport {
  return {
    client: c.client,
    first_seen: isoTime(c.firstSeen),
    last_seen: isoTime(c.lastSeen),
    before_cutoff: c.before,
    after_cutoff: c.after,
    severity: c.severity,
    severity_after_cutoff: c.severityAfter ?? null,
    categories: [...c.categories]
      .map(([category, v]) => ({
        category,
        before: v.before,
        after: v.after,
        first_after: v.firstAfterMicros === undefined ? null : microsToIso(v.firstAfterMicros),
      }))
      .sort((a, b) => byText(a.category, b.category)),
    names: [...c.names]
      .map(([name, v]) => ({ name, category: v.category, rule: v.rule, before: v.before, after: v.after }))
      .sort((a, b) => byText(a.name, b.name)),
    evidence: [...c.evidence].sort(),
    ja4: [...c.ja4].sort(),
    public_dns_fallback: [...c.publicDnsFallback].sort(),
    ech_seen: c.echSeen,
    appliance: c.appliance,
    alerts: c.alerts,
  };
}

/** Clients with post-cutoff contact first (most severe first), then by address. */
function byConcern(a: ClientReport, b: ClientReport): number {
  const sa = a.severity_after_cutoff === null ? 9 : SEVERITIES.indexOf(a.severity_after_cutoff as (typeof SEVERITIES)[number]);
  const sb = b.severity_after_cutoff === null ? 9 : SEVERITIES.indexOf(b.severity_after_cutoff as (typeof SEVERITIES)[number]);
  if (sa !== sb) return sa - sb;
  if (a.after_cutoff !== b.after_cutoff) return b.after_cutoff - a.after_cutoff;
  return byText(a.client, b.client);
}

export interface ReportInputs {
  cutoffMicros: number;
  observer: string;
  reads: ReadResult[];
  frames: number;
  bytes: number;
  observations: Record<ObservationKind, number>;
  analyzer: Analyzer;
  issues: IssueCounter;
  evictions: Record<string, number>;
}

export function buildReport(r: ReportInputs): ReplayReport {
  const all = r.analyzer.clients.clients().map(clientReport);
  const clients = all.filter((c) => !c.appliance).sort(byConcern);
  const appliances = all.filter((c) => c.appliance).sort(byConcern);
  return {
    cutoff: microsToIso(r.cutoffMicros),
    observer: r.observer,
    inputs: r.reads.map((x) => ({ file: x.input, format: x.format, gzip: x.gzip, frames: x.frames, bytes: x.bytes, damaged: x.damaged ?? null })),
    totals: {
      frames: r.frames,
      bytes: r.bytes,
      observations: r.observations,
      matched_clients: clients.length,
      clients_after_cutoff: clients.filter((c) => c.after_cutoff > 0).length,
      alerts: r.analyzer.alertsRaised,
      alerts_suppressed: r.analyzer.alerts.suppressedTotal,
    },
    matches: r.analyzer.matches(),
    clients,
    appliances,
    names_not_recovered: Object.fromEntries(r.issues.rows().filter((d) => d.layer === 'name').map((d) => [d.reason, d.count])),
    decode_issues: r.issues.rows(),
    // client_names: names not kept because a client reached MAX_NAMES_PER_CLIENT.
    evictions: {
      clients: r.analyzer.clients.evictions,
      client_names: r.analyzer.clients.namesDropped,
      alert_clients: r.analyzer.alerts.evictions,
      ...r.evictions,
    },
  };
}
