#!/usr/bin/env node
// Line (a) of bench/run.mjs: walk a pcap with the pcap-parser package (event API) and count
// records. This is what any pcap-parser-based reader pays before decoding a single byte:
// pcap-parser reads through fs.createReadStream (64 KiB chunks), copies the unread tail
// onto every new chunk, and allocates a header object, a Buffer slice and an event per packet.
//
// Usage: node bench/walk-pcap-parser.mjs FILE   -> prints {"packets":N,"bytes":B,...} on stdout

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser');

const file = process.argv[2];
if (!file) {
  console.error('usage: walk-pcap-parser.mjs FILE');
  process.exit(2);
}
let packets = 0;
let bytes = 0;
let linkType = -1;
const parser = pcapParser.parse(file);
parser.on('globalHeader', (h) => { linkType = h.linkLayerType; });
parser.on('packet', (p) => {
  packets++;
  bytes += p.header.capturedLength;
});
parser.on('error', (e) => {
  console.error('pcap-parser error:', e.message);
  process.exitCode = 1;
});
parser.on('end', () => {
  process.stdout.write(JSON.stringify({ impl: 'pcap-parser', packets, bytes, linkType }) + '\n');
});
