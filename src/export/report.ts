import type { MatchCount } from '../analyze/analyzer.js';
import type { ClientState } from '../analyze/clients.js';
import { CATEGORIES, SEVERITIES } from '../analyze/rules.js';
import type { ObservationKind } from '../capture/observation.js';
import type { ReadResult } from '../capture/read/source.js';
import { isoTime, type PacketTime } from '../common/time.js';
import type { Engine } from '../engine/engine.js';

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
  names: Array<{ name: string; category: string; rule: string; before: number; after: number; destinations: string[]; addresses: string[] }>;
  evidence: string[];
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

function clientReport(c: ClientState, observer: string): ClientReport {
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
        destinations: v.destinations.sort(byText),
        addresses: [...(v.addresses ?? [])].sort(byText),
      }))
      .sort((a, b) => byText(a.name, b.name)),
    evidence: c.evidence.sort(byText),
    ja4: [...c.ja4].sort(byText),
    public_dns_fallback: [...c.publicDnsFallback].sort(byText),
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

/** The report of what an engine saw, for the inputs it read. */
export function buildReport(engine: Engine, reads: readonly ReadResult[]): ReplayReport {
  const a = engine.analyzer;
  const d = engine.decoder;
  const observer = engine.policy.observer;
  const all = a === undefined ? [] : [...a.clients.clients()].map((c) => clientReport(c, observer));
  const clients = all.filter((c) => !c.appliance).sort(byConcern);
  const appliances = all.filter((c) => c.appliance).sort(byConcern);
  const issues = d.issues.rows();
  const clock = engine.clock;
  return {
    cutoff: engine.policy.config.cutoff.iso,
    observer,
    inputs: reads.map((x) => ({ file: x.input, format: x.format, gzip: x.gzip, frames: x.frames, bytes: x.bytes, damaged: x.damaged ?? null })),
    totals: {
      frames: d.stats.frames,
      bytes: d.stats.bytes,
      observations: { ...d.stats.observations },
      matched_clients: clients.length,
      clients_after_cutoff: clients.filter((c) => c.after_cutoff > 0).length,
      alerts: a?.alertsRaised ?? 0,
      alerts_suppressed: a?.alertsSuppressed ?? 0,
    },
    matches: a?.matches() ?? [],
    clients,
    appliances,
    names_not_recovered: Object.fromEntries(issues.filter((r) => r.layer === 'name').map((r) => [r.reason, r.count])),
    decode_issues: issues,
    // client_names: names not kept because a client reached MAX_NAMES_PER_CLIENT.
    evictions: {
      clients: a?.clients.evictions ?? 0,
      client_names: a?.clients.namesDropped ?? 0,
      ...d.evictions(),
    },
    clock: { steps_forward: clock.stepsForward, steps_backward: clock.stepsBackward },
  };
}
