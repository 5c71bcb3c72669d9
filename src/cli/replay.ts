import { parseArgs } from 'node:util';
import { EXIT } from '../errors.js';
import { alertEvent } from '../export/ecs.js';
import { NdjsonSink } from '../export/ndjson.js';
import { renderTable } from '../export/report-table.js';
import type { Analyzer } from '../analyze/analyzer.js';
import type { Decoder } from '../capture/decoder.js';
import type { Config } from '../config/load.js';
import { buildReport, type ReplayReport } from '../export/report.js';
import { createAnalyzer, createDecoder, readAll, type RunResult } from '../engine/pipeline.js';
import { interruptedCode, interruptible, loadWithOverrides, problems, UsageError } from './common.js';

export async function replay(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      format: { type: 'string', default: 'table' },
      alerts: { type: 'string' },
      cutoff: { type: 'string' },
      observer: { type: 'string' },
      'fail-on-alert': { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) throw new UsageError('replay needs at least one capture file (or - for stdin)');
  if (values.format !== 'table' && values.format !== 'json') throw new UsageError(`--format ${values.format}: use table or json`);
  const config = loadWithOverrides(values.config, values.cutoff, values.observer);
  const sink = values.alerts !== undefined ? new NdjsonSink(values.alerts) : undefined;
  const ctx = { observerName: config.observer.name, cutoffIso: config.cutoff.iso };
  const analyzer = createAnalyzer(config, { onAlert: (a, c) => sink?.write(alertEvent(a, c, ctx)) });
  const decoder = createDecoder(config, (o) => analyzer.onObservation(o), true);
  const ac = interruptible();
  let run;
  try {
    run = await readAll(positionals, decoder, { signal: ac.signal, afterChunk: () => sink?.flush() });
  } finally {
    await sink?.close();
  }
  const r = report(config, decoder, analyzer, run);
  const out = values.format === 'json' ? JSON.stringify(r, null, 2) + '\n' : renderTable(r);
  // When alerts go to stdout too, keep the report off it (stderr) so the NDJSON stays clean.
  if (values.alerts === '-') process.stderr.write(out);
  else process.stdout.write(out);
  const interrupted = interruptedCode(ac);
  if (interrupted !== undefined) return interrupted;
  if (values['fail-on-alert'] && r.totals.clients_after_cutoff > 0) return EXIT.alert;
  return problems(run);
}

function report(config: Config, decoder: Decoder, analyzer: Analyzer, run: RunResult): ReplayReport {
  return buildReport({
    cutoffMicros: config.cutoff.micros,
    observer: config.observer.name,
    reads: run.reads,
    frames: decoder.stats.frames,
    bytes: decoder.stats.bytes,
    observations: decoder.stats.observations,
    analyzer,
    issues: decoder.issues,
    evictions: decoder.evictions(),
  });
}
