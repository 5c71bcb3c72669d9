import { accessSync, constants } from 'node:fs';
import { readCapture, type ReadResult } from '../capture/read/source.js';
import { EXIT, KasmonError } from '../errors.js';
import { addTotals, emptyTotals, type DecodeTotals } from './decode-totals.js';
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

export interface EachResult extends RunResult {
  /** Decode totals over every input read. */
  totals: DecodeTotals;
}

/** Refuses inputs that cannot be read, before anything is read (a typo fails fast). */
export function checkReadable(inputs: readonly string[]): void {
  for (const input of inputs) {
    if (input === '-') continue;
    try {
      accessSync(input, constants.R_OK);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new KasmonError('ERR_INPUT_UNREADABLE', `${input}: cannot read capture (${why}); check the path and permissions`);
    }
  }
}

/**
 * Reads each input with an engine of its own (`makeEngine(input, index)`), in the order given,
 * and adds up their decode totals: flows, fragments, QUIC handshakes and the network clock
 * start afresh with each input, while whatever the engines share (a replay's analyzer: clients,
 * the DNS-answer cache, alert state) carries across them. This is what `replay -j N` does in
 * parallel, so both give the same report. An input that opens but is not a capture is reported
 * and skipped; the rest still counts.
 */
export async function readEach(
  inputs: readonly string[],
  makeEngine: (input: string, index: number) => Engine,
  opts: RunOptions & { totals?: DecodeTotals } = {},
): Promise<EachResult> {
  checkReadable(inputs);
  const reads: ReadResult[] = [];
  const damaged: string[] = [];
  const rejected: string[] = [];
  // The caller may hold the running totals (a backfill samples them mid-run).
  const totals = opts.totals ?? emptyTotals();
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    if (opts.signal?.aborted) break;
    const engine = makeEngine(input, i);
    engine.setSource(inputs.length > 1 ? input : undefined);
    let r: ReadResult;
    try {
      r = await readCapture(input, engine.ingest.bind(engine), opts);
    } catch (e) {
      if (inputs.length > 1 && e instanceof KasmonError && e.exitCode === EXIT.usage) {
        rejected.push(e.message);
        continue;
      }
      throw e;
    } finally {
      engine.finish();
      addTotals(totals, engine.totals());
    }
    reads.push(r);
    if (r.damaged !== undefined) damaged.push(r.damaged);
  }
  return { reads, damaged, rejected, totals };
}

/**
 * Reads every input in turn into one engine (flows continue across files, as across rotated
 * captures), then finishes it. Paths are checked before anything is read, so a typo fails
 * fast; an input that opens but is not a capture is reported and skipped, and the rest still
 * counts.
 */
export async function readAll(inputs: readonly string[], engine: Engine, opts: RunOptions = {}): Promise<RunResult> {
  checkReadable(inputs);
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
