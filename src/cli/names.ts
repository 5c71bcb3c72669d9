import { readCapture } from '../capture/read/source.js';
import { isoTime } from '../common/time.js';
import { loadConfig, type Config } from '../config/load.js';
import { Engine, engineLimits } from '../engine/engine.js';
import { checkReadable, readAll, type RunResult } from '../engine/inputs.js';
import { policyFrom } from '../engine/policy.js';
import { EXIT, KasmonError } from '../errors.js';
import { observationJson } from '../export/observation-json.js';
import { engineFailure, interruptedCode, interruptible, problems, Stdout, undecodable } from './common.js';
import { coverageOf } from '../export/coverage.js';
import { NAMES, parseCommand } from './options.js';
import { refuseStdoutOntoInput } from './outputs.js';

export async function names(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(NAMES, args);
  refuseStdoutOntoInput({ inputs: positionals }, 'names');
  const config = loadConfig(values.config);
  if (values.matched) return matched(positionals, config);
  const out = new Stdout();
  const withFile = positionals.length > 1;
  const engine = new Engine(policyFrom(config), {
    mode: 'names',
    ageing: 'packet',
    limits: engineLimits(config),
    onObservation: (o) => out.write(observationJson(o, withFile) + '\n'),
  });
  const ac = interruptible();
  const run = await readAll(positionals, engine, { signal: ac.signal, afterChunk: () => (out.pending > 0 ? out.flush() : undefined) });
  await out.flush();
  if (values.stats) {
    const d = engine.decoder;
    const s = d.stats;
    const lines = [`frames ${s.frames}, bytes ${s.bytes}`, `observations ${JSON.stringify(s.observations)}`];
    for (const r of d.issues.rows()) lines.push(`${r.layer}/${r.kind}/${r.reason} ${r.count}`);
    for (const [k, n] of Object.entries(d.evictions())) lines.push(`evictions ${k} ${n}`);
    const pend = d.pending();
    lines.push(`pending flows ${pend.flows}, fragment trains ${pend.fragmentTrains}, quic connections ${pend.quicConnections}`);
    const c = engine.clock;
    lines.push(`clock steps forward ${c.stepsForward}, backward ${c.stepsBackward}`);
    const cov = coverageOf(engine.totals());
    lines.push(`coverage ${cov.frames_decoded} of ${cov.frames_read} frames decoded${cov.not_decoded.map((x) => `; ${x.reason} ${x.frames}`).join('')}`);
    lines.push(`peak rss ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
    process.stderr.write(lines.join('\n') + '\n');
  }
  const code = problems(run) || (undecodable(engine) ?? EXIT.ok); // said whatever the exit code
  const failed = engineFailure(engine, undefined);
  return interruptedCode(ac) ?? (failed ? EXIT.runtime : code);
}

/**
 * `names --matched`: what `kasmon analyze` needs to report as replay would. Each input is
 * decoded as replay decodes it (an engine of its own, analysis's name filter); every
 * observation comes out in the order replay would judge it, with the time it is judged at when
 * that is not its own ("judged"), then one line of kind input_summary with the input's read
 * result and decode totals (or input_rejected, for an input that is not a capture).
 */
async function matched(inputs: string[], config: Config): Promise<number> {
  checkReadable(inputs);
  const out = new Stdout();
  const policy = policyFrom(config);
  const ac = interruptible();
  const run: RunResult = { reads: [], damaged: [], rejected: [] };
  let failed = false;
  for (const input of inputs) {
    if (ac.signal.aborted) break;
    const engine = new Engine(policy, {
      mode: 'decode',
      ageing: 'packet',
      limits: engineLimits(config),
      onJudged: (o, at, time) => {
        const line = observationJson(o, true, true);
        out.write(at === o.tsMicros ? line + '\n' : `${line.slice(0, -1)},"judged":${JSON.stringify(isoTime(time))}}\n`);
      },
    });
    // Always named: analyze keeps the name only when the replay had several inputs, as replay does.
    engine.setSource(input);
    try {
      const r = await readCapture(input, engine.ingest.bind(engine), { signal: ac.signal, afterChunk: () => (out.pending > 0 ? out.flush() : undefined) });
      engine.finish();
      run.reads.push(r);
      if (r.damaged !== undefined) run.damaged.push(r.damaged);
      out.write(JSON.stringify({ kind: 'input_summary', file: r.input, read: r, totals: engine.totals() }) + '\n');
    } catch (e) {
      engine.finish();
      if (inputs.length > 1 && e instanceof KasmonError && e.exitCode === EXIT.usage) {
        run.rejected.push(e.message);
        out.write(JSON.stringify({ kind: 'input_rejected', message: e.message }) + '\n');
        continue;
      }
      throw e;
    }
    failed ||= engineFailure(engine, undefined);
    await out.flush();
  }
  await out.flush();
  const code = problems(run) || EXIT.ok;
  return interruptedCode(ac) ?? (failed ? EXIT.runtime : code);
}
