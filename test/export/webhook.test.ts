import { spawnSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { AlertDecision } from '../../src/analyze/alerts.js';
import type { ClientState } from '../../src/analyze/clients.js';
import { CATEGORIES } from '../../src/analyze/rules.js';
import { parseConfig } from '../../src/config/load.js';
import { KasmonError } from '../../src/errors.js';
import { alertEvent } from '../../src/export/ecs.js';
import { buildNetworkSinks, type NetworkSink } from '../../src/export/sinks/network.js';
import { SIGNATURE_HEADER, type WebhookBody } from '../../src/export/sinks/webhook.js';
import { analysis, S, T0 } from '../helpers/analysis.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { waitFor } from '../helpers/sensor.js';

/**
 * The webhook sink (src/export/sinks/webhook.ts) against real receivers on 127.0.0.1: the
 * documented body (config/webhook/kasmon-webhook-v1.schema.json, checked with fastify's own
 * validator), a stable event.id, the HMAC-SHA256 signature over the raw body with the secret
 * read from a file (read again on SIGHUP), TLS with a CA from a file.
 */
const tmp = mkdtempSync(join(tmpdir(), 'kasmon-webhook-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SCHEMA = JSON.parse(readFileSync(new URL('../../config/webhook/kasmon-webhook-v1.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const running: NetworkSink[] = [];
const receivers: Receiver[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close(0);
  for (const r of receivers.splice(0)) await r.close();
});

const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function webhook(yaml: string, urls: string[], stateDir = ''): Promise<NetworkSink> {
  const config = parseConfig(yaml, 'test.yaml');
  const findings = { now: () => Number.NaN, resolveMicros: () => 1, suppressMicros: () => 1, client: () => undefined, observer: () => 'o', cutoffIso: () => '' };
  const [s] = buildNetworkSinks({ config, webhookUrls: urls, stateDir, log, version: '9.9.9', externalUrl: 'http://sensor:20929', findings });
  running.push(s!);
  await s!.start();
  return s!;
}

/** Alerts from a real analyzer: two clients, two categories, one of them as a DNS query. */
function alerts(): Array<{ ev: Record<string, unknown>; a: AlertDecision; c: ClientState }> {
  const config = parseConfig('observer:\n  name: hq-span1\n', 'test.yaml');
  const an = analysis(config);
  an.see('tls_sni', 's01.upd.kaspersky.com', T0, '198.18.0.21');
  an.see('dns_query', 'ksn-file-geo.kaspersky-labs.com', T0 + S, '198.18.0.21');
  an.see('http_host', 'dnl-03.geo.kaspersky.com', T0 + 2 * S, '198.18.0.22');
  return an.alerts.map(({ a, c }) => ({ ev: alertEvent(a, c, { observerName: 'hq-span1', cutoffIso: config.cutoff.iso }), a, c }));
}

async function validates(body: unknown): Promise<{ ok: boolean; message: string }> {
  const app = Fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } } });
  app.post('/', { schema: { body: SCHEMA } }, async () => ({ ok: true }));
  const r = await app.inject({ method: 'POST', url: '/', payload: body as Record<string, unknown> });
  await app.close();
  return { ok: r.statusCode === 200, message: r.body };
}

describe('webhook sink', () => {
  test('POSTs the documented body: version, sender, ECS events with a stable id; signed with the secret from the file', async () => {
    const r = await startReceiver();
    receivers.push(r);
    writeFileSync(join(tmp, 'secret'), 'correct horse battery staple\n');
    const s = await webhook(`sinks:\n  webhook:\n    secret_file: ${join(tmp, 'secret')}\n`, [`${r.url}/hooks/kasmon`]);
    const sent = alerts();
    for (const { ev, a, c } of sent) s.offer(ev, a, c);
    await waitFor('3 events', () => ((r.accepted() as WebhookBody[]).flatMap((b) => b.events).length === 3 ? true : undefined), 5000);
    const q = r.requests[0]!;
    expect(q.method).toBe('POST');
    expect(q.url).toBe('/hooks/kasmon');
    expect(q.headers['content-type']).toBe('application/json');
    expect(q.headers['user-agent']).toBe('kasmon/9.9.9');
    // The receiver's check: HMAC-SHA256 of the raw body, compared in constant time.
    const want = Buffer.from(`sha256=${createHmac('sha256', 'correct horse battery staple').update(q.body).digest('hex')}`);
    const got = Buffer.from(String(q.headers[SIGNATURE_HEADER]));
    expect(got.length === want.length && timingSafeEqual(got, want)).toBe(true);
    const body = JSON.parse(q.body) as WebhookBody;
    expect(body.version).toBe(1);
    expect(body.sender).toEqual({ product: 'kasmon', version: '9.9.9' });
    expect(Date.parse(body.sent_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(await validates(body)).toEqual({ ok: true, message: '{"ok":true}' });
    const events = body.events as Array<Record<string, Record<string, unknown>>>;
    expect(events.map((e) => [e['source']!['ip'], e['kasmon']!['category'], e['observer']!['name']])).toEqual([
      ['198.18.0.21', 'update', 'hq-span1'],
      ['198.18.0.21', 'ksn', 'hq-span1'],
      ['198.18.0.22', 'update', 'hq-span1'],
    ]);
    // The NDJSON line's event, plus event.id.
    const { id, ...rest } = events[0]!['event'] as { id: string };
    expect(rest).toEqual(sent[0]!.ev['event']);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(events.map((e) => e['event']!['id'])).size).toBe(3);
    expect(s.status()).toMatchObject({ name: `webhook:${r.url}`, kind: 'webhook', up: true, delivered: 3, rejected: 0, dropped: 0, queued: 0, spoolLimitBytes: 0 });
  });

  test('the schema is not a rubber stamp: a wrong version, a missing event.id, an unknown category fail it', async () => {
    const { ev } = alerts()[0]!;
    const good = { version: 1, sent_at: new Date().toISOString(), sender: { product: 'kasmon', version: '1' }, events: [{ ...ev, event: { ...(ev['event'] as object), id: 'a'.repeat(32) } }] };
    expect((await validates(good)).ok).toBe(true);
    expect((await validates({ ...good, version: 2 })).ok).toBe(false);
    expect((await validates({ ...good, events: [ev] })).ok).toBe(false);
    const kasmon = { ...(ev['kasmon'] as object), category: 'antivirus' };
    expect((await validates({ ...good, events: [{ ...good.events[0], kasmon }] })).ok).toBe(false);
    expect((SCHEMA['definitions'] as { event: { properties: { kasmon: { properties: { category: { enum: string[] } } } } } }).event.properties.kasmon.properties.category.enum).toEqual([...CATEGORIES]);
  });

  test('a re-sent event keeps its id (after a restart, from the spool); SIGHUP reads the secret file again', async () => {
    const down = await startReceiver();
    receivers.push(down);
    down.answer = { status: 503 };
    const state = join(tmp, 'state-resend');
    writeFileSync(join(tmp, 'secret2'), 'old-secret\n');
    const cfg = `sinks:\n  retry_initial_seconds: 1\n  webhook:\n    secret_file: ${join(tmp, 'secret2')}\n`;
    const first = await webhook(cfg, [down.url], state);
    const { ev, a, c } = alerts()[0]!;
    first.offer(ev, a, c);
    await waitFor('a failed attempt', () => (down.requests.length >= 1 ? true : undefined), 5000);
    const id1 = ((JSON.parse(down.requests[0]!.body) as WebhookBody).events[0]!['event'] as { id: string }).id;
    await first.close(0);

    writeFileSync(join(tmp, 'secret2'), 'new-secret\n');
    down.answer = { status: 200 };
    const second = await webhook(cfg, [down.url], state); // same URL: same spool
    await waitFor('delivered after the restart', () => (second.status().delivered === 1 ? true : undefined), 5000);
    const last = down.requests.at(-1)!;
    expect(((JSON.parse(last.body) as WebhookBody).events[0]!['event'] as { id: string }).id).toBe(id1);
    expect(last.headers[SIGNATURE_HEADER]).toBe(`sha256=${createHmac('sha256', 'new-secret').update(last.body).digest('hex')}`);
    writeFileSync(join(tmp, 'secret2'), 'newer-secret\n');
    await second.reopen?.();
    const [, more] = alerts();
    second.offer(more!.ev, more!.a, more!.c);
    await waitFor('delivered', () => (second.status().delivered === 2 ? true : undefined), 5000);
    const q = down.requests.at(-1)!;
    expect(q.headers[SIGNATURE_HEADER]).toBe(`sha256=${createHmac('sha256', 'newer-secret').update(q.body).digest('hex')}`);
  });

  test('https with the CA from sinks.webhook.tls_ca_file; without it the certificate is refused (a connection error, retried)', async () => {
    const key = join(tmp, 'key.pem');
    const cert = join(tmp, 'cert.pem');
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const rx = await startReceiver({ tls: { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') } });
    receivers.push(rx);
    const { ev, a, c } = alerts()[0]!;
    const trusted = await webhook(`sinks:\n  webhook:\n    tls_ca_file: ${cert}\n`, [rx.url]);
    trusted.offer(ev, a, c);
    await waitFor('delivered over TLS', () => (trusted.status().delivered === 1 ? true : undefined), 5000);
    const untrusted = await webhook('', [rx.url]);
    untrusted.offer(ev, a, c);
    await waitFor('refused', () => (untrusted.status().retries.connection >= 1 ? true : undefined), 5000);
    expect(untrusted.status().lastError).toMatch(/self[- ]signed certificate/);
    expect(rx.accepted()).toHaveLength(1);
  });

  test('start-up errors are config errors (exit 2): an unreadable secret file, an empty one, credentials in a URL', () => {
    const config = (y: string) => parseConfig(y, 'test.yaml');
    const build = (y: string, url = 'http://127.0.0.1:9/') => () =>
      buildNetworkSinks({ config: config(y), webhookUrls: [url], stateDir: '', log, version: '1', externalUrl: 'http://x', findings: { now: () => 0, resolveMicros: () => 1, suppressMicros: () => 1, client: () => undefined, observer: () => '', cutoffIso: () => '' } });
    writeFileSync(join(tmp, 'empty'), '\n');
    const cases: Array<[() => unknown, RegExp]> = [
      [build('sinks:\n  webhook:\n    secret_file: /nonexistent/secret\n'), /^sinks\.webhook\.secret_file \/nonexistent\/secret: cannot read the HMAC secret \(ENOENT\)/],
      [build(`sinks:\n  webhook:\n    secret_file: ${join(tmp, 'empty')}\n`), /the HMAC secret must be one non-empty line$/],
      [build('', 'http://user:pw@hooks.example.net/x'), /^--webhook http:\/\/hooks\.example\.net: credentials in the URL would show in logs and metrics; leave them out/],
    ];
    for (const [f, msg] of cases) {
      expect(f).toThrow(KasmonError);
      expect(f).toThrow(msg);
    }
  });
});
