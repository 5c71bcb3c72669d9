import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, test } from 'vitest';
import { dnsQuery, eth, ETH_IPV4, ipv4, IPPROTO_UDP, udp } from '../helpers/packets.js';
import { pcapFile, pcapHeader, pcapRecord, type PcapFrame } from '../helpers/pcap.js';
import { startSensor, waitFor, type RunningSensor } from '../helpers/sensor.js';
import { lines } from './cli.js';

/**
 * `kasmon monitor` as an operator runs it, reading a stream (a FIFO the test writes a pcap
 * into, as `ssh sensor tcpdump -U -w - | kasmon monitor --read -` would): SIGHUP with a broken
 * config keeps the old rules and says why; a good config adding a rule makes a new name match
 * without losing client state; SIGTERM exits 0 with a checkpoint, and a restart keeps the
 * client's history and its alert suppression (no alert raised again within the window).
 */
const tmp = mkdtempSync(`${tmpdir()}/kasmon-mon-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** 2024-10-01T00:00:00Z, after the cutoff. */
const T0 = 1_727_740_800;
const CLIENT = '198.18.0.31';

function query(name: string, sec: number, src = CLIENT, id = 1): PcapFrame {
  const ip = ipv4({ src, dst: '198.19.0.53', proto: IPPROTO_UDP, id }, udp({ sport: 40_000 + id, dport: 53 }, dnsQuery(name, 'A', id)));
  return { data: eth({ type: ETH_IPV4 }, ip), ts: { sec, nsec: 0 } };
}

const MIRROR_RULE = `endpoints:
  update:
    - id: corp-mirror
      pattern: mirror.corp.example
      severity: high
      confidence: A
      sources: [internal CMDB]
`;

describe('kasmon monitor: reload, stop, restart', () => {
  const cfg = `${tmp}/kasmon.yaml`;
  const state = `${tmp}/state`;
  const alerts = `${tmp}/alerts.ndjson`;
  let sensor: RunningSensor;
  const sample = async (key: string): Promise<number | undefined> => (await sensor.metrics()).get(key);
  const atLeast = (key: string, n: number) => async () => ((await sample(key)) ?? 0) >= n || undefined;

  test('SIGHUP: a broken config keeps the old rules and logs file:line; a good one makes a new name match, clients stay', async () => {
    writeFileSync(cfg, 'observer:\n  name: e2e-sensor\n');
    const fifo = `${tmp}/in.fifo`;
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    sensor = await startSensor(['--read', fifo, '--config', cfg, '--state-dir', state, '--alerts', alerts]);
    const w = openSync(fifo, 'w');
    const opts = { linktype: 1 };
    writeSync(w, pcapHeader(opts));
    writeSync(w, pcapRecord(query('s01.upd.kaspersky.com', T0, CLIENT, 1), opts));
    writeSync(w, pcapRecord(query('mirror.corp.example', T0 + 1, CLIENT, 2), opts));
    await waitFor('2 packets', atLeast('kasmon_packets_total', 2));
    expect(await sample('kasmon_matches_total{category="update",kind="dns_query",phase="after"}')).toBe(1);
    const hashBefore = [...(await sensor.metrics()).keys()].find((k) => k.startsWith('kasmon_config_info'));

    writeFileSync(cfg, 'observer:\n  name: e2e-sensor\nalerts:\n  suppress_seconds: soon\n');
    sensor.child.kill('SIGHUP');
    await waitFor('a failed reload', atLeast('kasmon_config_reloads_total{result="failure"}', 1));
    expect(sensor.logs()).toMatch(/kasmon\.yaml:4: alerts\.suppress_seconds: expected a whole number/);
    const status = (await sensor.json('/api/v1/status')) as { config: { last_reload_error: string } };
    expect(status.config.last_reload_error).toMatch(/^invalid config .*kasmon\.yaml: 1 problem/);
    writeSync(w, pcapRecord(query('mirror.corp.example', T0 + 2, CLIENT, 3), opts));
    await waitFor('3 packets', atLeast('kasmon_packets_total', 3));
    expect(await sample('kasmon_matches_total{category="update",kind="dns_query",phase="after"}')).toBe(1); // old rules

    writeFileSync(cfg, `observer:\n  name: e2e-sensor\n${MIRROR_RULE}`);
    sensor.child.kill('SIGHUP');
    await waitFor('a good reload', atLeast('kasmon_config_reloads_total{result="success"}', 1));
    const hashAfter = [...(await sensor.metrics()).keys()].find((k) => k.startsWith('kasmon_config_info'));
    expect(hashAfter).not.toBe(hashBefore);
    writeSync(w, pcapRecord(query('mirror.corp.example', T0 + 3, CLIENT, 4), opts));
    await waitFor('the new rule matching', atLeast('kasmon_matches_total{category="update",kind="dns_query",phase="after"}', 2));
    const c = (await sensor.json(`/api/v1/clients/${CLIENT}`)) as { names: Array<{ name: string }>; after_cutoff: number; observer: string };
    expect(c.names.map((n) => n.name)).toEqual(['mirror.corp.example', 's01.upd.kaspersky.com']);
    expect(c.after_cutoff).toBe(2);
    expect(c.observer).toBe('e2e-sensor');
    closeSync(w);
  }, 60_000);

  test('SIGTERM: exit 0 within seconds, alerts flushed, a checkpoint written', async () => {
    const t0 = Date.now();
    expect(await sensor.stop('SIGTERM')).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    const sent = lines(readFileSync(alerts, 'utf8')) as Array<{ 'dns.question.name'?: string; dns?: { question: { name: string } } }>;
    expect(sent.map((a) => a.dns?.question.name)).toEqual(['s01.upd.kaspersky.com']); // one alert per client x category
    expect(existsSync(`${state}/clients.ndjson`)).toBe(true);
    expect(sensor.logs()).toMatch(/"msg":"checkpoint written"/);
  }, 30_000);

  test('a restart keeps the client history and its suppression: the same contact 10 minutes later raises no alert; a new client does', async () => {
    const more = `${tmp}/more.pcap`;
    writeFileSync(more, pcapFile([query('s02.upd.kaspersky.com', T0 + 600, CLIENT, 5), query('s02.upd.kaspersky.com', T0 + 601, '198.18.0.32', 6)], { linktype: 1 }));
    sensor = await startSensor(['--read', more, '--config', cfg, '--state-dir', state, '--alerts', alerts]);
    // /healthz answers once the server listens, a moment before the state is restored and logged.
    await waitFor('the state restored', () => (/"msg":"state restored"/.test(sensor.logs()) ? true : undefined));
    expect(sensor.logs()).toMatch(/"clients":1,"skipped":0.*"msg":"state restored"/);
    await waitFor('the input read', async () => (((await sensor.json('/api/v1/status')) as { input: { state: string } }).input.state === 'ended' ? true : undefined));
    const c = (await sensor.json(`/api/v1/clients/${CLIENT}`)) as { first_seen: string; after_cutoff: number; alerts: number };
    expect(c).toMatchObject({ first_seen: '2024-10-01T00:00:00.000000Z', after_cutoff: 3, alerts: 1 });
    expect(await sensor.stop('SIGINT')).toBe(0);
    const sent = lines(readFileSync(alerts, 'utf8')) as Array<{ source: { ip: string } }>;
    // The file is appended to (a sensor's alert log): the first run's alert, then only the new client's.
    expect(sent.map((a) => a.source.ip)).toEqual([CLIENT, '198.18.0.32']);
  }, 30_000);
});

describe('kasmon monitor: bad invocations', () => {
  test.for([
    [[], /monitor needs either -i IFACE \(one or more\) or --read FILE\|-, not both/],
    [['-i', 'eth9', '--read', '-'], /monitor needs either -i IFACE/],
    [['--read', '-', '--listen', 'localhost'], /--listen localhost: not HOST:PORT/],
    [['--read', '-', '--api-token-file', '/nonexistent/token'], /\/nonexistent\/token: cannot read the API token \(ENOENT\)/],
  ] as const)('%j: one line, exit 2', ([args, msg]) => {
    const r = spawnSync(process.execPath, [`${process.cwd()}/dist/cli.js`, 'monitor', ...args], { encoding: 'utf8', timeout: 10_000, input: '' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
  });
});
