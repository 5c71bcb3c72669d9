import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, test } from 'vitest';
import { CLI, FIXTURES, ROOT, kasmon, until, waitingOnStdin } from './cli.js';

/**
 * Every kind of standard input a capture arrives on: a file redirected onto it, a pipe, a
 * non-blocking pipe, a terminal (refused), and a pipe that stays open when the operator
 * stops kasmon. The report must not depend on how the bytes came in.
 */
const DEMO = `${FIXTURES}/demo/input.pcap`;
const NODE = process.execPath;
const sh = (script: string): ReturnType<typeof spawnSync> =>
  spawnSync('sh', ['-c', script], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });

/** The JSON report without its input list (which names the file, or '-'). */
function reportOf(stdout: string): unknown {
  const r = JSON.parse(stdout) as Record<string, unknown>;
  delete r['inputs'];
  return r;
}

const fromFile = kasmon(['replay', '--format', 'json', DEMO]);

describe('kasmon replay - (standard input)', () => {
  test('the file replay this suite compares with found Kaspersky clients', () => {
    expect(fromFile.status).toBe(0);
    const r = JSON.parse(fromFile.stdout) as { totals: { frames: number; clients_after_cutoff: number } };
    expect(r.totals.frames).toBe(244);
    expect(r.totals.clients_after_cutoff).toBeGreaterThan(0);
  });

  test('a file redirected onto stdin gives the same report as the file', () => {
    const fd = openSync(DEMO, 'r');
    try {
      const r = spawnSync(NODE, [CLI, 'replay', '--format', 'json', '-'], { cwd: ROOT, encoding: 'utf8', stdio: [fd, 'pipe', 'pipe'] });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(reportOf(r.stdout)).toEqual(reportOf(fromFile.stdout));
      expect((JSON.parse(r.stdout) as { inputs: Array<{ file: string }> }).inputs[0]!.file).toBe('-');
    } finally {
      closeSync(fd);
    }
  });

  test('a pipe gives the same report as the file', () => {
    const r = sh(`cat '${DEMO}' | '${NODE}' '${CLI}' replay --format json -`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(reportOf(String(r.stdout))).toEqual(reportOf(fromFile.stdout));
  });

  test('a non-blocking pipe that is empty at first (EAGAIN) gives the same report', () => {
    // perl (perl-base, always on Debian) marks the read end O_NONBLOCK, then runs kasmon on it;
    // the writer starts late, so kasmon's first read finds the pipe empty.
    const nonblock = `perl -MFcntl -e 'fcntl(STDIN, F_SETFL, fcntl(STDIN, F_GETFL, 0) | O_NONBLOCK) or die "fcntl: $!"; exec @ARGV or die "exec: $!"'`;
    const r = sh(`(sleep 0.3; cat '${DEMO}') | ${nonblock} '${NODE}' '${CLI}' replay --format json -`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(reportOf(String(r.stdout))).toEqual(reportOf(fromFile.stdout));
  });

  test('an empty stdin (/dev/null) is not a capture: one line, exit 2', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      const r = spawnSync(NODE, [CLI, 'replay', '-'], { cwd: ROOT, encoding: 'utf8', stdio: [fd, 'pipe', 'pipe'] });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe('kasmon: -: empty input, not a pcap or pcapng capture\n');
    } finally {
      closeSync(fd);
    }
  });

  test('a terminal on stdin is refused with a one-line hint and exit 2', () => {
    // script(1) (bsdutils, always on Debian) gives kasmon a pseudo-terminal as stdin.
    const r = spawnSync('script', ['-qec', `'${NODE}' '${CLI}' replay -`, '/dev/null'], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/kasmon: -: standard input is a terminal, not a capture; pipe one in, e\.g\. tcpdump -w - \| kasmon replay -/);
  });

  test('SIGTERM while the pipe is idle and still open: the report comes out at once, exit 143', async () => {
    const dir = mkdtempSync(`${tmpdir()}/kasmon-stdin-`);
    const alerts = `${dir}/alerts.ndjson`;
    const child = spawn(NODE, [CLI, 'replay', '-', '--format', 'json', '--alerts', alerts], { cwd: ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.write(readFileSync(DEMO));
    // Alerts are flushed once the chunk is decoded: then kasmon has read everything sent.
    await until(() => existsSync(alerts) && readFileSync(alerts, 'utf8').length > 0, 'the alerts of the capture sent');
    await new Promise((r) => setTimeout(r, 100)); // ... and is back to waiting on the pipe
    const t0 = Date.now();
    child.kill('SIGTERM');
    // stdin is never closed: kasmon must not wait for more input or for the end of the pipe.
    const code = await new Promise<number | null>((r) => child.on('close', r));
    const took = Date.now() - t0;
    child.stdin.destroy();
    expect(code).toBe(143);
    expect(took).toBeLessThan(5_000);
    expect(err).toContain('kasmon: SIGTERM: stopping; a pipe is read until it is empty (2 s at most), then what was collected is written');
    expect(reportOf(out)).toEqual(reportOf(fromFile.stdout));
    rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  test('SIGINT before any capture data arrived: a one-line message, exit 130', async () => {
    const child = spawn(NODE, [CLI, 'replay', '-'], { cwd: ROOT });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => waitingOnStdin(child.pid!), 'kasmon to wait on its stdin');
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    child.stdin.destroy();
    expect(code).toBe(130);
    expect(err).toMatch(/kasmon: -: SIGINT before any capture data arrived; nothing to report\n$/);
  }, 20_000);
});
