/**
 * One input of `kasmon replay -j N`, decoded in a worker thread (replay-parallel.ts): the same
 * engine a serial replay uses for that input, in `decode` mode, handing each observation with
 * the time it is judged at to the main thread, which analyses the inputs in their order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readCapture } from '../capture/read/source.js';
import { Engine, engineLimits } from '../engine/engine.js';
import { policyFrom } from '../engine/policy.js';
import { KasmonError } from '../errors.js';
import { quietConfig } from './common.js';
import { encodeJudged, type Judged } from './replay-wire.js';

export interface WorkerJob {
  input: string;
  /** Observations carry the file name when a replay has several inputs. */
  multi: boolean;
  configFile: string | undefined;
  cutoff: string | undefined;
  observer: string | undefined;
}

export type WorkerMessage =
  /** A batch of judged observations, encoded by replay-wire.ts. */
  | { t: 'obs'; rows: string }
  | { t: 'progress'; bytes: number; frames: number }
  | { t: 'done'; read: import('../capture/read/source.js').ReadResult; totals: import('../engine/decode-totals.js').DecodeTotals; errors: { analysis: number; output: number; first: string | undefined } }
  | { t: 'error'; message: string; usage: boolean; exitCode: number | undefined };

const BATCH = 2048;

async function run(job: WorkerJob): Promise<void> {
  const port = parentPort!;
  const config = quietConfig(job.configFile, job.cutoff, job.observer);
  let batch: Judged[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    port.postMessage({ t: 'obs', rows: encodeJudged(batch) } satisfies WorkerMessage);
    batch = [];
  };
  const engine = new Engine(policyFrom(config), {
    mode: 'decode',
    ageing: 'packet',
    limits: engineLimits(config),
    onJudged: (o, at, time) => {
      batch.push([o, at, time]);
      if (batch.length >= BATCH) flush();
    },
  });
  engine.setSource(job.multi ? job.input : undefined);
  try {
    const read = await readCapture(job.input, engine.ingest.bind(engine), {
      afterChunk: () => {
        flush();
        const s = engine.decoder.stats;
        port.postMessage({ t: 'progress', bytes: s.bytes + 16 * s.frames, frames: s.frames } satisfies WorkerMessage);
      },
    });
    engine.finish();
    flush();
    const e = engine.errors;
    port.postMessage({ t: 'done', read, totals: engine.totals(), errors: { analysis: e.analysis, output: e.output, first: e.first?.error.message } } satisfies WorkerMessage);
  } catch (err) {
    engine.finish();
    flush();
    const k = err instanceof KasmonError;
    port.postMessage({ t: 'error', message: (err as Error).message, usage: k && err.exitCode === 2, exitCode: k ? err.exitCode : undefined } satisfies WorkerMessage);
  }
}

/**
 * The first input comes with the worker; each further one as a message once the last is done,
 * and `null` when there are no more (the worker then lets its port go and exits). Inputs are
 * run one at a time: a new message arrives only after 'done' or 'error'.
 */
if (parentPort !== null) {
  const port = parentPort;
  port.on('message', (job: WorkerJob | null) => {
    if (job === null) port.close();
    else void run(job);
  });
  void run(workerData as WorkerJob);
}
