import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI, FIXTURES, ROOT } from './cli.js';

/**
 * The README's commands, run as written. Every line of its ```sh blocks that runs kasmon is
 * taken from README.md (so the test follows the README), with `kasmon` on the PATH as the
 * built CLI, in a directory holding what the lines name: capture.pcap (the demo capture),
 * my.yaml (config/example.yaml). A line with `tcpdump -i eth0` runs with real tcpdump on an
 * interface named eth0 in a network namespace this test makes (198.18.0.0/15 addresses, a
 * veth pair to a second namespace, both removed after), is stopped by SIGINT to its whole
 * process group as a terminal's Ctrl-C is, and must report every packet tcpdump captured.
 */
interface Line {
  readonly command: string;
  readonly source: string;
}

/** kasmon command lines of the README's ```sh blocks: comments and [optional] parts dropped. */
function readmeCommands(): Line[] {
  const text = readFileSync(`${ROOT}README.md`, 'utf8');
  const out: Line[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const source of block[1]!.split('\n')) {
      const command = source.replace(/\s+#\s.*$/, '').replace(/\s*\[[^\]]*\]/g, '').trim();
      if (/(^|\|\s*|<\()kasmon\b/.test(command)) out.push({ command, source });
    }
  }
  return out;
}

const lines = readmeCommands();
const tmp = mkdtempSync(`${tmpdir()}/kasmon-readme-`);
const bin = `${tmp}/bin`;
const PATH = `${bin}:${process.env['PATH'] ?? ''}`;
mkdirSync(bin);
writeFileSync(`${bin}/kasmon`, `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
chmodSync(`${bin}/kasmon`, 0o755);
copyFileSync(`${FIXTURES}/demo/input.pcap`, `${tmp}/capture.pcap`);
copyFileSync(`${ROOT}config/example.yaml`, `${tmp}/my.yaml`);

const ID = process.pid % 100_000;
const NS = `kasmon-rd-${ID}`;
const PEER = `kasmon-rp-${ID}`;
const sh = (args: string[]): void => {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
};
const live = lines.filter((l) => /\btcpdump -i eth0\b/.test(l.command));
/** `kasmon monitor` lines run until stopped: they run in the namespace (its own loopback, and an eth1). */
const sensors = lines.filter((l) => /^kasmon monitor\b/.test(l.command));

beforeAll(() => {
  if (live.length === 0 && sensors.length === 0) return;
  sh(['netns', 'add', NS]);
  sh(['netns', 'add', PEER]);
  sh(['link', 'add', `kra${ID}`, 'type', 'veth', 'peer', 'name', `krb${ID}`]);
  sh(['link', 'set', `kra${ID}`, 'netns', NS]);
  sh(['link', 'set', `krb${ID}`, 'netns', PEER]);
  sh(['-n', NS, 'link', 'set', `kra${ID}`, 'name', 'eth0']);
  sh(['-n', NS, 'addr', 'add', '198.18.0.1/24', 'dev', 'eth0']);
  sh(['-n', NS, 'link', 'set', 'eth0', 'up']);
  sh(['-n', NS, 'link', 'set', 'lo', 'up']);
  sh(['-n', PEER, 'addr', 'add', '198.18.0.2/24', 'dev', `krb${ID}`]);
  sh(['-n', PEER, 'link', 'set', `krb${ID}`, 'up']);
  sh(['-n', NS, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1p']);
  sh(['-n', NS, 'link', 'set', 'eth1p', 'up']);
  sh(['-n', NS, 'link', 'set', 'eth1', 'up']);
});
afterAll(() => {
  spawnSync('ip', ['netns', 'del', NS]);
  spawnSync('ip', ['netns', 'del', PEER]);
  rmSync(tmp, { recursive: true, force: true });
});

/** DNS queries (A) for each name, from the namespace's eth0 to the peer, which does not answer. */
const CLIENT = `
const d = require('node:dgram').createSocket('udp4');
const names = process.argv.slice(1);
let i = 0;
const q = (n) => Buffer.concat([Buffer.from([0x12, i, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
  ...n.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0, 0, 1, 0, 1])]);
const next = () => i < names.length ? d.send(q(names[i++]), 53, '198.18.0.2', () => setTimeout(next, 20)) : d.close();
next();`;

describe("the README's commands", () => {
  test('the README has the commands this test runs', () => {
    expect(lines.length).toBeGreaterThanOrEqual(8);
    expect(live).toHaveLength(1);
    expect(live[0]!.command).toMatch(/tcpdump -i eth0 -U -w - .*\| kasmon replay -$/);
  });

  test.for(sensors.map((l) => [l.command, l] as const))('%s: serves /healthz and /metrics, stops cleanly on SIGTERM', { timeout: 40_000 }, async ([, l]) => {
    const child = spawn('ip', ['netns', 'exec', NS, 'bash', '-c', `exec ${l.command}`], { cwd: tmp, env: { ...process.env, PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const done = new Promise<number | null>((r) => child.on('close', r));
    const get = (path: string): string => spawnSync('ip', ['netns', 'exec', NS, 'curl', '-sf', '--max-time', '2', `http://127.0.0.1:20929${path}`], { encoding: 'utf8' }).stdout;
    try {
      const t0 = Date.now();
      while (!get('/healthz').includes('ok')) {
        if (Date.now() - t0 > 15_000 || child.exitCode !== null) throw new Error(`kasmon monitor did not come up: ${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(get('/metrics')).toMatch(/^kasmon_build_info\{/m);
      child.kill('SIGTERM');
      expect(await Promise.race([done, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))])).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(err).toMatch(/"msg":"sensor started"/);
    expect(err).toMatch(/"msg":"stopped"/);
  });

  test.for(lines.filter((l) => !live.includes(l) && !sensors.includes(l)).map((l) => [l.command, l] as const))('%s', ([, l]) => {
    // A sourced script is checked by what it defines.
    const script = l.command.startsWith('source ') ? `${l.command} && complete -p kasmon` : l.command;
    const r = spawnSync('bash', ['-c', script], { cwd: tmp, encoding: 'utf8', env: { ...process.env, PATH }, timeout: 30_000 });
    expect(r.stderr.replace(/^.*frames \d+[\s\S]*$/m, '')).not.toMatch(/kasmon: /);
    expect(r.status).toBe(0);
    expect(r.stdout.length + r.stderr.length).toBeGreaterThan(0);
  });

  test.for(live.map((l) => [l.command, l] as const))('%s: Ctrl-C loses nothing tcpdump captured', { timeout: 40_000 }, async ([, l]) => {
    const names = ['dnl-01.geo.kaspersky.com', 'ksn-a-geo.kaspersky-labs.com', 'example.org', 'dnl-02.geo.kaspersky.com', 'activation-v2.kaspersky.com'];
    // detached: the pipeline gets its own process group, which a Ctrl-C signals as a whole.
    const child = spawn('ip', ['netns', 'exec', NS, 'bash', '-c', l.command], { cwd: tmp, env: { ...process.env, PATH }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const done = new Promise<number | null>((r) => child.on('close', r));
    try {
      const t0 = Date.now();
      while (!err.includes('listening on eth0')) {
        if (Date.now() - t0 > 10_000) throw new Error(`tcpdump did not start: ${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const c = spawnSync('ip', ['netns', 'exec', NS, process.execPath, '-e', CLIENT, ...names], { encoding: 'utf8', timeout: 10_000 });
      expect(c.status).toBe(0);
      // libpcap hands packets to tcpdump in blocks, within its 1 s timeout; tcpdump -U then writes each at once.
      await new Promise((r) => setTimeout(r, 1_500));
      process.kill(-child.pid!, 'SIGINT');
      const code = await Promise.race([done, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
      expect(code).not.toBe('hung');
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const captured = Number(/(\d+) packets? captured/.exec(err)?.[1] ?? NaN);
    const framesRead = Number(/^input -: pcap, (\d+) frames/m.exec(out)?.[1] ?? NaN);
    expect(captured).toBeGreaterThanOrEqual(names.length);
    expect(framesRead).toBe(captured);
    expect(out).toMatch(new RegExp(`^observations: dns_query ${names.length},`, 'm'));
    expect(out).toContain('CLIENTS CONTACTING KASPERSKY');
    expect(err).toContain('kasmon: SIGINT: stopping');
    expect(err).not.toContain('before any capture data arrived');
  });
});
