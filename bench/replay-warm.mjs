// Line c2: the replay pipeline (capture → analyze, as `kasmon replay` runs it) over the file
// twice in one process, timing the second pass: no start-up, most code compiled, though the
// second pass's new engine still costs some re-optimisation (bench/README.md; one long pass,
// as a sensor runs, is measured by the c/c3 fit). Prints one JSON line.
import { loadConfig } from '../dist/config/load.js';
import { Engine, engineLimits } from '../dist/engine/engine.js';
import { readAll } from '../dist/engine/inputs.js';
import { policyFrom } from '../dist/engine/policy.js';
import { buildReport, jsonReport } from '../dist/export/report.js';

const file = process.argv[2];
const config = loadConfig();
const policy = policyFrom(config);
let wall = 0;
let frames = 0;
let bytes = 0;
for (let pass = 0; pass < 2; pass++) {
  const t0 = process.hrtime.bigint();
  const engine = new Engine(policy, { mode: 'analyze', ageing: 'packet', limits: engineLimits(config) });
  const run = await readAll([file], engine);
  for (const _ of jsonReport(buildReport(engine, run.reads)));
  wall = Number(process.hrtime.bigint() - t0) / 1e9;
  frames = engine.decoder.stats.frames;
  bytes = run.reads[0].bytes;
}
process.stdout.write(JSON.stringify({ impl: 'replay-warm', packets: frames, bytes, wall }) + '\n');
