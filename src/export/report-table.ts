import type { ClientState } from '../analyze/clients.js';
import { clientReport, scopeText, type ClientReport, type Report } from './report.js';

/** The replay report as a readable text table (the default `kasmon replay` output). */

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** A small table (matches, issues) with columns as wide as their widest cell. */
function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]! + 2))).join('').trimEnd());
}

function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const HEADER = ['client', 'first seen', 'last seen', 'before', 'after', 'severity', 'categories', 'evidence', 'alerts'];

function cells(c: ClientReport): string[] {
  return [
    c.client,
    c.first_seen,
    c.last_seen,
    String(c.before_cutoff),
    String(c.after_cutoff),
    c.severity_after_cutoff ?? `(${c.severity})`,
    c.categories.map((x) => x.category).join(','),
    c.evidence.join(','),
    String(c.alerts),
  ];
}

/**
 * The client table, one client at a time: a first pass measures the columns (keeping only the
 * widths), the second prints, so a report of many clients never holds them all as rows.
 */
function* clientRows(states: readonly ClientState[], observer: string): Generator<string> {
  const widths = HEADER.map((h) => h.length);
  for (const s of states) cells(clientReport(s, observer)).forEach((x, i) => (widths[i] = Math.max(widths[i]!, x.length)));
  const line = (row: string[]): string => row.map((x, i) => (i === row.length - 1 ? x : pad(x, widths[i]! + 2))).join('').trimEnd();
  yield line(HEADER);
  for (const s of states) {
    const c = clientReport(s, observer);
    yield line(cells(c));
    if (c.first_after_cutoff !== null) yield `    after the cutoff: first ${c.first_after_cutoff}, last ${c.last_after_cutoff ?? c.first_after_cutoff}`;
    for (const f of c.findings) {
      const when = f.first_after !== null ? `, first ${f.first_after}, last ${f.last_after ?? f.first_after}` : '';
      yield `    FINDING ${f.finding} (${f.severity}): before ${f.before}  after ${f.after}${when}`;
    }
    if (c.update_paths.length > 0) yield `    update paths: ${c.update_paths.join(' ')}`;
    if (c.resolver_bypass.length > 0) yield `    asked resolvers other than the internal ones: ${c.resolver_bypass.join(', ')}`;
    for (const n of c.names) {
      const to = n.destinations.length > 0 ? `  -> ${n.destinations.join(' ')}` : '';
      const dns = n.addresses.length > 0 ? `  resolved ${n.addresses.join(' ')}` : '';
      const via = n.evidence.filter((e) => e === 'resolved_ip' || e === 'kaspersky_network');
      const attributed = via.length > 0 ? `  [attributed: ${via.join(', ')}]` : '';
      yield `    ${n.name}  ${n.category}  before ${n.before}  after ${n.after}${to}${dns}${attributed}`;
    }
    if (c.ja4.length > 0) yield `    ja4: ${c.ja4.join(' ')}`;
    if (c.public_dns_fallback.length > 0) yield `    asked public resolvers directly: ${c.public_dns_fallback.join(', ')} (Kaspersky's DNS fallback)`;
    if (c.ech_seen) yield '    sent Encrypted Client Hello: the real name may be hidden behind the outer SNI';
  }
}

function coverageLine(c: Report['coverage']): string {
  const pct = c.frames_read === 0 ? '' : ` (${(c.ratio * 100).toFixed(c.ratio === 1 ? 0 : 1)}%)`;
  const not = c.not_decoded.length === 0 ? '' : `; not decoded: ${c.not_decoded.map((x) => `${x.reason} ${x.frames}`).join(', ')}`;
  const cut = c.cut_by_snaplen.frames === 0 ? '' : `; ${c.cut_by_snaplen.frames} cut by the snap length (${c.cut_by_snaplen.snaplen ?? 0} bytes)`;
  return `coverage: ${c.frames_decoded} of ${c.frames_read} frames decoded${pct}${not}${cut}`;
}

/** The report as text, line by line (each piece ends with a newline). */
export function* renderTable(r: Report): Generator<string> {
  const L = { push: (...lines: string[]): void => void pending.push(...lines) };
  const pending: string[] = [];
  const flush = function* (): Generator<string> {
    if (pending.length > 0) yield pending.join('\n') + '\n';
    pending.length = 0;
  };
  L.push(`kasmon replay — cutoff ${r.cutoff} (packet time), observer ${r.observer}`);
  if (r.scope !== undefined) L.push(`scope: ${scopeText(r.scope)}`);
  for (const w of r.warnings) L.push(`WARNING: ${w}`);
  for (const i of r.inputs) {
    L.push(`input ${i.file}: ${i.format}${i.gzip ? '+gzip' : ''}, ${i.frames} frames, ${humanBytes(i.bytes)}${i.damaged ? `  DAMAGED: ${i.damaged}` : ''}`);
  }
  L.push(coverageLine(r.coverage));
  const t = r.totals;
  const o = t.observations;
  L.push(
    `observations: dns_query ${o.dns_query}, dns_answer ${o.dns_answer}, tls_sni ${o.tls_sni}, http_host ${o.http_host}, quic_sni ${o.quic_sni}`,
  );
  L.push('');
  const after = r.clientStates.filter((c) => c.after > 0);
  const beforeOnly = r.clientStates.filter((c) => c.after === 0);
  const rows = function* (states: readonly ClientState[]): Generator<string> {
    yield* flush();
    for (const l of clientRows(states, r.observer)) yield l + '\n';
  };
  L.push(`CLIENTS CONTACTING KASPERSKY AFTER THE CUTOFF: ${after.length}`);
  if (after.length > 0) yield* rows(after);
  L.push('');
  L.push(`CLIENTS SEEN ONLY BEFORE THE CUTOFF: ${beforeOnly.length}`);
  if (beforeOnly.length > 0) yield* rows(beforeOnly);
  if (r.applianceStates.length > 0) {
    L.push('');
    L.push(`KNOWN APPLIANCES (configured; not alerted): ${r.applianceStates.length}`);
    yield* rows(r.applianceStates);
  }
  L.push('');
  L.push(`alerts: ${t.alerts} raised, ${t.alerts_suppressed} repeats suppressed`);
  if (r.matches.length > 0) {
    L.push('');
    L.push('MATCHES');
    L.push(...table([['category', 'kind', 'phase', 'count'], ...r.matches.map((m) => [m.category, m.kind, m.phase, String(m.count)])]));
  }
  const found = Object.entries(r.findings).filter(([, v]) => v.before + v.after > 0);
  if (found.length > 0) {
    L.push('');
    L.push('FINDINGS');
    L.push(...table([['finding', 'before', 'after'], ...found.map(([f, v]) => [f, String(v.before), String(v.after)])]));
  }
  const at = r.attribution;
  const nameless = Object.entries(at.connections_without_name).filter(([, n]) => n > 0);
  if (nameless.length > 0) {
    const total = nameless.reduce((n, [, k]) => n + k, 0);
    L.push('');
    L.push(
      `connections without a name: ${total} (${nameless.map(([k, n]) => `${k} ${n}`).join(', ')}); attributed to Kaspersky: ${at.attributed_by_dns} by DNS answers, ${at.attributed_by_network} by configured ranges`,
    );
  }
  L.push('');
  const unrecovered = r.decode_issues.filter((d) => d.layer === 'name');
  const other = r.decode_issues.filter((d) => d.layer !== 'name');
  if (unrecovered.length === 0) L.push('names not recovered: none (no flow or message that could carry a name was lost)');
  else {
    L.push('NAMES NOT RECOVERED (flows and messages that could carry a name but did not yield one)');
    L.push(...table([['reason', 'count'], ...unrecovered.map((d) => [d.reason, String(d.count)])]));
  }
  if (other.length === 0) L.push('decode issues: none');
  else {
    L.push('');
    L.push('DECODE ISSUES (by layer)');
    L.push(...table([['layer', 'kind', 'reason', 'count'], ...other.map((d) => [d.layer, d.kind, d.reason, String(d.count)])]));
  }
  const ev = Object.entries(r.evictions).filter(([, n]) => n > 0);
  if (ev.length > 0) L.push(`evictions: ${ev.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  yield* flush();
}
