// Line g: the live sensor's capacity. `tcpreplay` (Debian tcpreplay) replays the bench capture
// onto one end of a veth pair this script creates; `kasmon monitor -i` watches the other end
// through real tcpdump with the default filter. A trial at a rate passes when tcpdump's kernel
// and interface drops stay 0 and kasmon reports every name the capture holds (the generator's
// counts: the default filter keeps them all). The first trial is --topspeed; if it fails, the
// rate is searched by halving and bisecting (--pps). Prints one JSON line: the highest passing
// rate in packets/s and Mbit/s of the original traffic, and the CPU seconds kasmon and tcpdump
// used in that trial. Needs root (veth, tcpdump), tcpreplay and a built kasmon.
//
// usage: node bench/sensor.mjs CAPTURE [--cli dist/cli.js] [--trials N]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const args = process.argv.slice(2);
const file = args[0];
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const CLI = path.resolve(opt('--cli', 'dist/cli.js'));
const maxTrials = Number(opt('--trials', '7'));
const meta = JSON.parse(fs.readFileSync(`${file}.meta.json`, 'utf8'));
const want = { dns_query: meta.names.dns_query, dns_answer: meta.names.dns_answer, tls_sni: meta.names.tls_sni, http_host: meta.names.http_host };
const ID = process.pid % 10_000;
const A = `kbr${ID}`;
const B = `kbs${ID}`;

function sh(cmd, a) {
  const r = spawnSync(cmd, a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${a.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
const cpu = (pid) => { try { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100; } catch { return NaN; } };
function metrics(text) {
  const m = new Map();
  for (const l of text.split('\n')) if (l && !l.startsWith('#')) { const i = l.lastIndexOf(' '); m.set(l.slice(0, i), Number(l.slice(i + 1))); }
  return m;
}

async function trial(rateArgs) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const cfg = `/tmp/kasmon-bench-sensor-${ID}.yaml`;
  // A day of ageing would never come: keep defaults, but ask tcpdump for counters each second.
  fs.writeFileSync(cfg, 'capture:\n  stats_seconds: 1\n');
  const k = spawn(process.execPath, [CLI, 'monitor', '-i', B, '--listen', `127.0.0.1:${port}`, '--config', cfg, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const get = async () => metrics(await (await fetch(`${base}/metrics`)).text());
  const status = async () => (await fetch(`${base}/api/v1/status`)).json();
  for (let i = 0; i < 200; i++) { try { const s = await status(); if (s.capture[0]?.up) break; } catch {} await sleep(50); }
  await sleep(1500); // tcpdump has the interface open
  const st = await status();
  const tdPid = st.capture[0].pid;
  const c0 = { kasmon: cpu(k.pid), tcpdump: cpu(tdPid) };
  const t0 = performance.now();
  const r = spawnSync('tcpreplay', ['-q', '-i', A, ...rateArgs, file], { encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`tcpreplay: ${r.stderr}`);
  // Let the pipeline drain: wait until the packet count stops moving.
  let last = -1;
  let m;
  for (let i = 0; i < 100; i++) { await sleep(500); m = await get(); const n = m.get('kasmon_packets_total'); if (n === last) break; last = n; }
  await sleep(1200); // the next counters from tcpdump
  m = await get();
  const c1 = { kasmon: cpu(k.pid), tcpdump: cpu(tdPid) };
  k.kill('SIGTERM');
  await new Promise((res) => k.once('exit', res));
  const got = Object.fromEntries(Object.keys(want).map((kind) => [kind, m.get(`kasmon_observations_total{kind="${kind}"}`) ?? 0]));
  const dropped = (m.get(`kasmon_capture_packets_dropped_total{interface="${B}",where="kernel"}`) ?? 0) + (m.get(`kasmon_capture_packets_dropped_total{interface="${B}",where="interface"}`) ?? 0);
  const lost = Object.keys(want).some((kind) => got[kind] !== want[kind]);
  const stats = /Rated: [\d.]+ Bps, ([\d.]+) Mbps, ([\d.]+) pps/.exec(r.stdout + r.stderr);
  return {
    rate: rateArgs.join(' '),
    wall,
    pps: stats ? Number(stats[2]) : meta.packets / wall,
    mbps: stats ? Number(stats[1]) : (meta.bytes * 8) / wall / 1e6,
    received: m.get(`kasmon_capture_packets_received_total{interface="${B}"}`),
    packetsRead: m.get('kasmon_packets_total'),
    dropped,
    observations: got,
    ok: dropped === 0 && !lost,
    cpu: { kasmon: c1.kasmon - c0.kasmon, tcpdump: c1.tcpdump - c0.tcpdump },
  };
}

async function main() {
  sh('ip', ['link', 'add', A, 'type', 'veth', 'peer', 'name', B]);
  try {
    for (const i of [A, B]) { sh('ip', ['link', 'set', i, 'mtu', '9000']); sh('ip', ['link', 'set', i, 'up']); }
    const trials = [];
    let t = await trial(['--topspeed']);
    trials.push(t);
    let best = t.ok ? t : undefined;
    if (!best) {
      // Bisect between 0 and the top speed on the packet rate.
      let lo = 0, hi = t.pps;
      for (let n = 1; n < maxTrials; n++) {
        const pps = Math.round(best === undefined && lo === 0 ? hi / 2 : (lo + hi) / 2);
        t = await trial(['--pps', String(pps)]);
        trials.push(t);
        if (t.ok) { lo = pps; best = t; } else hi = pps;
        if (best && hi / lo < 1.1) break;
      }
    }
    process.stdout.write(JSON.stringify({ impl: 'sensor', packets: meta.packets, bytes: meta.bytes, best: best ?? null, trials }) + '\n');
  } finally {
    spawnSync('ip', ['link', 'del', A]);
  }
}

main().catch((e) => { console.error(e); spawnSync('ip', ['link', 'del', A]); process.exit(1); });
