import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { CLI, ROOT } from '../e2e/cli.js';

/** Helpers for tests that run `kasmon monitor` as a process and talk to it over HTTP. */

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 50 ms until it returns a value other than undefined; fails after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Prometheus text → samples by `name{labels}` (labels as printed). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

export interface RunningSensor {
  readonly child: ChildProcess;
  readonly base: string;
  /** Everything it logged (JSON lines on stderr), so far. */
  readonly logs: () => string;
  metrics(): Promise<Map<string, number>>;
  json(path: string): Promise<unknown>;
  /** Sends `sig` and resolves with the exit code (fails after `ms`). */
  stop(sig?: NodeJS.Signals, ms?: number): Promise<number | null>;
}

/** Starts `kasmon monitor ARGS --listen 127.0.0.1:PORT` and waits until /healthz answers. */
export async function startSensor(args: string[], opts: { port?: number; cwd?: string; wrap?: string[] } = {}): Promise<RunningSensor> {
  const port = opts.port ?? (await freePort());
  const base = `http://127.0.0.1:${port}`;
  const argv = [process.execPath, CLI, 'monitor', ...args, '--listen', `127.0.0.1:${port}`];
  const cmd = [...(opts.wrap ?? []), ...argv];
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const s: RunningSensor = {
    child,
    base,
    logs: () => err,
    async metrics() {
      return parseMetrics(await (await fetch(`${base}/metrics`)).text());
    },
    async json(path) {
      return (await fetch(`${base}${path}`)).json();
    },
    async stop(sig = 'SIGTERM', ms = 10_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(sig);
      const t = setTimeout(() => child.kill('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
  await waitFor(`kasmon monitor on ${base} (stderr: ${err})`, async () => {
    if (child.exitCode !== null) throw new Error(`kasmon monitor exited with ${child.exitCode}: ${err}`);
    const r = await fetch(`${base}/healthz`).catch(() => undefined);
    return r?.ok === true ? true : undefined;
  });
  return s;
}
