#!/usr/bin/env node
// Checks a generated capture with tshark: every name the generator says it wrote is found by
// tshark (same counts per kind), nothing else is, and tshark reports no malformed frames.
//
// Usage: node bench/verify-capture.mjs FILE [--packets N]
//   --packets N  check only the first N packets (tshark -c N); N must be a multiple of
//                100000 (the generator's checkpoints) or the whole file. Default 200000.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { knownNames } from './gen-capture.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { packets: { type: 'string' } },
});
const file = positionals[0];
if (!file) {
  console.error('usage: node bench/verify-capture.mjs FILE [--packets N]');
  process.exit(2);
}
const meta = JSON.parse(fs.readFileSync(file + '.meta.json', 'utf8'));
let n = values.packets ? Number(values.packets.replace(/_/g, '')) : 200_000;
if (n >= meta.packets) n = meta.packets;
const want = n === meta.packets ? meta : meta.checkpoints.find((c) => c.packets === n);
if (!want) {
  console.error(`no checkpoint at ${n} packets (have: ${meta.checkpoints.map((c) => c.packets).join(', ')}, ${meta.packets})`);
  process.exit(2);
}

// Empty personal config dir, as shared/corpus/make-expected.sh does: default preferences.
const confDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kasmon-bench-ws-'));
const fields = ['dns.flags.response', 'dns.qry.name', 'dns.a', 'dns.aaaa', 'dns.cname',
  'tls.handshake.extensions_server_name', 'http.host', '_ws.malformed', '_ws.col.Protocol'];
const args = ['-n', '-r', file, '-c', String(n), '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a',
  '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])];
const t0 = Date.now();
const child = spawn('tshark', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WIRESHARK_CONFIG_DIR: confDir } });
let stderr = '';
child.stderr.on('data', (d) => { stderr += d; });

const got = { dns_query: 0, dns_response_question: 0, dns_answer_A: 0, dns_answer_AAAA: 0, dns_answer_CNAME: 0,
  tls_sni: 0, http_host: 0, malformed: 0, frames: 0 };
const known = knownNames();
const unknown = new Map();
const protocols = new Map();
const seen = (name) => {
  const k = name.toLowerCase().replace(/:\d+$/, '');
  if (!known.has(k)) unknown.set(name, (unknown.get(name) ?? 0) + 1);
};
const list = (s) => (s ? s.split(',') : []);
const rl = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
for await (const line of rl) {
  const [resp, qry, a, aaaa, cname, sni, host, malformed, proto] = line.split('\t');
  got.frames++;
  protocols.set(proto, (protocols.get(proto) ?? 0) + 1);
  for (const q of list(qry)) {
    if (resp === '0' || resp === 'False') got.dns_query++; else got.dns_response_question++;
    seen(q);
  }
  got.dns_answer_A += list(a).length;
  got.dns_answer_AAAA += list(aaaa).length;
  for (const c of list(cname)) { got.dns_answer_CNAME++; seen(c); }
  for (const s of list(sni)) { got.tls_sni++; seen(s); }
  for (const h of list(host)) { got.http_host++; seen(h); }
  if (malformed) got.malformed++;
}
const code = await new Promise((r) => child.on('close', r));
const secs = (Date.now() - t0) / 1000;
fs.rmSync(confDir, { recursive: true, force: true });

const expect = { ...want.names, malformed: 0, frames: n };
let ok = code === 0;
console.log(`tshark on ${file}, first ${n} packets: exit ${code}, ${secs.toFixed(1)} s`);
console.log('kind                     expected      tshark');
for (const k of ['frames', 'dns_query', 'dns_response_question', 'dns_answer_A', 'dns_answer_AAAA', 'dns_answer_CNAME', 'tls_sni', 'http_host', 'malformed']) {
  const mark = expect[k] === got[k] ? '' : '   <-- MISMATCH';
  if (mark) ok = false;
  console.log(`  ${k.padEnd(22)}${String(expect[k]).padStart(9)}${String(got[k]).padStart(12)}${mark}`);
}
if (unknown.size) {
  ok = false;
  console.log('names tshark found that the generator never wrote:', [...unknown].slice(0, 20));
}
console.log('top-level protocol column:', [...protocols].sort((x, y) => y[1] - x[1]).map(([p, c]) => `${p} ${c}`).join(', '));
if (stderr.trim()) console.log('tshark stderr:', stderr.trim().split('\n').filter((l) => !/Running as user/.test(l)).slice(0, 5).join(' | '));
console.log(ok ? 'OK' : 'FAILED');
process.exit(ok ? 0 : 1);
