/** What every command shares: usage errors, buffered stdout, signals, input problems, config overrides. */
import { loadConfig, parseConfig, type Config } from '../config/load.js';
import { EXIT, exitForSignal } from '../errors.js';
import { cutoffRounding } from '../config/timestamp.js';
import { DRAIN_MAX_MS } from '../capture/read/pipe.js';
import type { Engine } from '../engine/engine.js';
import { coverageOf, nothingDecoded } from '../export/coverage.js';
import type { RunResult } from '../engine/inputs.js';

export { UsageError } from './usage-error.js';

/** Buffered stdout that honours backpressure once per chunk of input. */
export class Stdout {
  private parts: string[] = [];
  private size = 0;
  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
  }
  get pending(): number {
    return this.size;
  }
  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!process.stdout.write(text)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
  }
}

export function interruptible(): AbortController {
  const ac = new AbortController();
  const stop = (sig: NodeJS.Signals): void => {
    process.stderr.write(`kasmon: ${sig}: stopping; a pipe is read until it is empty (${DRAIN_MAX_MS / 1000} s at most), then what was collected is written\n`);
    ac.abort(sig);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac;
}

export function interruptedCode(ac: AbortController): number | undefined {
  if (!ac.signal.aborted) return undefined;
  return exitForSignal(ac.signal.reason);
}

/**
 * Reports every input that was skipped or cut short (one line each), whatever the exit code
 * turns out to be (an interrupt or --fail-on-alert must not hide them), and returns the code
 * these problems alone call for.
 */
export function problems(run: RunResult): number {
  const none = nothingRead(run);
  const note = none ? '(skipped)' : '(skipped; the other inputs were processed)';
  for (const m of run.rejected) process.stderr.write(`kasmon: ${m} ${note}\n`);
  if (none) process.stderr.write(`kasmon: not one of the ${run.rejected.length} inputs is a capture; nothing to report\n`);
  for (const d of run.damaged) process.stderr.write(`kasmon: ${d}\n`);
  if (run.rejected.length > 0) return EXIT.usage;
  return run.damaged.length > 0 ? EXIT.damaged : EXIT.ok;
}

/**
 * Exit 5 when frames were read and not one of them could be decoded (an unsupported link type
 * or encapsulation): said in one line on stderr too, for scripts that keep the report.
 */
export function undecodable(engine: Engine): number | undefined {
  const c = coverageOf(engine.totals());
  if (!nothingDecoded(c)) return undefined;
  const why = c.not_decoded.map((x) => `${x.reason}: ${x.frames}`).join(', ');
  process.stderr.write(`kasmon: not one of the ${c.frames_read} frames could be decoded (${why}); nothing was analysed\n`);
  return EXIT.undecodable;
}

/** True when every input was skipped: there is no report to print. */
export function nothingRead(run: RunResult): boolean {
  return run.reads.length === 0 && run.rejected.length > 0;
}

/**
 * Writes text made in pieces (a report one client at a time) to a stream, in batches of about
 * 64 KiB, waiting for the stream to drain when it asks: a large report is never held whole,
 * neither as objects nor as one string nor in the stream's own buffer.
 */
export async function writeChunks(out: NodeJS.WritableStream, chunks: Iterable<string>): Promise<void> {
  let batch: string[] = [];
  let size = 0;
  const send = async (): Promise<void> => {
    const text = batch.join('');
    batch = [];
    size = 0;
    if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  for (const c of chunks) {
    batch.push(c);
    size += c.length;
    if (size >= 1 << 16) await send();
  }
  if (size > 0) await send();
}

/**
 * Prints one line per failure that is not the input's fault — an exception in analysis (a
 * bug: the observations it hit are missing from the report, the rest is there) or an output
 * that could not be written — and tells whether there was one (exit code 1).
 */
export function engineFailure(engine: Engine, output: string | undefined): boolean {
  const e = engine.errors;
  if (e.first !== undefined) {
    const what = e.first.where === 'analysis' ? `analysis failed on ${e.analysis} observation${e.analysis === 1 ? '' : 's'}` : `an output failed ${e.output} time${e.output === 1 ? '' : 's'}`;
    process.stderr.write(`kasmon: internal error: ${what} (${e.first.error.message}); the report covers everything else. Please report this with the capture if you can\n`);
  }
  if (output !== undefined) process.stderr.write(`kasmon: ${output}\n`);
  return e.first !== undefined || output !== undefined;
}

/** The config file, with --cutoff/--observer laid over it through the same validation. */
export function loadWithOverrides(file: string | undefined, cutoff: string | undefined, observer: string | undefined): Config {
  const rounded = cutoff !== undefined ? cutoffRounding(cutoff) : undefined;
  if (rounded !== undefined) process.stderr.write(`kasmon: --cutoff: ${rounded}\n`);
  return quietConfig(file, cutoff, observer);
}

/** loadWithOverrides without the notice (a replay worker: the main thread said it already). */
export function quietConfig(file: string | undefined, cutoff: string | undefined, observer: string | undefined): Config {
  const config = loadConfig(file);
  if (cutoff === undefined && observer === undefined) return config;
  const over = [
    cutoff !== undefined ? `cutoff: ${JSON.stringify(cutoff)}` : '',
    observer !== undefined ? `observer:\n  name: ${JSON.stringify(observer)}` : '',
  ].join('\n');
  return parseConfig(over, 'command line (--cutoff/--observer)', config);
}
