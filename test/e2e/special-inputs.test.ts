import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, test } from 'vitest';
import { CLI, FIXTURES, kasmon, ROOT, until, waitingOnStdin } from './cli.js';

/**
 * Paths that are FIFOs, Unix sockets or character devices are read like a pipe on stdin:
 * never blocked in open(2), interrupted at once by SIGINT/SIGTERM with the report for what
 * was read (exit 130/143). A signal drains a stream first, so bytes already on their way
 * are not lost.
 */
const tmp = mkdtempSync(`${tmpdir()}/kasmon-special-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const DEMO = `${FIXTURES}/demo/input.pcap`;
const demo = readFileSync(DEMO);

/** The JSON report without its input list (which names the path). */
function reportOf(stdout: string): unknown {
  const r = JSON.parse(stdout) as Record<string, unknown>;
  delete r['inputs'];
  return r;
}
const fromFile = reportOf(kasmon(['replay', '--format', 'json', DEMO]).stdout);

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  done: Promise<number | null>;
}
function start(args: string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>((r) => child.on('close', r));
  return { child, out: () => out, err: () => err, done };
}

/** Stops `run` with `sig` and returns its exit code and how long it took to go. */
async function stop(run: Run, sig: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  run.child.kill(sig);
  const code = await Promise.race([run.done, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 8_000))]);
  if (code === 'hung') {
    run.child.kill('SIGKILL');
    throw new Error(`kasmon did not stop within 8 s of ${sig}`);
  }
  return { code, ms: Date.now() - t0 };
}

function mkfifo(name: string): string {
  const p = `${tmp}/${name}`;
  const r = spawnSync('mkfifo', [p]);
  if (r.status !== 0) throw new Error(`mkfifo: ${String(r.stderr)}`);
  return p;
}

/** True once process `pid` holds `path` open (Linux /proc). */
function opened(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Opens the FIFO's write end without blocking: succeeds once kasmon has it open for reading. */
async function writerOf(fifo: string): Promise<number> {
  let fd = -1;
  await until(() => {
    try {
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      return true;
    } catch {
      return false;
    }
  }, 'kasmon to open the FIFO for reading');
  return fd;
}

describe('a FIFO given as a path', () => {
  test.for([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('no writer ever opens it: %s stops kasmon at once (exit %i), one line', { timeout: 20_000 }, async ([sig, want]) => {
    const fifo = mkfifo(`empty-${sig}`);
    const run = start(['replay', fifo]);
    // kasmon has the FIFO open (not blocked in open(2) waiting for a writer, which never comes).
    await until(() => opened(run.child.pid!, fifo), 'kasmon to open the FIFO');
    const { code, ms } = await stop(run, sig);
    expect(code).toBe(want);
    expect(ms).toBeLessThan(2_000);
    expect(run.err()).toMatch(new RegExp(`kasmon: .*empty-${sig}: ${sig} before any capture data arrived; nothing to report\\n$`));
  });

  test('a writer that sends a capture and idles: SIGTERM gives the report at once, exit 143', async () => {
    const fifo = mkfifo('idle');
    const run = start(['replay', '--format', 'json', fifo]);
    const w = await writerOf(fifo);
    writeSync(w, demo);
    await new Promise((r) => setTimeout(r, 500)); // read and decoded; the writer stays open
    const { code, ms } = await stop(run, 'SIGTERM');
    closeSync(w);
    expect(code).toBe(143);
    expect(ms).toBeLessThan(2_000);
    expect(reportOf(run.out())).toEqual(fromFile);
  }, 20_000);

  test('a writer that sends a capture and closes: the report, exit 0', async () => {
    const fifo = mkfifo('closes');
    const run = start(['replay', '--format', 'json', fifo]);
    const w = await writerOf(fifo);
    writeSync(w, demo);
    closeSync(w);
    expect(await run.done).toBe(0);
    expect(reportOf(run.out())).toEqual(fromFile);
  }, 20_000);
});

describe('other paths that are streams', () => {
  test('a Unix socket: kasmon connects, reads, and SIGINT while the peer idles gives the report (exit 130)', async () => {
    const path = `${tmp}/capture.sock`;
    const peers: Socket[] = [];
    const server = createServer((c) => {
      peers.push(c);
      c.write(demo); // then idle, connection open
    });
    await new Promise<void>((r) => server.listen(path, r));
    try {
      const run = start(['replay', '--format', 'json', path]);
      await until(() => peers.length > 0, 'kasmon to connect');
      await new Promise((r) => setTimeout(r, 500));
      const { code, ms } = await stop(run, 'SIGINT');
      expect(code).toBe(130);
      expect(ms).toBeLessThan(2_000);
      expect(reportOf(run.out())).toEqual(fromFile);
    } finally {
      for (const p of peers) p.destroy();
      server.close();
    }
  }, 20_000);

  test('a Unix socket nobody listens on: one line, exit 2', () => {
    const path = `${tmp}/dead.sock`;
    const server = createServer();
    // a socket file left behind by a listener that is gone
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`]);
    server.close();
    const r = kasmon(['names', path]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/dead\.sock: cannot connect to this Unix socket \(ECONNREFUSED\); start the program that listens on it first/);
  });

  test('character devices: /dev/null is an empty input; a terminal is refused', () => {
    const n = kasmon(['names', '/dev/null']);
    expect([n.status, n.stderr]).toEqual([2, 'kasmon: /dev/null: empty input, not a pcap or pcapng capture\n']);
    // script(1) gives kasmon a pseudo-terminal; /dev/tty names it.
    const t = spawnSync('script', ['-qec', `'${process.execPath}' '${CLI}' names /dev/tty`, '/dev/null'], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(t.status).toBe(2);
    expect(t.stdout).toMatch(/kasmon: \/dev\/tty: is a terminal, not a capture; give a capture file, or pipe one in/);
  });

  test('bash process substitution (/dev/fd/N, a pipe) and /dev/stdin', () => {
    const sub = spawnSync('bash', ['-c', `'${process.execPath}' '${CLI}' replay --format json <(cat '${DEMO}')`], { encoding: 'utf8' });
    expect(sub.status).toBe(0);
    expect(reportOf(sub.stdout)).toEqual(fromFile);
    const stdin = spawnSync('sh', ['-c', `cat '${DEMO}' | '${process.execPath}' '${CLI}' replay --format json /dev/stdin`], { encoding: 'utf8' });
    expect(stdin.status).toBe(0);
    expect(reportOf(stdin.stdout)).toEqual(fromFile);
  });
});

describe('a signal drains a stream before the report', () => {
  test('bytes written right after SIGTERM, before the writer closes, are still read', async () => {
    const run = start(['replay', '--format', 'json', '-']);
    const half = 20_000;
    run.child.stdin!.write(demo.subarray(0, half));
    // Its signal handlers are set once it waits on stdin; then let it read the first half.
    await until(() => waitingOnStdin(run.child.pid!), 'kasmon to wait on its stdin');
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill('SIGTERM');
    // What a tcpdump stopped by the same Ctrl-C does: write out its buffer, then exit.
    await new Promise((r) => setTimeout(r, 50));
    run.child.stdin!.end(demo.subarray(half));
    const code = await run.done;
    expect(code).toBe(143);
    expect(reportOf(run.out())).toEqual(fromFile);
  }, 20_000);
});
