import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { createDecoder, readAll } from '../engine/pipeline.js';
import { observationJson } from '../export/observation-json.js';
import { interruptedCode, interruptible, problems, Stdout, UsageError } from './common.js';

export async function names(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: 'string' }, stats: { type: 'boolean', default: false } },
  });
  if (positionals.length === 0) throw new UsageError('names needs at least one capture file (or - for stdin)');
  const config = loadConfig(values.config);
  const out = new Stdout();
  const withFile = positionals.length > 1;
  const decoder = createDecoder(config, (o) => out.write(observationJson(o, withFile) + '\n'));
  const ac = interruptible();
  const run = await readAll(positionals, decoder, { signal: ac.signal, afterChunk: () => (out.pending > 0 ? out.flush() : undefined) });
  await out.flush();
  if (values.stats) {
    const s = decoder.stats;
    const lines = [`frames ${s.frames}, bytes ${s.bytes}`, `observations ${JSON.stringify(s.observations)}`];
    for (const d of decoder.issues.rows()) lines.push(`${d.layer}/${d.kind}/${d.reason} ${d.count}`);
    for (const [k, n] of Object.entries(decoder.evictions())) lines.push(`evictions ${k} ${n}`);
    const pend = decoder.pending();
    lines.push(`pending flows ${pend.flows}, fragment trains ${pend.fragmentTrains}, quic connections ${pend.quicConnections}`);
    lines.push(`peak rss ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
    process.stderr.write(lines.join('\n') + '\n');
  }
  return interruptedCode(ac) ?? problems(run);
}
