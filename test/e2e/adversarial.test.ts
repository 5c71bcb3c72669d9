import { closeSync, openSync, rmSync, writeSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, test } from 'vitest';
import { kasmon } from './cli.js';

/**
 * Hostile state pressure (issue 3): 1,000,000 half-open TCP flows (SYNs that never send a
 * byte) and 100,000 IP fragment trains that never complete, then one real DNS query. The
 * flow table and the fragment table must stay bounded (peak RSS under 300 MB), count their
 * evictions, and the decoder must still see the query at the end.
 */
const tmp = mkdtempSync(`${tmpdir()}/kasmon-adv-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HALF_OPEN = 1_000_000;
const FRAG_TRAINS = 100_000;

function ipChecksum(b: Buffer, o: number): number {
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += b.readUInt16BE(o + i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Ethernet + IPv4 header at `o`; addresses in 198.18.0.0/15 only. */
function ipv4(b: Buffer, o: number, src: number, dst: number, proto: number, payloadLen: number, id: number, frag: number): number {
  b.fill(0, o, o + 34);
  b.writeUInt16BE(0x0800, o + 12);
  const ip = o + 14;
  b[ip] = 0x45;
  b.writeUInt16BE(20 + payloadLen, ip + 2);
  b.writeUInt16BE(id, ip + 4);
  b.writeUInt16BE(frag, ip + 6);
  b[ip + 8] = 64;
  b[ip + 9] = proto;
  b.writeUInt32BE(src, ip + 12);
  b.writeUInt32BE(dst, ip + 16);
  b.writeUInt16BE(ipChecksum(b, ip), ip + 10);
  return ip + 20;
}

function writeCapture(path: string): void {
  const fd = openSync(path, 'w');
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(65535, 16);
  hdr.writeUInt32LE(1, 20);
  writeSync(fd, hdr);
  const chunk = Buffer.alloc(1 << 20);
  let n = 0;
  const base = 0xc6120000; // 198.18.0.0
  const server = 0xc6130001; // 198.19.0.1
  const t0 = Date.UTC(2024, 9, 1) / 1000;
  const rec = (i: number, len: number): number => {
    if (n + 16 + len > chunk.length) {
      writeSync(fd, chunk, 0, n);
      n = 0;
    }
    // 10,000 packets per second of packet time: the 100 k fragments span 10 s (< 60 s), so
    // they are bounded by the table size, not by the timeout.
    chunk.writeUInt32LE(t0 + Math.floor(i / 10_000), n);
    chunk.writeUInt32LE((i % 10_000) * 100, n + 4);
    chunk.writeUInt32LE(len, n + 8);
    chunk.writeUInt32LE(len, n + 12);
    return n + 16;
  };
  let i = 0;
  for (let k = 0; k < HALF_OPEN; k++, i++) {
    const o = rec(i, 54);
    const src = base + 1 + (k >>> 14);
    const t = ipv4(chunk, o, src, server, 6, 20, k & 0xffff, 0x4000);
    chunk.fill(0, t, t + 20);
    chunk.writeUInt16BE(1024 + (k & 0x3fff), t);
    chunk.writeUInt16BE(443, t + 2);
    chunk.writeUInt32BE((k * 2654435761) >>> 0, t + 4);
    chunk[t + 12] = 0x50;
    chunk[t + 13] = 0x02; // SYN
    n = t + 20;
  }
  for (let k = 0; k < FRAG_TRAINS; k++, i++) {
    const o = rec(i, 34 + 64);
    const src = base + 0x8000 + (k >>> 16);
    const t = ipv4(chunk, o, src, server, 17, 64, k & 0xffff, 0x2000); // MF, offset 0: a first fragment
    chunk.fill(0x41, t, t + 64);
    n = t + 64;
  }
  // One ordinary DNS query at the end: the decoder still works after all that.
  const dns = Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from('\x03s01\x03upd\x09kaspersky\x03com\x00', 'latin1'), Buffer.from([0, 1, 0, 1])]);
  const o = rec(i, 34 + 8 + dns.length);
  const u = ipv4(chunk, o, base + 0xffff, server, 17, 8 + dns.length, 7, 0);
  chunk.writeUInt16BE(40_000, u);
  chunk.writeUInt16BE(53, u + 2);
  chunk.writeUInt16BE(8 + dns.length, u + 4);
  chunk.writeUInt16BE(0, u + 6);
  dns.copy(chunk, u + 8);
  n = u + 8 + dns.length;
  writeSync(fd, chunk, 0, n);
  closeSync(fd);
}

describe('state stays bounded under hostile input', () => {
  test('1M half-open flows and 100k unfinished fragment trains: RSS < 300 MB, evictions counted', () => {
    const f = `${tmp}/adversarial.pcap`;
    writeCapture(f);
    const r = kasmon(['names', '--stats', f]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('"name":"s01.upd.kaspersky.com"');
    const num = (re: RegExp): number => Number(re.exec(r.stderr)?.[1] ?? NaN);
    expect(num(/^frames (\d+)/m)).toBe(HALF_OPEN + FRAG_TRAINS + 1);
    // Default table sizes (config limits.max_flows 65536, 8192 fragment trains) are far below the load.
    expect(num(/^evictions tcp_flows (\d+)$/m)).toBeGreaterThanOrEqual(HALF_OPEN - 65_536);
    expect(num(/^evictions ip_fragments (\d+)$/m)).toBeGreaterThanOrEqual(FRAG_TRAINS - 8192);
    expect(num(/^peak rss (\d+) MiB$/m)).toBeLessThan(300);
  }, 120_000);
});
