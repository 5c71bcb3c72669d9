import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALERTNAME } from '../../src/export/sinks/alertmanager.js';
import { JOURNAL } from '../../src/export/sinks/spool.js';
import { SIGNATURE_HEADER, type WebhookBody } from '../../src/export/sinks/webhook.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { freePort, startSensor, waitFor, type RunningSensor } from '../helpers/sensor.js';
import { ROOT } from './cli.js';

/**
 * Alerts reach the people on call (issue 11 "Done means"), real parts only, all on this machine:
 * - a client namespace and a server namespace (dnsmasq) joined by a bridge on this side, whose
 *   two ports are the two sensors' interfaces: both see every query the client sends;
 * - two `kasmon monitor -i` processes through real tcpdump, observers sensor-a and sensor-b, each
 *   with --alertmanager and --webhook;
 * - a real Alertmanager (Debian prometheus-alertmanager) on loopback with the shipped
 *   config/alertmanager/alertmanager.yml, its receivers pointed at a webhook receiver this test
 *   runs and reads (`notified`), its timings shortened;
 * - kasmon's own webhook sink posting to another receiver this test runs (`hook`).
 * Asserted by reading what the receivers got and Alertmanager's own GET /api/v2/alerts: one
 * alert per client x category with the documented labels, one alert for two sensors; Alertmanager
 * stopped while contacts happen, then started; stopped again with both sensors killed (SIGKILL)
 * and restarted: every finding arrives (the spool); the webhook answering 500 then 200 gets
 * every event, signed; a 400 is not retried and is counted; findings resolve after the
 * (shortened) resolve period.
 */
const ID = process.pid % 10_000;
const NS_C = `kam-c-${ID}`;
const NS_S = `kam-s-${ID}`;
const BR = `kambr${ID}`;
const PORT_A = `kamc${ID}`; // the client's port of the bridge: sensor A
const PORT_B = `kams${ID}`; // the server's port: sensor B
const NET = '198.18.60';
const DNS = `${NET}.53`;
const HEARTBEAT = `${NET}.2`;
const tmp = mkdtempSync(join(tmpdir(), 'kasmon-alerts-e2e-'));
const SECRET = 'e2e webhook secret';
const children: ChildProcess[] = [];

function run(cmd: string, args: string[], timeout = 15_000): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function daemon(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  c.stderr!.resume();
  children.push(c);
  return c;
}

async function stopChild(c: ChildProcess, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill(sig);
  const t = setTimeout(() => c.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/** A DNS query from `src` in the client namespace (dig, answered by dnsmasq). */
const dig = (name: string, src: string): string => run('ip', ['netns', 'exec', NS_C, 'dig', `@${DNS}`, '-b', src, '+tries=1', '+time=2', '+short', name]);

// ─── Alertmanager ────────────────────────────────────────────────────────────────────────

let notified: Receiver; // Alertmanager's webhook receivers point here
let hook: Receiver; // kasmon's webhook sink posts here
let amPort = 0;
let am: ChildProcess | undefined;
const amUrl = (): string => `http://127.0.0.1:${amPort}`;

function amConfig(): string {
  const shipped = readFileSync(join(ROOT, 'config/alertmanager/alertmanager.yml'), 'utf8');
  const cfg = shipped
    .replaceAll('http://alert-receiver.example.net:5001', notified.url)
    .replace(/group_wait: \S+/, 'group_wait: 1s')
    .replace(/group_interval: \S+/, 'group_interval: 1s');
  expect(cfg).not.toBe(shipped);
  const file = join(tmp, 'alertmanager.yml');
  writeFileSync(file, cfg);
  return file;
}

async function startAlertmanager(): Promise<void> {
  am = daemon('prometheus-alertmanager', [
    `--config.file=${join(tmp, 'alertmanager.yml')}`,
    `--storage.path=${join(tmp, 'am-data')}`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ]);
  await waitFor('Alertmanager ready', async () => ((await fetch(`${amUrl()}/-/ready`).catch(() => undefined))?.ok ? true : undefined), 30_000);
}

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  status: { state: string };
}

/** kasmon's alerts that Alertmanager holds as active. */
async function active(): Promise<AmAlert[]> {
  const r = await fetch(`${amUrl()}/api/v2/alerts?filter=${encodeURIComponent(`alertname="${ALERTNAME}"`)}`);
  return ((await r.json()) as AmAlert[]).filter((a) => a.status.state === 'active');
}

/** What Alertmanager's notifications said, alert by alert, with the receiver path they went to. */
function notifications(): Array<{ path: string; status: string; labels: Record<string, string>; annotations: Record<string, string> }> {
  return notified.requests.flatMap((q) => (JSON.parse(q.body) as { alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }> }).alerts.map((a) => ({ path: q.url, ...a })));
}
const finding = (client: string, category: string) => (n: { labels: Record<string, string> }) => n.labels['client'] === client && n.labels['category'] === category && n.labels['alertname'] === ALERTNAME;

// ─── the sensors ─────────────────────────────────────────────────────────────────────────

interface Sensor {
  readonly observer: string;
  readonly iface: string;
  readonly cfg: string;
  readonly state: string;
  run: RunningSensor | undefined;
}
const sensors: Sensor[] = [
  { observer: 'sensor-a', iface: PORT_A, cfg: join(tmp, 'a.yaml'), state: join(tmp, 'state-a'), run: undefined },
  { observer: 'sensor-b', iface: PORT_B, cfg: join(tmp, 'b.yaml'), state: join(tmp, 'state-b'), run: undefined },
];

function writeConfig(s: Sensor, resolveSeconds: number): void {
  writeFileSync(
    s.cfg,
    `observer:\n  name: ${s.observer}\nalerts:\n  resolve_seconds: ${resolveSeconds}\ncapture:\n  stats_seconds: 1\n` +
      `sinks:\n  retry_initial_seconds: 1\n  retry_max_seconds: 2\n  alertmanager:\n    resend_seconds: 1\n    timeout_seconds: 2\n` +
      `  webhook:\n    secret_file: ${join(tmp, 'hook.secret')}\n    timeout_seconds: 2\n`,
  );
}

async function startKasmon(s: Sensor): Promise<void> {
  s.run = await startSensor(['-i', s.iface, '--config', s.cfg, '--state-dir', s.state, '--alertmanager', amUrl(), '--webhook', `${hook.url}/kasmon`]);
  await waitFor(`tcpdump on ${s.iface}`, async () => (((await s.run!.json('/api/v1/status')) as { capture: Array<{ up: boolean }> }).capture[0]?.up ? true : undefined));
}

interface SinkState {
  name: string;
  kind: string;
  up: boolean;
  delivered: number;
  rejected: number;
  queued: number;
  spool_bytes: number;
  retries: Record<string, number>;
}
async function sink(s: Sensor, kind: 'alertmanager' | 'webhook'): Promise<SinkState> {
  const st = (await s.run!.json('/api/v1/status')) as { sinks: SinkState[] };
  return st.sinks.find((k) => k.kind === kind)!;
}

/** kasmon's webhook events the receiver accepted, as (observer, client, category, sequence). */
function hookEvents(): string[] {
  return (hook.accepted() as WebhookBody[]).flatMap((b) =>
    b.events.map((e) => {
      const ev = e as { observer: { name: string }; source: { ip: string }; kasmon: { category: string; sequence: number } };
      return `${ev.observer.name} ${ev.source.ip} ${ev.kasmon.category} ${ev.kasmon.sequence}`;
    }),
  );
}

beforeAll(async () => {
  // Bridge with two ports; client and server namespaces behind them.
  run('ip', ['netns', 'add', NS_C]);
  run('ip', ['netns', 'add', NS_S]);
  run('ip', ['link', 'add', BR, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  run('ip', ['link', 'set', BR, 'up']);
  for (const [port, ns] of [
    [PORT_A, NS_C],
    [PORT_B, NS_S],
  ] as const) {
    run('ip', ['link', 'add', port, 'type', 'veth', 'peer', 'name', `${port}p`]);
    run('ip', ['link', 'set', `${port}p`, 'netns', ns]);
    run('ip', ['link', 'set', port, 'master', BR]);
    run('ip', ['link', 'set', port, 'up']);
    run('ip', ['-n', ns, 'link', 'set', `${port}p`, 'name', 'eth0']);
    run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  for (const host of [2, 3, 4, 5, 6]) run('ip', ['-n', NS_C, 'addr', 'add', `${NET}.${host}/24`, 'dev', 'eth0']);
  run('ip', ['-n', NS_S, 'addr', 'add', `${DNS}/24`, 'dev', 'eth0']);
  daemon('ip', ['netns', 'exec', NS_S, 'dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--bind-interfaces', `--listen-address=${DNS}`, '--port=53', `--address=/#/${DNS}`, `--pid-file=${join(tmp, 'dnsmasq.pid')}`, '--conf-file=/dev/null', '--user=root']);
  await waitFor('dnsmasq answering', () => (dig('www.example.org', HEARTBEAT).trim() === DNS ? true : undefined), 15_000);
  // Ordinary traffic all along: it moves network time (findings resolve on packet time).
  daemon('ip', ['netns', 'exec', NS_C, 'sh', '-c', `while :; do dig @${DNS} -b ${HEARTBEAT} +tries=1 +time=1 +short www.example.org >/dev/null; sleep 0.3; done`]);

  notified = await startReceiver();
  hook = await startReceiver();
  writeFileSync(join(tmp, 'hook.secret'), `${SECRET}\n`);
  amPort = await freePort();
  amConfig();
  await startAlertmanager();
  for (const s of sensors) {
    writeConfig(s, 600);
    await startKasmon(s);
  }
  await new Promise((r) => setTimeout(r, 1500)); // tcpdump has the interfaces open
}, 120_000);

afterAll(async () => {
  for (const s of sensors) await s.run?.stop('SIGKILL');
  for (const c of children) await stopChild(c, 'SIGKILL');
  await notified?.close();
  await hook?.close();
  spawnSync('ip', ['link', 'del', PORT_A]);
  spawnSync('ip', ['link', 'del', PORT_B]);
  spawnSync('ip', ['link', 'del', BR]);
  spawnSync('ip', ['netns', 'del', NS_C]);
  spawnSync('ip', ['netns', 'del', NS_S]);
  rmSync(tmp, { recursive: true, force: true });
});

const C2 = `${NET}.2`;
const C3 = `${NET}.3`;
const C4 = `${NET}.4`;
const C5 = `${NET}.5`;
const C6 = `${NET}.6`;

describe('alerts from two sensors through a real Alertmanager', () => {
  test('one firing alert per client x category, the documented labels and annotations; two sensors make one alert', async () => {
    dig('s01.upd.kaspersky.com', C2);
    dig('s02.upd.kaspersky.com', C2); // same finding
    dig('ksn-url-geo.kaspersky-labs.com', C2);
    const alerts = await waitFor('two findings in Alertmanager', async () => {
      const a = await active();
      return a.length === 2 ? a : undefined;
    }, 30_000);
    expect(alerts.map((a) => a.labels).sort((x, y) => (x['category']! < y['category']! ? -1 : 1))).toEqual([
      { alertname: ALERTNAME, client: C2, category: 'ksn', severity: 'critical' },
      { alertname: ALERTNAME, client: C2, category: 'update', severity: 'critical' },
    ]);
    const upd = alerts.find((a) => a.labels['category'] === 'update')!;
    expect(['sensor-a', 'sensor-b']).toContain(upd.annotations['observer']);
    expect(upd.annotations).toMatchObject({ kasmon_severity: 'high', rule: 'upd-snn', cutoff: '2024-09-29T04:00:00Z' });
    expect(upd.annotations['evidence']).toMatch(/^dns_query(, dns_answer)?$/); // the answer too, once a re-send brought it in
    expect(upd.annotations['names']).toMatch(/^s01\.upd\.kaspersky\.com(, s02\.upd\.kaspersky\.com)?$/);
    expect(upd.annotations['summary']).toBe(`${C2} contacted Kaspersky update endpoints after the cutoff`);
    expect(upd.generatorURL).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/api/v1/clients/${C2.replaceAll('.', '\\.')}$`));
    // Each sensor sent both findings: Alertmanager made one alert of each pair.
    for (const s of sensors) {
      await waitFor(`${s.observer} delivered`, async () => ((await sink(s, 'alertmanager')).delivered >= 2 ? true : undefined));
      expect((await s.run!.json(`/api/v1/clients/${C2}`)) as { observer: string }).toMatchObject({ observer: s.observer });
    }
    // The shipped routes: critical goes to oncall, as one notification per category.
    await waitFor('notified', () => (notifications().filter(finding(C2, 'update')).length > 0 && notifications().filter(finding(C2, 'ksn')).length > 0 ? true : undefined), 30_000);
    expect(new Set(notifications().filter((n) => n.labels['client'] === C2).map((n) => `${n.path} ${n.status}`))).toEqual(new Set(['/oncall firing']));
    for (const q of notified.requests) {
      const body = JSON.parse(q.body) as { groupLabels: Record<string, string>; alerts: Array<{ labels: Record<string, string> }> };
      expect(Object.keys(body.groupLabels).sort()).toEqual(['alertname', 'category']);
      const ids = body.alerts.map((a) => JSON.stringify(a.labels));
      expect(new Set(ids).size).toBe(ids.length); // never two alerts for one finding
    }
    // kasmon's webhook: each sensor's two alert events, signed.
    await waitFor('4 webhook events', () => (hookEvents().length >= 4 ? true : undefined));
    expect(hookEvents().sort()).toEqual([`sensor-a ${C2} ksn 1`, `sensor-a ${C2} update 1`, `sensor-b ${C2} ksn 1`, `sensor-b ${C2} update 1`]);
  }, 90_000);

  test('the webhook answering 500 for a while, then 200, gets every event, each request signed', async () => {
    hook.answer = { status: 500, body: 'storage offline' };
    const before = hook.requests.length;
    dig('activation-v2.kaspersky.com', C3);
    for (const s of sensors) {
      await waitFor(`${s.observer} retrying`, async () => ((await sink(s, 'webhook')).retries['server_error']! >= 2 ? true : undefined), 30_000);
      expect((await sink(s, 'webhook')).up).toBe(false);
    }
    expect(hook.requests.length - before).toBeGreaterThanOrEqual(4);
    hook.answer = { status: 200 };
    await waitFor('the events after recovery', () => (hookEvents().filter((e) => e.includes(`${C3} activation`)).length === 2 ? true : undefined), 30_000);
    // Every alert each sensor raised so far arrived, and every request carried a valid signature.
    for (const s of sensors) {
      const recent = (await s.run!.json('/api/v1/alerts')) as { alerts: Array<{ observer: { name: string }; source: { ip: string }; kasmon: { category: string; sequence: number } }> };
      const raised = recent.alerts.map((e) => `${e.observer.name} ${e.source.ip} ${e.kasmon.category} ${e.kasmon.sequence}`);
      expect(raised.length).toBe(3);
      for (const e of raised) expect(hookEvents()).toContain(e);
      expect(await sink(s, 'webhook')).toMatchObject({ up: true, queued: 0, delivered: 3 });
    }
    for (const q of hook.requests) {
      expect(q.headers[SIGNATURE_HEADER]).toBe(`sha256=${createHmac('sha256', SECRET).update(q.body).digest('hex')}`);
    }
  }, 90_000);

  test('a 400 from the webhook is not retried: counted as rejected, with what the receiver said', async () => {
    hook.answer = (q) => (q.body.includes(`"ip":"${C4}"`) ? { status: 400, body: 'unknown client network' } : { status: 200 });
    const retries = await Promise.all(sensors.map(async (s) => (await sink(s, 'webhook')).retries));
    dig('s05.upd.kaspersky.com', C4);
    for (const s of sensors) {
      await waitFor(`${s.observer} refused`, async () => ((await sink(s, 'webhook')).rejected === 1 ? true : undefined), 30_000);
    }
    await new Promise((r) => setTimeout(r, 3000)); // longer than any retry wait (retry_max_seconds 2)
    expect(hook.requests.filter((q) => q.body.includes(`"ip":"${C4}"`))).toHaveLength(2); // one per sensor, never again
    for (const [i, s] of sensors.entries()) {
      expect((await sink(s, 'webhook')).retries).toEqual(retries[i]);
      const m = await s.run!.metrics();
      expect(m.get(`kasmon_sink_notifications_total{sink="webhook:${hook.url}",result="rejected"}`)).toBe(1);
      expect(s.run!.logs()).toContain('alert notifications rejected (not retried): HTTP 400 Bad Request: unknown client network');
    }
    hook.answer = { status: 200 };
  }, 60_000);

  test('Alertmanager stopped while new contacts happen, then started: every finding arrives', async () => {
    await stopChild(am!);
    dig('s06.upd.kaspersky.com', C5);
    dig('crl.kaspersky.com', C5); // certificates: warning
    for (const s of sensors) {
      await waitFor(`${s.observer} retrying`, async () => {
        const k = await sink(s, 'alertmanager');
        return !k.up && k.retries['connection']! >= 1 && k.queued > 0 ? true : undefined;
      }, 30_000);
    }
    await new Promise((r) => setTimeout(r, 2000));
    await startAlertmanager();
    await waitFor('both findings in Alertmanager', async () => {
      const a = await active();
      return a.some(finding(C5, 'update')) && a.some(finding(C5, 'certificates')) ? true : undefined;
    }, 30_000);
    await waitFor('both notified', () => (notifications().some(finding(C5, 'update')) && notifications().some(finding(C5, 'certificates')) ? true : undefined), 30_000);
    expect(notifications().find(finding(C5, 'update'))).toMatchObject({ path: '/oncall', status: 'firing', labels: { severity: 'critical' } });
    expect(notifications().find(finding(C5, 'certificates'))).toMatchObject({ path: '/tickets', status: 'firing', labels: { severity: 'warning' } });
    for (const s of sensors) await waitFor(`${s.observer} up again`, async () => ((await sink(s, 'alertmanager')).up ? true : undefined), 30_000);
    expect((await active()).filter((a) => a.labels['client'] === C5)).toHaveLength(2);
  }, 90_000);

  test('Alertmanager stopped, both sensors killed with SIGKILL and restarted, Alertmanager started: the finding arrives from the spool', async () => {
    await stopChild(am!);
    dig('s07.upd.kaspersky.com', C6);
    // The finding is in each sensor's spool (written before its first attempt).
    for (const s of sensors) {
      await waitFor(`${s.observer} spooled it`, () => {
        const dir = join(s.state, 'spool');
        const journals = readdirSync(dir).filter((d) => d.startsWith('alertmanager-')).map((d) => join(dir, d, JOURNAL));
        return journals.some((f) => readFileSync(f, 'utf8').includes(`"client":"${C6}"`)) ? true : undefined;
      }, 30_000);
    }
    for (const s of sensors) expect(await s.run!.stop('SIGKILL')).toBeNull();
    for (const s of sensors) await startKasmon(s);
    for (const s of sensors) {
      await waitFor('the spool read back', () => (/"msg":"spooled alert notifications from before the restart: sending them"/.test(s.run!.logs()) ? true : undefined));
    }
    await startAlertmanager();
    await waitFor('the finding in Alertmanager', async () => ((await active()).some(finding(C6, 'update')) ? true : undefined), 30_000);
    await waitFor('notified', () => (notifications().some(finding(C6, 'update')) ? true : undefined), 30_000);
    expect(notifications().find(finding(C6, 'update'))).toMatchObject({ path: '/oncall', status: 'firing' });
    // Nothing was lost: every finding so far is active in Alertmanager, once.
    const all = (await active()).map((a) => `${a.labels['client']} ${a.labels['category']}`).sort();
    expect(all).toEqual([`${C2} ksn`, `${C2} update`, `${C3} activation`, `${C4} update`, `${C5} certificates`, `${C5} update`, `${C6} update`]);
  }, 120_000);

  test('findings resolve once the client has been quiet for alerts.resolve_seconds of packet time (shortened by a reload)', async () => {
    for (const s of sensors) {
      writeConfig(s, 4);
      s.run!.child.kill('SIGHUP');
    }
    for (const s of sensors) await waitFor('reloaded', async () => (((await s.run!.metrics()).get('kasmon_config_reloads_total{result="success"}') ?? 0) >= 1 ? true : undefined));
    await waitFor('no kasmon alert active', async () => ((await active()).length === 0 ? true : undefined), 60_000);
    const want = [
      [C2, 'ksn'],
      [C2, 'update'],
      [C3, 'activation'],
      [C4, 'update'],
      [C5, 'certificates'],
      [C5, 'update'],
      [C6, 'update'],
    ] as const;
    await waitFor('every finding notified resolved', () => (want.every(([c, k]) => notifications().some((n) => finding(c, k)(n) && n.status === 'resolved')) ? true : undefined), 60_000);
    // Both sensors send the same finding, so Alertmanager shows it resolved as soon as the first of
    // them resolves it; the other one follows on its own clock (within a tick of its capture clock).
    for (const s of sensors) {
      await waitFor(`${s.observer} resolved every finding`, async () => (((await sink(s, 'alertmanager')) as SinkState & { firing: number }).firing === 0 ? true : undefined), 30_000);
    }
    // A new contact fires its finding again.
    dig('s08.upd.kaspersky.com', C2);
    await waitFor('fired again', async () => ((await active()).some(finding(C2, 'update')) ? true : undefined), 30_000);
  }, 120_000);
});
