import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Sensor } from '../../src/engine/sensor.js';
import { RecentAlerts } from '../../src/export/alert-sinks.js';
import { alertEvent } from '../../src/export/ecs.js';
import { buildMetrics } from '../../src/export/metrics.js';
import { buildServer } from '../../src/export/server.js';
import type { FastifyInstance } from 'fastify';
import { FIXTURES } from '../e2e/cli.js';

/**
 * The sensor's HTTP endpoints on a real Sensor that read the demo capture (fastify inject:
 * no socket). The demo has three clients, two of them after the cutoff (198.18.0.11, fd00::11),
 * and raises four alerts (test/fixtures/demo/README.md).
 */
const quiet = { info() {}, warn() {}, error() {} };

async function sensorOn(file: string, token?: string): Promise<{ app: FastifyInstance; sensor: Sensor }> {
  const config = loadConfig();
  const recent = new RecentAlerts(3);
  const sensor: Sensor = new Sensor({
    config,
    interfaces: [],
    read: file,
    log: quiet,
    onAlert: (a, c) => recent.offer(alertEvent(a, c, { observerName: 'test', cutoffIso: config.cutoff.iso })),
  });
  await sensor.start();
  for (let i = 0; i < 100 && sensor.reader?.state === 'reading'; i++) await new Promise((r) => setTimeout(r, 20));
  const metrics = buildMetrics({ sensor, version: '9.9.9' });
  return { app: buildServer({ sensor, metrics, recent, version: '9.9.9', sinks: () => [], token }), sensor };
}

describe('the sensor API on the demo capture', () => {
  let app: FastifyInstance;
  let sensor: Sensor;
  beforeAll(async () => {
    ({ app, sensor } = await sensorOn(`${FIXTURES}/demo/input.pcap`));
  });
  afterAll(async () => {
    await sensor.stop();
    await app.close();
  });

  test('/healthz is always 200; /readyz says why it is not ready (the input ended)', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const r = await app.inject('/readyz');
    expect(r.statusCode).toBe(503);
    expect(r.json().reasons[0]).toMatch(/^input .*demo\/input\.pcap ended/);
  });

  test('/api/v1/clients: after-cutoff first, paged, filtered; the same fields as the JSON report', async () => {
    const all = (await app.inject('/api/v1/clients')).json();
    expect(all.total).toBe(3);
    expect(all.clients.map((c: { client: string }) => c.client)).toEqual(['198.18.0.11', 'fd00::11', '198.18.0.13']);
    const page = (await app.inject('/api/v1/clients?limit=1&offset=1')).json();
    expect(page).toMatchObject({ total: 3, offset: 1, limit: 1 });
    expect(page.clients.map((c: { client: string }) => c.client)).toEqual(['fd00::11']);
    const before = (await app.inject('/api/v1/clients?after_cutoff=false')).json();
    expect(before.clients.map((c: { client: string }) => c.client)).toEqual(['198.18.0.13']);
    expect(Object.keys(all.clients[0]).sort()).toEqual(
      [
        'after_cutoff',
        'alerts',
        'appliance',
        'before_cutoff',
        'categories',
        'client',
        'ech_seen',
        'evidence',
        'findings',
        'first_after_cutoff',
        'first_seen',
        'ja4',
        'last_after_cutoff',
        'last_seen',
        'names',
        'observer',
        'public_dns_fallback',
        'resolver_bypass',
        'severity',
        'severity_after_cutoff',
        'update_paths',
      ].sort(),
    );
    expect(all.clients[0].names[0]).toMatchObject({ name: 'activation-v2.kaspersky.com', destinations: ['198.18.1.10:443'], addresses: ['198.18.1.10', 'fd00::1:a'] });
  });

  test.for([
    ['/api/v1/clients?limit=0', /limit must be >= 1/],
    ['/api/v1/clients?limit=5000', /limit must be <= 1000/],
    ['/api/v1/clients?offset=-1', /offset must be >= 0/],
    ['/api/v1/clients?sort=name', /must NOT have additional properties/],
    ['/api/v1/clients/not-an-ip', /"not-an-ip" is not an IPv4 or IPv6 address/],
  ] as const)('%s: 400 with a message that says what is wrong', async ([url, msg]) => {
    const r = await app.inject(url);
    expect(r.statusCode).toBe(400);
    expect(r.json().message).toMatch(msg);
  });

  test('/api/v1/clients/:ip: one client (IPv6 in any spelling), 404 for an unknown one', async () => {
    expect((await app.inject('/api/v1/clients/198.18.0.11')).json().after_cutoff).toBe(13);
    expect((await app.inject('/api/v1/clients/FD00:0:0::11')).json().client).toBe('fd00::11');
    const r = await app.inject('/api/v1/clients/198.18.9.99');
    expect(r.statusCode).toBe(404);
    expect(r.json().message).toMatch(/no client 198\.18\.9\.99/);
  });

  test('/api/v1/alerts: newest first, capped by the ring and by limit', async () => {
    const r = (await app.inject('/api/v1/alerts')).json();
    expect(r.total).toBe(5); // 4 contacts and the signature-update fetch
    expect(r.alerts).toHaveLength(3); // the ring holds 3
    const stamps = r.alerts.map((a: Record<string, string>) => a['@timestamp']);
    expect([...stamps].sort().reverse()).toEqual(stamps);
    expect((await app.inject('/api/v1/alerts?limit=1')).json().alerts).toHaveLength(1);
  });

  test('/api/v1/status: config hash, input, tables against budgets, errors', async () => {
    const s = (await app.inject('/api/v1/status')).json();
    expect(s).toMatchObject({ version: '9.9.9', ready: false, packets: 244, clients: 3, clients_after_cutoff: 2, capture: [], sinks: [] });
    expect(s.config.rules_sha256).toBe(sensor.engine.policy.rulesHash);
    expect(s.input).toMatchObject({ state: 'ended', frames: 244, error: null });
    expect(s.tables.clients.budget).toBe(128 * 1024 * 1024);
    expect(s.tables.clients.bytes).toBeGreaterThan(0);
    expect(s.errors).toEqual({ analysis: 0, output: 0, first: null });
  });

  test('/metrics: Prometheus text by default, OpenMetrics when asked; values from the engine', async () => {
    const text = await app.inject('/metrics');
    expect(text.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = text.body;
    expect(body).toMatch(/^kasmon_packets_total 244$/m);
    expect(body).toMatch(/^kasmon_clients_after_cutoff 2$/m);
    expect(body).toMatch(/^kasmon_alerts_total\{category="activation",severity="high"\} 2$/m);
    expect(body).toMatch(/^kasmon_matches_total\{category="activation",kind="tls_sni",phase="after"\} 2$/m);
    expect(body).toMatch(/^kasmon_cutoff_timestamp_seconds 1727582400$/m);
    expect(body).toMatch(/^kasmon_build_info\{version="9\.9\.9",node="v\d+\.\d+\.\d+"\} 1$/m);
    expect(body).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(body).not.toMatch(/198\.18\.|fd00::/); // never a client address in a label
    const open = await app.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(open.headers['content-type']).toMatch(/^application\/openmetrics-text/);
    expect(open.body).toMatch(/^# TYPE kasmon_packets counter$/m);
    expect(open.body).toMatch(/^kasmon_packets_total 244$/m);
    expect(open.body.endsWith('# EOF\n')).toBe(true);
    // Scraping one format does not disturb the other.
    expect((await app.inject('/metrics')).body).toMatch(/^# TYPE kasmon_packets_total counter$/m);
  });
});

describe('the bearer token', () => {
  let app: FastifyInstance;
  let sensor: Sensor;
  beforeAll(async () => {
    ({ app, sensor } = await sensorOn(`${FIXTURES}/demo/input.pcap`, 's3cret-t0ken'));
  });
  afterAll(async () => {
    await sensor.stop();
    await app.close();
  });

  test.for(['/metrics', '/readyz', '/api/v1/clients', '/api/v1/status', '/nope'])('%s without the token: 401', async (url) => {
    const r = await app.inject(url);
    expect(r.statusCode).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer');
  });

  test('with a wrong token: 401; with the token: 200; /healthz needs none', async () => {
    expect((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer s3cret-t0kem' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer s3cret-t0ken' } })).statusCode).toBe(200);
    expect((await app.inject('/healthz')).statusCode).toBe(200);
  });
});
