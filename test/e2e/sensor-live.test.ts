import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, startSensor, waitFor, type RunningSensor } from '../helpers/sensor.js';
import { ROOT } from './cli.js';

/**
 * The sensor end to end, real parts only, all on this machine (issue 10 "Done means"):
 * - a network namespace joined to this one by a veth pair (198.18.40.0/24);
 * - `kasmon monitor -i` on this side of the veth, through real tcpdump;
* - real clients in the namespace (dig, curl, openssl s_client) talking to real servers on this
 *   side (dnsmasq answering every name, openssl s_server, python3 -m http.server) for Kaspersky names
 *   and ordinary ones;
 * - a real Prometheus scraping kasmon with the shipped scrape job and rules.
 * Asserted through Prometheus's HTTP API: matches by category, the after-cutoff clients gauge,
 * the shipped alert firing. Then: tcpdump killed mid-run is restarted and later traffic counts;
 * SIGHUP with a broken config keeps the old rules, a good one adding a rule makes a new name
 * match; SIGTERM and a restart keep the client's history.
 */
const ID = process.pid % 10_000;
const NS = `kasmon-live-${ID}`;
const HOST_IF = `ksl${ID}`;
const HOST_IP = '198.18.40.1';
const CLIENT_IP = '198.18.40.2';
const tmp = mkdtempSync(`${tmpdir()}/kasmon-live-`);
const children: ChildProcess[] = [];
let sensor: RunningSensor | undefined;
let prom = '';

function run(cmd: string, args: string[], timeout = 15_000): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A command in the client namespace. */
const inNs = (cmd: string, args: string[], timeout = 15_000): string => run('ip', ['netns', 'exec', NS, cmd, ...args], timeout);

function daemon(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(c);
  return c;
}

async function promQuery(q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = (await (await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> }; error?: string };
  if (r.status !== 'success') throw new Error(`${q}: ${r.error}`);
  return r.data.result;
}

/** Waits until Prometheus has `q` with a value >= `min`. */
const promAtLeast = (q: string, min: number, ms = 30_000): Promise<number> =>
  waitFor(`Prometheus: ${q} >= ${min}`, async () => {
    const v = Number((await promQuery(q))[0]?.value[1] ?? NaN);
    return v >= min ? v : undefined;
  }, ms);

const cfg = `${tmp}/kasmon.yaml`;
const state = `${tmp}/state`;
const BASE_CONFIG = 'observer:\n  name: live-sensor\ncapture:\n  stats_seconds: 1\n';
const MIRROR = `endpoints:
  update:
    - { id: corp-mirror, pattern: mirror.corp.example, severity: high, confidence: A }
`;

beforeAll(async () => {
  run('ip', ['netns', 'add', NS]);
  run('ip', ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', `kslp${ID}`]);
  run('ip', ['link', 'set', `kslp${ID}`, 'netns', NS]);
  run('ip', ['addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF]);
  run('ip', ['link', 'set', HOST_IF, 'up']);
  run('ip', ['-n', NS, 'link', 'set', `kslp${ID}`, 'name', 'eth0']);
  run('ip', ['-n', NS, 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'eth0']);
  run('ip', ['-n', NS, 'link', 'set', 'eth0', 'up']);
  run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  // Servers on this side: DNS answering every name with this host, TLS, HTTP.
  daemon('dnsmasq', ['--keep-in-foreground', '--no-resolv', '--no-hosts', '--bind-interfaces', `--listen-address=${HOST_IP}`, '--port=53', `--address=/#/${HOST_IP}`, `--pid-file=${tmp}/dnsmasq.pid`, '--conf-file=/dev/null', '--user=root']);
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${tmp}/key.pem`, '-out', `${tmp}/cert.pem`, '-days', '1', '-subj', '/CN=kasmon-test']);
  daemon('openssl', ['s_server', '-accept', `${HOST_IP}:443`, '-cert', `${tmp}/cert.pem`, '-key', `${tmp}/key.pem`, '-www', '-quiet']);
  // (A separate process: the test's own event loop waits in spawnSync while curl runs.)
  mkdirSync(`${tmp}/www/index`, { recursive: true });
  writeFileSync(`${tmp}/www/index/u1313g.xml`, 'ok\n');
  writeFileSync(`${tmp}/www/index.html`, 'ok\n');
  daemon('python3', ['-m', 'http.server', '80', '--bind', HOST_IP, '--directory', `${tmp}/www`]);
  writeFileSync(cfg, BASE_CONFIG);
  sensor = await startSensor(['-i', HOST_IF, '--config', cfg, '--state-dir', state]);
  await waitFor('tcpdump running', async () => (((await sensor!.json('/api/v1/status')) as { capture: Array<{ up: boolean }> }).capture[0]?.up ? true : undefined));
  // Prometheus with the shipped job and rules, scraping every second.
  const promPort = await freePort();
  prom = `http://127.0.0.1:${promPort}`;
  const shipped = readFileSync(`${ROOT}config/prometheus/prometheus.yml`, 'utf8');
  const job = shipped.slice(shipped.indexOf('scrape_configs:'));
  const targets = job.replace(/targets:\n(\s+- .*\n)+/, `targets: ["127.0.0.1:${new URL(sensor.base).port}"]\n`).replace(/scrape_interval: \S+/, 'scrape_interval: 1s').replace(/scrape_timeout: \S+/, 'scrape_timeout: 1s');
  writeFileSync(`${tmp}/prometheus.yml`, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - ${ROOT}config/prometheus/kasmon-rules.yml\n${targets}`);
  daemon('prometheus', [`--config.file=${tmp}/prometheus.yml`, `--storage.tsdb.path=${tmp}/tsdb`, `--web.listen-address=127.0.0.1:${promPort}`]);
  await waitFor('Prometheus up', async () => ((await fetch(`${prom}/-/ready`).catch(() => undefined))?.ok ? true : undefined), 30_000);
}, 90_000);

afterAll(async () => {
  await sensor?.stop('SIGKILL');
  for (const c of children) c.kill('SIGKILL');
  spawnSync('ip', ['link', 'del', HOST_IF]);
  spawnSync('ip', ['netns', 'del', NS]);
  rmSync(tmp, { recursive: true, force: true });
});

const dig = (name: string): string => inNs('dig', [`@${HOST_IP}`, '+tries=1', '+time=2', '+short', name]);
const curl = (name: string, path: string): string => inNs('curl', ['-s', '--max-time', '5', '--resolve', `${name}:80:${HOST_IP}`, `http://${name}${path}`]);
const tls = (name: string): string => inNs('openssl', ['s_client', '-connect', `${HOST_IP}:443`, '-servername', name, '-brief'], 15_000);

describe('a live sensor on a veth, watched by Prometheus', () => {
  test('real clients in a namespace: matches by category, the after-cutoff gauge and the shipped alert, through Prometheus', async () => {
    expect(dig('s01.upd.kaspersky.com').trim()).toBe(HOST_IP);
    dig('example.org');
    expect(curl('dnl-01.geo.kaspersky.com', '/index/u1313g.xml')).toBe('ok\n');
    curl('www.example.org', '/');
    tls('ksn-url-geo.kaspersky-labs.com');
    tls('www.example.net');
    await promAtLeast('sum(kasmon_matches_total{category="update",kind="dns_query",phase="after"})', 1);
    await promAtLeast('sum(kasmon_matches_total{category="update",kind="http_host",phase="after"})', 1);
    await promAtLeast('sum(kasmon_matches_total{category="ksn",kind="tls_sni",phase="after"})', 1);
    expect(await promAtLeast('kasmon_clients_after_cutoff', 1)).toBe(1);
    // Ordinary names are decoded (observations) but match nothing.
    expect(await promAtLeast('sum(kasmon_observations_total{kind="dns_query"})', 2)).toBeGreaterThanOrEqual(2);
    const firing = await waitFor('the shipped alert firing', async () => {
      const r = await promQuery('ALERTS{alertname="KasmonKasperskyContactAfterCutoff",alertstate="firing"}');
      return r.length >= 2 ? r : undefined;
    }, 30_000);
    expect(firing.map((a) => a.metric['category']).sort()).toEqual(['ksn', 'update']);
    expect(firing.every((a) => a.metric['severity'] === 'critical')).toBe(true);
    const c = (await sensor!.json(`/api/v1/clients/${CLIENT_IP}`)) as { names: Array<{ name: string; destinations: string[] }> };
    expect(c.names.find((n) => n.name === 'ksn-url-geo.kaspersky-labs.com')?.destinations).toEqual([`${HOST_IP}:443`]);
  }, 90_000);

  test('tcpdump killed mid-run is restarted (counted) and later traffic still counts', async () => {
    const before = (await sensor!.json('/api/v1/status')) as { capture: Array<{ pid: number }> };
    const pid = before.capture[0]!.pid;
    process.kill(pid, 'SIGKILL');
    await promAtLeast('kasmon_capture_restarts_total', 1);
    await waitFor('tcpdump back', async () => {
      const s = (await sensor!.json('/api/v1/status')) as { capture: Array<{ up: boolean; pid: number }> };
      return s.capture[0]?.up && s.capture[0].pid !== pid ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 1500)); // tcpdump has the interface open
    dig('s02.upd.kaspersky.com');
    await promAtLeast('sum(kasmon_matches_total{category="update",kind="dns_query",phase="after"})', 2);
  }, 60_000);

  test('SIGHUP: a broken config keeps the old rules; a good one adding a rule makes a new name match', async () => {
    writeFileSync(cfg, `${BASE_CONFIG}alerts:\n  min_severity: urgent\n`);
    sensor!.child.kill('SIGHUP');
    await promAtLeast('kasmon_config_reloads_total{result="failure"}', 1);
    dig('mirror.corp.example');
    await new Promise((r) => setTimeout(r, 2000));
    expect(Number((await promQuery('sum(kasmon_matches_total{category="update",kind="dns_query"})'))[0]?.value[1])).toBe(2);
    writeFileSync(cfg, `${BASE_CONFIG}${MIRROR}`);
    sensor!.child.kill('SIGHUP');
    await promAtLeast('kasmon_config_reloads_total{result="success"}', 1);
    dig('mirror.corp.example');
    await promAtLeast('sum(kasmon_matches_total{category="update",kind="dns_query"})', 3);
  }, 60_000);

  test('SIGTERM, then a restart: the client history is kept', async () => {
    expect(await sensor!.stop('SIGTERM')).toBe(0);
    sensor = await startSensor(['-i', HOST_IF, '--config', cfg, '--state-dir', state]);
    const c = (await sensor.json(`/api/v1/clients/${CLIENT_IP}`)) as { after_cutoff: number; names: Array<{ name: string }> };
    expect(c.after_cutoff).toBeGreaterThanOrEqual(5);
    expect(c.names.map((n) => n.name)).toContain('mirror.corp.example');
  }, 60_000);
});
