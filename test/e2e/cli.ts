import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI (npm test builds first), run the way a user runs it. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI; KASMON_CLI runs the same tests against another build (e.g. to show a test fails on an older one). */
export const CLI = process.env["KASMON_CLI"] ?? `${ROOT}dist/cli.js`;
export const FIXTURES = `${ROOT}test/fixtures`;

export function kasmon(args: string[], input?: Uint8Array | string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    input,
    maxBuffer: 1 << 28,
  });
}

export function lines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

/** Polls `ready` every 20 ms until it holds; fails after `ms` (a slow machine gets time, a hang does not pass). */
export async function until(ready: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * True once process `pid` reads its stdin without blocking (Linux /proc fdinfo flags has
 * O_NONBLOCK): kasmon sets that up after its SIGINT/SIGTERM handlers and right before it
 * waits for input, so a signal sent now finds it waiting. (SigCgt cannot tell: Node catches
 * both signals from start-up to restore the terminal.)
 */
export function waitingOnStdin(pid: number): boolean {
  try {
    const m = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/0`, 'utf8'));
    return m !== null && (parseInt(m[1]!, 8) & 0o4000) !== 0;
  } catch {
    return false;
  }
}
