import type { Severity } from './rules.js';

/**
 * Findings: what a client did that says more than "it contacted a Kaspersky name", each with
 * its own alert state (one alert per client × finding, then at most one per suppression
 * window, like categories):
 * - `signature_update`: an HTTP request to a Kaspersky host (by name, or attributed through a
 *   DNS answer) whose path is a signature-base, diff, update-index or update-file path
 *   (`update_paths` in the config, each pattern with its source in ENDPOINTS.md "HTTP update
 *   paths"). After the cutoff this is the ban's very subject — the machine is pulling
 *   signature updates — so it is `critical`, above any name alone.
 * - `resolver_bypass`: with `dns.internal_resolvers` configured, a query for a Kaspersky name
 *   sent to any other resolver (the documented public-DNS fallback among them, or a resolver
 *   hard-coded by the product or the user): the machine got around the DNS controls.
 *   Reported per client with the resolvers' addresses; `high`. The internal resolvers' own
 *   upstream queries are not a bypass.
 */
export const FINDINGS = ['signature_update', 'resolver_bypass'] as const;
export type Finding = (typeof FINDINGS)[number];

export const FINDING_SEVERITY: Readonly<Record<Finding, Severity>> = { signature_update: 'critical', resolver_bypass: 'high' };

/** An update-path pattern from the config. */
export interface UpdatePath {
  /** A JavaScript regular expression over the request path (no query string), case-insensitive. */
  readonly pattern: string;
  /** What such a path is (signature bases, diffs, an update index ...). */
  readonly meaning: string;
  /** Where the pattern comes from (ENDPOINTS.md source ids). */
  readonly sources: readonly string[];
}

/** Classifies request paths; one test per configured pattern, run only for requests to matched hosts. */
export class UpdatePaths {
  private readonly res: ReadonlyArray<{ re: RegExp; path: UpdatePath }>;

  constructor(paths: readonly UpdatePath[]) {
    this.res = paths.map((p) => ({ re: new RegExp(p.pattern, 'i'), path: p }));
  }

  /** The first pattern `path` matches, if any. */
  classify(path: string | undefined): UpdatePath | undefined {
    if (path === undefined || path.length === 0) return undefined;
    for (const r of this.res) if (r.re.test(path)) return r.path;
    return undefined;
  }
}
