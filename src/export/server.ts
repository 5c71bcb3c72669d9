import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import { isoMicros } from '../common/time.js';
import type { Sensor } from '../engine/sensor.js';
import type { RecentAlerts, SinkStatus } from './alert-sinks.js';
import { alertsQuery, alertsSchema, clientSchema, clientsQuery, clientsSchema, statusSchema } from './api-schemas.js';
import type { SensorMetrics } from './metrics.js';
import { buildReport, byConcern, clientReport } from './report.js';
import { renderHtml } from './report-html.js';

/**
 * The sensor's HTTP endpoints (fastify's testing guide: build, never listen here; the command
 * listens, tests `inject`):
 * - GET /healthz        the process is up (never needs the token);
 * - GET /readyz         200 while a capture runs and packets come (monitor.*), else 503 with why;
 * - GET /metrics        Prometheus text, or OpenMetrics when the Accept header asks for it;
 * - GET /api/v1/clients, /api/v1/clients/:ip, /api/v1/alerts, /api/v1/status (api-schemas.ts).
 * An optional bearer token protects everything but /healthz.
 */
export interface ServerDeps {
  readonly sensor: Sensor;
  readonly metrics: SensorMetrics;
  readonly recent: RecentAlerts;
  readonly version: string;
  /** Status of every alert sink. */
  sinks(): readonly SinkStatus[];
  /** Required as `Authorization: Bearer <token>` on everything but /healthz (undefined: open). */
  readonly token?: string | undefined;
  readonly logger?: FastifyBaseLogger | false;
}

const OPENMETRICS = 'application/openmetrics-text';
const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function buildServer(d: ServerDeps): FastifyInstance {
  const app = Fastify({ logger: d.logger ?? false, ajv: { customOptions: { coerceTypes: true, removeAdditional: false } } });
  app.addSchema(clientSchema);
  const s = d.sensor;

  if (d.token !== undefined) {
    const want = Buffer.from(`Bearer ${d.token}`);
    app.addHook('onRequest', async (req, reply) => {
      if (req.url === '/healthz') return;
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length !== want.length || !timingSafeEqual(got, want)) {
        await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'send Authorization: Bearer <token> (monitor.api_token_file)' });
      }
    });
  }

  app.get('/healthz', async () => ({ status: 'ok' }));

  // The HTML report of the live state: the same page as `kasmon replay --format html`.
  app.get('/', async (_req, reply) => {
    const reads = s.reader?.result !== undefined ? [s.reader.result] : [];
    const html = [...renderHtml(buildReport(s.engine, reads), `kasmon live sensor (since ${new Date(s.startedAtMs).toISOString()})`)].join('');
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });

  app.get('/readyz', async (_req, reply) => {
    const r = s.readiness();
    return reply.code(r.ready ? 200 : 503).send(r.ready ? { ready: true } : { ready: false, reasons: r.reasons });
  });

  app.get('/metrics', async (req, reply) => {
    const open = (req.headers.accept ?? '').includes(OPENMETRICS);
    const reg = open ? d.metrics.openMetrics : d.metrics.prometheus;
    return reply.type(reg.contentType).send(await reg.metrics());
  });

  app.get<{ Querystring: { limit: number; offset: number; after_cutoff?: boolean } }>(
    '/api/v1/clients',
    { schema: { querystring: clientsQuery, response: { 200: clientsSchema } } },
    async (req) => {
      const { limit, offset, after_cutoff: after } = req.query;
      let states = [...(s.engine.analyzer?.clients.clients() ?? [])];
      if (after !== undefined) states = states.filter((c) => (c.after > 0) === after);
      states.sort(byConcern);
      const observer = s.engine.policy.observer;
      return { total: states.length, offset, limit, clients: states.slice(offset, offset + limit).map((c) => clientReport(c, observer)) };
    },
  );

  app.get<{ Params: { ip: string } }>('/api/v1/clients/:ip', { schema: { response: { 200: { $ref: 'client#' } } } }, async (req, reply) => {
    const raw = req.params.ip;
    const family = isIP(raw);
    if (family === 0) return reply.code(400).send({ error: 'bad_request', message: `"${raw}" is not an IPv4 or IPv6 address` });
    // Clients are keyed by the address as observations print it (RFC 5952 for IPv6).
    const ip = family === 6 ? new URL(`http://[${raw}]/`).hostname.slice(1, -1) : raw;
    const c = s.engine.analyzer?.clients.get(ip);
    if (c === undefined) return reply.code(404).send({ error: 'not_found', message: `no client ${ip} in the live table (it may never have contacted Kaspersky, or was evicted or idled out)` });
    return clientReport(c, s.engine.policy.observer);
  });

  app.get<{ Querystring: { limit: number } }>('/api/v1/alerts', { schema: { querystring: alertsQuery, response: { 200: alertsSchema } } }, async (req) => {
    return { total: d.recent.total, alerts: d.recent.list(req.query.limit) };
  });

  app.get('/api/v1/status', { schema: { response: { 200: statusSchema } } }, async () => {
    const e = s.engine;
    const a = e.analyzer;
    const r = s.readiness();
    let after = 0;
    for (const c of a?.clients.clients() ?? []) if (c.after > 0 && !c.appliance) after++;
    const mem = s.config.limits.memory;
    const dm = e.decoder.memory();
    return {
      version: d.version,
      observer: e.policy.observer,
      started_at: new Date(s.startedAtMs).toISOString(),
      uptime_seconds: (Date.now() - s.startedAtMs) / 1000,
      ready: r.ready,
      not_ready_because: r.reasons,
      config: {
        files: s.config.files,
        rules_sha256: e.policy.rulesHash,
        cutoff: s.config.cutoff.iso,
        reloads_success: s.reloads.success,
        reloads_failure: s.reloads.failure,
        last_reload_error: s.lastReloadError ?? null,
      },
      capture: s.captureStatus().map((c) => ({
        interface: c.interface,
        up: c.up,
        pid: c.pid ?? null,
        since: iso(c.since),
        restarts: c.restarts,
        received: c.received,
        dropped_kernel: c.droppedKernel,
        dropped_interface: c.droppedInterface,
        last_error: c.lastError ?? null,
      })),
      filter: s.filter,
      input: s.reader === undefined ? null : { path: s.reader.input, state: s.reader.state, frames: s.reader.result?.frames ?? null, error: s.reader.error ?? null },
      packets: e.decoder.stats.frames,
      last_packet_at: iso(s.lastPacketWallMs),
      network_time: Number.isFinite(e.clock.now) ? isoMicros(e.clock.now) : null,
      clients: a?.clients.size ?? 0,
      clients_after_cutoff: after,
      tables: {
        clients: { bytes: a?.clients.bytes ?? 0, budget: mem.clients },
        tcp_flows: { bytes: dm.tcp_flows, budget: mem.tcpFlows },
        ip_fragments: { bytes: dm.ip_fragments, budget: mem.ipFragments },
        quic: { bytes: dm.quic, budget: mem.quic },
      },
      errors: { analysis: e.errors.analysis, output: e.errors.output, first: e.errors.first === undefined ? null : `${e.errors.first.where}: ${e.errors.first.error.message}` },
      checkpoint: {
        state_dir: s.stateDir === '' ? null : s.stateDir,
        last_at: iso(s.lastCheckpoint?.atMs),
        clients: s.lastCheckpoint?.clients ?? null,
        bytes: s.lastCheckpoint?.bytes ?? null,
        error: s.checkpointError ?? null,
      },
      sinks: d.sinks().map((k) => ({
        name: k.name,
        kind: k.kind,
        up: k.up,
        delivered: k.delivered,
        rejected: k.rejected,
        dropped: k.dropped,
        retries: k.retries,
        queued: k.queued,
        queue_capacity: k.queueCapacity,
        spool_bytes: k.spoolBytes,
        spool_limit_bytes: k.spoolLimitBytes,
        firing: k.firing ?? null,
        last_success: iso(k.lastSuccessMs),
        last_error: k.lastError ?? null,
      })),
    };
  });

  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url}; see /api/v1/status, /api/v1/clients, /api/v1/alerts, /metrics` }),
  );
  return app;
}
