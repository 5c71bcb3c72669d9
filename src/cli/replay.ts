import { availableParallelism } from 'node:os';
import type { AlertDecision } from '../analyze/alerts.js';
import type { ClientState } from '../analyze/clients.js';
import { Engine, EngineErrors, engineLimits, sharedAnalyzer } from '../engine/engine.js';
import { addTotals, emptyTotals } from '../engine/decode-totals.js';
import { readEach } from '../engine/inputs.js';
import { policyFrom, scopedPolicy } from '../engine/policy.js';
import { EXIT } from '../errors.js';
import { Backfill } from '../export/backfill.js';
import { alertEvent } from '../export/ecs.js';
import { NdjsonSink } from '../export/ndjson.js';
import { buildReport, jsonReport } from '../export/report.js';
import { renderCsv } from '../export/report-csv.js';
import { renderHtml } from '../export/report-html.js';
import { renderTable } from '../export/report-table.js';
import { coverageOf, nothingDecoded } from '../export/coverage.js';
import { interruptedCode, interruptible, loadWithOverrides, nothingRead, problems, writeChunks } from './common.js';
import { parseCommand, REPLAY } from './options.js';
import { refuseOverwrite, refuseStdoutOntoInput } from './outputs.js';
import { Progress } from './progress.js';
import { canParallelise, replayParallel } from './replay-parallel.js';
import { scopeOf } from './scope-options.js';
import { UsageError } from './usage-error.js';
import { version } from './version.js';
import { writeFile } from 'node:fs/promises';

/** `-j N`: a whole number from 1 to 64, or the number of cores when absent. */
export function jobsOf(v: string | undefined): number {
  if (v === undefined) return availableParallelism();
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 64) throw new UsageError(`--jobs "${v}" is not a whole number from 1 to 64`, 'replay');
  return Number(v);
}

export async function replay(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(REPLAY, args);
  const paths = { inputs: positionals, config: values.config };
  refuseOverwrite('--alerts', values.alerts, paths, 'replay');
  refuseOverwrite('--openmetrics', values.openmetrics, paths, 'replay');
  refuseStdoutOntoInput(paths, 'replay');
  const step = values['openmetrics-step'];
  if (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > 86_400) throw new UsageError(`--openmetrics-step "${step}" is not a whole number of seconds from 1 to 86400`, 'replay');
  const jobs = jobsOf(values.jobs);
  const config = loadWithOverrides(values.config, values.cutoff, values.observer);
  const policy = scopedPolicy(policyFrom(config), scopeOf(values, 'replay'));
  const limits = engineLimits(config);
  const sink = values.alerts !== undefined ? new NdjsonSink(values.alerts) : undefined;
  const ctx = { observerName: policy.observer, cutoffIso: config.cutoff.iso };
  const errors = new EngineErrors();
  const onAlert = sink !== undefined ? (a: AlertDecision, c: ClientState): void => sink.write(alertEvent(a, c, ctx)) : undefined;
  const analyzer = sharedAnalyzer(policy, limits, errors, onAlert);
  const ac = interruptible();
  const progress = Progress.forStderr(positionals);
  // Backfill needs one time line through every input: it reads them one after the other.
  const backfill = values.openmetrics !== undefined;
  const parallel = !backfill && jobs > 1 && canParallelise(positionals);
  let current: Engine | undefined;
  const running = emptyTotals();
  const bf: { b: Backfill | undefined } = { b: undefined };
  if (backfill) {
    const view = {
      policy,
      analyzer,
      errors,
      totals: () => (current !== undefined ? addTotals(addTotals(emptyTotals(), running), current.totals()) : running),
      memory: () => current?.decoder.memory() ?? {},
      now: () => current?.clock.now ?? Number.NaN,
    };
    bf.b = new Backfill(view, config, version(), Number(step));
  }
  let run;
  try {
    if (parallel) {
      run = await replayParallel(positionals, jobs, {
        configFile: values.config,
        cutoff: values.cutoff,
        observer: values.observer,
        analyzer,
        errors,
        signal: ac.signal,
        progress,
        ...(sink !== undefined ? { afterChunk: () => sink.flush() } : {}),
      });
    } else {
      let done = 0;
      run = await readEach(
        positionals,
        (input, i) => {
          if (current !== undefined) done += current.decoder.stats.bytes + 16 * current.decoder.stats.frames;
          const e: Engine = new Engine(policy, {
            mode: 'analyze',
            ageing: 'packet',
            limits,
            analyzer,
            errors,
            ...(backfill ? { step: { seconds: Number(step), onStep: (t: number) => bf.b?.sample(t) } } : {}),
          });
          current = e;
          progress?.input(i, input);
          return e;
        },
        {
          signal: ac.signal,
          totals: running,
          afterChunk: async () => {
            if (current !== undefined) progress?.update(done + current.decoder.stats.bytes + 16 * current.decoder.stats.frames, current.decoder.stats.frames);
            await sink?.flush();
          },
        },
      );
      void done;
    }
  } finally {
    progress?.end();
    await sink?.close();
  }
  const src = { policy, analyzer, totals: run.totals };
  const r = buildReport(src, run.reads);
  if (!nothingRead(run)) {
    const f = values.format;
    const text = f === 'json' ? jsonReport(r) : f === 'csv' ? renderCsv(r) : f === 'html' ? renderHtml(r) : renderTable(r);
    // When alerts go to stdout too, keep the report off it (stderr) so the NDJSON stays clean.
    await writeChunks(values.alerts === '-' ? process.stderr : process.stdout, text);
  }
  let omFailure: string | undefined;
  if (values.openmetrics !== undefined && bf.b !== undefined) omFailure = await writeBackfill(values.openmetrics, bf.b);
  const code = problems(run) || (undecodable(run.totals) ?? EXIT.ok); // said whatever the exit code
  const failed = failure(errors, sink?.failure ?? omFailure);
  const interrupted = interruptedCode(ac);
  if (interrupted !== undefined) return interrupted;
  if (failed) return EXIT.runtime;
  if (values['fail-on-alert'] && r.totals.clients_after_cutoff > 0) return EXIT.alert;
  return code;
}

async function writeBackfill(path: string, b: Backfill): Promise<string | undefined> {
  try {
    await writeFile(path, [...b.render()].join(''));
    return undefined;
  } catch (e) {
    return `${path}: cannot write the OpenMetrics file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the report is complete`;
  }
}

function undecodable(t: Parameters<typeof coverageOf>[0]): number | undefined {
  const c = coverageOf(t);
  if (!nothingDecoded(c)) return undefined;
  const why = c.not_decoded.map((x) => `${x.reason}: ${x.frames}`).join(', ');
  process.stderr.write(`kasmon: not one of the ${c.frames_read} frames could be decoded (${why}); nothing was analysed\n`);
  return EXIT.undecodable;
}

function failure(e: EngineErrors, output: string | undefined): boolean {
  if (e.first !== undefined) {
    const what = e.first.where === 'analysis' ? `analysis failed on ${e.analysis} observation${e.analysis === 1 ? '' : 's'}` : `an output failed ${e.output} time${e.output === 1 ? '' : 's'}`;
    process.stderr.write(`kasmon: internal error: ${what} (${e.first.error.message}); the report covers everything else. Please report this with the capture if you can\n`);
  }
  if (output !== undefined) process.stderr.write(`kasmon: ${output}\n`);
  return e.first !== undefined || output !== undefined;
}

