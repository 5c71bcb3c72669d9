import type { KasperskyNetworks } from './attribution.js';
import type { UpdatePaths } from './findings.js';
import type { RuleMatch } from './hostnames.js';
import type { ReportScope } from './scope.js';
import type { Severity } from './rules.js';

/**
 * What analysis decides with: one immutable value, swapped whole on reload (the engine builds
 * it from the config), so a match, its phase and its alert decision always come from the same
 * rules. Nothing in analyze/ keeps a piece of an older policy.
 */
export interface AnalysisPolicy {
  readonly matcher: { match(name: string): RuleMatch | undefined };
  /** Packet time (µs) from which a contact is "after" the cutoff (inclusive). */
  readonly cutoffMicros: number;
  /** An alert for a client × category is repeated at most once per this many µs of packet time. */
  readonly suppressMicros: number;
  /** Alerts below this severity are not raised (matches are still counted and reported). */
  readonly minAlertSeverity: Severity;
  /** Public resolvers the product falls back to when system DNS fails (ENDPOINTS.md). */
  readonly publicDnsFallback: ReadonlySet<string>;
  /** Known appliances (e.g. gateways with an AV blade): reported separately, never alerted. */
  readonly appliances: ReadonlySet<string>;
  /** The organisation's resolvers (dns.internal_resolvers): a Kaspersky name asked of any other is a bypass. Empty: not checked. */
  readonly internalResolvers: ReadonlySet<string>;
  /** Request paths that are signature or update pulls (update_paths). */
  readonly updatePaths: UpdatePaths;
  /** Configured Kaspersky address ranges (attribution.kaspersky_networks). */
  readonly kasperskyNetworks: KasperskyNetworks;
  /** --since/--until/--client of a report (scope.ts); undefined: everything. */
  readonly scope?: ReportScope | undefined;
}
