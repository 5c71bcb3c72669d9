import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI, ROOT, lines } from './cli.js';

/**
 * The sensor's real input path: tcpdump writing a pcap stream to stdout, kasmon reading it
 * on stdin, traffic from a real client. Everything happens on the loopback interface of a
 * network namespace this test creates (and removes), so no packet leaves the machine.
 */
const NS = `kasmon-pipe-${process.pid}`;
const run = (cmd: string, args: string[]): void => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
};

beforeAll(() => {
  run('ip', ['netns', 'add', NS]);
  run('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);
});
afterAll(() => {
  spawnSync('ip', ['netns', 'del', NS]);
});

/** A DNS client: one A query per name, sent with node:dgram from inside the namespace. */
const CLIENT = `
const d = require('node:dgram').createSocket('udp4');
const names = process.argv.slice(1);
let i = 0;
const q = (n) => Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
  ...n.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0, 0, 1, 0, 1])]);
const next = () => i < names.length ? d.send(q(names[i++]), 53, '127.0.0.1', next) : d.close();
next();`;

describe('tcpdump -w - | kasmon names -', () => {
  test('observations arrive through the pipe from a real capture', async () => {
    const tcpdump = spawn('ip', ['netns', 'exec', NS, 'tcpdump', '--immediate-mode', '-i', 'lo', '-U', '-w', '-', 'udp port 53'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const kasmon = spawn(process.execPath, [CLI, 'names', '-'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    tcpdump.stdout.pipe(kasmon.stdin);
    let out = '';
    kasmon.stdout.on('data', (b: Buffer) => (out += b.toString()));
    let tcpdumpErr = '';
    tcpdump.stderr.on('data', (b: Buffer) => (tcpdumpErr += b.toString()));
    // tcpdump says "listening on lo" once its capture is armed.
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${tcpdumpErr}`)), 10_000);
      tcpdump.stderr.on('data', () => {
        if (tcpdumpErr.includes('listening on')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    run('ip', ['netns', 'exec', NS, process.execPath, '-e', CLIENT, 'dnl-07.geo.kaspersky.com', 'Example.ORG.']);
    await new Promise((r) => setTimeout(r, 500));
    tcpdump.kill('SIGINT'); // tcpdump flushes and exits; kasmon sees end of input
    const code = await new Promise<number | null>((r) => kasmon.on('close', r));
    expect(code).toBe(0);
    const obs = lines(out) as Array<{ kind: string; name: string; src: string; dst: string; dport: number }>;
    expect(obs.map((o) => [o.kind, o.name, o.dst, o.dport])).toEqual([
      ['dns_query', 'dnl-07.geo.kaspersky.com', '127.0.0.1', 53],
      ['dns_query', 'example.org', '127.0.0.1', 53],
    ]);
  }, 30_000);
});
