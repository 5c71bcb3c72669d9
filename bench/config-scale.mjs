#!/usr/bin/env node
// Line h: large rule lists. For each shape of list and each size it generates a config (in
// bench/out/config-scale/, deterministic) and measures
//   - load: `node dist/cli.js check-config FILE` cold, under /usr/bin/time (wall, CPU, peak RSS),
//     and the same run's cost above check-config with the defaults alone;
//   - in one process: parseConfig of the text, policyFrom (the matcher and the decoder's name
//     filter, built at start and on every reload), and the match rate over 20,000 names
//     (half of them hits, the rest under the rules' roots or elsewhere) in names/s, and over
//     the first 1,000 of them repeated (the rule entries they touch stay in the CPU caches).
// Shapes:
//   rules      N rules, one name each, block style (six lines per rule)
//   names      one rule whose `patterns:` lists N names
//   feed       one rule with `patterns_file:` naming a text file of N names
//   wildcards  N label wildcards under one suffix (h{i}-*.evil.example), one flow-style rule each
// See bench/README.md, line h.
//
//   node bench/config-scale.mjs [--sizes 1000,10000,100000] [--shapes rules,names,feed,wildcards]
//                                [--runs 3] [--cli dist/cli.js] [--json OUT]

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const OUT = path.join(BENCH, 'out', 'config-scale');
const SHAPES = ['rules', 'names', 'feed', 'wildcards'];

/** Deterministic names spread over many roots, as a threat-intel list is. */
const host = (i) => `host${i}.domain${i % 997}-${(i * 7919) % 100003}.example`;

function generate(shape, n) {
  fs.mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `${shape}-${n}.yaml`);
  if (fs.existsSync(file)) return file;
  const lines = ['extends: none', 'endpoints:', '  other:'];
  if (shape === 'rules') {
    for (let i = 0; i < n; i++) lines.push(`    - id: ti-${i}`, `      pattern: ${host(i)}`, '      severity: high', '      confidence: C', '      sources: [feed]', '      purpose: threat intel');
  } else if (shape === 'names') {
    lines.push('    - id: ti', '      severity: high', '      confidence: C', '      patterns:');
    for (let i = 0; i < n; i++) lines.push(`        - ${host(i)}`);
  } else if (shape === 'feed') {
    const feed = path.join(OUT, `feed-${n}.txt`);
    fs.writeFileSync(feed, Array.from({ length: n }, (_, i) => host(i)).join('\n') + '\n');
    lines.push('    - id: ti', `      patterns_file: ${path.basename(feed)}`, '      severity: high', '      confidence: C');
  } else if (shape === 'wildcards') {
    for (let i = 0; i < n; i++) lines.push(`    - { id: w-${i}, pattern: "h${i}-*.evil.example", severity: high, confidence: C }`);
  } else throw new Error(`unknown shape ${shape}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** 20,000 names: half hits, a quarter near misses under the rules' roots, a quarter elsewhere. */
function names(shape, n) {
  const out = [];
  for (let i = 0; i < 20_000; i++) {
    const j = (i * 7919) % n;
    const hit = shape === 'wildcards' ? `h${j}-x${i}.evil.example` : host(j);
    const near = shape === 'wildcards' ? `miss${i}.evil.example` : `other${i}.domain${j % 997}-${(j * 7919) % 100003}.example`;
    out.push(i % 2 === 0 ? hit : i % 4 === 1 ? near : `www${i}.example${i % 50}.com`);
  }
  return out;
}

/** --child SHAPE N FILE: the in-process figures, as one JSON line. */
async function child(shape, n, file, cli) {
  const dist = path.join(path.dirname(path.resolve(cli)));
  const { loadConfig, parseConfig } = await import(pathToFileURL(path.join(dist, 'config', 'load.js')).href);
  const { policyFrom } = await import(pathToFileURL(path.join(dist, 'engine', 'policy.js')).href);
  const cpu = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  loadConfig(); // the defaults, as the CLI has them before reading a file
  const text = fs.readFileSync(file, 'utf8');
  let t = cpu();
  const config = parseConfig(text, file);
  const parseMs = cpu() - t;
  t = cpu();
  const policy = policyFrom(config);
  const policyMs = cpu() - t;
  const list = names(shape, n);
  let hits = 0;
  for (const name of list) if (policy.matcher.match(name) !== undefined) hits++;
  if (hits !== list.length / 2) throw new Error(`${shape} ${n}: ${hits} hits, want ${list.length / 2}`);
  const rate = (names) => {
    let count = 0;
    const t0 = cpu();
    while (cpu() - t0 < 400) {
      for (const name of names) policy.matcher.match(name);
      count += names.length;
    }
    return count / ((cpu() - t0) / 1000);
  };
  // The 20,000 names, and the first 1,000 of them over and over: with few distinct names the
  // rule tables' entries they touch stay in the CPU caches, which separates the work per name
  // (fixed) from the memory a large table spreads its entries over.
  const hot = Array.from({ length: 20 }, () => list.slice(0, 1000)).flat();
  process.stdout.write(JSON.stringify({ parseMs, policyMs, namesPerSec: rate(list), hotNamesPerSec: rate(hot), rules: config.endpoints.length }) + '\n');
}

function timed(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr.slice(0, 500)}`);
  const [wall, user, sys, kib] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys, rssMiB: kib / 1024 };
}

function main() {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1000,10000,100000' },
      shapes: { type: 'string', default: SHAPES.join(',') },
      runs: { type: 'string', default: '3' },
      cli: { type: 'string', default: path.join(ROOT, 'dist', 'cli.js') },
      json: { type: 'string' },
      child: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  const sizes = values.sizes.split(',').map(Number);
  const shapes = values.shapes.split(',');
  const runs = Math.max(1, Number(values.runs));
  const cli = path.resolve(values.cli);
  const node = process.execPath;
  const best = (f) => {
    const all = Array.from({ length: runs }, f);
    return all.reduce((a, b) => (b.cpu < a.cpu ? b : a));
  };
  const base = best(() => timed(node, [cli, 'check-config']));
  // A CPU-bound calibration loop: on a shared machine, read the figures against it.
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  let x = 0;
  for (let i = 0; i < 3e8; i++) x = (x + i) | 0;
  const cal = { cpuMs: (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1000, wallMs: performance.now() - w0, x };
  console.log(`h: large rule lists; ${path.relative(ROOT, cli)}; best of ${runs} by CPU; node ${process.version}`);
  console.log(`   check-config with the defaults alone: ${base.wall.toFixed(2)} s wall, ${base.cpu.toFixed(2)} s CPU, ${base.rssMiB.toFixed(0)} MiB; calibration loop ${cal.cpuMs.toFixed(0)} ms CPU / ${cal.wallMs.toFixed(0)} ms wall`);
  const head = ['shape', 'size', 'file MB', 'check-config wall s', 'CPU s', 'CPU above defaults s', 'peak RSS MiB', 'parse ms', 'matcher+filter ms', 'names/s (20k distinct)', 'names/s (1k distinct)'];
  const rows = [];
  const results = [];
  for (const shape of shapes) {
    for (const n of sizes) {
      const file = generate(shape, n);
      const bytes = fs.statSync(file).size + (shape === 'feed' ? fs.statSync(path.join(OUT, `feed-${n}.txt`)).size : 0);
      const load = best(() => timed(node, [cli, 'check-config', file]));
      const inner = JSON.parse(
        spawnSync(node, [fileURLToPath(import.meta.url), '--child', shape, String(n), file, '--cli', cli], { encoding: 'utf8', maxBuffer: 1 << 24 }).stdout.trim() || 'null',
      );
      if (inner === null) throw new Error(`${shape} ${n}: the in-process run failed`);
      const r = { shape, size: n, bytes, load, above: load.cpu - base.cpu, ...inner };
      results.push(r);
      rows.push([shape, n.toLocaleString('en-US'), (bytes / 1e6).toFixed(1), load.wall.toFixed(2), load.cpu.toFixed(2), r.above.toFixed(2), load.rssMiB.toFixed(0),
        inner.parseMs.toFixed(0), inner.policyMs.toFixed(0), Math.round(inner.namesPerSec).toLocaleString('en-US'), Math.round(inner.hotNamesPerSec).toLocaleString('en-US')]);
      console.log(`   ${rows.at(-1).join(' | ')}`);
    }
  }
  console.log(`\n| ${head.join(' | ')} |\n|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  if (values.json) {
    fs.mkdirSync(path.dirname(path.resolve(values.json)), { recursive: true });
    fs.writeFileSync(values.json, JSON.stringify({ node: process.version, runs, base, calibration: cal, results }, null, 1) + '\n');
  }
}

if (process.argv.includes('--child')) {
  const i = process.argv.indexOf('--child');
  const [shape, n, file] = process.argv.slice(i + 1, i + 4);
  const ci = process.argv.indexOf('--cli');
  await child(shape, Number(n), file, process.argv[ci + 1]);
} else {
  main();
}
