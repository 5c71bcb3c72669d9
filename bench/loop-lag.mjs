// Lines f and f0: how long timers wait while a replay runs (the live sensor's HTTP endpoints,
// metric polling and alert deliveries share the event loop with packet processing), and what
// the read loop's turns cost. One pass of the replay pipeline in one process, a 1 ms interval
// timer measuring how late it fires. `--no-yield` (line f0) turns the turns off.
// Prints one JSON line: packets, bytes, wall (the pass), maxLagMs, p99LagMs, turns.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../dist/config/load.js';
import { Engine, engineLimits } from '../dist/engine/engine.js';
import { readAll } from '../dist/engine/inputs.js';
import { policyFrom } from '../dist/engine/policy.js';

const file = process.argv[2];
const noYield = process.argv.includes('--no-yield');
const config = loadConfig();
const engine = new Engine(policyFrom(config), { mode: 'analyze', ageing: 'packet', limits: engineLimits(config) });
const hist = monitorEventLoopDelay({ resolution: 1 });
let maxLag = 0;
let ticks = 0;
let last = performance.now();
const timer = setInterval(() => {
  const now = performance.now();
  maxLag = Math.max(maxLag, now - last - 1);
  last = now;
  ticks++;
}, 1);
hist.enable();
const t0 = performance.now();
last = t0;
const run = await readAll([file], engine, noYield ? { yieldEveryMs: Infinity } : {});
const wall = (performance.now() - t0) / 1000;
hist.disable();
clearInterval(timer);
maxLag = Math.max(maxLag, performance.now() - last - 1);
process.stdout.write(JSON.stringify({ impl: noYield ? 'loop-lag-no-yield' : 'loop-lag', packets: engine.decoder.stats.frames, bytes: run.reads[0].bytes, wall,
  maxLagMs: maxLag, p99LagMs: hist.percentile(99) / 1e6, timerTicks: ticks }) + '\n');
