import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, test } from 'vitest';
import { clientInitialDatagrams, fakeClientHello } from '../helpers/quic.js';
import { clientHello } from '../helpers/tls.js';
import { CLI, ROOT } from './cli.js';

/**
 * The documented worst case (README "Limits"): every state table filled past its byte budget
 * at once, with the default config, stays under 512 MiB of peak RSS, each table evicting (and
 * counting) what does not fit, and a name at the very end is still found.
 * - clients: 4,000 clients each asking for 260 distinct Kaspersky names (DNS messages with 40
 *   questions each): over limits.memory.clients (128 MiB) and over the 256-name cap;
 * - TCP: 100,000 connections each holding the first 100 bytes of a ClientHello (48 MiB);
 * - IP fragments: 25,000 datagrams whose first 1,400-byte fragment never gets its rest (32 MiB);
 * - QUIC: 6,000 handshakes whose ClientHello needs a second Initial that never comes (16 MiB).
 * All within 9 s of packet time, so no idle timeout helps.
 */
const tmp = mkdtempSync(`${tmpdir()}/kasmon-worst-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CLIENTS = 4_000;
const NAMES = 260;
const PER_MESSAGE = 40;
const FLOWS = 100_000;
const TRAINS = 25_000;
const QUIC = 6_000;

class PcapWriter {
  private readonly fd: number;
  private readonly chunk = Buffer.alloc(1 << 22);
  private n = 0;
  private i = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
    const hdr = Buffer.alloc(24);
    hdr.writeUInt32LE(0xa1b2c3d4, 0);
    hdr.writeUInt16LE(2, 4);
    hdr.writeUInt16LE(4, 6);
    hdr.writeUInt32LE(262_144, 16);
    hdr.writeUInt32LE(1, 20); // Ethernet
    writeSync(this.fd, hdr);
  }
  /** Ethernet + IPv4 (+ `ipPayload`); packets are 30 µs apart from 2024-10-01T00:00:00Z. */
  ip(src: number, dst: number, proto: number, ipPayload: Buffer, id = 0, frag = 0x4000, totalLen?: number): void {
    const len = 14 + 20 + ipPayload.length;
    if (this.n + 16 + len > this.chunk.length) this.flush();
    const us = this.i++ * 30;
    const c = this.chunk;
    let o = this.n;
    c.writeUInt32LE(1_727_740_800 + Math.floor(us / 1e6), o);
    c.writeUInt32LE(us % 1e6, o + 4);
    c.writeUInt32LE(len, o + 8);
    c.writeUInt32LE(len, o + 12);
    o += 16;
    c.fill(0, o, o + 34);
    c.writeUInt16BE(0x0800, o + 12);
    const ip = o + 14;
    c[ip] = 0x45;
    c.writeUInt16BE(totalLen ?? 20 + ipPayload.length, ip + 2);
    c.writeUInt16BE(id, ip + 4);
    c.writeUInt16BE(frag, ip + 6);
    c[ip + 8] = 64;
    c[ip + 9] = proto;
    c.writeUInt32BE(src >>> 0, ip + 12);
    c.writeUInt32BE(dst >>> 0, ip + 16);
    ipPayload.copy(c, ip + 20);
    this.n = ip + 20 + ipPayload.length;
  }
  udp(src: number, dst: number, sport: number, dport: number, payload: Buffer): void {
    const u = Buffer.alloc(8 + payload.length);
    u.writeUInt16BE(sport, 0);
    u.writeUInt16BE(dport, 2);
    u.writeUInt16BE(8 + payload.length, 4);
    payload.copy(u, 8);
    this.ip(src, dst, 17, u);
  }
  tcp(src: number, dst: number, sport: number, seq: number, flags: number, payload: Buffer): void {
    const t = Buffer.alloc(20 + payload.length);
    t.writeUInt16BE(sport, 0);
    t.writeUInt16BE(443, 2);
    t.writeUInt32BE(seq >>> 0, 4);
    t[12] = 0x50;
    t[13] = flags;
    payload.copy(t, 20);
    this.ip(src, dst, 6, t);
  }
  flush(): void {
    writeSync(this.fd, this.chunk, 0, this.n);
    this.n = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

function dnsQuery(names: readonly string[], id: number): Buffer {
  const parts = [Buffer.from([id >> 8, id & 255, 0x01, 0x00, names.length >> 8, names.length & 255, 0, 0, 0, 0, 0, 0])];
  for (const n of names) {
    for (const label of n.split('.')) parts.push(Buffer.from([label.length]), Buffer.from(label, 'latin1'));
    parts.push(Buffer.from([0, 0, 1, 0, 1]));
  }
  return Buffer.concat(parts);
}

const CLIENT_NET = 0xc6120000; // 198.18.0.0/16
const SERVER = 0xc6130001; // 198.19.0.1

function writeCapture(path: string): void {
  const w = new PcapWriter(path);
  const hello = Buffer.from(fakeClientHello({ sni: 'dnl-01.geo.kaspersky.com', size: 1800 }));
  for (let q = 0; q < QUIC; q++) {
    const dcid = Uint8Array.of(0x51, q >> 8, q & 255, 7, 6, 5, 4, 3);
    const [first] = clientInitialDatagrams(hello, { dcid, packets: 2 });
    w.udp(CLIENT_NET + 0x100 + q, SERVER, 50_000, 443, Buffer.from(first!));
  }
  for (let c = 0; c < CLIENTS; c++) {
    for (let k = 0; k < NAMES; k += PER_MESSAGE) {
      const names: string[] = [];
      for (let j = k; j < Math.min(NAMES, k + PER_MESSAGE); j++) names.push(`n${j}.c${c}.kaspersky.com`);
      w.udp(CLIENT_NET + 0x4000 + c, 0xc6130035, 40_000 + (k % 1000), 53, dnsQuery(names, k));
    }
  }
  const tlsStart = Buffer.from(clientHello({ sni: 'ksn-url-geo.kaspersky-labs.com' }).subarray(0, 100));
  for (let f = 0; f < FLOWS; f++) {
    const src = CLIENT_NET + 0x8000 + (f >>> 10);
    const sport = 10_000 + (f & 1023);
    w.tcp(src, SERVER, sport, 1000, 0x02, Buffer.alloc(0));
    w.tcp(src, SERVER, sport, 1001, 0x18, tlsStart);
  }
  for (let t = 0; t < TRAINS; t++) {
    w.ip(CLIENT_NET + 0xc000 + (t >>> 12), SERVER, 17, Buffer.alloc(1400, 0x41), t & 0xffff, 0x2000, 20 + 1400);
  }
  // One real query at the end, from a client never seen: the pipeline still works.
  w.udp(CLIENT_NET + 0xfffe, 0xc6130035, 40_001, 53, dnsQuery(['s01.upd.kaspersky.com'], 7));
  w.close();
}

describe('worst case at the default budgets', () => {
  test('every table past its budget at once: peak RSS < 512 MiB, every table evicts and counts, the last name is found', () => {
    const file = `${tmp}/worst.pcap`;
    writeCapture(file);
    // Prints the process's peak RSS when it exits (resourceUsage is the kernel's ru_maxrss).
    const preload = `${tmp}/maxrss.cjs`;
    writeFileSync(preload, "process.on('exit', () => require('fs').writeSync(2, `maxrss ${process.resourceUsage().maxRSS}\\n`));\n");
    const r = spawnSync(process.execPath, ['--require', preload, CLI, 'replay', file, '--format', 'json'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(r.status, r.stderr).toBe(0);
    const rss = Number(/maxrss (\d+)/.exec(r.stderr)?.[1]) / 1024;
    const rep = JSON.parse(r.stdout) as {
      totals: { frames: number };
      clients: Array<{ client: string; names: Array<{ name: string }> }>;
      evictions: Record<string, number>;
      names_not_recovered: Record<string, number>;
    };
    expect(rep.totals.frames).toBe(QUIC + CLIENTS * Math.ceil(NAMES / PER_MESSAGE) + 2 * FLOWS + TRAINS + 1);
    expect(rep.evictions['clients']).toBeGreaterThan(0);
    expect(rep.evictions['client_names']).toBeGreaterThan(0);
    expect(rep.evictions['tcp_flows']).toBeGreaterThan(0);
    expect(rep.evictions['ip_fragments']).toBeGreaterThan(0);
    expect(rep.evictions['quic_connections']).toBeGreaterThan(0);
    expect(rep.names_not_recovered['flow_evicted']).toBeGreaterThan(0);
    expect(rep.clients.find((c) => c.client === '198.18.255.254')?.names.map((n) => n.name)).toEqual(['s01.upd.kaspersky.com']);
    expect(rss, `peak RSS ${rss.toFixed(0)} MiB`).toBeLessThan(512);
  }, 240_000);
});
