import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Sensor } from '../../src/engine/sensor.js';
import { RecentAlerts, type AlertSink } from '../../src/export/alert-sinks.js';
import { alertEvent } from '../../src/export/ecs.js';
import { buildMetrics } from '../../src/export/metrics.js';
import { buildServer } from '../../src/export/server.js';
import { buildNetworkSinks } from '../../src/export/sinks/network.js';
import { FIXTURES } from '../e2e/cli.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { freePort, parseMetrics, waitFor } from '../helpers/sensor.js';

/**
 * Each sink's state in /metrics and /api/v1/status, on a real Sensor reading the demo capture
 * (five alerts) with an Alertmanager sink whose receiver is down (a closed port) and a webhook
 * sink whose receiver refuses with 400 (fastify inject: no socket for the API itself).
 */
const quiet = { info() {}, warn() {}, error() {} };
const tmp = mkdtempSync(join(tmpdir(), 'kasmon-sink-status-'));

describe('sink state in /metrics and /api/v1/status', () => {
  let app: FastifyInstance;
  let sensor: Sensor;
  let hook: Receiver;
  let sinks: AlertSink[];
  let amUrl: string;
  beforeAll(async () => {
    const config = loadConfig();
    hook = await startReceiver();
    hook.answer = { status: 400, body: 'no thanks' };
    amUrl = `http://127.0.0.1:${await freePort()}`;
    const recent = new RecentAlerts();
    const live: { sensor?: Sensor } = {};
    const network = buildNetworkSinks({
      config,
      alertmanagerUrls: [amUrl],
      webhookUrls: [`${hook.url}/x`],
      stateDir: tmp,
      log: quiet,
      version: '9.9.9',
      externalUrl: 'http://sensor:20929',
      findings: {
        now: () => live.sensor?.engine.clock.now ?? Number.NaN,
        resolveMicros: () => 3600e6,
        suppressMicros: () => 3600e6,
        client: (ip) => live.sensor?.engine.analyzer?.clients.get(ip),
        observer: () => 'test',
        cutoffIso: () => config.cutoff.iso,
      },
    });
    for (const n of network) await n.start();
    sinks = [recent, ...network];
    sensor = new Sensor({
      config,
      interfaces: [],
      read: `${FIXTURES}/demo/input.pcap`,
      log: quiet,
      onAlert: (a, c) => {
        const ev = alertEvent(a, c, { observerName: 'test', cutoffIso: config.cutoff.iso });
        for (const s of sinks) s.offer(ev, a, c);
      },
    });
    live.sensor = sensor;
    await sensor.start();
    const statuses = () => sinks.filter((s) => s !== recent).map((s) => s.status());
    app = buildServer({ sensor, metrics: buildMetrics({ sensor, version: '9.9.9', sinks: statuses }), recent, version: '9.9.9', sinks: statuses });
    await waitFor('the webhook refused, the Alertmanager retried', () => {
      const [am, wh] = statuses();
      return wh!.rejected === 5 && am!.retries.connection >= 1 ? true : undefined;
    }, 10_000);
  });
  afterAll(async () => {
    await sensor.stop();
    for (const s of sinks) await s.close();
    await app.close();
    await hook.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('/metrics: results, retries by reason, queue, spool, last success, up, firing; labels are kind:origin', async () => {
    const m = parseMetrics((await app.inject('/metrics')).body);
    const am = `alertmanager:${amUrl}`;
    const wh = `webhook:${hook.url}`;
    expect(m.get(`kasmon_sink_notifications_total{sink="${wh}",result="rejected"}`)).toBe(5);
    expect(m.get(`kasmon_sink_notifications_total{sink="${wh}",result="delivered"}`)).toBe(0);
    expect(m.get(`kasmon_sink_notifications_total{sink="${am}",result="delivered"}`)).toBe(0);
    expect(m.get(`kasmon_sink_retries_total{sink="${am}",reason="connection"}`)).toBeGreaterThanOrEqual(1);
    expect(m.get(`kasmon_sink_retries_total{sink="${wh}",reason="server_error"}`)).toBe(0);
    expect(m.get(`kasmon_sink_up{sink="${am}"}`)).toBe(0);
    expect(m.get(`kasmon_sink_up{sink="${wh}"}`)).toBe(0);
    expect(m.get(`kasmon_sink_queue_length{sink="${wh}"}`)).toBe(0);
    expect(m.get(`kasmon_sink_queue_length{sink="${am}"}`)).toBeGreaterThanOrEqual(1);
    expect(m.get(`kasmon_sink_queue_capacity{sink="${am}"}`)).toBe(10_000);
    expect(m.get(`kasmon_sink_spool_bytes{sink="${am}"}`)).toBeGreaterThan(0);
    expect(m.get(`kasmon_sink_spool_limit_bytes{sink="${am}"}`)).toBe(64 * 1024 * 1024);
    expect(m.get(`kasmon_sink_last_success_timestamp_seconds{sink="${am}"}`)).toBe(0);
    expect(m.get(`kasmon_sink_alerts_firing{sink="${am}"}`)).toBeGreaterThanOrEqual(1);
    expect(m.has(`kasmon_sink_alerts_firing{sink="${wh}"}`)).toBe(false);
    for (const k of m.keys()) if (k.startsWith('kasmon_sink_')) expect(k).not.toMatch(/\/x"|\/api\/v2/); // never a path
  });

  test('/api/v1/status: each sink with its state and last error', async () => {
    const s = (await app.inject('/api/v1/status')).json() as { sinks: Array<Record<string, unknown>> };
    expect(s.sinks.map((k) => [k['name'], k['kind']])).toEqual([
      [`alertmanager:${amUrl}`, 'alertmanager'],
      [`webhook:${hook.url}`, 'webhook'],
    ]);
    expect(s.sinks[1]).toMatchObject({ up: false, delivered: 0, rejected: 5, dropped: 0, queued: 0, firing: null, last_success: null, last_error: 'HTTP 400 Bad Request: no thanks' });
    expect(s.sinks[0]).toMatchObject({ up: false, delivered: 0, rejected: 0, queue_capacity: 10_000, spool_limit_bytes: 64 * 1024 * 1024 });
    expect(s.sinks[0]!['last_error']).toMatch(/ECONNREFUSED/);
    expect((s.sinks[0]!['retries'] as Record<string, number>)['connection']).toBeGreaterThanOrEqual(1);
  });
});
