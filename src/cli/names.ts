import { loadConfig } from '../config/load.js';
import { Engine, engineLimits } from '../engine/engine.js';
import { readAll } from '../engine/inputs.js';
import { policyFrom } from '../engine/policy.js';
import { EXIT } from '../errors.js';
import { observationJson } from '../export/observation-json.js';
import { engineFailure, interruptedCode, interruptible, problems, Stdout, undecodable } from './common.js';
import { coverageOf } from '../export/coverage.js';
import { NAMES, parseCommand } from './options.js';
import { refuseStdoutOntoInput } from './outputs.js';

export async function names(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(NAMES, args);
  refuseStdoutOntoInput({ inputs: positionals }, 'names');
  const config = loadConfig(values.config);
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
