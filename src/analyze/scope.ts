import type { CidrList } from '../common/cidr.js';

/**
 * What a report and its alerts are about (`replay`/`analyze` --since, --until, --client): a
 * window of packet time, as editcap's -A/-B take it (from `since` inclusive to `until`
 * exclusive), and the client networks. A contact outside it is not analysed: no client entry,
 * no match counted, no alert. DNS answers outside it still teach the DNS-answer cache, since a
 * connection inside the scope may use an address answered before the window or to another
 * client.
 */
export interface ReportScope {
  /** Packet time in µs; undefined: open. */
  readonly sinceMicros: number | undefined;
  readonly untilMicros: number | undefined;
  /** The networks --client named; undefined: every client. */
  readonly clients: CidrList | undefined;
  /** As given, for the report: ISO times and the CIDRs. */
  readonly since: string | undefined;
  readonly until: string | undefined;
  readonly clientNets: readonly string[];
}

/** Whether a contact of `client` stamped `tsMicros` (its own packet time) is in the scope. */
export function inScope(s: ReportScope, client: string, tsMicros: number): boolean {
  if (s.sinceMicros !== undefined && tsMicros < s.sinceMicros) return false;
  if (s.untilMicros !== undefined && tsMicros >= s.untilMicros) return false;
  return s.clients === undefined || s.clients.has(client);
}
