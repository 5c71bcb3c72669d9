import { Engine, engineLimits } from '../engine/engine.js';
import { readAll } from '../engine/inputs.js';
import { policyFrom } from '../engine/policy.js';
import { EXIT } from '../errors.js';
import { alertEvent } from '../export/ecs.js';
import { NdjsonSink } from '../export/ndjson.js';
import { buildReport, jsonReport } from '../export/report.js';
import { renderTable } from '../export/report-table.js';
import { engineFailure, interruptedCode, interruptible, loadWithOverrides, nothingRead, problems, undecodable, writeChunks } from './common.js';
import { parseCommand, REPLAY } from './options.js';
import { refuseOverwrite, refuseStdoutOntoInput } from './outputs.js';

export async function replay(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(REPLAY, args);
  const paths = { inputs: positionals, config: values.config };
  refuseOverwrite('--alerts', values.alerts, paths, 'replay');
  refuseStdoutOntoInput(paths, 'replay');
  const config = loadWithOverrides(values.config, values.cutoff, values.observer);
  const policy = policyFrom(config);
  const sink = values.alerts !== undefined ? new NdjsonSink(values.alerts) : undefined;
  const ctx = { observerName: policy.observer, cutoffIso: config.cutoff.iso };
  const engine = new Engine(policy, {
    mode: 'analyze',
    ageing: 'packet',
    limits: engineLimits(config),
    ...(sink !== undefined ? { onAlert: (a, c) => sink.write(alertEvent(a, c, ctx)) } : {}),
  });
  const ac = interruptible();
  let run;
  try {
    run = await readAll(positionals, engine, { signal: ac.signal, ...(sink !== undefined ? { afterChunk: () => sink.flush() } : {}) });
  } finally {
    await sink?.close();
  }
  const r = buildReport(engine, run.reads);
  if (!nothingRead(run)) {
    // When alerts go to stdout too, keep the report off it (stderr) so the NDJSON stays clean.
    await writeChunks(values.alerts === '-' ? process.stderr : process.stdout, values.format === 'json' ? jsonReport(r) : renderTable(r));
  }
  const code = problems(run) || (undecodable(engine) ?? EXIT.ok); // said whatever the exit code
  const failed = engineFailure(engine, sink?.failure);
  const interrupted = interruptedCode(ac);
  if (interrupted !== undefined) return interrupted;
  if (failed) return EXIT.runtime;
  if (values['fail-on-alert'] && r.totals.clients_after_cutoff > 0) return EXIT.alert;
  return code;
}
