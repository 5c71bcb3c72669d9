/**
 * Helpers for the operations tests (systemd unit, Prometheus rules, Grafana dashboard): real
 * tools only (systemd-analyze, promtool, prometheus, tcpdump), each started on this machine's
 * loopback, with bounded waits, and cleaned up by the caller.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI; KASMON_CLI runs the same tests against another build (as in test/e2e/cli.ts). */
export const CLI = process.env['KASMON_CLI'] ?? join(ROOT, 'dist/cli.js');

/**
 * The absolute path of `name` on PATH. A missing tool fails the test with the way to get it:
 * these tests never skip (CI installs the tools with .ci/install-debian).
 */
export function tool(name: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} is not installed: run \`npm run test:deps\` (.ci/install-debian, as root) first`);
}

/** Runs a command to completion with a time bound; the output is text. */
export function run(cmd: string, args: readonly string[], opts: { cwd?: string; timeoutMs?: number; input?: string } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
    killSignal: 'SIGKILL',
    input: opts.input,
    maxBuffer: 1 << 24,
  });
  if (r.error !== undefined) throw r.error;
  return r;
}

/** `cmd args` exited 0; otherwise an error that shows what it printed. */
export function runOk(cmd: string, args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${String(r.status ?? r.signal)}\n${r.stdout}${r.stderr}`);
  }
  return r.stdout + r.stderr;
}

/** A loopback TCP port nothing listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `kasmon-${prefix}-`));
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a value other than undefined; fails after `ms` with `what`. */
export async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>, everyMs = 200): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    }
    await sleep(everyMs);
  }
}

/** A child process with its output collected, and a stop that waits (bounded) for its exit. */
export interface Child {
  readonly proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function startChild(cmd: string, args: readonly string[], opts: { cwd?: string } = {}): Child {
  const proc = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer): void => {
    out += b.toString('utf8');
    if (out.length > 1 << 20) out = out.slice(-(1 << 19));
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
  return {
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A real Prometheus (Debian's `prometheus`) on a loopback port of its own, with its own storage. */
export interface Prometheus {
  readonly url: string;
  readonly dir: string;
  query(expr: string): Promise<PromResult>;
  get(path: string): Promise<unknown>;
  stop(): Promise<void>;
}

export interface PromSample {
  metric: Record<string, string>;
  value?: [number, string];
}
export type PromResult =
  | { status: 'success'; data: { resultType: 'vector' | 'matrix'; result: PromSample[] } | { resultType: 'scalar' | 'string'; result: [number, string] } }
  | { status: 'error'; errorType: string; error: string };

export async function startPrometheus(config: string): Promise<Prometheus> {
  const bin = tool('prometheus');
  const dir = tempDir('prometheus');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  let child: Child | undefined;
  for (let attempt = 0; attempt < 3 && child === undefined; attempt++) {
    const port = await freePort();
    const c = startChild(bin, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${String(port)}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ]);
    const url = `http://127.0.0.1:${String(port)}`;
    try {
      await waitFor('prometheus to be ready', 30_000, async () => {
        if (c.proc.exitCode !== null) throw new Error(`prometheus exited ${String(c.proc.exitCode)}: ${c.output()}`);
        const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
        return r.ok ? true : undefined;
      });
      child = c;
      const started = c;
      return {
        url,
        dir,
        async query(expr: string): Promise<PromResult> {
          const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(10_000) });
          return (await r.json()) as PromResult;
        },
        async get(path: string): Promise<unknown> {
          const r = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) });
          return (await r.json()) as unknown;
        },
        async stop() {
          await started.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (e) {
      await c.stop();
      // a port taken between freePort() and prometheus's bind: try another one
      if (attempt === 2 || !/address already in use/.test(c.output())) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    }
  }
  throw new Error('unreachable');
}

/** The metric names of README's "Metrics" table (the contract the rules and the dashboard build on). */
export function readmeMetrics(): Set<string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### Metrics');
  if (start < 0) throw new Error('README has no "### Metrics" section');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    const cell = /^\| (`[^|]*)\|/.exec(line)?.[1];
    if (cell === undefined) continue;
    for (const m of cell.matchAll(/`([a-z_:*]+)`/g)) names.add(m[1]!);
  }
  return names;
}

/** True when `metric` is in README's table (`process_*` and `nodejs_*` are prom-client's defaults). */
export function documented(metric: string, table: Set<string>): boolean {
  if (table.has(metric)) return true;
  return (metric.startsWith('process_') && table.has('process_*')) || (metric.startsWith('nodejs_') && table.has('nodejs_*'));
}

/** kasmon_, process_ and nodejs_ metric names a PromQL expression reads (recording-rule names excluded). */
export function metricsIn(expr: string): string[] {
  const out = new Set<string>();
  for (const m of expr.matchAll(/(?<![A-Za-z0-9_:"$])((?:kasmon|process|nodejs)_[a-z0-9_]+)\b/g)) out.add(m[1]!);
  return [...out];
}

/** The shipped config/prometheus/prometheus.yml, with its commented bearer-token block uncommented to read `tokenFile`. */
export function withTokenBlock(text: string, tokenFile: string): string {
  const out = text
    .replace(/^ {4}# authorization:$/m, '    authorization:')
    .replace(/^ {4}# {3}type: Bearer$/m, '      type: Bearer')
    .replace(/^ {4}# {3}credentials_file: \S+$/m, `      credentials_file: ${tokenFile}`);
  if (!out.includes(`credentials_file: ${tokenFile}`)) throw new Error('prometheus.yml has no commented authorization block to uncomment');
  return out;
}

interface ScrapeJob {
  job_name: string;
  scrape_interval?: string;
  scrape_timeout?: string;
  static_configs: { targets: string[] }[];
  [k: string]: unknown;
}

/**
 * The shipped scrape config made to run here: everything scraped and evaluated every second,
 * the `kasmon` job pointed at `target`, the rule files by absolute path; `edit` may change
 * the parsed config further.
 */
export function shippedPrometheusConfig(target: string, opts: { text?: string; edit?: (c: { scrape_configs: ScrapeJob[] }) => void } = {}): string {
  const text = opts.text ?? readFileSync(join(ROOT, 'config/prometheus/prometheus.yml'), 'utf8');
  const c = parseYaml(text) as { global: Record<string, string>; rule_files: string[]; scrape_configs: ScrapeJob[] };
  c.global = { scrape_interval: '1s', evaluation_interval: '1s' };
  c.rule_files = c.rule_files.map((f) => join(ROOT, 'config/prometheus', f));
  const job = c.scrape_configs.find((j) => j.job_name === 'kasmon');
  if (job === undefined) throw new Error('the shipped prometheus.yml has no kasmon job');
  Object.assign(job, { scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [target] }] });
  opts.edit?.(c);
  return stringifyYaml(c);
}
