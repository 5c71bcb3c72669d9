import type { ClientState } from '../analyze/clients.js';
import { CATEGORIES } from '../analyze/rules.js';
import { clientReport, scopeText, type ClientReport, type Report } from './report.js';

/**
 * The report as one self-contained HTML page, for a manager: a summary, a timeline chart of
 * matches by category with the cutoff and the ban's other milestones, a sortable per-client
 * table, each client's evidence, and what could not be decoded. No network fetches: CSS, the
 * chart and the few lines of script that sort the table are inline, and a Content-Security-
 * Policy of `default-src 'none'` makes the browser refuse any fetch a future edit might add.
 *
 * The chart is SVG rendered here, not a charting library: the page then shows the chart with
 * scripts off (mail clients, print, PDF export), it prints sharp at any size, its output is
 * deterministic (golden tests compare it), it costs no dependency and no kilobytes of inlined
 * library code, and native SVG `<title>` tooltips give the per-bar counts a library would.
 * The one thing a library adds — interactive zoom — matters little for a report of weeks.
 *
 * Every string from the wire (names, paths, addresses) is escaped: a capture is hostile input.
 * Written in pieces, one client at a time, like the other formats.
 */
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Okabe-Ito palette (readable with colour-vision deficiencies), one colour per category. */
const COLOURS = ['#d55e00', '#0072b2', '#cc79a7', '#e69f00', '#009e73', '#56b4e9', '#999999', '#f0e442'];

const SEV_ORDER: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#555}.warn{background:#fff4e5;border-left:4px solid #e69f00;padding:8px 12px;margin:8px 0}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px 16px;min-width:150px}
.card b{display:block;font-size:26px}.card.bad b{color:#b42318}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}
th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4;position:sticky;top:0}
table.sortable th{cursor:pointer;user-select:none}table.sortable th[aria-sort=ascending]::after{content:" \\25B2"}table.sortable th[aria-sort=descending]::after{content:" \\25BC"}
td.n{text-align:right;font-variant-numeric:tabular-nums}#clients td:first-child,#clients td:nth-child(7),#clients td:nth-child(8){white-space:nowrap}
.sev-critical{color:#fff;background:#b42318;font-weight:600}.sev-high{color:#b42318;font-weight:600}.sev-medium{color:#b54708}
details{background:#fff;border:1px solid #dde1e6;border-radius:6px;margin:6px 0;padding:6px 12px}
summary{cursor:pointer;font-weight:600}
code{font-size:12px;word-break:break-all}
svg text{font:11px system-ui,"DejaVu Sans",sans-serif;fill:#333}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
`;

/** Sorts a table by the clicked column (data-v holds the sort key, data-n marks numbers). */
const SCRIPT = `
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var asc=th.getAttribute('aria-sort')!=='ascending';
      t.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort')});
      th.setAttribute('aria-sort',asc?'ascending':'descending');
      var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
      var num=th.hasAttribute('data-n');
      rows.sort(function(a,b){
        var x=a.cells[i].getAttribute('data-v')||a.cells[i].textContent,y=b.cells[i].getAttribute('data-v')||b.cells[i].textContent;
        var d=num?(parseFloat(x)-parseFloat(y)):(x<y?-1:x>y?1:0);
        return asc?d:-d;
      });
      rows.forEach(function(r){body.appendChild(r)});
    });
  });
});
`;

interface Bucket {
  start: number;
  counts: number[];
}

/** The timeline's buckets: hours for up to 7 days of data, else days; empty buckets between are kept (a gap shows). */
function buckets(r: Report): { size: number; rows: Bucket[] } {
  const hours = r.timeline.map((h) => ({ start: Date.parse(h.hour) / 1000, counts: CATEGORIES.map((c) => h.counts[c] ?? 0) }));
  if (hours.length === 0) return { size: 3600, rows: [] };
  const span = hours[hours.length - 1]!.start - hours[0]!.start;
  const size = span <= 7 * 86_400 ? 3600 : 86_400;
  const map = new Map<number, number[]>();
  for (const h of hours) {
    const k = Math.floor(h.start / size) * size;
    const row = map.get(k) ?? new Array<number>(CATEGORIES.length).fill(0);
    h.counts.forEach((n, i) => (row[i]! += n));
    map.set(k, row);
  }
  const first = Math.floor(hours[0]!.start / size) * size;
  const last = Math.floor(hours[hours.length - 1]!.start / size) * size;
  const rows: Bucket[] = [];
  // At most 2,000 bars: a sparse capture over years is drawn with its empty stretches left out.
  if ((last - first) / size <= 2000) for (let t = first; t <= last; t += size) rows.push({ start: t, counts: map.get(t) ?? new Array<number>(CATEGORIES.length).fill(0) });
  else for (const [t, counts] of [...map].sort((a, b) => a[0] - b[0])) rows.push({ start: t, counts });
  return { size, rows };
}

function niceMax(v: number): number {
  if (v <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const day = (t: number): string => new Date(t * 1000).toISOString().slice(0, 10);
const hourLabel = (t: number): string => new Date(t * 1000).toISOString().slice(5, 16).replace('T', ' ');

/** The stacked-bar chart of matches per bucket by category, with milestones as vertical lines. */
export function timelineSvg(r: Report): string {
  const { size, rows } = buckets(r);
  const W = 1100;
  const H = 300;
  const L = 48;
  const R = 16;
  const T = 40;
  const B = 40;
  const used = CATEGORIES.map((_, i) => rows.some((b) => b.counts[i]! > 0));
  const legend = CATEGORIES.map((c, i) => (used[i] ? `<span><i style="background:${COLOURS[i]}"></i>${c}</span>` : '')).join('');
  if (rows.length === 0) return `<p class="meta">No Kaspersky contacts to plot.</p>`;
  const t0 = rows[0]!.start;
  const t1 = rows[rows.length - 1]!.start + size;
  const ms = r.milestones.map((m) => ({ ...m, t: Date.parse(m.at) / 1000 }));
  const cut = ms.find((m) => m.at === r.cutoff);
  // The cutoff is always on the chart; other milestones when they fall within the data's span.
  const lo = Math.min(t0, cut?.t ?? t0);
  const hi = Math.max(t1, (cut?.t ?? t1) + size);
  const max = niceMax(Math.max(...rows.map((b) => b.counts.reduce((a, n) => a + n, 0))));
  const x = (t: number): number => L + ((t - lo) / (hi - lo)) * (W - L - R);
  const y = (v: number): number => T + (H - T - B) * (1 - v / max);
  const bw = Math.max(1, x(lo + size) - x(lo) - 1);
  const out: string[] = [];
  out.push(`<svg id="timeline" role="img" aria-label="Kaspersky contacts per ${size === 3600 ? 'hour' : 'day'} by category" viewBox="0 0 ${W} ${H}" width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e8ec"/><text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Number.isInteger(v) ? v : v.toFixed(1)}</text>`);
  }
  for (const b of rows) {
    let acc = 0;
    const total = b.counts.reduce((a, n) => a + n, 0);
    if (total === 0) continue;
    const tip = `${size === 3600 ? hourLabel(b.start) + ' UTC' : day(b.start)}: ${CATEGORIES.map((c, i) => (b.counts[i]! > 0 ? `${c} ${b.counts[i]}` : '')).filter(Boolean).join(', ')}`;
    out.push(`<g class="bar"><title>${esc(tip)}</title>`);
    b.counts.forEach((n, i) => {
      if (n === 0) return;
      const y1 = y(acc + n);
      const y0 = y(acc);
      out.push(`<rect class="bar" x="${x(b.start).toFixed(1)}" y="${y1.toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.max(0.5, y0 - y1).toFixed(1)}" fill="${COLOURS[i]}"/>`);
      acc += n;
    });
    out.push('</g>');
  }
  // x axis: about 8 labels
  const step = Math.max(size, Math.ceil((hi - lo) / 8 / size) * size);
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) {
    const anchor = x(t) > W - R - 50 ? 'end' : x(t) < L + 40 ? 'start' : 'middle';
    out.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${H - B}" y2="${H - B + 4}" stroke="#333"/><text x="${x(t).toFixed(1)}" y="${H - B + 16}" text-anchor="${anchor}">${size === 3600 && step < 86_400 ? hourLabel(t) : day(t)}</text>`);
  }
  out.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#333"/>`);
  let row = 0;
  for (const m of ms) {
    if (m.t < lo || m.t > hi) continue;
    const isCut = m === cut;
    const mx = x(m.t).toFixed(1);
    out.push(
      `<g class="milestone${isCut ? ' cutoff' : ''}"><title>${esc(`${m.at} ${m.label} [${m.sources.join(', ')}]`)}</title><line x1="${mx}" x2="${mx}" y1="${T - 6}" y2="${H - B}" stroke="${isCut ? '#b42318' : '#555'}" stroke-width="${isCut ? 2 : 1}" stroke-dasharray="${isCut ? '' : '4 3'}"/>` +
        `<text x="${mx}" y="${12 + 12 * (row++ % 2)}" text-anchor="middle" ${isCut ? 'style="fill:#b42318;font-weight:600"' : ''}>${esc(isCut ? 'cutoff' : m.label)}</text></g>`,
    );
  }
  out.push('</svg>');
  return `<div class="legend">${legend}</div>${out.join('')}<p class="meta">Contacts (every name or attributed connection that matched a rule) per ${size === 3600 ? 'hour' : 'day'} of packet time (UTC), by category. Hover a bar for its counts.</p>`;
}

function sevCell(s: string | null, fallback: string): string {
  const v = s ?? `(${fallback})`;
  const rank = SEV_ORDER[s ?? fallback] ?? 9;
  return `<td class="sev-${esc(s ?? 'none')}" data-v="${s === null ? 10 + rank : rank}">${esc(v)}</td>`;
}

function clientRow(c: ClientReport): string {
  const upd = c.findings.find((f) => f.finding === 'signature_update')?.after ?? 0;
  const byp = c.resolver_bypass.length;
  return (
    `<tr><td><a href="#c-${esc(c.client)}"><code>${esc(c.client)}</code></a></td>` +
    sevCell(c.severity_after_cutoff, c.severity) +
    `<td class="n" data-v="${c.after_cutoff}">${c.after_cutoff}</td><td class="n" data-v="${c.before_cutoff}">${c.before_cutoff}</td>` +
    `<td class="n" data-v="${upd}">${upd}</td><td class="n" data-v="${byp}">${byp}</td>` +
    `<td>${esc(c.first_after_cutoff ?? '')}</td><td>${esc(c.last_after_cutoff ?? c.last_seen)}</td>` +
    `<td>${esc(c.categories.map((x) => x.category).join(', '))}</td><td>${esc(c.evidence.join(', '))}</td><td class="n" data-v="${c.alerts}">${c.alerts}</td></tr>`
  );
}

function clientDetails(c: ClientReport): string {
  const li = (label: string, items: readonly string[]): string => (items.length === 0 ? '' : `<li>${label}: ${items.map((x) => `<code>${esc(x)}</code>`).join(' ')}</li>`);
  const names = c.names
    .map(
      (n) =>
        `<tr><td><code>${esc(n.name)}</code></td><td>${esc(n.category)}</td><td>${esc(n.rule)}</td><td class="n">${n.before}</td><td class="n">${n.after}</td><td>${esc(n.evidence.join(', '))}</td><td>${n.destinations.map((d) => `<code>${esc(d)}</code>`).join(' ')}</td><td>${n.addresses.map((d) => `<code>${esc(d)}</code>`).join(' ')}</td></tr>`,
    )
    .join('');
  const findings = c.findings.map((f) => `<li class="sev-${esc(f.severity)}">${esc(f.finding)} (${esc(f.severity)}): before ${f.before}, after ${f.after}${f.first_after ? `, first after the cutoff ${esc(f.first_after)}` : ''}</li>`).join('');
  return (
    `<details id="c-${esc(c.client)}"${c.after_cutoff > 0 ? ' open' : ''}><summary>${esc(c.client)} — ${esc(c.severity_after_cutoff ?? `(${c.severity})`)}, ${c.after_cutoff} contacts after the cutoff, ${c.before_cutoff} before</summary>` +
    `<ul><li>first seen ${esc(c.first_seen)}, last seen ${esc(c.last_seen)}${c.first_after_cutoff ? `; after the cutoff from ${esc(c.first_after_cutoff)} to ${esc(c.last_after_cutoff ?? c.first_after_cutoff)}` : ''}</li>` +
    findings +
    li('update paths requested', c.update_paths) +
    li('asked resolvers other than the internal ones', c.resolver_bypass) +
    li("asked Kaspersky's public fallback resolvers directly", c.public_dns_fallback) +
    li('JA4 fingerprints', c.ja4) +
    (c.ech_seen ? '<li>sent Encrypted Client Hello: the real name may be hidden behind the outer SNI</li>' : '') +
    `</ul><table><thead><tr><th>name</th><th>category</th><th>rule</th><th>before</th><th>after</th><th>evidence</th><th>destinations</th><th>DNS answers</th></tr></thead><tbody>${names}</tbody></table></details>`
  );
}

/** The page, in pieces. `title` names what it shows (a replay, or the live sensor). */
export function* renderHtml(r: Report, title = 'kasmon replay report'): Generator<string> {
  const t = r.totals;
  const states = [...r.clientStates, ...r.applianceStates];
  let upd = 0;
  let byp = 0;
  for (const s of r.clientStates) {
    if ((s.findings[0]?.after ?? 0) > 0) upd++;
    if (s.resolverBypass.length > 0) byp++;
  }
  yield `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`;
  yield `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`;
  yield `<title>${esc(title)} — ${esc(r.observer)}</title><style>${CSS}</style></head><body><main>`;
  yield `<h1>Kaspersky contacts after the US ban cutoff</h1>`;
  yield `<p class="meta">${esc(title)} · observer <b>${esc(r.observer)}</b> · cutoff <b>${esc(r.cutoff)}</b> (packet time) · ${r.inputs.map((i) => esc(i.file)).join(', ') || 'live capture'}</p>`;
  if (r.scope !== undefined) yield `<p class="meta" id="scope">Limited to ${esc(scopeText(r.scope))}.</p>`;
  for (const w of r.warnings) yield `<div class="warn">${esc(w)}</div>`;
  yield `<div class="cards">` +
    `<div class="card${t.clients_after_cutoff > 0 ? ' bad' : ''}"><b id="n-after">${t.clients_after_cutoff}</b>clients contacted Kaspersky after the cutoff</div>` +
    `<div class="card${upd > 0 ? ' bad' : ''}"><b id="n-updates">${upd}</b>fetched signature updates after the cutoff</div>` +
    `<div class="card${byp > 0 ? ' bad' : ''}"><b id="n-bypass">${byp}</b>bypassed the internal resolvers</div>` +
    `<div class="card"><b>${t.matched_clients - t.clients_after_cutoff}</b>seen only before the cutoff</div>` +
    `<div class="card"><b>${t.alerts}</b>alerts raised</div>` +
    `<div class="card"><b>${(r.coverage.ratio * 100).toFixed(r.coverage.ratio === 1 ? 0 : 1)}%</b>of ${r.coverage.frames_read} frames decoded</div></div>`;
  yield `<h2>Timeline</h2>${timelineSvg(r)}`;
  yield `<h2>Clients</h2><p class="meta">Click a column to sort. Severity in parentheses: seen only before the cutoff.</p>`;
  yield `<table id="clients" class="sortable"><thead><tr><th>client</th><th data-n>severity</th><th data-n>after</th><th data-n>before</th><th data-n>update fetches after</th><th data-n>bypassed resolvers</th><th>first after cutoff</th><th>last contact</th><th>categories</th><th>evidence</th><th data-n>alerts</th></tr></thead><tbody>`;
  for (const s of states) yield clientRow(clientReport(s, r.observer));
  yield `</tbody></table>`;
  if (states.length > 0) yield `<h2>Evidence per client</h2>`;
  for (const s of states) yield clientDetails(clientReport(s, r.observer));
  yield* tail(r);
  yield `<script>${SCRIPT}</script></main></body></html>\n`;
}

function* tail(r: Report): Generator<string> {
  yield `<h2>Milestones of the ban</h2><table><thead><tr><th>date (UTC)</th><th>what</th><th>sources</th></tr></thead><tbody>`;
  for (const m of r.milestones) yield `<tr><td>${esc(m.at)}</td><td>${esc(m.label)}</td><td>${esc(m.sources.join(', '))}</td></tr>`;
  yield `</tbody></table><p class="meta">Sources are listed at the end of config/default.yaml.</p>`;
  if (r.matches.length > 0) {
    yield `<h2>Matches</h2><table><thead><tr><th>category</th><th>evidence</th><th>phase</th><th>count</th></tr></thead><tbody>`;
    for (const m of r.matches) yield `<tr><td>${esc(m.category)}</td><td>${esc(m.kind)}</td><td>${esc(m.phase)}</td><td class="n">${m.count}</td></tr>`;
    yield `</tbody></table>`;
  }
  const at = r.attribution;
  const nameless = Object.entries(at.connections_without_name).filter(([, n]) => n > 0);
  if (nameless.length > 0) {
    yield `<p>Connections without a name: ${nameless.map(([k, n]) => `${esc(k)} ${n}`).join(', ')}; attributed to Kaspersky ${at.attributed_by_dns} by DNS answers and ${at.attributed_by_network} by configured ranges.</p>`;
  }
  yield `<h2>What could not be read</h2><p>coverage: ${r.coverage.frames_decoded} of ${r.coverage.frames_read} frames decoded</p>`;
  const rows = r.decode_issues.filter((d) => d.count > 0);
  if (rows.length === 0) yield `<p>No decode issues.</p>`;
  else {
    yield `<table><thead><tr><th>layer</th><th>kind</th><th>reason</th><th>count</th></tr></thead><tbody>`;
    for (const d of rows) yield `<tr><td>${esc(d.layer)}</td><td>${esc(d.kind)}</td><td>${esc(d.reason)}</td><td class="n">${d.count}</td></tr>`;
    yield `</tbody></table>`;
  }
  const ev = Object.entries(r.evictions).filter(([, n]) => n > 0);
  if (ev.length > 0) yield `<p>Evictions from bounded tables: ${ev.map(([k, n]) => `${esc(k)} ${n}`).join(', ')}</p>`;
}

/** For tests: the client states the page lists, in its order. */
export function htmlClientOrder(r: Report): string[] {
  return [...r.clientStates, ...r.applianceStates].map((c: ClientState) => c.client);
}
