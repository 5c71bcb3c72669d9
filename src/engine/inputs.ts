import { accessSync, constants } from 'node:fs';
import { readCapture, type ReadResult } from '../capture/read/source.js';
import { EXIT, KasmonError } from '../errors.js';
import type { Engine } from './engine.js';

/** Reading inputs into an engine. */
export interface RunOptions {
  signal?: AbortSignal;
  /** Awaited once per chunk of input: outputs flush here. */
  afterChunk?: () => Promise<void> | void;
  /** See capture/read/source.ts YIELD_EVERY_MS (the bench turns it off to measure its cost). */
  yieldEveryMs?: number;
}

export interface RunResult {
  reads: ReadResult[];
  /** Inputs cut short or damaged part-way (what came before was processed). */
  damaged: string[];
  /** Inputs that turned out not to be captures: skipped, the others still processed. */
  rejected: string[];
}

/**
 * Reads every input in turn into one engine (flows continue across files, as across rotated
 * captures), then finishes it. Paths are checked before anything is read, so a typo fails
 * fast; an input that opens but is not a capture is reported and skipped, and the rest still
 * counts.
 */
export async function readAll(inputs: readonly string[], engine: Engine, opts: RunOptions = {}): Promise<RunResult> {
  for (const input of inputs) {
    if (input === '-') continue;
    try {
      accessSync(input, constants.R_OK);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new KasmonError('ERR_INPUT_UNREADABLE', `${input}: cannot read capture (${why}); check the path and permissions`);
    }
  }
  const reads: ReadResult[] = [];
  const damaged: string[] = [];
  const rejected: string[] = [];
  const onFrame = engine.ingest.bind(engine);
  for (const input of inputs) {
    if (opts.signal?.aborted) break;
    engine.setSource(inputs.length > 1 ? input : undefined);
    let r: ReadResult;
    try {
      r = await readCapture(input, onFrame, { ...opts, onIssue: (i) => engine.decoder.count(i) });
    } catch (e) {
      if (inputs.length > 1 && e instanceof KasmonError && e.exitCode === EXIT.usage) {
        rejected.push(e.message);
        continue;
      }
      throw e;
    }
    reads.push(r);
    if (r.damaged !== undefined) damaged.push(r.damaged);
  }
  engine.finish();
  return { reads, damaged, rejected };
}
