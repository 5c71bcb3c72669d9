#!/usr/bin/env node
// `npm run bench` (after `npm run build`): throughput and peak memory of the capture
// pipeline on a synthetic capture, next to two Node baselines and tshark.
//
//   a  pcap-parser walk      count records with the pcap-parser package (event API)
//   b  hand walk             fs.readSync + 1 MiB buffer + in-place record headers: the Node floor
//   b2 hand walk + views     (b) plus one Buffer view per packet, what a per-packet-Buffer API costs
//   c  kasmon replay         node dist/cli.js replay FILE --format json > /dev/null
//   c1 the same, not pinned  (V8's compiler and GC threads may use the other core)
//   c2 warm                  the replay pipeline's second pass over FILE in one process
//   c3 kasmon replay, 2x     (c) on a capture of twice the packets at the same rate: with (c)
//                              it splits a cold run into a fixed cost per process (start-up,
//                              JIT warm-up) and the rate one pinned core sustains after it
//   c4 kasmon replay, pipe   sh -c 'cat FILE | node dist/cli.js replay --format json -': stdin
//                              as a sensor feeds it (cat and kasmon share the pinned core)
//   d  kasmon names          node dist/cli.js names FILE > /dev/null
//   e  tshark fields         tshark -n -r FILE [-c N] -T fields -e dns.qry.name
//                              -e tls.handshake.extensions_server_name -e http.host > /dev/null
//   h  large rule lists      bench/config-scale.mjs: config load time and match rate for 1k,
//                              10k and 100k rules or names (no capture needed)
//
// Every line runs in its own child under `/usr/bin/time -f '%e %M'` (peak RSS) and, when
// available, `taskset -c 1` (one pinned core). Wall time is measured by this process around
// the child (so it includes process start-up: ~0.04 s for node, more for tshark).
// See bench/README.md.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DEFAULTS, GENERATOR_VERSION } from './gen-capture.mjs';
import { oneCoreFit } from './one-core-fit.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const OUT = path.join(BENCH, 'out');
let CLI = path.join(ROOT, 'dist', 'cli.js');
const DEFAULT_LINES = 'a,b,b2,c,c1,c2,c3,c4,d,e,f,f0,g,h,i';
const TSHARK_FIELDS = ['dns.qry.name', 'tls.handshake.extensions_server_name', 'http.host'];

const USAGE = `usage: npm run bench -- [options]      (or: node bench/run.mjs [options])
  --packets N          capture size (default 1200000)
  --runs K             timed runs per line, best wall time wins (default 3)
  --tshark-packets N   tshark reads only the first N packets (-c N; default 200000, 0 = whole file)
  --tshark-runs K      timed tshark runs (default 1)
  --only LIST          lines to run, e.g. a,b,e (default ${DEFAULT_LINES})
  --no-tshark          skip line e
  --no-verify          skip the one extra 'kasmon names' run that checks observation counts
  --json OUT           also write the results as JSON
  --quick              200000 packets, 1 run
  --rss-check          only: peak RSS of replay (and names, a, b) on N and on 2N packets
  --no-pin             do not pin to one CPU with taskset
  --cli PATH           kasmon entry point for lines c and d (default dist/cli.js), e.g. a saved older build`;

function parseOpts() {
  const { values } = parseArgs({
    options: {
      packets: { type: 'string' },
      runs: { type: 'string' },
      'tshark-packets': { type: 'string' },
      'tshark-runs': { type: 'string' },
      only: { type: 'string' },
      'no-tshark': { type: 'boolean' },
      'no-verify': { type: 'boolean' },
      json: { type: 'string' },
      quick: { type: 'boolean' },
      'rss-check': { type: 'boolean' },
      'no-pin': { type: 'boolean' },
      cli: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (v, d) => {
    if (v === undefined) return d;
    const n = Number(String(v).replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 0) {
      console.error(`bad number: ${v}\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  if (values.cli) CLI = path.resolve(values.cli);
  const quick = !!values.quick;
  return {
    packets: num(values.packets, quick ? 200_000 : 1_200_000),
    runs: Math.max(1, num(values.runs, quick ? 1 : 3)),
    tsharkPackets: num(values['tshark-packets'], 200_000),
    tsharkRuns: Math.max(1, num(values['tshark-runs'], 1)),
    only: new Set((values.only ?? DEFAULT_LINES).split(',').map((s) => s.trim()).filter(Boolean)),
    tshark: !values['no-tshark'],
    verify: !values['no-verify'],
    json: values.json,
    rssCheck: !!values['rss-check'],
    pin: !values['no-pin'],
  };
}

// ---------------------------------------------------------------------------------------

const has = (p) => { try { fs.accessSync(p, fs.constants.X_OK); return true; } catch { return false; } };
const which = (cmd) => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};
const GNU_TIME = has('/usr/bin/time') ? '/usr/bin/time' : null;
const TASKSET = which('taskset');
const TSHARK = which('tshark');
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');

/** Capture for N packets, generated on first use and cached by packet count + generator version. */
function ensureCapture(packets, spanSeconds = DEFAULTS.spanSeconds) {
  fs.mkdirSync(OUT, { recursive: true });
  const span = spanSeconds === DEFAULTS.spanSeconds ? '' : `-s${spanSeconds}`;
  const file = path.join(OUT, `capture-g${GENERATOR_VERSION}-${packets}${span}.pcap`);
  try {
    const meta = JSON.parse(fs.readFileSync(file + '.meta.json', 'utf8'));
    if (meta.generatorVersion === GENERATOR_VERSION && meta.packets === packets && fs.statSync(file).size === meta.bytes) {
      return { file, meta };
    }
  } catch {
    /* generate */
  }
  console.log(`generating ${file} ...`);
  const r = spawnSync(process.execPath, [path.join(BENCH, 'gen-capture.mjs'), '--packets', String(packets), '--out', file,
    '--span-seconds', String(spanSeconds)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`gen-capture.mjs failed (${r.status})`);
  const meta = JSON.parse(fs.readFileSync(file + '.meta.json', 'utf8'));
  return { file, meta };
}

/** Bytes occupied by the first n records (file offset after record n). */
function prefixBytes(file, meta, n) {
  if (n >= meta.packets) return meta.bytes;
  const cp = meta.checkpoints.find((c) => c.packets === n);
  if (cp) return cp.bytes;
  const fd = fs.openSync(file, 'r');
  const h = Buffer.alloc(16);
  let off = 24;
  for (let i = 0; i < n; i++) {
    fs.readSync(fd, h, 0, 16, off);
    off += 16 + h.readUInt32LE(8);
  }
  fs.closeSync(fd);
  return off;
}

let devNull;
let pinCpu = null;

/**
 * Runs one child; returns { wall, rssKiB, code, stdout, stderr }. stdout goes to /dev/null
 * unless capture is set.
 */
function measure(cmd, args, { capture = false, env, pin = true } = {}) {
  return new Promise((resolve) => {
    const timeFile = path.join(os.tmpdir(), `kasmon-bench-time-${process.pid}.txt`);
    let argv = [cmd, ...args];
    if (GNU_TIME) argv = [GNU_TIME, '-f', '%e %M', '-o', timeFile, ...argv];
    if (pinCpu !== null && pin) argv = [TASKSET, '-c', String(pinCpu), ...argv];
    devNull ??= fs.openSync('/dev/null', 'w');
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), {
      cwd: ROOT,
      stdio: ['ignore', capture ? 'pipe' : devNull, 'pipe'],
      env: env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    if (capture) child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { if (stderr.length < 65536) stderr += d; });
    child.on('error', (e) => resolve({ wall: NaN, rssKiB: NaN, code: -1, stdout, stderr: String(e) }));
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      let rssKiB = NaN;
      if (GNU_TIME) {
        try {
          const lines = fs.readFileSync(timeFile, 'utf8').trim().split('\n');
          rssKiB = Number(lines[lines.length - 1].split(' ')[1]);
          fs.rmSync(timeFile, { force: true });
        } catch { /* no rss */ }
      }
      resolve({ wall, rssKiB, code, stdout, stderr });
    });
  });
}

/** Counts observations per kind in `kasmon names` output (one JSON object per line). */
function countKinds(text) {
  const kinds = {};
  let lines = 0;
  for (const m of text.matchAll(/"kind"\s*:\s*"([a-z_]+)"/g)) {
    kinds[m[1]] = (kinds[m[1]] ?? 0) + 1;
    lines++;
  }
  return { kinds, lines };
}

// ---------------------------------------------------------------------------------------

function lines(file, meta, opts, big) {
  const node = process.execPath;
  const all = [
    { id: 'a', label: 'pcap-parser walk', cmd: node, args: [path.join(BENCH, 'walk-pcap-parser.mjs'), file], capture: true },
    { id: 'b', label: 'hand walk (Node floor)', cmd: node, args: [path.join(BENCH, 'walk-hand.mjs'), file], capture: true },
    { id: 'b2', label: 'hand walk + Buffer views', cmd: node, args: [path.join(BENCH, 'walk-hand.mjs'), file, '--views'], capture: true },
    { id: 'c', label: 'kasmon replay --format json', cmd: node, args: [CLI, 'replay', file, '--format', 'json'], kasmon: true },
    // The same run without taskset: decoding is still one thread, but V8's compiler and GC
    // helper threads may use another core instead of taking turns with it.
    { id: 'c1', label: 'kasmon replay, not pinned', cmd: node, args: [CLI, 'replay', file, '--format', 'json'], kasmon: true, unpinned: true },
    { id: 'c2', label: 'kasmon replay, warm (2nd pass)', cmd: node, args: [path.join(BENCH, 'replay-warm.mjs'), file], capture: true, kasmon: true, innerWall: true },
    { id: 'c4', label: 'kasmon replay - from a pipe', cmd: 'sh', args: ['-c', `cat '${file}' | '${node}' '${CLI}' replay --format json -`], kasmon: true },
    { id: 'd', label: 'kasmon names', cmd: node, args: [CLI, 'names', file], kasmon: true },
    // Four inputs (the capture four times), decoded one at a time or two at a time in worker
    // threads; not pinned, so -j 2 has the machine's two cores (same run, same conditions).
    { id: 'j1', label: 'kasmon replay -j 1, 4 inputs', cmd: node, args: [CLI, 'replay', '-j', '1', file, file, file, file, '--format', 'json'], kasmon: true, unpinned: true,
      packets: 4 * meta.packets, bytes: 4 * meta.bytes },
    { id: 'j2', label: 'kasmon replay -j 2, 4 inputs', cmd: node, args: [CLI, 'replay', '-j', '2', file, file, file, file, '--format', 'json'], kasmon: true, unpinned: true,
      packets: 4 * meta.packets, bytes: 4 * meta.bytes },
    // Timer lag while a replay runs, with the read loop's turns (f) and without them (f0).
    { id: 'f', label: 'replay + 1 ms timer (lag)', cmd: node, args: [path.join(BENCH, 'loop-lag.mjs'), file], capture: true, kasmon: true, innerWall: true, lag: true },
    { id: 'f0', label: 'the same, no event-loop turns', cmd: node, args: [path.join(BENCH, 'loop-lag.mjs'), file, '--no-yield'], capture: true, kasmon: true, innerWall: true, lag: true },
  ];
  if (big) {
    all.push({ id: 'c3', label: 'kasmon replay, 2x packets', cmd: node, args: [CLI, 'replay', big.file, '--format', 'json'], kasmon: true,
      packets: big.meta.packets, bytes: big.meta.bytes, file: big.file });
  }
  if (opts.tshark && TSHARK) {
    const n = opts.tsharkPackets > 0 ? Math.min(opts.tsharkPackets, meta.packets) : meta.packets;
    const args = ['-n', '-r', file, ...(n < meta.packets ? ['-c', String(n)] : []), '-T', 'fields', ...TSHARK_FIELDS.flatMap((f) => ['-e', f])];
    all.push({ id: 'e', label: `tshark fields${n < meta.packets ? ` (first ${fmtInt(n)})` : ''}`, cmd: TSHARK, args,
      packets: n, bytes: prefixBytes(file, meta, n), tshark: true });
  }
  return all.filter((l) => opts.only.has(l.id));
}

async function runLines(file, meta, opts, big) {
  const todo = lines(file, meta, opts, big);
  const results = new Map();
  for (const l of todo) {
    const rel = (a) => (a === process.execPath ? 'node' : a.startsWith(ROOT + path.sep) ? path.relative(ROOT, a) : a);
    results.set(l.id, { id: l.id, label: l.label, cmd: [l.cmd, ...l.args].map(rel).join(' ') + (l.capture ? '' : ' > /dev/null'),
      packets: l.packets ?? meta.packets, bytes: l.bytes ?? meta.bytes, file: l.file ?? file, walls: [], rssKiB: [], ok: true, note: '' });
  }
  const kasmonBuilt = fs.existsSync(CLI);
  let wsConf;
  if (todo.some((l) => l.tshark)) wsConf = fs.mkdtempSync(path.join(os.tmpdir(), 'kasmon-bench-ws-'));
  const tsharkEnv = { ...process.env, WIRESHARK_CONFIG_DIR: wsConf ?? '' };

  // warm the page cache so run 1 is not a disk benchmark
  for (const f of new Set([file, ...todo.map((l) => l.file).filter(Boolean)])) await measure(process.execPath, [path.join(BENCH, 'walk-hand.mjs'), f]);

  const rounds = Math.max(opts.runs, opts.tsharkRuns);
  for (let r = 0; r < rounds; r++) {
    for (const l of todo) {
      const res = results.get(l.id);
      if (!res.ok) continue;
      if (r >= (l.tshark ? opts.tsharkRuns : opts.runs)) continue;
      if (l.kasmon && !kasmonBuilt) {
        res.ok = false;
        res.note = `kasmon: not built yet (${path.relative(ROOT, CLI)} missing)`;
        console.log(`${l.id}: ${res.note}`);
        continue;
      }
      process.stdout.write(`  run ${r + 1}/${l.tshark ? opts.tsharkRuns : opts.runs} ${l.id} ${l.label} ... `);
      const m = await measure(l.cmd, l.args, { capture: l.capture, env: l.tshark ? tsharkEnv : undefined, pin: !l.unpinned });
      if (m.code !== 0) {
        res.ok = false;
        const why = m.stderr.split('\n').filter((s) => s && !/Running as user/.test(s)).slice(0, 3).join(' | ');
        res.note = l.kasmon ? `kasmon: not built yet (exit ${m.code}: ${why})` : `failed (exit ${m.code}: ${why})`;
        console.log(res.note);
        continue;
      }
      if (l.capture) {
        const out = JSON.parse(m.stdout.trim().split('\n').pop());
        if (out.packets !== meta.packets) {
          res.ok = false;
          res.note = `counted ${out.packets} packets, expected ${meta.packets}`;
        }
      }
      // c2 and f time their own pass: the child's wall would include start-up (and c2's first pass).
      const inner = l.innerWall ? JSON.parse(m.stdout.trim().split('\n').pop()) : undefined;
      res.walls.push(inner ? inner.wall : m.wall);
      if (l.lag) (res.lags ??= []).push({ maxLagMs: inner.maxLagMs, p99LagMs: inner.p99LagMs });
      res.rssKiB.push(m.rssKiB);
      console.log(`${m.wall.toFixed(3)} s, ${(m.rssKiB / 1024).toFixed(1)} MiB`);
    }
  }
  // tshark's fixed start-up (dissector registration), to read its rate on a prefix fairly
  let tsharkStartup = null;
  const tl = todo.find((l) => l.tshark);
  if (tl && results.get('e').ok) {
    const args = tl.args.filter((a, i, arr) => a !== '-c' && arr[i - 1] !== '-c');
    const m = await measure(tl.cmd, ['-c', '1', ...args], { env: tsharkEnv });
    if (m.code === 0) tsharkStartup = m.wall;
  }
  if (wsConf) fs.rmSync(wsConf, { recursive: true, force: true });

  const out = [...results.values()].map((res) => {
    const best = res.walls.length ? Math.min(...res.walls) : NaN;
    return { ...res, best, pps: res.packets / best, mbps: res.bytes / best / 1e6, peakRssMiB: Math.max(...res.rssKiB) / 1024 };
  });

  // one extra `names` run whose output is kept and checked against the generator's counts
  let namesCheck = null;
  if (opts.verify && kasmonBuilt && opts.only.has('d') && out.find((r) => r.id === 'd')?.ok) {
    const m = await measure(process.execPath, [CLI, 'names', file], { capture: true });
    const { kinds } = countKinds(m.stdout);
    const want = { dns_query: meta.names.dns_query, dns_answer: meta.names.dns_answer, tls_sni: meta.names.tls_sni,
      http_host: meta.names.http_host, quic_sni: 0 };
    namesCheck = { exit: m.code, want, got: kinds, match: Object.entries(want).every(([k, v]) => (kinds[k] ?? 0) === v) };
  }
  // node's own start-up, inside every node line's wall time
  const ns = [];
  for (let i = 0; i < 3; i++) ns.push((await measure(process.execPath, ['-e', '0'])).wall);
  const nodeStartup = Math.min(...ns);
  for (const r of out) if (r.id !== 'e' && r.id !== 'c2' && !r.lags && r.walls.length) r.ppsExStartup = r.packets / (r.best - nodeStartup);
  const e = out.find((r) => r.id === 'e');
  if (e && tsharkStartup !== null) {
    e.startup = tsharkStartup;
    e.ppsExStartup = e.packets / (e.best - tsharkStartup);
  }
  return { results: out, namesCheck, nodeStartup };
}

/**
 * Line g (bench/sensor.mjs): tcpreplay onto a veth watched by `kasmon monitor -i` through real
 * tcpdump; the highest rate with no kernel drops and every name reported. Needs root and
 * tcpreplay; says why when it cannot run.
 */
function sensorLine(file) {
  const why = process.getuid?.() !== 0 ? 'needs root (veth, tcpdump)' : !which('tcpreplay') ? 'tcpreplay not installed (Debian tcpreplay)' : !fs.existsSync(CLI) ? 'kasmon: not built yet' : undefined;
  if (why) {
    console.log(`g: sensor line skipped: ${why}`);
    return { skipped: why };
  }
  console.log('g: sensor: tcpreplay onto a veth, kasmon monitor -i on the other end ...');
  const r = spawnSync(process.execPath, [path.join(BENCH, 'sensor.mjs'), file, '--cli', CLI], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.log(`g: failed: ${r.stderr.split('\n').slice(0, 3).join(' | ')}`);
    return { failed: r.stderr };
  }
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  const b = out.best;
  if (!b) console.log('g: no rate passed (drops or lost names in every trial)');
  else {
    console.log(`g: sensor: ${fmtInt(b.pps)} packets/s = ${b.mbps.toFixed(0)} Mbit/s of the original traffic (tcpreplay ${b.rate}) with 0 kernel drops ` +
      `and every name reported; tcpdump passed ${fmtInt(b.received)} of ${fmtInt(out.packets)} packets (the default filter); CPU over ${b.wall.toFixed(2)} s: ` +
      `kasmon ${b.cpu.kasmon.toFixed(2)} s, tcpdump ${b.cpu.tcpdump.toFixed(2)} s` + (b.rate === '--topspeed' ? ' (tcpreplay\'s top speed: the sensor was not the limit)' : ''));
  }
  return out;
}

/** Line h: large rule lists (bench/config-scale.mjs), needs no capture. */
function configScaleLine(opts) {
  if (!fs.existsSync(CLI)) {
    console.log('h: kasmon: not built yet');
    return { skipped: 'not built' };
  }
  const json = path.join(OUT, 'config-scale.json');
  const r = spawnSync(process.execPath, [path.join(BENCH, 'config-scale.mjs'), '--runs', String(opts.runs), '--cli', CLI, '--json', json], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.log(`h: failed (exit ${r.status})`);
    return { failed: r.status };
  }
  return JSON.parse(fs.readFileSync(json, 'utf8'));
}

/**
 * Line i (bench/sinks.mjs): packet processing of `kasmon monitor --read` with every network
 * sink down (refusing, or never answering) against no sink at all, interleaved in one run.
 */
function sinksLine(file, opts) {
  if (!fs.existsSync(CLI)) {
    console.log('i: sinks line skipped: kasmon: not built yet');
    return { skipped: 'not built' };
  }
  console.log('i: alert sinks: kasmon monitor --read with no sinks vs every sink down, interleaved ...');
  const pinArgs = pinCpu !== null ? ['--pin', String(pinCpu)] : [];
  const r = spawnSync(process.execPath, [path.join(BENCH, 'sinks.mjs'), file, '--cli', CLI, '--runs', String(Math.max(3, opts.runs)), ...pinArgs], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.log(`i: failed: ${r.stderr.split('\n').slice(0, 3).join(' | ')}`);
    return { failed: r.stderr };
  }
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  const d = out.downRuns[0];
  const held = d.sinks.map((k) => `${k.queued} queued, ${fmtInt(k.spoolBytes)} B spooled, ${k.dropped} dropped`).join('; ');
  const rate = (m) => `${fmtInt(out[m].median)} packets/s median (best ${fmtInt(out[m].best)}; CPU ${out[m].cpuReadingMedian.toFixed(2)} s reading, ${out[m].cpuMedian.toFixed(2)} s in all)`;
  console.log(`i: alert sinks, ${out.runs} runs each: no sinks ${rate('none')}; 4 sinks delivering ${rate('up')}; 4 sinks down ${rate('down')}`);
  console.log(`i: down / none ${out.ratioMedian.toFixed(3)}x (median), ${out.ratioBest.toFixed(3)}x (best); down / up ${out.downVsUpMedian.toFixed(3)}x; ` +
    `a down run raised ${fmtInt(d.alerts)} alerts and its sinks held: ${held}`);
  return out;
}

function printTable(file, meta, opts, results) {
  const pin = pinCpu !== null ? `pinned to CPU ${pinCpu}` : 'not pinned';
  console.log(`\n${path.relative(ROOT, file)}: ${fmtInt(meta.packets)} packets, ${(meta.bytes / 1e6).toFixed(1)} MB; ` +
    `node ${process.version}, ${pin}, best of ${opts.runs} (tshark: ${opts.tsharkRuns})`);
  const head = ['line', 'what', 'packets', 'wall s', 'packets/s', 'MB/s', 'peak RSS MiB'];
  const rows = results.map((r) => r.ok && r.walls.length
    ? [r.id, r.label, fmtInt(r.packets), r.best.toFixed(3), fmtInt(r.pps), r.mbps.toFixed(1), r.peakRssMiB.toFixed(1)]
    : [r.id, r.label, '-', '-', '-', '-', /kasmon: not built yet/.test(r.note) ? 'kasmon: not built yet' : 'failed']);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const fmt = (row) => row.map((c, i) => (i < 2 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ');
  console.log(fmt(head));
  for (const row of rows) console.log(fmt(row));
  for (const r of results) if (r.note) console.log(`  ${r.id}: ${r.note}`);
  const c3line = results.find((r) => r.id === 'c3');
  if (c3line?.ok && c3line.walls.length) console.log(`  c3: ${path.relative(ROOT, c3line.file)} (same traffic and packet rate, twice as long)`);

  const get = (id) => results.find((r) => r.id === id && r.ok && r.walls.length);
  const ratios = {};
  const ratio = (x, y, name) => {
    const a = get(x), b = get(y);
    if (a && b) {
      ratios[name] = a.pps / b.pps;
      console.log(`  ${name.padEnd(34)} ${ratios[name].toFixed(2)}x`);
    }
  };
  console.log('ratios (packets/s):');
  ratio('b', 'a', 'hand walk / pcap-parser');
  ratio('c', 'a', 'kasmon replay / pcap-parser');
  ratio('c', 'e', 'kasmon replay / tshark');
  ratio('d', 'e', 'kasmon names / tshark');
  ratio('c', 'b', 'kasmon replay / hand walk');
  ratio('c2', 'e', 'kasmon replay warm / tshark');
  ratio('c4', 'c', 'kasmon replay pipe / file');
  ratio('f0', 'f', 'replay without / with loop turns');
  for (const id of ['f', 'f0']) {
    const l = get(id);
    if (l?.lags) {
      const worst = Math.max(...l.lags.map((x) => x.maxLagMs));
      const p99 = Math.max(...l.lags.map((x) => x.p99LagMs));
      console.log(`  ${id}: a 1 ms timer fired at most ${worst.toFixed(1)} ms late (p99 ${p99.toFixed(1)} ms) during the replay`);
    }
  }
  const c = get('c');
  if (c) console.log(`  kasmon replay vs target 1.5 M packets/s on one core: ${(c.pps / 1.5e6).toFixed(2)}x (cold process)`);
  const c1 = get('c1');
  if (c1) console.log(`  kasmon replay not pinned vs target 1.5 M packets/s: ${(c1.pps / 1.5e6).toFixed(2)}x (cold process, V8 helper threads on any core)`);
  const j1 = get('j1');
  const j2 = get('j2');
  if (j1 && j2) console.log(`  replay -j 2 vs -j 1 on 4 inputs: ${(j2.pps / j1.pps).toFixed(2)}x (${fmtInt(j1.pps)} -> ${fmtInt(j2.pps)} packets/s)`);
  const c2 = get('c2');
  if (c2) console.log(`  kasmon replay warm vs target 1.5 M packets/s on one core: ${(c2.pps / 1.5e6).toFixed(2)}x (second pass, one process)`);
  const c3 = get('c3');
  if (c3) console.log(`  kasmon replay 2x packets vs target 1.5 M packets/s on one core: ${(c3.pps / 1.5e6).toFixed(2)}x (cold process)`);
  if (!get('c') && !get('d') && (opts.only.has('c') || opts.only.has('d'))) console.log('  (kasmon lines: not built yet)');
  const fit = oneCoreFit(c, c3);
  if (fit) {
    console.log(`one pinned core, cold process = fixed cost + packets / rate (fitted from c and c3):`);
    console.log(`  fixed cost per process (node start-up, loading, JIT warm-up): ${fit.fixed.toFixed(3)} s`);
    console.log(`  sustained rate: ${fmtInt(fit.rate)} packets/s = ${(fit.rate / 1.5e6).toFixed(2)}x the target 1.5 M packets/s on one core` +
      ` -> ${fit.rate >= 1.5e6 ? 'MET' : 'NOT MET'}`);
    console.log(fit.breakEven > 0
      ? `  a whole cold run averages 1.5 M packets/s from ${fmtInt(fit.breakEven)} packets on`
      : '  a whole cold run never averages 1.5 M packets/s: the sustained rate is below it');
  }
  return { ratios, fit };
}

async function rssCheck(opts) {
  // The 2x file keeps the packet rate (and so the number of live flows, DNS transactions
  // and clients per second) and lasts twice as long: state bounded by time or by LRU size
  // gives the same peak RSS; anything kept per packet or per flow forever shows up as growth.
  console.log('peak RSS independent of file size? (one pinned run each; the 2x file has the same packet rate, twice the duration)');
  const small = ensureCapture(opts.packets);
  const big = ensureCapture(opts.packets * 2, DEFAULTS.spanSeconds * 2);
  const kasmonBuilt = fs.existsSync(CLI);
  const node = process.execPath;
  const cases = [
    ['c', 'kasmon replay', (f) => [node, [CLI, 'replay', f, '--format', 'json']], true],
    // With the old space capped, V8 must collect instead of growing: if this line stays flat
    // while plain `c` grows, the growth is GC slack, not retained state.
    ['c40', 'replay, heap cap 40MB', (f) => [node, ['--max-old-space-size=40', CLI, 'replay', f, '--format', 'json']], true],
    ['d', 'kasmon names', (f) => [node, [CLI, 'names', f]], true],
    ['a', 'pcap-parser walk', (f) => [node, [path.join(BENCH, 'walk-pcap-parser.mjs'), f]], false],
    ['b', 'hand walk', (f) => [node, [path.join(BENCH, 'walk-hand.mjs'), f]], false],
  ];
  const out = [];
  console.log(`  ${'line'.padEnd(28)}${fmtInt(small.meta.packets).padStart(14)} pkts${fmtInt(big.meta.packets).padStart(14)} pkts   growth`);
  for (const [id, label, mk, kasmon] of cases) {
    if (kasmon && !kasmonBuilt) {
      console.log(`  ${id} ${label}: kasmon: not built yet`);
      out.push({ id, label, note: 'kasmon: not built yet' });
      continue;
    }
    const r = [];
    for (const { file } of [small, big]) {
      const [cmd, args] = mk(file);
      r.push(await measure(cmd, args));
    }
    if (r.some((m) => m.code !== 0)) {
      const why = r.map((m) => m.code).join('/');
      const note = id === 'c40' ? `failed under the heap cap (exit ${why})` : kasmon ? `kasmon: not built yet (exit ${why})` : 'failed';
      console.log(`  ${id} ${label}: ${note}`);
      out.push({ id, label, note });
      continue;
    }
    const [s, b] = r.map((m) => m.rssKiB / 1024);
    console.log(`  ${(id + ' ' + label).padEnd(28)}${s.toFixed(1).padStart(14)} MiB${b.toFixed(1).padStart(14)} MiB   ${(b / s).toFixed(2)}x`);
    out.push({ id, label, rssMiB: [s, b], wall: r.map((m) => m.wall) });
  }
  return { files: [small, big].map(({ file, meta }) => ({ file: path.relative(ROOT, file), packets: meta.packets, bytes: meta.bytes })), results: out };
}

function environment() {
  const tsharkVersion = TSHARK ? spawnSync(TSHARK, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] : null;
  return {
    date: new Date().toISOString(),
    node: process.version,
    tshark: tsharkVersion,
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    pinnedCpu: pinCpu,
    gnuTime: !!GNU_TIME,
  };
}

async function main() {
  const opts = parseOpts();
  if (opts.pin && TASKSET && os.cpus().length > 1) pinCpu = 1;
  if (!GNU_TIME) console.log('note: /usr/bin/time not found; peak RSS will be n/a');
  let report;
  if (opts.rssCheck) {
    report = { kind: 'rss-check', env: environment(), ...(await rssCheck(opts)) };
  } else if ([...opts.only].every((id) => id === 'h')) {
    report = { kind: 'bench', env: environment(), configScale: configScaleLine(opts) };
  } else {
    const { file, meta } = ensureCapture(opts.packets);
    console.log(`capture ${path.relative(ROOT, file)} (generator v${GENERATOR_VERSION}); ${opts.runs} run(s) per line`);
    if (opts.only.has('e') && !TSHARK) console.log('e: tshark not installed, skipped');
    const big = opts.only.has('c3') ? ensureCapture(opts.packets * 2, DEFAULTS.spanSeconds * 2) : undefined;
    const { results, namesCheck, nodeStartup } = await runLines(file, meta, opts, big);
    const { ratios, fit } = printTable(file, meta, opts, results);
    if (namesCheck) {
      const parts = Object.entries(namesCheck.want).map(([k, v]) => `${k} ${namesCheck.got[k] ?? 0}/${v}`);
      console.log(`names check (kasmon names vs generator): ${parts.join(', ')} -> ${namesCheck.match ? 'OK' : 'MISMATCH'}`);
    }
    const nodeLines = results.filter((r) => r.id !== 'e' && r.id !== 'c2' && !r.lags && r.ok && r.walls.length);
    if (nodeLines.length) {
      console.log(`note: node start-up (node -e 0: ${nodeStartup.toFixed(3)} s) is inside every node line's wall time; without it: ` +
        nodeLines.map((r) => `${r.id} ${fmtInt(r.ppsExStartup)}`).join(', ') + ' packets/s.');
    }
    const sensor = opts.only.has('g') ? sensorLine(file) : undefined;
    const configScale = opts.only.has('h') ? configScaleLine(opts) : undefined;
    const sinks = opts.only.has('i') ? sinksLine(file, opts) : undefined;
    const e = results.find((r) => r.id === 'e');
    if (e?.ok) {
      const what = e.packets < meta.packets ? `the first ${fmtInt(e.packets)} packets only (-c ${e.packets}; --tshark-packets 0 for the whole file)` : 'the whole file';
      console.log(`note: tshark ran on ${what}.` + (e.startup != null
        ? ` Its start-up (tshark -c 1: ${e.startup.toFixed(2)} s) is inside its wall time; without it: ${fmtInt(e.ppsExStartup)} packets/s.`
        : ''));
    }
    report = {
      kind: 'bench', env: environment(),
      capture: { file: path.relative(ROOT, file), generatorVersion: meta.generatorVersion, packets: meta.packets, bytes: meta.bytes, counts: meta.counts, layers: meta.layers, names: meta.names },
      runs: opts.runs, tsharkRuns: opts.tsharkRuns,
      results: results.map(({ id, label, cmd, packets, bytes, walls, rssKiB, ok, note, best, pps, mbps, peakRssMiB, startup, ppsExStartup, lags }) =>
        ({ id, label, cmd, ok, note: note || undefined, packets, bytes, walls, best, pps, mbps, rssKiB, peakRssMiB, startup, ppsExStartup, lags })),
      ratios, oneCore: fit, namesCheck, nodeStartup, sensor, configScale, sinks,
    };
  }
  if (opts.json) {
    fs.mkdirSync(path.dirname(path.resolve(opts.json)), { recursive: true });
    fs.writeFileSync(opts.json, JSON.stringify(report, (k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n');
    console.log(`results written to ${opts.json}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
