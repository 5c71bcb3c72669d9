import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Analyzer } from '../analyze/analyzer.js';
import type { ReadResult } from '../capture/read/source.js';
import { addTotals, emptyTotals } from '../engine/decode-totals.js';
import type { EngineErrors } from '../engine/engine.js';
import { checkReadable, type EachResult } from '../engine/inputs.js';
import { KasmonError } from '../errors.js';
import type { Progress } from './progress.js';
import { decodeJudged, type Judged } from './replay-wire.js';
import type { WorkerJob, WorkerMessage } from './replay-worker.js';

/**
 * `kasmon replay -j N`: up to N inputs decoded at once, one worker thread per input (each with
 * the engine a serial replay would use for it), and one analyzer in this thread that takes the
 * inputs' observations in the order the inputs were given: a worker that finishes early waits
 * in a buffer for the ones before it. Analysis is cheap next to decoding (it sees matched names
 * only), so one thread keeps up with several decoders; and because it sees the same
 * observations in the same order with the same judged times, the report and the alerts are the
 * same as the serial run's, byte for byte (test/e2e/parallel.test.ts).
 */
export interface ParallelOptions {
  configFile: string | undefined;
  cutoff: string | undefined;
  observer: string | undefined;
  analyzer: Analyzer;
  errors: EngineErrors;
  signal: AbortSignal;
  progress: Progress | undefined;
}

/** Regular files only (a pipe or stdin is read once, in this thread), and more than one. */
export function canParallelise(inputs: readonly string[]): boolean {
  if (inputs.length < 2) return false;
  for (const i of inputs) {
    if (i === '-') return false;
    try {
      if (!statSync(i).isFile()) return false;
    } catch {
      return false; // checkReadable will say why
    }
  }
  return true;
}

interface Slot {
  batches: Judged[][];
  done: boolean;
  read?: ReadResult;
  rejected?: string;
  bytes: number;
  frames: number;
}

export async function replayParallel(inputs: readonly string[], jobs: number, o: ParallelOptions): Promise<EachResult> {
  checkReadable(inputs);
  const workerUrl = new URL('./replay-worker.js', import.meta.url);
  const slots: Slot[] = inputs.map(() => ({ batches: [], done: false, bytes: 0, frames: 0 }));
  const totals = emptyTotals();
  let next = 0; // the input whose observations the analyzer takes now
  let started = 0;
  let running = 0;
  const live = new Set<Worker>();
  const a = o.analyzer;

  const feed = (batch: Judged[]): void => {
    for (const [obs, at, time] of batch) {
      try {
        a.onObservation(obs, at, time, 0);
      } catch (e) {
        o.errors.record('analysis', e);
      }
    }
  };
  /** Feeds what the current input has buffered, and moves on past inputs that are done. */
  const drain = (): void => {
    while (next < slots.length) {
      const s = slots[next]!;
      for (const b of s.batches) feed(b);
      s.batches = [];
      if (!s.done) return;
      next++;
    }
  };

  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      for (const w of live) void w.terminate();
      reject(e);
    };
    const jobFor = (index: number): WorkerJob => ({ input: inputs[index]!, multi: inputs.length > 1, configFile: o.configFile, cutoff: o.cutoff, observer: o.observer });
    /** The next input for a worker that is free, if any is left (and nothing stops the run). */
    const nextIndex = (): number | undefined => (!failed && started < inputs.length && !o.signal.aborted ? started++ : undefined);
    const launch = (): void => {
      while (!failed && running < jobs && started < inputs.length && !o.signal.aborted) {
        // A worker takes one input after another (replay-worker.ts): its code is loaded and
        // compiled once, not once per input (~0.4 s of CPU each on the bench capture).
        let index = started++;
        running++;
        const w = new Worker(workerUrl, { workerData: jobFor(index) });
        live.add(w);
        let finished = false;
        w.on('message', (m: WorkerMessage) => {
          const s = slots[index]!;
          if (m.t === 'obs') {
            const batch = decodeJudged(m.rows);
            if (index === next) feed(batch);
            else s.batches.push(batch);
          } else if (m.t === 'progress') {
            s.bytes = m.bytes;
            s.frames = m.frames;
            if (o.progress !== undefined) {
              let b = 0;
              let f = 0;
              for (const x of slots) [b, f] = [b + x.bytes, f + x.frames];
              o.progress.input(Math.min(next, inputs.length - 1), inputs[next] ?? '');
              o.progress.update(b, f);
            }
          } else {
            if (m.t === 'done') {
              s.read = m.read;
              addTotals(totals, m.totals);
              if (m.errors.first !== undefined) for (let k = 0; k < m.errors.analysis + m.errors.output; k++) o.errors.record(k < m.errors.analysis ? 'analysis' : 'output', new Error(m.errors.first));
            } else if (m.usage && inputs.length > 1) {
              s.rejected = m.message;
            } else {
              finished = true;
              fail(m.exitCode !== undefined ? new KasmonError(m.usage ? 'ERR_INPUT_NOT_CAPTURE' : 'ERR_INPUT_UNREADABLE', m.message) : new Error(m.message));
              return;
            }
            s.done = true;
            drain();
            const more = nextIndex();
            if (more !== undefined) {
              index = more;
              w.postMessage(jobFor(index));
            } else {
              finished = true;
              w.postMessage(null); // no more inputs: the worker exits
            }
          }
        });
        w.on('error', (e) => fail(e));
        w.on('exit', () => {
          live.delete(w);
          running--;
          if (!finished && !failed && !o.signal.aborted) return fail(new Error(`the worker for ${inputs[index]} stopped without finishing`));
          if (!finished) slots[index]!.done = true;
          drain();
          if (next >= slots.length || (o.signal.aborted && running === 0)) resolve();
          else launch();
        });
      }
      if (o.signal.aborted && running === 0) resolve();
    };
    o.signal.addEventListener('abort', () => {
      for (const w of live) void w.terminate();
    });
    launch();
  });

  const reads: ReadResult[] = [];
  const damaged: string[] = [];
  const rejected: string[] = [];
  for (const s of slots) {
    if (s.rejected !== undefined) rejected.push(s.rejected);
    if (s.read !== undefined) {
      reads.push(s.read);
      if (s.read.damaged !== undefined) damaged.push(s.read.damaged);
    }
  }
  return { reads, damaged, rejected, totals };
}
