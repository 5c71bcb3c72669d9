import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { parseConfig, type Config } from '../../src/config/load.js';
import { ALERTNAME, type AlertmanagerSink } from '../../src/export/sinks/alertmanager.js';
import { buildNetworkSinks, spoolDir } from '../../src/export/sinks/network.js';
import { JOURNAL, readJournal } from '../../src/export/sinks/spool.js';
import { analysis, S, T0, type Analysis } from '../helpers/analysis.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { waitFor } from '../helpers/sensor.js';

/**
 * The Alertmanager sink's findings (src/export/sinks/alertmanager.ts), fed by a real analyzer
 * and posting to a real HTTP receiver standing in for Alertmanager's /api/v2/alerts (the e2e
 * test, test/e2e/alertmanager.test.ts, runs the real Alertmanager): one alert per client ×
 * category with labels that identify it and nothing else, re-sent while active, resolved after
 * alerts.resolve_seconds of packet time, fired again by a later contact, kept across a restart.
 */
const tmp = mkdtempSync(join(tmpdir(), 'kasmon-am-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Posted {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

const receivers: Receiver[] = [];
const sinks: AlertmanagerSink[] = [];
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close(0);
  for (const r of receivers.splice(0)) await r.close();
});

const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const CFG = 'observer:\n  name: hq-span1\nalerts:\n  resolve_seconds: 600\n  suppress_seconds: 60\nsinks:\n  alertmanager:\n    resend_seconds: 5\n';

async function setup(stateDir = '', an?: Analysis, cfg = CFG): Promise<{ r: Receiver; sink: AlertmanagerSink; an: Analysis; config: Config; posts: () => Posted[][] }> {
  const r = await startReceiver();
  receivers.push(r);
  return { r, ...(await sinkFor(r.url, stateDir, an, cfg)), posts: () => r.requests.map((q) => JSON.parse(q.body) as Posted[]) };
}

async function sinkFor(url: string, stateDir: string, prior?: Analysis, cfg = CFG): Promise<{ sink: AlertmanagerSink; an: Analysis; config: Config }> {
  const config = parseConfig(cfg, 'test.yaml');
  const an = prior ?? analysis(config);
  const findings = {
    now: () => an.now,
    resolveMicros: () => config.alerts.resolveSeconds * S,
    suppressMicros: () => config.alerts.suppressSeconds * S,
    client: (ip: string) => an.analyzer.clients.get(ip),
    observer: () => config.observer.name,
    cutoffIso: () => config.cutoff.iso,
  };
  const [sink] = buildNetworkSinks({ config, alertmanagerUrls: [url], stateDir, log, version: '1.2.3', externalUrl: 'http://sensor1.example.net:20929/', findings }) as AlertmanagerSink[];
  sinks.push(sink!);
  await sink!.start();
  return { sink: sink!, an, config };
}

/** Contacts, handing each alert the analyzer raises to the sink as the sensor does. */
function contact(an: Analysis, sink: AlertmanagerSink, name: string, at: number, client = '198.18.0.21', kind: 'tls_sni' | 'dns_query' = 'tls_sni'): boolean {
  const got = an.see(kind, name, at, client);
  if (got !== undefined) sink.offer({}, got.a, got.c);
  return got !== undefined;
}

const iso = (us: number): string => new Date(us / 1000).toISOString();

describe('Alertmanager sink', () => {
  test('one alert per client x category: labels identify the finding and nothing else, the rest is annotations', async () => {
    const { r, sink, an, posts } = await setup();
    contact(an, sink, 's01.upd.kaspersky.com', T0);
    contact(an, sink, 'ksn-url-geo.kaspersky-labs.com', T0 + S, '198.18.0.21', 'dns_query');
    contact(an, sink, 's02.upd.kaspersky.com', T0 + 2 * S); // folded into the update alert
    const t = Date.now();
    await waitFor('both alerts', () => (posts().flat().length >= 2 ? true : undefined), 5000);
    expect(r.requests[0]!.url).toBe('/api/v2/alerts');
    const sent = posts().flat();
    expect(sent.map((a) => a.labels)).toEqual([
      { alertname: ALERTNAME, client: '198.18.0.21', category: 'update', severity: 'critical' },
      { alertname: ALERTNAME, client: '198.18.0.21', category: 'ksn', severity: 'critical' },
    ]);
    const upd = sent[0]!;
    expect(upd.startsAt).toBe(iso(T0)); // the contact's packet time
    expect(Date.parse(upd.endsAt) - t).toBeGreaterThan(4 * 5000 - 2000); // 4 resend intervals ahead
    expect(Date.parse(upd.endsAt) - t).toBeLessThan(4 * 5000 + 2000);
    expect(upd.generatorURL).toBe('http://sensor1.example.net:20929/api/v1/clients/198.18.0.21');
    expect(upd.annotations).toMatchObject({
      observer: 'hq-span1',
      rule: 'upd-snn',
      rule_pattern: 's{00..19}.upd.kaspersky.com',
      confidence: 'A',
      kasmon_severity: 'high',
      cutoff: '2024-09-29T04:00:00Z',
      summary: '198.18.0.21 contacted Kaspersky update endpoints after the cutoff',
      first_seen: '2024-10-01T00:00:00.000000Z',
      evidence: 'tls_sni', // what the client had shown when it fired (a refresh brings it up to date)
      destinations: '198.19.0.1:443',
    });
    expect(sink.status()).toMatchObject({ kind: 'alertmanager', firing: 2, delivered: 2, up: true });
  });

  test('re-sent every resend interval while active, with endsAt moved ahead and counts brought up to date', async () => {
    const { sink, an, posts } = await setup();
    contact(an, sink, 's01.upd.kaspersky.com', T0);
    await waitFor('fired', () => (posts().length === 1 ? true : undefined), 5000);
    expect(contact(an, sink, 's03.upd.kaspersky.com', T0 + 30 * S)).toBe(false); // folded: no alert
    sink.tick(Date.now() + 1000); // before the interval: nothing
    sink.tick(Date.now() + 5000);
    await waitFor('re-sent', () => (posts().length === 2 ? true : undefined), 5000);
    const [first, again] = posts().map((p) => p[0]!);
    expect(again!.labels).toEqual(first!.labels);
    expect(again!.startsAt).toBe(first!.startsAt);
    expect(Date.parse(again!.endsAt)).toBeGreaterThanOrEqual(Date.parse(first!.endsAt));
    expect([first!.annotations['contacts'], again!.annotations['contacts']]).toEqual(['1', '2']);
    expect(again!.annotations['names']).toBe('s01.upd.kaspersky.com, s03.upd.kaspersky.com');
    expect(again!.annotations['last_seen']).toBe('2024-10-01T00:00:30.000000Z');
  });

  test('resolved once the client has not contacted the category for alerts.resolve_seconds of packet time; a later contact fires it again', async () => {
    const { sink, an, posts } = await setup();
    contact(an, sink, 's01.upd.kaspersky.com', T0);
    contact(an, sink, 'ksn-url-geo.kaspersky-labs.com', T0 + 100 * S);
    await waitFor('fired', () => (posts().flat().length === 2 ? true : undefined), 5000);
    // Another client's traffic moves network time: 599 s after the update contact, not yet.
    an.see('dns_query', 'www.example.org', T0 + 599 * S, '198.18.0.99');
    sink.tick();
    an.now = T0 + 600 * S;
    const wall = Date.now();
    sink.tick(wall);
    await waitFor('resolved', () => (posts().length === 2 ? true : undefined), 5000);
    const resolved = posts()[1]!;
    expect(resolved.map((a) => [a.labels['category'], a.endsAt])).toEqual([['update', new Date(wall).toISOString()]]);
    expect(sink.status().firing).toBe(1);
    // A later contact fires it again, from that contact.
    expect(contact(an, sink, 's05.upd.kaspersky.com', T0 + 610 * S)).toBe(true);
    await waitFor('fired again', () => (posts().length === 3 ? true : undefined), 5000);
    const again = posts()[2]![0]!;
    expect(again.labels['category']).toBe('update');
    expect(again.startsAt).toBe(iso(T0 + 610 * S));
    expect(Date.parse(again.endsAt)).toBeGreaterThan(Date.now());
  });

  test('with a suppression window longer than the resolve period, a contact the analyzer folds still fires the finding again', async () => {
    const { sink, an, posts } = await setup('', undefined, CFG.replace('suppress_seconds: 60', 'suppress_seconds: 3600'));
    contact(an, sink, 's01.upd.kaspersky.com', T0);
    an.now = T0 + 600 * S;
    sink.tick();
    await waitFor('resolved', () => (posts().flat().some((a) => Date.parse(a.endsAt) <= Date.now()) ? true : undefined), 5000);
    expect(sink.status().firing).toBe(0);
    expect(contact(an, sink, 's06.upd.kaspersky.com', T0 + 700 * S)).toBe(false); // within 3600 s of the alert: folded
    sink.tick();
    await waitFor('fired by the folded contact', () => (sink.status().firing === 1 ? true : undefined), 5000);
    await waitFor('sent', () => (posts().flat().some((a) => a.startsAt === iso(T0 + 700 * S) && Date.parse(a.endsAt) > Date.now()) ? true : undefined), 5000);
  });

  test('a more severe alert in the same category moves the finding up: the warning resolves, the critical fires', async () => {
    const { sink, an, posts } = await setup();
    contact(an, sink, 'products.s.kaspersky-labs.com', T0); // update, medium
    await waitFor('warning', () => (posts().length === 1 ? true : undefined), 5000);
    expect(posts()[0]![0]!.labels['severity']).toBe('warning');
    contact(an, sink, 's01.upd.kaspersky.com', T0 + 61 * S); // update, high, past the 60 s window
    await waitFor('both', () => (posts().flat().length === 3 ? true : undefined), 5000);
    const later = posts().flat().slice(1);
    expect(later.map((a) => [a.labels['severity'], Date.parse(a.endsAt) <= Date.now() ? 'resolved' : 'firing'])).toEqual([
      ['warning', 'resolved'],
      ['critical', 'firing'],
    ]);
    expect(later[1]!.startsAt).toBe(iso(T0)); // the finding started with the first contact
    expect(sink.status().firing).toBe(1);
  });

  test('a 400 is not retried, but an active finding is sent again at the next interval', async () => {
    const { r, sink, an, posts } = await setup();
    r.answer = { status: 400, body: 'bad alert' };
    contact(an, sink, 's01.upd.kaspersky.com', T0);
    await waitFor('refused', () => (sink.status().rejected === 1 ? true : undefined), 5000);
    await new Promise((res) => setTimeout(res, 300));
    expect(posts()).toHaveLength(1);
    r.answer = { status: 200 };
    sink.tick(Date.now() + 5000);
    await waitFor('sent at the next interval', () => (sink.status().delivered === 1 ? true : undefined), 5000);
    expect(sink.status()).toMatchObject({ rejected: 1, delivered: 1, firing: 1, lastError: 'HTTP 400 Bad Request: bad alert' });
  });

  test('credentials from files: a bearer token (read again on SIGHUP), or basic auth', async () => {
    const token = join(tmp, 'am-token');
    writeFileSync(token, 'tok-1\n');
    const a = await setup('', undefined, `${CFG}    bearer_token_file: ${token}\n`);
    contact(a.an, a.sink, 's01.upd.kaspersky.com', T0);
    await waitFor('sent', () => (a.r.requests.length === 1 ? true : undefined), 5000);
    expect(a.r.requests[0]!.headers['authorization']).toBe('Bearer tok-1');
    writeFileSync(token, 'tok-2\n');
    await a.sink.reopen();
    a.sink.tick(Date.now() + 5000);
    await waitFor('re-sent', () => (a.r.requests.length === 2 ? true : undefined), 5000);
    expect(a.r.requests[1]!.headers['authorization']).toBe('Bearer tok-2');

    const pw = join(tmp, 'am-password');
    writeFileSync(pw, 's3cret\n');
    const b = await setup('', undefined, `${CFG}    basic_auth_username: kasmon\n    basic_auth_password_file: ${pw}\n`);
    contact(b.an, b.sink, 's01.upd.kaspersky.com', T0);
    await waitFor('sent', () => (b.r.requests.length === 1 ? true : undefined), 5000);
    expect(b.r.requests[0]!.headers['authorization']).toBe(`Basic ${Buffer.from('kasmon:s3cret').toString('base64')}`);
    expect(() => parseConfig(`${CFG}    basic_auth_username: x\n    bearer_token_file: ${token}\n`, 'test.yaml')).not.toThrow();
    await expect(setup('', undefined, `${CFG}    basic_auth_username: x\n    bearer_token_file: ${token}\n`)).rejects.toThrow(/set either basic_auth_username or bearer_token_file, not both/);
  });

  test('a restart keeps the active findings (spool): they are re-sent at once and still resolve', async () => {
    const state = join(tmp, 'state');
    const first = await setup(state);
    contact(first.an, first.sink, 's01.upd.kaspersky.com', T0);
    contact(first.an, first.sink, 'ksn-url-geo.kaspersky-labs.com', T0 + S);
    await waitFor('fired', () => (first.posts().flat().length === 2 ? true : undefined), 5000);
    await first.sink.close(0);
    expect((await readJournal(join(spoolDir(state, 'alertmanager', `${first.r.url}/api/v2/alerts`), JOURNAL))).live.size).toBe(2);

    // Same receiver URL (so the same spool), and the client table as a checkpoint restores it.
    const second = await sinkFor(first.r.url, state, first.an);
    await waitFor('re-sent', () => (first.posts().length >= 2 && first.posts().slice(1).flat().length === 2 ? true : undefined), 5000);
    expect(second.sink.status().firing).toBe(2);
    contact(second.an, second.sink, 'ksn-url-geo.kaspersky-labs.com', T0 + 500 * S); // folded, but keeps ksn active
    second.an.now = T0 + 600 * S;
    second.sink.tick();
    await waitFor('update resolved', () => (second.sink.status().firing === 1 ? true : undefined), 5000);
    await waitFor('delivered', () => (first.posts().flat().some((a) => a.labels['category'] === 'update' && Date.parse(a.endsAt) <= Date.now()) ? true : undefined), 5000);
  });
});
