import { existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { CLI, FIXTURES, kasmon, lines, ROOT, until } from './cli.js';

const DEMO = `${FIXTURES}/demo/input.pcap`;
/** As the README runs it (the report names its input). */
const DEMO_REL = 'test/fixtures/demo/input.pcap';
const tmp = mkdtempSync(`${tmpdir()}/kasmon-e2e-`);

describe('kasmon replay on the bundled demo capture', () => {
  test('JSON report and ECS alerts are exactly the golden files', () => {
    const alerts = `${tmp}/alerts.ndjson`;
    const r = kasmon(['replay', DEMO_REL, '--format', 'json', '--observer', 'test-sensor', '--alerts', alerts]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(readFileSync(`${FIXTURES}/demo/expected.report.json`, 'utf8'));
    expect(readFileSync(alerts, 'utf8')).toBe(readFileSync(`${FIXTURES}/demo/expected.alerts.ndjson`, 'utf8'));
  });

  test('the table report is exactly the golden file', () => {
    const r = kasmon(['replay', DEMO_REL, '--observer', 'test-sensor']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(readFileSync(`${FIXTURES}/demo/expected.report.txt`, 'utf8'));
  });

  test('the story the capture tells: who alerts, who does not', () => {
    const r = kasmon(['replay', DEMO, '--format', 'json']);
    const rep = JSON.parse(r.stdout) as { clients: Array<{ client: string; before_cutoff: number; after_cutoff: number; alerts: number }> };
    const by = Object.fromEntries(rep.clients.map((c) => [c.client, c]));
    expect(Object.keys(by).sort()).toEqual(['198.18.0.11', '198.18.0.13', 'fd00::11']);
    expect(by['198.18.0.11']!.after_cutoff).toBeGreaterThan(0);
    expect(by['fd00::11']!.alerts).toBeGreaterThan(0);
    expect(by['198.18.0.13']).toMatchObject({ after_cutoff: 0, alerts: 0 });
    expect(by['198.18.0.13']!.before_cutoff).toBeGreaterThan(0);
    // 198.18.0.12 asked for notkaspersky.com only: label boundaries hold.
    expect(by['198.18.0.12']).toBeUndefined();
  });

  test('alerts are ECS events, one per client x category (or x finding) first contact after the cutoff', () => {
    const r = kasmon(['replay', DEMO, '--alerts', '-', '--observer', 'o1']);
    expect(r.status).toBe(0);
    const evs = lines(r.stdout) as Array<Record<string, any>>;
    expect(evs.length).toBeGreaterThan(0);
    const keys = evs.map((e) => `${e['source'].ip}|${e['kasmon'].category}|${e['kasmon'].finding ?? ''}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const e of evs) {
      expect(e['event'].kind).toBe('alert');
      expect(e['observer'].name).toBe('o1');
      expect(Date.parse(e['@timestamp'])).toBeGreaterThanOrEqual(Date.parse('2024-09-29T04:00:00Z'));
      expect(typeof e['rule'].name).toBe('string');
      expect(e['destination'].domain).toMatch(/kaspersky/);
    }
    // the update fetch after the cutoff is a critical finding of its own
    const fetch = evs.filter((e) => e['kasmon'].finding === 'signature_update');
    expect(fetch.map((e) => [e['source'].ip, e['kasmon'].severity, e['url'].path])).toEqual([['198.18.0.11', 'critical', '/index/u0607g.xml']]);
    // the report went to stderr, keeping stdout pure NDJSON
    expect(r.stderr).toContain('CLIENTS CONTACTING KASPERSKY AFTER THE CUTOFF: 2');
  });

  test('--cutoff moves the line: with a cutoff after the capture nobody alerts', () => {
    const r = kasmon(['replay', DEMO, '--format', 'json', '--cutoff', '2030-01-01T00:00:00+02:00']);
    const rep = JSON.parse(r.stdout) as { cutoff: string; totals: { alerts: number; clients_after_cutoff: number } };
    expect(rep.cutoff).toBe('2029-12-31T22:00:00Z');
    expect(rep.totals).toMatchObject({ alerts: 0, clients_after_cutoff: 0 });
  });

  test('--fail-on-alert exits 4 when post-cutoff traffic was found, 0 when not', () => {
    expect(kasmon(['replay', DEMO, '--fail-on-alert']).status).toBe(4);
    expect(kasmon(['replay', DEMO, '--fail-on-alert', '--cutoff', '2030-01-01T00:00:00Z']).status).toBe(0);
  });

  test('stdin, gzip and pcapng (converted by editcap) give the same observations', () => {
    const want = kasmon(['names', DEMO]).stdout;
    const pcap = readFileSync(DEMO);
    expect(kasmon(['names', '-'], pcap).stdout).toBe(want);
    const gz = `${tmp}/demo.pcap.gz`;
    writeFileSync(gz, gzipSync(pcap));
    expect(kasmon(['names', gz]).stdout).toBe(want);
    expect(kasmon(['names', '-'], gzipSync(pcap)).stdout).toBe(want);
    const ng = `${tmp}/demo.pcapng`;
    const ed = spawnSync('editcap', ['-F', 'pcapng', DEMO, ng]);
    expect(ed.status).toBe(0);
    expect(readFileSync(ng).readUInt32BE(0)).toBe(0x0a0d0d0a);
    expect(kasmon(['names', ng]).stdout).toBe(want);
  });

  test('names --stats reports decode issues and observation counts on stderr', () => {
    const r = kasmon(['names', '--stats', DEMO]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^frames 244, bytes \d+$/m);
    expect(r.stderr).toContain('"tls_sni":12');
  });

  test('SIGINT during a replay from a pipe still prints the report and flushes alerts', async () => {
    const alerts = `${tmp}/sigint.ndjson`;
    const child = spawn(process.execPath, [CLI, 'replay', '-', '--format', 'json', '--alerts', alerts], { cwd: ROOT });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const pcap = readFileSync(DEMO);
    // Everything but the last few frames, then keep the pipe open: kasmon waits for more.
    child.stdin.write(pcap.subarray(0, pcap.length - 200));
    // Alerts are flushed once the chunk is decoded: then kasmon has read everything sent.
    await until(() => existsSync(alerts) && readFileSync(alerts, 'utf8').length > 0, 'the alerts of the capture sent');
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    // The pipe stays open: kasmon stops waiting for the rest of the capture on its own.
    const code = await new Promise<number | null>((r) => child.on('close', r));
    child.stdin.destroy();
    expect(code).toBe(130);
    const rep = JSON.parse(out) as { totals: { alerts: number; frames: number } };
    expect(rep.totals.frames).toBeGreaterThan(200);
    expect(rep.totals.alerts).toBeGreaterThan(0);
    expect(lines(readFileSync(alerts, 'utf8'))).toHaveLength(rep.totals.alerts);
  });
});
