import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FIXTURES, kasmon } from './cli.js';

/**
 * Replay at scale: `replay -j N` decodes inputs in worker threads and must give the serial
 * run's report and alerts byte for byte; `names --matched` on shards + `analyze` must give
 * replay's. Several captures of different kinds (TLS/HTTP/DNS, DNS over TCP, a split
 * ClientHello, QUIC, fragmented DNS, and the attribution fixtures), with alerts.
 */
const dir = mkdtempSync(join(tmpdir(), 'kasmon-parallel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CAPTURES = ['demo', 'dns-tcp', 'chromium-split-hello', 'quic-chromium', 'dns-fragmented', 'attribution'].map((c) => `${FIXTURES}/${c}/input.pcap`);

function replay(args: string[], tag: string): { report: string; alerts: string; status: number } {
  const alerts = join(dir, `${tag}.alerts.ndjson`);
  const r = kasmon(['replay', '--observer', 'o', '--alerts', alerts, ...args]);
  return { report: r.stdout, alerts: readFileSync(alerts, 'utf8'), status: r.status ?? -1 };
}

describe('replay -j', () => {
  test.for(['json', 'table', 'csv', 'html'])('-j 2 gives the serial run\'s %s report and alert file, byte for byte', (format) => {
    const serial = replay(['-j', '1', '--format', format, ...CAPTURES], `s-${format}`);
    const par = replay(['-j', '2', '--format', format, ...CAPTURES], `p-${format}`);
    expect(serial.status).toBe(0);
    expect(par.status).toBe(0);
    expect(par.report).toBe(serial.report);
    expect(par.alerts).toBe(serial.alerts);
    expect(serial.alerts.trim().split('\n').length).toBeGreaterThanOrEqual(5);
  });

  test('-j 3 with the inputs in another order: the same as the serial run in that order (inputs are analysed in the order given)', () => {
    const order = [...CAPTURES].reverse();
    const serial = replay(['-j', '1', '--format', 'json', ...order], 's-rev');
    const par = replay(['-j', '3', '--format', 'json', ...order], 'p-rev');
    expect(par.report).toBe(serial.report);
    expect(par.alerts).toBe(serial.alerts);
    const rep = JSON.parse(par.report) as { inputs: Array<{ file: string }> };
    expect(rep.inputs.map((i) => i.file)).toEqual(order);
  });

  test('an input that is not a capture is skipped and named under -j as serially (exit 2, the others reported)', () => {
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, 'not a capture at all, just some text that is long enough');
    const s = kasmon(['replay', '-j', '1', '--format', 'json', '--observer', 'o', CAPTURES[0]!, junk, CAPTURES[1]!]);
    const p = kasmon(['replay', '-j', '2', '--format', 'json', '--observer', 'o', CAPTURES[0]!, junk, CAPTURES[1]!]);
    expect([s.status, p.status]).toEqual([2, 2]);
    expect(p.stdout).toBe(s.stdout);
    expect(p.stderr).toBe(s.stderr);
  });

  test('bad -j values are usage errors', () => {
    for (const v of ['0', 'x', '65']) {
      const r = kasmon(['replay', '-j', v, CAPTURES[0]!]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--jobs ".*" is not a whole number from 1 to 64/);
    }
  });
});

describe('sharded: names --matched on each shard, then analyze', () => {
  test('equals replay of all the captures in one place (report and alerts)', () => {
    const shards = [CAPTURES.slice(0, 2), CAPTURES.slice(2, 3), CAPTURES.slice(3)];
    const files = shards.map((caps, i) => {
      const r = kasmon(['names', '--matched', ...caps]);
      expect(r.status).toBe(0);
      const f = join(dir, `shard${i}.obs.ndjson`);
      writeFileSync(f, r.stdout);
      return f;
    });
    const whole = replay(['--format', 'json', ...CAPTURES], 'whole');
    const alerts = join(dir, 'analyze.alerts.ndjson');
    const a = kasmon(['analyze', '--observer', 'o', '--format', 'json', '--alerts', alerts, ...files]);
    expect(a.status).toBe(0);
    expect(a.stderr).toBe('');
    expect(a.stdout).toBe(whole.report);
    expect(readFileSync(alerts, 'utf8')).toBe(whole.alerts);
  });

  test('one capture: the golden report and alerts of the demo, through the observation file', () => {
    const obs = join(dir, 'demo.obs.ndjson');
    writeFileSync(obs, kasmon(['names', '--matched', 'test/fixtures/demo/input.pcap']).stdout); // the golden file names it so
    const alerts = join(dir, 'demo.alerts.ndjson');
    const a = kasmon(['analyze', '--observer', 'test-sensor', '--format', 'json', '--alerts', alerts, obs]);
    expect(a.stdout).toBe(readFileSync(`${FIXTURES}/demo/expected.report.json`, 'utf8'));
    expect(readFileSync(alerts, 'utf8')).toBe(readFileSync(`${FIXTURES}/demo/expected.alerts.ndjson`, 'utf8'));
  });

  test('the observation file: matched names with their file, and one input_summary per input', () => {
    const r = kasmon(['names', '--matched', CAPTURES[0]!, CAPTURES[1]!]);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summaries = lines.filter((l) => l['kind'] === 'input_summary');
    expect(summaries.map((s) => s['file'])).toEqual([CAPTURES[0], CAPTURES[1]]);
    const obs = lines.filter((l) => l['kind'] !== 'input_summary');
    expect(obs.every((l) => typeof l['file'] === 'string')).toBe(true);
    // names a rule matches, and the address records of a chain that started at one (a CDN name)
    expect(obs.filter((l) => !/kaspersky/.test(String(l['name']) + String(l['data'])))).toEqual([expect.objectContaining({ name: 'upd-eu.cdn.example.net', rrtype: 'AAAA', ttl: 300 })]);
  });

  test('lines that are not observations are counted and skipped', () => {
    const obs = join(dir, 'mixed.obs.ndjson');
    writeFileSync(obs, kasmon(['names', '--matched', CAPTURES[1]!]).stdout + 'garbage\n{"kind":"tls_sni"}\n');
    const a = kasmon(['analyze', '--format', 'json', obs]);
    expect(a.status).toBe(0);
    expect(a.stderr).toMatch(/2 lines were not observations/);
  });
});
