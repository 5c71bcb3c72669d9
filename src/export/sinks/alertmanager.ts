import { createHash } from 'node:crypto';
import type { AlertDecision } from '../../analyze/alerts.js';
import type { ClientState } from '../../analyze/clients.js';
import { CATEGORIES, SEVERITIES, type Category, type Severity } from '../../analyze/rules.js';
import { isoTime } from '../../common/time.js';
import type { AlertEvent, AlertSink, SinkStatus } from '../alert-sinks.js';
import { Delivery, type Entry } from './delivery.js';
import type { PostOutcome } from './http.js';
import type { NetworkSinkParts } from './network.js';

/**
 * Alertmanager sink: kasmon's findings as Alertmanager alerts, sent the way Prometheus sends
 * its own (POST /api/v2/alerts; README "Alerts to Alertmanager and webhooks").
 *
 * A **finding** is one client × category after the cutoff. Its labels identify it and nothing
 * else — `alertname`, `client`, `category`, `severity` — so every sensor that sees the client
 * sends the same labels and Alertmanager shows one alert; everything that changes (observer,
 * names, counts, first/last contact, evidence, JA4, rule) is an annotation.
 *
 * - An alert from the analyzer fires the finding (or updates it): sent at once, with
 *   `startsAt` = the packet time of the contact and `endsAt` 4 resend intervals ahead.
 * - While it is active it is re-sent every `resendMs` with `endsAt` moved ahead and the
 *   annotations brought up to date, so Alertmanager keeps it firing; if the sensor stops,
 *   Alertmanager resolves it by itself at endsAt.
 * - Once the client has not contacted the category for alerts.resolve_seconds of **packet
 *   time** (network time, engine/clock.ts), it is sent resolved (`endsAt` = now). A later
 *   contact fires it again (the analyzer's own suppression window does not hide it).
 * - `severity` is Alertmanager's usual scale: kasmon's high → critical, medium → warning, low
 *   and info → info (kasmon's own is the `kasmon_severity` annotation). If a more severe rule
 *   of the category matches later, the finding moves up: the old alert resolves and the more
 *   severe one fires, as a Prometheus warning/critical pair does.
 *
 * Delivery is delivery.ts, keyed by the label set: the spool holds every finding that is active
 * or whose resolution is not delivered yet, so a restart (or kill -9) goes on re-sending the
 * active ones and delivers the rest.
 */
export const ALERTNAME = 'KasmonClientContactsKaspersky';

export const AM_SEVERITY: Readonly<Record<Severity, string>> = { critical: 'critical', high: 'critical', medium: 'warning', low: 'info', info: 'info' };

/** endsAt of a firing alert: this many resend intervals ahead (Prometheus uses 4 too). */
export const ENDS_AHEAD = 4;
/** Most alerts in one request (Prometheus's batch size). */
const MAX_BATCH = 64;
/** At most this many names in the `names` annotation. */
const MAX_NAMES = 20;
const TICK_MS = 1000;

export interface AmLabels {
  readonly alertname: string;
  readonly client: string;
  readonly category: string;
  readonly severity: string;
}

/** One alert as it is spooled: what Alertmanager gets (but endsAt while firing), and kasmon's bookkeeping. */
export interface AmAlertBody {
  readonly labels: AmLabels;
  annotations: Record<string, string>;
  startsAt: string;
  /** Set once resolved. */
  endsAt?: string;
  generatorURL: string;
  /** Not sent: the packet time (µs) of the last contact known, and kasmon's severity rank (0 = high). */
  kasmon: { lastContactMicros: number; severityRank: number };
}

/** What findings are judged by: the engine's clock and client table, and the config in force. */
export interface FindingSource {
  /** Network time in µs (NaN before the first packet). */
  now(): number;
  /** alerts.resolve_seconds and alerts.suppress_seconds in µs (read every tick: a reload changes them). */
  resolveMicros(): number;
  suppressMicros(): number;
  /** The client's live state, if it is in the table. */
  client(ip: string): ClientState | undefined;
  observer(): string;
  cutoffIso(): string;
}

export interface AlertmanagerOptions {
  readonly resendMs: number;
  /** The sensor's URL; generatorURL = externalUrl/api/v1/clients/IP. */
  readonly externalUrl: string;
  readonly findings: FindingSource;
}

interface Finding {
  readonly client: string;
  readonly category: Category;
  readonly ci: number;
  /** The delivery entry of its current label set. */
  entry: Entry<AmAlertBody>;
  state: ClientState | undefined;
  resolved: boolean;
}

/** The delivery (and spool) key of a label set. */
export function alertKey(l: AmLabels): string {
  return createHash('sha256').update(`${l.alertname}\u0000${l.client}\u0000${l.category}\u0000${l.severity}`).digest('hex').slice(0, 32);
}

/** The Alertmanager v2 API's postable alert. */
export function postable(b: AmAlertBody, endsAtIfFiring: string): Record<string, unknown> {
  return { labels: b.labels, annotations: b.annotations, startsAt: b.startsAt, endsAt: b.endsAt ?? endsAtIfFiring, generatorURL: b.generatorURL };
}

const byDecision = new WeakMap<AlertDecision, { readonly observer: string; readonly annotations: Readonly<Record<string, string>> }>();
const MAX_DESTINATIONS = 16;

/** The annotations that come from a client's state: names, counts, first/last contact, evidence ... */
function clientAnnotations(c: ClientState, category: Category, ci: number, observer: string): Record<string, string> {
  const a: Record<string, string> = {};
  const cat = c.categories[ci];
  const names: string[] = [];
  const destinations: string[] = [];
  for (const [name, n] of c.names) {
    if (n.category !== category) continue;
    names.push(name);
    const addrs = n.destAddrs;
    if (addrs === undefined || destinations.length >= MAX_DESTINATIONS) continue;
    for (let i = 0; i < addrs.length && destinations.length < MAX_DESTINATIONS; i++) {
      const ip = addrs[i]!;
      const d = ip.includes(':') ? `[${ip}]:${n.destPorts![i]}` : `${ip}:${n.destPorts![i]}`;
      if (!destinations.includes(d)) destinations.push(d);
    }
  }
  names.sort();
  const contacts = cat?.after ?? 0;
  const first = cat?.firstAfter !== undefined ? isoTime(cat.firstAfter) : '';
  const last = cat?.lastAfter !== undefined ? isoTime(cat.lastAfter) : '';
  const what = names.length === 1 ? names[0] : `${names.length} ${category} names (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''})`;
  a['summary'] = `${c.client} contacted Kaspersky ${category} endpoints after the cutoff`;
  a['description'] =
    `${c.client} contacted ${what} ${contacts} time${contacts === 1 ? '' : 's'} since ${first}, last at ${last} (packet time); seen by ${observer}. ` +
    'Find the machine, remove or replace the Kaspersky product, and check its contacts stop: the alert resolves after alerts.resolve_seconds without one.';
  a['names'] = names.length > MAX_NAMES ? `${names.slice(0, MAX_NAMES).join(', ')} (+${names.length - MAX_NAMES} more)` : names.join(', ');
  a['contacts'] = String(contacts);
  a['first_seen'] = first;
  a['last_seen'] = last;
  a['evidence'] = c.evidence.join(', ');
  if (destinations.length > 0) a['destinations'] = destinations.join(', ');
  if (c.ja4.length > 0) a['ja4'] = c.ja4.join(', ');
  if (c.publicDnsFallback.length > 0) a['public_dns_fallback'] = c.publicDnsFallback.join(', ');
  return a;
}

export class AlertmanagerSink implements AlertSink {
  readonly name: string;
  private readonly delivery: Delivery<AmAlertBody>;
  /** By `client|category`. */
  private readonly findings = new Map<string, Finding>();
  private timer: NodeJS.Timeout | undefined;
  private lastRefreshMs = Date.now();

  constructor(
    private readonly parts: NetworkSinkParts,
    private readonly o: AlertmanagerOptions,
  ) {
    this.name = parts.name;
    this.delivery = new Delivery<AmAlertBody>({ ...parts.delivery, name: parts.name, maxBatch: MAX_BATCH, send: (batch, signal) => this.send(batch, signal) });
  }

  /** Findings firing (as far as this sink knows). */
  get firing(): number {
    let n = 0;
    for (const f of this.findings.values()) if (!f.resolved) n++;
    return n;
  }

  /** Reads the spool back (the findings active before a restart, resolutions not delivered) and starts. */
  async start(): Promise<number> {
    const loaded = await this.delivery.load();
    for (const e of loaded) {
      const { client, category } = e.body.labels;
      const ci = CATEGORIES.indexOf(category as Category);
      if (ci < 0) {
        this.delivery.forget(e.key);
        continue;
      }
      const id = `${client}|${category}`;
      const resolved = e.body.endsAt !== undefined;
      const have = this.findings.get(id);
      if (have === undefined || (have.resolved && !resolved)) this.findings.set(id, { client, category: category as Category, ci, entry: e, state: undefined, resolved });
    }
    this.delivery.start();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    return loaded.length;
  }

  offer(_event: AlertEvent, d: AlertDecision, c: ClientState): void {
    const id = `${d.client}|${d.category}`;
    const rank = SEVERITIES.indexOf(d.severity);
    const f = this.findings.get(id);
    if (f === undefined || f.resolved) {
      this.fire(id, d.category, c, rank, d.at, f?.entry.body, d);
      return;
    }
    f.state = c;
    const b = f.entry.body;
    if (rank < b.kasmon.severityRank && AM_SEVERITY[d.severity] !== b.labels.severity) {
      // More severe: the old alert ends, the more severe one fires (from the same start).
      this.resolve(f, Date.now());
      this.fire(id, d.category, c, rank, d.at, b, d, b.startsAt);
      return;
    }
    if (rank < b.kasmon.severityRank) b.kasmon.severityRank = rank;
    if (d.at > b.kasmon.lastContactMicros) b.kasmon.lastContactMicros = d.at;
    this.annotate(b, f, d);
    this.delivery.put(f.entry.key, b, false);
  }

  /** Once a second: resolve findings whose client went quiet, fire again those it came back to, re-send the active ones. */
  tick(wallMs = Date.now()): void {
    const src = this.o.findings;
    const now = src.now();
    const resolveUs = src.resolveMicros();
    const forgetUs = resolveUs + src.suppressMicros();
    const refresh = wallMs - this.lastRefreshMs >= this.o.resendMs;
    if (refresh) this.lastRefreshMs = wallMs;
    for (const [id, f] of this.findings) {
      f.state ??= src.client(f.client);
      const b = f.entry.body;
      const seen = f.state?.categories[f.ci]?.lastAfterMicros ?? Number.NaN;
      const moved = seen > b.kasmon.lastContactMicros;
      if (f.resolved) {
        if (moved && f.state !== undefined) this.fire(id, f.category, f.state, b.kasmon.severityRank, seen, b, undefined);
        else if (now - b.kasmon.lastContactMicros >= forgetUs) this.findings.delete(id); // a contact from now on raises a new alert anyway
        continue;
      }
      if (moved) b.kasmon.lastContactMicros = seen;
      if (now - b.kasmon.lastContactMicros >= resolveUs) {
        this.resolve(f, wallMs);
        continue;
      }
      if (refresh) {
        this.annotate(b, f, undefined);
        if (this.delivery.get(f.entry.key) === f.entry) this.delivery.refresh(f.entry);
        else f.entry = this.delivery.put(f.entry.key, b, false); // it had been dropped: queue it again
      }
    }
  }

  async flush(): Promise<void> {}

  async reopen(): Promise<void> {
    this.parts.reload();
  }

  async close(graceMs = 2000): Promise<void> {
    clearInterval(this.timer);
    await this.delivery.close(graceMs);
    this.parts.poster.close();
  }

  status(): SinkStatus {
    return this.parts.status('alertmanager', this.delivery as Delivery<unknown>, this.firing);
  }

  // ─── internals ─────────────────────────────────────────────────────────────────────────

  /**
   * A new alert for the finding, at severity `rank`, for a contact at `at` (µs): labels from the
   * client, category and severity; annotations carried over from `prev` and brought up to date.
   */
  private fire(id: string, category: Category, c: ClientState, rank: number, at: number, prev: AmAlertBody | undefined, d: AlertDecision | undefined, startsAt?: string): void {
    const severity = SEVERITIES[rank] ?? 'info';
    const labels: AmLabels = { alertname: ALERTNAME, client: c.client, category, severity: AM_SEVERITY[severity] };
    const wall = Date.now();
    const body: AmAlertBody = {
      labels,
      annotations: { ...prev?.annotations },
      // When it started: the contact's packet time (never ahead of this clock).
      startsAt: startsAt ?? new Date(Math.min(Number.isFinite(at) ? Math.floor(at / 1000) : wall, wall)).toISOString(),
      generatorURL: `${this.o.externalUrl.replace(/\/+$/, '')}/api/v1/clients/${c.client}`,
      kasmon: { lastContactMicros: at, severityRank: rank },
    };
    const ci = CATEGORIES.indexOf(category);
    const f: Finding = { client: c.client, category, ci, entry: undefined as unknown as Entry<AmAlertBody>, state: c, resolved: false };
    this.annotate(body, f, d);
    f.entry = this.delivery.put(alertKey(labels), body, false);
    this.findings.delete(id);
    this.findings.set(id, f);
    // Bounded like the queue: the oldest findings go first (their alerts then end in Alertmanager at endsAt).
    for (const old of this.findings.keys()) {
      if (this.findings.size <= this.parts.delivery.queueSize) break;
      this.findings.delete(old);
    }
  }

  private resolve(f: Finding, wallMs: number): void {
    const b = f.entry.body;
    b.endsAt = new Date(Math.max(wallMs, Date.parse(b.startsAt))).toISOString();
    f.resolved = true;
    this.annotate(b, f, undefined);
    f.entry = this.delivery.put(f.entry.key, b, true);
  }

  /** Annotations from the client's state now (and the alert that raised it, if any). */
  private annotate(b: AmAlertBody, f: Finding, d: AlertDecision | undefined): void {
    const src = this.o.findings;
    const a = b.annotations;
    const observer = src.observer();
    a['observer'] = observer;
    a['cutoff'] = src.cutoffIso();
    a['kasmon_severity'] = SEVERITIES[b.kasmon.severityRank] ?? 'info';
    if (d !== undefined) {
      a['rule'] = d.match.id;
      a['rule_pattern'] = d.match.pattern;
      a['confidence'] = d.match.confidence;
    }
    const c = f.state;
    if (c === undefined) return;
    // An alert goes to every Alertmanager sink in the same call: what comes from the client is
    // worked out once for all of them.
    let fromClient = d !== undefined ? byDecision.get(d) : undefined;
    if (fromClient === undefined || fromClient.observer !== observer) {
      fromClient = { observer, annotations: clientAnnotations(c, f.category, f.ci, observer) };
      if (d !== undefined) byDecision.set(d, fromClient);
    }
    Object.assign(a, fromClient.annotations);
  }

  private send(batch: ReadonlyArray<Entry<AmAlertBody>>, signal: AbortSignal): Promise<PostOutcome> {
    const endsAt = new Date(Date.now() + ENDS_AHEAD * this.o.resendMs).toISOString();
    return this.parts.poster.post(JSON.stringify(batch.map((e) => postable(e.body, endsAt))), {}, signal);
  }
}
