// Line c2: the replay pipeline (capture → analyze, as `kasmon replay` runs it) over the file
// twice in one process, timing the second pass: no start-up, most code compiled, though the
// second pass's new decoder and analyzer still cost some re-optimisation (bench/README.md;
// one long pass, as a sensor runs, is measured by the c/c3 fit). Prints one JSON line.
import { loadConfig } from '../dist/config/load.js';
import { createAnalyzer, createDecoder, readAll, report } from '../dist/engine/pipeline.js';

const file = process.argv[2];
const config = loadConfig();
let wall = 0;
let frames = 0;
let bytes = 0;
for (let pass = 0; pass < 2; pass++) {
  const t0 = process.hrtime.bigint();
  const analyzer = createAnalyzer(config);
  const decoder = createDecoder(config, (o) => analyzer.onObservation(o), true);
  const run = await readAll([file], decoder);
  JSON.stringify(report(config, decoder, analyzer, run));
  wall = Number(process.hrtime.bigint() - t0) / 1e9;
  frames = decoder.stats.frames;
  bytes = run.reads[0].bytes;
}
process.stdout.write(JSON.stringify({ impl: 'replay-warm', packets: frames, bytes, wall }) + '\n');
