// Line h: does a dead receiver slow packet processing? `kasmon monitor --read CAPTURE` three
// times per round, interleaved in the same run: with no alert sink ("none"); with every network
// sink down ("down": two Alertmanagers and two webhooks, one of each refusing connections (a
// closed port) and one accepting them and never answering (requests time out), default retry
// and timeout settings); and with the same four sinks delivering to a receiver in this process
// that answers 200 at once ("up"). A state directory in every mode, so every notification is
// spooled. The time is kasmon's own: from its "sensor started" log line to its "input ended"
// line (pino timestamps), so process start-up is left out; its CPU time (utime + stime) is read
// at both lines (to 10 ms), the whole process's and the reading's. Prints one JSON line: the rates of each mode (best and median) and what the
// sinks held at the end of each "down" run (alerts raised, queued, spooled bytes, dropped).
//
// usage: node bench/sinks.mjs CAPTURE [--cli dist/cli.js] [--runs N] [--pin CPU]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const file = path.resolve(args[0]);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const CLI = path.resolve(opt('--cli', 'dist/cli.js'));
const runs = Number(opt('--runs', '5'));
const pin = opt('--pin', undefined);
const meta = JSON.parse(fs.readFileSync(`${file}.meta.json`, 'utf8'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const listen = (srv) => new Promise((res) => srv.listen(0, '127.0.0.1', () => res(srv.address().port)));
const freePort = async () => {
  const s = net.createServer();
  const p = await listen(s);
  await new Promise((r) => s.close(r));
  return p;
};

/** Accepts connections and never answers: every request times out. */
const held = new Set();
const blackhole = net.createServer((sock) => {
  held.add(sock);
  sock.on('error', () => undefined);
  sock.on('close', () => held.delete(sock));
});

/** Answers 200 to everything. */
const ok = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('ok'));
});

const cpuOf = (pid) => {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (100 Hz)
  } catch {
    return NaN;
  }
};

async function once(mode, sinkArgs) {
  const port = await freePort();
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'kasmon-bench-sinks-'));
  const argv = [CLI, 'monitor', '--read', file, '--listen', `127.0.0.1:${port}`, '--state-dir', state, '--log-level', 'info', ...(sinkArgs[mode] ?? [])];
  const cmd = pin !== undefined ? ['taskset', '-c', pin, process.execPath, ...argv] : [process.execPath, ...argv];
  const k = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  k.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const lines = () => err.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return {}; } });
  let cpu = NaN;
  let cpuAtStart = NaN;
  for (let i = 0; i < 6000; i++) {
    if (Number.isNaN(cpuAtStart) && lines().some((l) => l.msg === 'sensor started')) cpuAtStart = cpuOf(k.pid);
    if (lines().some((l) => l.msg === 'input ended; still serving')) {
      cpu = cpuOf(k.pid);
      break;
    }
    if (k.exitCode !== null) throw new Error(`kasmon exited ${k.exitCode}: ${err}`);
    await sleep(10);
  }
  const ls = lines();
  const started = ls.find((l) => l.msg === 'sensor started');
  const ended = ls.find((l) => l.msg === 'input ended; still serving');
  if (!started || !ended) throw new Error(`no start/end lines: ${err.slice(0, 2000)}`);
  const status = await (await fetch(`http://127.0.0.1:${port}/api/v1/status`)).json();
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const alerts = metrics.split('\n').filter((l) => l.startsWith('kasmon_alerts_total{')).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  k.kill('SIGTERM');
  await new Promise((r) => k.once('exit', r));
  fs.rmSync(state, { recursive: true, force: true });
  const seconds = (ended.time - started.time) / 1000;
  return {
    mode,
    frames: ended.frames,
    seconds,
    pps: ended.frames / seconds,
    cpuSeconds: cpu,
    cpuReading: cpu - cpuAtStart,
    alerts,
    sinks: status.sinks.map((s) => ({ name: s.name, queued: s.queued, spoolBytes: s.spool_bytes, dropped: s.dropped, delivered: s.delivered, retries: s.retries })),
  };
}

async function main() {
  const hole = await listen(blackhole);
  const up = await listen(ok);
  const closed1 = await freePort();
  const closed2 = await freePort();
  const sinkArgs = {
    none: [],
    down: ['--alertmanager', `http://127.0.0.1:${closed1}`, '--alertmanager', `http://127.0.0.1:${hole}`, '--webhook', `http://127.0.0.1:${closed2}/hook`, '--webhook', `http://127.0.0.1:${hole}/hook`],
    up: ['--alertmanager', `http://127.0.0.1:${up}`, '--alertmanager', `http://127.0.0.1:${up}/b`, '--webhook', `http://127.0.0.1:${up}/hook`, '--webhook', `http://127.0.0.1:${up}/hook2`],
  };
  const modes = ['none', 'down', 'up'];
  const all = [];
  for (const m of modes) await once(m, sinkArgs); // warm-up (page cache), not counted
  for (let i = 0; i < runs; i++) {
    const order = modes.slice(i % 3).concat(modes.slice(0, i % 3)); // rotate who goes first
    for (const m of order) all.push(await once(m, sinkArgs));
  }
  for (const s of held) s.destroy();
  blackhole.close();
  ok.close();
  const summary = (mode) => {
    const rs = all.filter((r) => r.mode === mode);
    const pps = rs.map((r) => r.pps).sort((a, b) => a - b);
    const cpu = rs.map((r) => r.cpuSeconds).sort((a, b) => a - b);
    const reading = rs.map((r) => r.cpuReading).sort((a, b) => a - b);
    return { best: pps.at(-1), median: pps[Math.floor(pps.length / 2)], all: pps, cpuMedian: cpu[Math.floor(cpu.length / 2)], cpuReadingMedian: reading[Math.floor(reading.length / 2)] };
  };
  const res = Object.fromEntries(modes.map((m) => [m, summary(m)]));
  process.stdout.write(
    JSON.stringify({
      impl: 'sinks',
      packets: meta.packets,
      runs,
      ...res,
      ratioBest: res.down.best / res.none.best,
      ratioMedian: res.down.median / res.none.median,
      downVsUpMedian: res.down.median / res.up.median,
      downRuns: all.filter((r) => r.mode === 'down'),
      upRuns: all.filter((r) => r.mode === 'up'),
    }) + '\n',
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
