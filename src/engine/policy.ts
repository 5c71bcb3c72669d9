import { createHash } from 'node:crypto';
import { KasperskyNetworks } from '../analyze/attribution.js';
import { UpdatePaths } from '../analyze/findings.js';
import { Matcher } from '../analyze/hostnames.js';
import type { AnalysisPolicy } from '../analyze/policy.js';
import type { ReportScope } from '../analyze/scope.js';
import { NameFilter } from '../capture/app/name-filter.js';
import type { Config } from '../config/load.js';

/**
 * Everything that decides what kasmon looks for and how it judges it, as one immutable value
 * built from a config: the matcher and the name filter derived from it (decoder), cutoff,
 * suppression, severities, resolvers and appliances (analyzer), DNS ports (decoder), the
 * observer's name (outputs). The engine swaps it whole between chunks on reload, so no part
 * keeps the old rules (DESIGN.md "One engine, one swappable policy").
 */
export interface Policy extends AnalysisPolicy {
  readonly config: Config;
  readonly matcher: Matcher;
  /** Names a rule matches (or whose CNAME target one does), with the rules' roots for the DNS byte filter. */
  readonly nameFilter: NameFilter;
  readonly dnsPorts: readonly number[];
  /** Find DNS by content on other UDP ports too (dns.heuristic). */
  readonly dnsHeuristic: boolean;
  /** observer.name in alerts, reports and metrics. */
  readonly observer: string;
  /** sha256 of the rule list (ids, categories, severities, patterns), to tell sensors' rule sets apart. */
  readonly rulesHash: string;
}

export function policyFrom(config: Config): Policy {
  const matcher = new Matcher(config.endpoints);
  const wants = (_kind: string, name: string, cname: string | undefined): boolean =>
    matcher.match(name) !== undefined || (cname !== undefined && matcher.match(cname) !== undefined);
  return Object.freeze({
    config,
    matcher,
    nameFilter: new NameFilter(wants, matcher.rootNames()),
    dnsPorts: config.dns.ports,
    dnsHeuristic: config.dns.heuristic,
    observer: config.observer.name,
    rulesHash: rulesHash(config),
    cutoffMicros: config.cutoff.micros,
    suppressMicros: config.alerts.suppressSeconds * 1_000_000,
    minAlertSeverity: config.alerts.minSeverity,
    publicDnsFallback: new Set(config.publicDnsFallback.map((r) => r.address)),
    appliances: new Set(config.appliances.map((a) => a.address)),
    internalResolvers: new Set(config.dns.internalResolvers),
    updatePaths: new UpdatePaths(config.updatePaths),
    kasperskyNetworks: new KasperskyNetworks(config.attribution.kasperskyNetworks),
    scope: undefined,
  });
}

/** The same policy, its reports and alerts limited to `scope` (replay/analyze --since, --until, --client). */
export function scopedPolicy(p: Policy, scope: ReportScope | undefined): Policy {
  return scope === undefined ? p : Object.freeze({ ...p, scope });
}

function rulesHash(config: Config): string {
  const h = createHash('sha256');
  for (const r of config.endpoints) {
    h.update(`${r.id}\u0000${r.category}\u0000${r.severity}\u0000${r.patterns.map((p) => p.source).join('\u0000')}\n`);
  }
  return h.digest('hex');
}
