#!/usr/bin/env node
// Line (b) of bench/run.mjs: the floor for reading a classic pcap in Node. fs.readSync into
// one reusable 1 MiB buffer, parse the 16-byte record headers in place, carry a record that
// straddles two chunks over to the next read (copyWithin to the front). No allocation per
// packet. To keep the loop honest it reads one byte of every frame (the EtherType's high
// byte) and folds it into a checksum.
//
// Usage: node bench/walk-hand.mjs FILE [--views]
//   --views  also create a Buffer view (subarray) per packet, as an API handing out
//            per-packet Buffers must; shows what that allocation alone costs.
// Prints {"packets":N,"bytes":B,...} on stdout.

import fs from 'node:fs';

const file = process.argv[2];
const views = process.argv.includes('--views');
if (!file) {
  console.error('usage: walk-hand.mjs FILE [--views]');
  process.exit(2);
}

const fd = fs.openSync(file, 'r');
let buf = Buffer.allocUnsafe(1 << 20);
let len = 0; // valid bytes in buf
let pos = 0; // parse position in buf
let eof = false;

function fill() {
  // move the unparsed tail to the front, then read as much as fits
  if (pos > 0) {
    buf.copyWithin(0, pos, len);
    len -= pos;
    pos = 0;
  }
  while (len < buf.length && !eof) {
    const n = fs.readSync(fd, buf, len, buf.length - len, null);
    if (n === 0) eof = true;
    len += n;
  }
}

fill();
if (len < 24) throw new Error('short file');
const magic = buf.readUInt32LE(0);
let le;
let nanos = false;
if (magic === 0xa1b2c3d4) le = true;
else if (magic === 0xa1b23c4d) { le = true; nanos = true; }
else if (magic === 0xd4c3b2a1) le = false;
else if (magic === 0x4d3cb2a1) { le = false; nanos = true; }
else throw new Error(`not a classic pcap (magic 0x${magic.toString(16)})`);
const linkType = le ? buf.readUInt32LE(20) : buf.readUInt32BE(20);
pos = 24;

let packets = 0;
let bytes = 0;
let check = 0;
let lastSec = 0;
let truncated = false;
const u32 = le
  ? (o) => (buf[o] | (buf[o + 1] << 8) | (buf[o + 2] << 16)) + buf[o + 3] * 16777216
  : (o) => (buf[o + 3] | (buf[o + 2] << 8) | (buf[o + 1] << 16)) + buf[o] * 16777216;

for (;;) {
  if (len - pos < 16) {
    if (eof) { truncated = len - pos > 0; break; }
    fill();
    continue;
  }
  const caplen = u32(pos + 8);
  if (len - pos < 16 + caplen) {
    if (eof) { truncated = true; break; }
    if (16 + caplen > buf.length) {
      // a record larger than the buffer: grow (never happens with snaplen <= 1 MiB)
      const nb = Buffer.allocUnsafe(2 * (16 + caplen));
      buf.copy(nb, 0, pos, len);
      len -= pos;
      pos = 0;
      buf = nb;
    }
    fill();
    continue;
  }
  lastSec = u32(pos);
  const data = pos + 16;
  if (views) {
    const v = buf.subarray(data, data + caplen);
    check = (check + (v.length > 12 ? v[12] : 0)) | 0;
  } else {
    check = (check + (caplen > 12 ? buf[data + 12] : 0)) | 0;
  }
  packets++;
  bytes += caplen;
  pos = data + caplen;
}
fs.closeSync(fd);
process.stdout.write(JSON.stringify({ impl: views ? 'hand+views' : 'hand', packets, bytes, linkType, nanos, lastSec, check, truncated }) + '\n');
