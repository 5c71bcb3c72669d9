import type { ClientState } from '../analyze/clients.js';
import { clientReport, type ClientReport, type Report } from './report.js';

/**
 * The report as CSV (RFC 4180): one row per client, for spreadsheets and SIEM lookups. Lists
 * (names, categories, paths ...) are joined with "; " inside one cell. Fields holding a comma,
 * a quote or a line break are quoted, quotes doubled, lines end with CRLF. Names and paths come
 * off the wire, so a cell that a spreadsheet would run as a formula (starting with = + - @, a tab
 * or CR) gets a leading apostrophe (OWASP "CSV injection").
 */
export const CSV_COLUMNS = [
  'client',
  'observer',
  'status',
  'severity',
  'severity_after_cutoff',
  'first_seen',
  'last_seen',
  'first_after_cutoff',
  'last_after_cutoff',
  'before_cutoff',
  'after_cutoff',
  'categories',
  'names',
  'evidence',
  'findings',
  'signature_updates_after_cutoff',
  'update_paths',
  'resolver_bypass',
  'public_dns_fallback',
  'ech_seen',
  'ja4',
  'alerts',
] as const;

export function csvCell(v: string): string {
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const list = (xs: readonly string[]): string => xs.join('; ');

function row(c: ClientReport, status: string): string[] {
  const upd = c.findings.find((f) => f.finding === 'signature_update');
  return [
    c.client,
    c.observer,
    status,
    c.severity,
    c.severity_after_cutoff ?? '',
    c.first_seen,
    c.last_seen,
    c.first_after_cutoff ?? '',
    c.last_after_cutoff ?? '',
    String(c.before_cutoff),
    String(c.after_cutoff),
    list(c.categories.map((x) => x.category)),
    list(c.names.map((n) => n.name)),
    list(c.evidence),
    list(c.findings.map((f) => `${f.finding} (${f.severity}): before ${f.before}, after ${f.after}`)),
    String(upd?.after ?? 0),
    list(c.update_paths),
    list(c.resolver_bypass),
    list(c.public_dns_fallback),
    c.ech_seen ? 'true' : 'false',
    list(c.ja4),
    String(c.alerts),
  ];
}

/** The CSV, one client at a time: after-cutoff clients first (most concerning first), then before-only, then appliances. */
export function* renderCsv(r: Report): Generator<string> {
  yield CSV_COLUMNS.join(',') + '\r\n';
  const emit = function* (states: readonly ClientState[], status: (c: ClientState) => string): Generator<string> {
    for (const s of states) yield row(clientReport(s, r.observer), status(s)).map(csvCell).join(',') + '\r\n';
  };
  yield* emit(r.clientStates, (c) => (c.after > 0 ? 'after_cutoff' : 'before_cutoff_only'));
  yield* emit(r.applianceStates, () => 'appliance');
}
