#!/usr/bin/env node
// Deterministic synthetic capture for `npm run bench`.
//
// Writes a classic little-endian, microsecond-resolution pcap (LINKTYPE_ETHERNET) of N
// packets with a realistic traffic mix (see CLASS_MIX below and bench/README.md), and a
// sidecar `<out>.meta.json` with the generator version, the per-class counts and the
// number of names a correct extractor must find (also at every 100 000-packet checkpoint,
// so a prefix can be checked against `tshark -c N`).
//
// Usage: node bench/gen-capture.mjs [--packets N] [--out FILE] [--seed S] [--span-seconds S]
//
// Same arguments => byte-identical output (seeded PRNG, no Date.now, no Math.random).
// Packets are built in place in one reusable 1 MiB buffer that is written out whenever the
// next packet might not fit, so memory stays flat whatever N is.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

/** Bump whenever the output for given arguments changes (run.mjs caches by it). */
export const GENERATOR_VERSION = 7;

export const DEFAULTS = Object.freeze({
  packets: 1_200_000,
  seed: 0x6b61736d, // "kasm"
  start: '2024-09-29T03:50:00Z', // ten minutes before the cutoff 2024-09-29T04:00:00Z
  spanSeconds: 1200, // the capture always covers 03:50 -> ~04:10, whatever N is
});

/**
 * Target share of packets per class. Events that produce several packets (DNS
 * query+response, TCP handshake + first data segment) are drawn with weight share/size,
 * so the packet shares come out as listed. Handshakes (SYN, SYN-ACK) precede every TLS and
 * HTTP connection; they are payload-less like pure ACKs but counted on their own.
 */
export const CLASS_MIX = Object.freeze({
  bulk: 0.7,            // TCP data segments of long-lived flows, both directions
  ack: 0.07,            // pure ACKs in those flows
  dns: 0.08,            // DNS over UDP/53, queries and responses (1:1)
  tls: 0.04,            // TLS ClientHello = first data segment of a new :443 connection
  tls_handshake: 0.08,  // SYN + SYN-ACK of those connections
  http: 0.003,          // HTTP/1.1 GET with Host = first data segment of a new connection
  http_handshake: 0.006,
  ntp: 0.01,            // NTP client/server pairs on UDP/123
  udp_other: 0.011,     // UDP between high ports (WireGuard-shaped, random ciphertext)
});

const SNAPLEN = 262144;
const CHUNK = 1 << 20;
const MAX_PKT = 16 + 18 + 40 + 60 + 1500; // record hdr + eth/vlan + ipv6 + tcp(opts) + payload
const CHECKPOINT = 100_000;

// ---------------------------------------------------------------------------------------
// PRNG: sfc32 (fast, 128-bit state, good enough for traffic synthesis).

function makeRng(seed) {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 16; i++) next();
  return {
    u32: next,
    f: () => next() / 4294967296,
    int: (n) => Math.floor((next() / 4294967296) * n),
    range: (lo, hi) => lo + Math.floor((next() / 4294967296) * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor((next() / 4294967296) * arr.length)],
    chance: (p) => next() / 4294967296 < p,
    exp: (mean) => -Math.log(1 - next() / 4294967296) * mean,
  };
}

function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------
// Names. Kaspersky names follow shared/docs/ENDPOINTS.md; the rest are common benign names.
// CNAME chains are plausible shapes, not claims about real DNS.

const range2 = (lo, hi) => Array.from({ length: hi - lo + 1 }, (_, i) => String(lo + i).padStart(2, '0'));

const KASPERSKY_NAMES = [
  ...range2(0, 19).map((n) => `s${n}.upd.kaspersky.com`),
  ...range2(0, 19).map((n) => `dnl-${n}.geo.kaspersky.com`),
  ...range2(1, 6).map((n) => `p${n}.upd.kaspersky.com`),
  'downloads.upd.kaspersky.com',
  'cm.k.kaspersky-labs.com',
  'ksn-crypto-url-geo.kaspersky-labs.com',
  'ksn-crypto-file-geo.kaspersky-labs.com',
  'ksn-file-geo.kaspersky-labs.com',
  'ksn-url-geo.kaspersky-labs.com',
  'ksn-verdict-geo.kaspersky-labs.com',
  'dc1.ksn.kaspersky-labs.com',
  'dc1-file.ksn.kaspersky-labs.com',
  'ksn-file.geoksn.kaspersky.com',
  'ksn-url.geoksn.kaspersky.com',
  'activation-v2.kaspersky.com',
  'refresh-bkg.activation-v2.kaspersky.com',
  'crl.kaspersky.com',
  'touch.kaspersky.com',
  'click.kaspersky.com',
  'my.kaspersky.com',
  'www.kaspersky.com',
].map((n) => ({ n, k: true, net: 'ksp', cn: n === 'www.kaspersky.com' ? ['www.kaspersky.com.cdn.cloudflare.net'] : [] }));

const BENIGN_NAMES = [
  ['www.google.com', 'goog'],
  ['clients4.google.com', 'goog', ['clients.l.google.com']],
  ['update.googleapis.com', 'goog'],
  ['safebrowsing.googleapis.com', 'goog'],
  ['fonts.gstatic.com', 'goog'],
  ['www.gstatic.com', 'goog'],
  ['accounts.google.com', 'goog'],
  ['mail.google.com', 'goog', ['googlemail.l.google.com']],
  ['www.youtube.com', 'goog', ['youtube-ui.l.google.com']],
  ['ocsp.pki.goog', 'goog', ['pki-goog.l.google.com']],
  ['www.microsoft.com', 'akam', ['www.microsoft.com-c-3.edgekey.net', 'e13678.dscb.akamaiedge.net']],
  ['login.microsoftonline.com', 'msft', ['login.mso.msidentity.com', 'ak.privatelink.msidentity.com']],
  ['outlook.office365.com', 'msft', ['outlook.ha.office365.com', 'outlook.ms-acdc.office.com']],
  ['teams.microsoft.com', 'msft', ['teams-office-com.s-0005.dc-msedge.net']],
  ['graph.microsoft.com', 'msft', ['ags.privatelink.msidentity.com']],
  ['settings-win.data.microsoft.com', 'msft', ['atm-settingsfe-prod-geo2.trafficmanager.net']],
  ['ctldl.windowsupdate.com', 'akam', ['ctldl.windowsupdate.com.delivery.microsoft.com', 'wu-b-net.trafficmanager.net']],
  ['www.msftconnecttest.com', 'msft', ['www.msftncsi.com.edgesuite.net']],
  ['dns.msftncsi.com', 'msft'],
  ['www.bing.com', 'msft', ['www-www.bing.com.trafficmanager.net', 'www.bing.com.edgekey.net']],
  ['officeclient.microsoft.com', 'msft', ['prod.configsvc1.live.com.akadns.net']],
  ['cdnjs.cloudflare.com', 'cf'],
  ['www.cloudflare.com', 'cf'],
  ['discord.com', 'cf'],
  ['registry.npmjs.org', 'cf'],
  ['www.reddit.com', 'fastly', ['reddit.map.fastly.net']],
  ['pypi.org', 'fastly', ['dualstack.python.map.fastly.net']],
  ['github.githubassets.com', 'fastly'],
  ['github.com', 'gh'],
  ['api.github.com', 'gh'],
  ['objects.githubusercontent.com', 'fastly'],
  ['s3.amazonaws.com', 'aws', ['s3-1-w.amazonaws.com']],
  ['www.amazon.com', 'aws', ['tp.47cf2c8c9-frontier.amazon.com', 'd3ag4hukkh62yn.cloudfront.net']],
  ['slack.com', 'aws'],
  ['zoom.us', 'aws'],
  ['www.apple.com', 'akam', ['www.apple.com.edgekey.net', 'e6858.dscx.akamaiedge.net']],
  ['gateway.icloud.com', 'apple', ['gateway.fe.apple-dns.net']],
  ['captive.apple.com', 'apple', ['captive.g.aaplimg.com']],
  ['ocsp.digicert.com', 'edg', ['ocsp.edge.digicert.com', 'fp2e7a.wpc.phicdn.net']],
  ['en.wikipedia.org', 'misc', ['dyna.wikimedia.org']],
  ['connectivity-check.ubuntu.com', 'misc'],
  ['api.snapcraft.io', 'misc'],
  ['www.ultraav.com', 'cf'],
  ['intranet.corp.example', 'lan'],
].map(([n, net, cn]) => ({ n, k: false, net, cn: cn ?? [] }));

/** Every name the generator can put on the wire (queries, CNAME targets, SNI, Host). */
export function knownNames() {
  const s = new Set();
  for (const e of [...KASPERSKY_NAMES, ...BENIGN_NAMES]) { s.add(e.n); for (const c of e.cn) s.add(c); }
  return s;
}

const V4_NETS = {
  ksp: [[77, 74, 176, 8], [185, 85, 12, 1], [93, 159, 228, 4]], // [a, b, c, #c-blocks]
  goog: [[142, 250, 64, 64], [172, 217, 0, 32]],
  msft: [[13, 107, 0, 16], [20, 190, 128, 32], [40, 126, 0, 64]],
  akam: [[23, 32, 0, 64], [104, 64, 0, 64]],
  cf: [[104, 16, 0, 32], [172, 64, 0, 16]],
  fastly: [[151, 101, 0, 64]],
  gh: [[140, 82, 112, 16]],
  aws: [[52, 94, 0, 64], [54, 239, 0, 64]],
  apple: [[17, 253, 0, 64]],
  edg: [[192, 229, 211, 1]],
  misc: [[91, 189, 88, 4], [185, 125, 190, 4]],
  lan: [[10, 20, 9, 1]],
};
const V6_NETS = {
  ksp: [0x2a03, 0x2480, 0x0068], goog: [0x2607, 0xf8b0, 0x4004], msft: [0x2620, 0x01ec, 0x0c11],
  akam: [0x2600, 0x1406, 0x3a00], cf: [0x2606, 0x4700, 0x0000], fastly: [0x2a04, 0x4e42, 0x0200],
  gh: [0x2606, 0x50c0, 0x8000], aws: [0x2600, 0x9000, 0x2100], apple: [0x2a01, 0xb740, 0x0a42],
  edg: [0x2606, 0x2800, 0x0220], misc: [0x2620, 0x2d4c, 0x0001], lan: [0xfd00, 0x0020, 0x0009],
};

function v4For(name, net, salt = 0) {
  const h = fnv1a(name + '#' + salt);
  const blocks = V4_NETS[net];
  const [a, b, c, nb] = blocks[h % blocks.length];
  return Buffer.from([a, b, c + ((h >>> 8) % nb), 1 + ((h >>> 16) % 253)]);
}

function v6For(name, net, salt = 0) {
  const h = fnv1a(name + '#6#' + salt);
  const [w0, w1, w2] = V6_NETS[net];
  const b = Buffer.alloc(16);
  b.writeUInt16BE(w0, 0);
  b.writeUInt16BE(w1, 2);
  b.writeUInt16BE(w2, 4);
  b.writeUInt16BE((h >>> 16) & 0xff, 12);
  b.writeUInt16BE(h & 0xffff || 1, 14);
  return b;
}

// ---------------------------------------------------------------------------------------
// The generator.

export function generate(opts) {
  const N = opts.packets;
  const rng = makeRng(opts.seed);
  const startUs = Date.parse(opts.start) * 1000;
  const meanGapUs = (opts.spanSeconds * 1e6) / N;

  // Random-ish payload bytes are copied from a pool (generating 1.3 GB byte by byte would
  // dominate the run time).
  const POOL_SIZE = 4 << 20;
  const pool = Buffer.allocUnsafe(POOL_SIZE + 2048);
  for (let i = 0; i < pool.length; i += 4) pool.writeUInt32LE(rng.u32(), i);
  const poolOff = () => rng.int(POOL_SIZE);

  const tmp = opts.out + '.tmp';
  fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  const fd = fs.openSync(tmp, 'w');
  const B = Buffer.allocUnsafe(CHUNK);
  let P = 0; // write position in B
  let fileBytes = 0;
  const flush = () => {
    if (P > 0) {
      fs.writeSync(fd, B, 0, P);
      fileBytes += P;
      P = 0;
    }
  };

  // Global header: LE magic, 2.4, thiszone 0, sigfigs 0, snaplen, LINKTYPE_ETHERNET.
  B.writeUInt32LE(0xa1b2c3d4, 0);
  B.writeUInt16LE(2, 4);
  B.writeUInt16LE(4, 6);
  B.writeInt32LE(0, 8);
  B.writeUInt32LE(0, 12);
  B.writeUInt32LE(SNAPLEN, 16);
  B.writeUInt32LE(1, 20);
  P = 24;

  // ---- counts ---------------------------------------------------------------------------
  const counts = {
    bulk: 0, ack: 0, dns_query: 0, dns_response: 0, tls_client_hello: 0, tcp_handshake: 0,
    http_get: 0, ntp: 0, udp_other: 0,
  };
  const layers = { ipv4: 0, ipv6: 0, vlan: 0, tcp: 0, udp: 0 };
  // What a correct extractor must find (tshark's view, see README): one dns_query per
  // query question, one dns_answer per A/AAAA/CNAME answer RR, one tls_sni per ClientHello,
  // one http_host per GET.
  const names = { dns_query: 0, dns_answer: 0, dns_answer_A: 0, dns_answer_AAAA: 0, dns_answer_CNAME: 0,
    dns_response_question: 0, tls_sni: 0, http_host: 0, kaspersky: 0 };
  const checkpoints = [];
  let emitted = 0;

  // ---- hosts ----------------------------------------------------------------------------
  const GW_MAC = Buffer.from([0x00, 0x1c, 0x73, 0x4b, 0x61, 0x73]);
  const NCLIENTS = 240;
  const clients4 = [];
  const clients6 = [];
  for (let i = 0; i < NCLIENTS; i++) {
    clients4.push({
      ip: Buffer.from([10, 20, 1 + (i >> 7), 10 + (i & 127)]),
      mac: Buffer.from([0x3c, 0x52, 0x82, 0x10, i >> 8, i & 255]),
    });
    const ip6 = Buffer.alloc(16);
    ip6.writeUInt32BE(0xfd000020, 0);
    ip6.writeUInt16BE(1 + (i >> 7), 6);
    ip6.writeUInt32BE(rng.u32(), 8);
    ip6.writeUInt32BE(rng.u32(), 12);
    clients6.push({ ip: ip6, mac: Buffer.from([0x3c, 0x52, 0x82, 0x20, i >> 8, i & 255]) });
  }
  const RESOLVERS4 = [
    [Buffer.from([10, 20, 0, 53]), 0.7], [Buffer.from([8, 8, 8, 8]), 0.15], [Buffer.from([1, 1, 1, 1]), 0.1],
    [Buffer.from([9, 9, 9, 9]), 0.05],
  ];
  const FALLBACK4 = [[223, 6, 6, 6], [185, 228, 168, 168]].map((a) => Buffer.from(a));
  const resolver6 = Buffer.from('fd000020000000000000000000000053', 'hex');
  const google6 = Buffer.from('20014860486000000000000000008888', 'hex');
  const NTP4 = [Buffer.from([10, 20, 0, 1]), Buffer.from([162, 159, 200, 1]), Buffer.from([91, 189, 94, 4])];
  const NTP6 = [Buffer.from('fd000020000000000000000000000001', 'hex')];
  const VLANS = [10, 20, 110, 400];

  const addrSum = (a, b) => {
    let s = 0;
    for (let i = 0; i < a.length; i += 2) s += (a[i] << 8) | a[i + 1];
    for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | b[i + 1];
    return s;
  };

  /** A conversation endpoint pair. dir 0 = client -> server, 1 = server -> client. */
  function makeConv(v6, vlan, client, serverIp, cport, sport) {
    return {
      v6, vlan, cmac: client.mac, cip: client.ip, sip: serverIp, cport, sport,
      asum: addrSum(client.ip, serverIp), flowLabel: rng.u32() & 0xfffff,
      cseq: rng.u32(), sseq: rng.u32(), cts: rng.u32() >>> 1, sts: rng.u32() >>> 1,
    };
  }
  const pickClient = (v6) => (v6 ? clients6 : clients4)[rng.int(NCLIENTS)];
  // Ports tshark binds a dissector to that would claim random payload (Elasticsearch
  // discovery 54328, EtherCAT 34980, HCrt 47000, EtherNet/IP 44818).
  const AVOID_PORTS = new Set([54328, 34980, 47000, 44818]);
  const port = (lo, hi) => { for (;;) { const p = rng.range(lo, hi); if (!AVOID_PORTS.has(p)) return p; } };
  const ephemeral = () => port(49152, 65535);
  const eventV6 = () => rng.chance(0.1);
  const eventVlan = () => (rng.chance(0.1) ? rng.pick(VLANS) : 0);

  // ---- low-level packet assembly --------------------------------------------------------
  // A packet is assembled in B at P: 16-byte record header, Ethernet (+802.1Q), IP, L4.
  // Callers write L4 at l4Offset(conv) first, then call finish() which fills in the rest.
  let ipId = rng.u32() & 0xffff;

  function l4Offset(c) {
    if (P > CHUNK - MAX_PKT) flush();
    return P + 16 + (c.vlan ? 18 : 14) + (c.v6 ? 40 : 20);
  }

  function sum16(s, e) {
    let sum = 0;
    const odd = (e - s) & 1;
    const n = e - odd;
    for (let i = s; i < n; i += 2) sum += (B[i] << 8) | B[i + 1];
    if (odd) sum += B[e - 1] << 8;
    return sum;
  }
  const fold = (s) => {
    while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
    return s;
  };

  function finish(c, dir, proto, l4len, tUs) {
    let o = P + 16;
    const srcMac = dir === 0 ? c.cmac : GW_MAC;
    const dstMac = dir === 0 ? GW_MAC : c.cmac;
    dstMac.copy(B, o); srcMac.copy(B, o + 6); o += 12;
    if (c.vlan) {
      B[o] = 0x81; B[o + 1] = 0x00; B[o + 2] = (c.vlan >> 8) & 0x0f; B[o + 3] = c.vlan & 0xff; o += 4;
      layers.vlan++;
    }
    const src = dir === 0 ? c.cip : c.sip;
    const dst = dir === 0 ? c.sip : c.cip;
    const ttl = dir === 0 ? 64 : 52;
    if (c.v6) {
      B[o] = 0x86; B[o + 1] = 0xdd; o += 2;
      B.writeUInt32BE((0x60000000 | c.flowLabel) >>> 0, o);
      B.writeUInt16BE(l4len, o + 4);
      B[o + 6] = proto; B[o + 7] = ttl;
      src.copy(B, o + 8); dst.copy(B, o + 24);
      o += 40;
      layers.ipv6++;
    } else {
      B[o] = 0x08; B[o + 1] = 0x00; o += 2;
      B[o] = 0x45; B[o + 1] = 0;
      B.writeUInt16BE(20 + l4len, o + 2);
      ipId = (ipId + 1) & 0xffff;
      B.writeUInt16BE(ipId, o + 4);
      B[o + 6] = proto === 6 ? 0x40 : 0x00; B[o + 7] = 0; // DF on TCP
      B[o + 8] = ttl; B[o + 9] = proto; B[o + 10] = 0; B[o + 11] = 0;
      src.copy(B, o + 12); dst.copy(B, o + 16);
      B.writeUInt16BE(0xffff - fold(sum16(o, o + 20)), o + 10);
      o += 20;
      layers.ipv4++;
    }
    // L4 checksum with the pseudo-header (address sum is direction-independent).
    const ck = proto === 6 ? o + 16 : o + 6;
    B[ck] = 0; B[ck + 1] = 0;
    let cs = 0xffff - fold(c.asum + proto + l4len + sum16(o, o + l4len));
    if (proto === 17 && cs === 0) cs = 0xffff;
    B.writeUInt16BE(cs, ck);
    if (proto === 6) layers.tcp++; else layers.udp++;

    const caplen = o + l4len - (P + 16);
    const sec = Math.floor(tUs / 1e6);
    B.writeUInt32LE(sec, P);
    B.writeUInt32LE(tUs - sec * 1e6, P + 4);
    B.writeUInt32LE(caplen, P + 8);
    B.writeUInt32LE(caplen, P + 12);
    P = o + l4len;
    emitted++;
    if (emitted % CHECKPOINT === 0) {
      checkpoints.push({ packets: emitted, bytes: fileBytes + P, counts: { ...counts }, names: { ...names } });
    }
  }

  // TCP header with NOP,NOP,Timestamps (32 bytes), or SYN options (40 bytes).
  const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 };
  function tcpHeader(o, c, dir, flags, tUs, syn) {
    const seq = dir === 0 ? c.cseq : c.sseq;
    const ack = flags & F.ACK ? (dir === 0 ? c.sseq : c.cseq) : 0;
    B.writeUInt16BE(dir === 0 ? c.cport : c.sport, o);
    B.writeUInt16BE(dir === 0 ? c.sport : c.cport, o + 2);
    B.writeUInt32BE(seq >>> 0, o + 4);
    B.writeUInt32BE(ack >>> 0, o + 8);
    const hlen = syn ? 40 : 32;
    B[o + 12] = (hlen / 4) << 4;
    B[o + 13] = flags;
    B.writeUInt16BE(syn ? 64240 : dir === 0 ? 2052 : 501, o + 14);
    B[o + 16] = 0; B[o + 17] = 0; B[o + 18] = 0; B[o + 19] = 0;
    const ms = Math.floor(tUs / 1000);
    const tsv = ((dir === 0 ? c.cts : c.sts) + ms) >>> 0;
    const tse = flags & F.ACK ? ((dir === 0 ? c.sts : c.cts) + ms - 12) >>> 0 : 0;
    let q = o + 20;
    if (syn) {
      B[q++] = 2; B[q++] = 4; B.writeUInt16BE(c.v6 ? 1440 : 1460, q); q += 2; // MSS
      B[q++] = 4; B[q++] = 2; // SACK permitted
      B[q++] = 8; B[q++] = 10; B.writeUInt32BE(tsv, q); B.writeUInt32BE(tse, q + 4); q += 8;
      B[q++] = 1; B[q++] = 3; B[q++] = 3; B[q++] = 7; // NOP, window scale 7
    } else {
      B[q++] = 1; B[q++] = 1; B[q++] = 8; B[q++] = 10;
      B.writeUInt32BE(tsv, q); B.writeUInt32BE(tse, q + 4); q += 8;
    }
    return hlen;
  }

  function emitTcp(c, dir, flags, payloadLen, tUs, syn = false) {
    // payload must already be at l4Offset(c) + (syn ? 40 : 32)
    const o = l4Offset(c);
    const hl = tcpHeader(o, c, dir, flags, tUs, syn);
    finish(c, dir, 6, hl + payloadLen, tUs);
    const adv = payloadLen + (flags & F.SYN ? 1 : 0) + (flags & F.FIN ? 1 : 0);
    if (dir === 0) c.cseq = (c.cseq + adv) >>> 0; else c.sseq = (c.sseq + adv) >>> 0;
  }

  function emitUdp(c, dir, payloadLen, tUs) {
    const o = l4Offset(c);
    B.writeUInt16BE(dir === 0 ? c.cport : c.sport, o);
    B.writeUInt16BE(dir === 0 ? c.sport : c.cport, o + 2);
    B.writeUInt16BE(8 + payloadLen, o + 4);
    finish(c, dir, 17, 8 + payloadLen, tUs);
  }

  // ---- bulk flows -----------------------------------------------------------------------
  // 80 slots, picked uniformly; slot i is IPv6 when i % 10 == 3 and VLAN-tagged when
  // i % 10 == 7, so both shares are 10% of bulk/ACK packets by construction.
  const NFLOWS = 80;
  const flows = [];
  function newFlow(slot) {
    const v6 = slot % 10 === 3;
    const vlan = slot % 10 === 7 ? VLANS[slot % VLANS.length] : 0;
    // HTTPS (and some IMAPS) downloads/uploads, and SSH. No random-payload TCP on other
    // ports: tshark's heuristic dissectors (Thrift, ...) claim such streams and flag frames
    // malformed, which muddies bench/verify-capture.mjs.
    const r = rng.f();
    const kind = r < 0.9 ? 'tls' : 'ssh';
    const sport = kind === 'ssh' ? 22 : r < 0.8 ? 443 : 993;
    const ent = rng.chance(0.15) ? rng.pick(KASPERSKY_NAMES) : rng.pick(BENIGN_NAMES);
    const sip = v6 ? v6For(ent.n, ent.net) : v4For(ent.n, ent.net);
    const c = makeConv(v6, vlan, pickClient(v6), sip, ephemeral(), sport);
    c.kind = kind;
    c.down = rng.chance(0.8) ? 0.93 : rng.chance(0.5) ? 0.5 : 0.1; // P(data flows server->client)
    c.left = Math.floor(rng.exp(40_000)) + 200; // segments until the flow is replaced
    c.recLen = [0, 0];
    c.recPos = [0, 0];
    flows[slot] = c;
    return c;
  }
  for (let i = 0; i < NFLOWS; i++) newFlow(i);

  const TLS_HDR = Buffer.alloc(5);
  /** Fill `len` payload bytes at `o` for one direction of a flow. */
  function bulkPayload(c, dir, o, len) {
    if (c.kind !== 'tls') {
      const src = poolOff();
      pool.copy(B, o, src, src + len);
      return;
    }
    // A stream of TLS 1.2/1.3 application_data records (mostly 16 KiB), split over segments
    // at arbitrary points, the way a real HTTPS download looks.
    let done = 0;
    while (done < len) {
      if (c.recPos[dir] === c.recLen[dir]) {
        const body = rng.chance(0.85) ? 16408 : rng.range(40, 16408);
        c.recLen[dir] = 5 + body;
        c.recPos[dir] = 0;
      }
      const pos = c.recPos[dir];
      if (pos < 5) {
        const body = c.recLen[dir] - 5;
        TLS_HDR[0] = 0x17; TLS_HDR[1] = 3; TLS_HDR[2] = 3; TLS_HDR[3] = body >> 8; TLS_HDR[4] = body & 255;
        const n = Math.min(5 - pos, len - done);
        TLS_HDR.copy(B, o + done, pos, pos + n);
        done += n;
        c.recPos[dir] += n;
      } else {
        const n = Math.min(c.recLen[dir] - pos, len - done);
        const src = poolOff();
        pool.copy(B, o + done, src, src + n);
        done += n;
        c.recPos[dir] += n;
      }
    }
  }

  function bulkEvent(tUs) {
    const slot = rng.int(NFLOWS);
    let c = flows[slot];
    if (--c.left <= 0) c = newFlow(slot);
    const dir = rng.chance(c.down) ? 1 : 0;
    const mss = c.v6 ? 1428 : 1448;
    let len;
    if (c.kind === 'ssh' && rng.chance(0.5)) len = rng.range(36, 400);
    else if (rng.chance(0.85)) len = mss;
    else len = rng.range(c.kind === 'ssh' ? 36 : 1, mss - 1); // (tiny SSH segments are "malformed" to tshark)
    const o = l4Offset(c) + 32;
    bulkPayload(c, dir, o, len);
    emitTcp(c, dir, F.ACK | (len < mss ? F.PSH : 0), len, tUs);
    counts.bulk++;
  }

  function ackEvent(tUs) {
    const c = flows[rng.int(NFLOWS)];
    const dir = rng.chance(c.down) ? 0 : 1; // the receiver acknowledges
    emitTcp(c, dir, F.ACK, 0, tUs);
    counts.ack++;
  }

  // ---- pending packets (responses, handshakes) ------------------------------------------
  const pending = []; // sorted by due
  function schedule(due, fn) {
    let i = pending.length;
    while (i > 0 && pending[i - 1].due > due) i--;
    pending.splice(i, 0, { due, fn });
  }

  // ---- DNS ------------------------------------------------------------------------------
  const TYPE = { A: 1, CNAME: 5, AAAA: 28, OPT: 41, HTTPS: 65 };
  const chooseName = (pK) => (rng.chance(pK) ? rng.pick(KASPERSKY_NAMES) : rng.pick(BENIGN_NAMES));

  function writeName(o, name) {
    for (const label of name.split('.')) {
      B[o++] = label.length;
      o += B.write(label, o, 'latin1');
    }
    B[o++] = 0;
    return o;
  }
  function randomCase(name) {
    let s = '';
    for (let i = 0; i < name.length; i++) s += rng.chance(0.5) ? name[i].toUpperCase() : name[i];
    return s;
  }

  function dnsEvent(tUs) {
    const v6 = eventV6();
    const ent = chooseName(0.25);
    let server;
    if (v6) server = rng.chance(0.85) ? resolver6 : google6;
    else if (ent.k && rng.chance(0.04)) server = rng.pick(FALLBACK4);
    else {
      let r = rng.f();
      server = RESOLVERS4[RESOLVERS4.length - 1][0];
      for (const [ip, p] of RESOLVERS4) { if ((r -= p) < 0) { server = ip; break; } }
    }
    const c = makeConv(v6, eventVlan(), pickClient(v6), server, ephemeral(), 53);
    const r = rng.f();
    const qtype = r < 0.6 ? TYPE.A : r < 0.92 ? TYPE.AAAA : TYPE.HTTPS;
    const id = rng.u32() & 0xffff;
    const edns = rng.chance(0.5);
    const qname = rng.chance(0.02) ? randomCase(ent.n) : ent.n; // DNS 0x20 style
    // query
    {
      const o0 = l4Offset(c) + 8;
      B.writeUInt16BE(id, o0); B.writeUInt16BE(0x0100, o0 + 2);
      B.writeUInt16BE(1, o0 + 4); B.writeUInt16BE(0, o0 + 6); B.writeUInt16BE(0, o0 + 8);
      B.writeUInt16BE(edns ? 1 : 0, o0 + 10);
      let o = writeName(o0 + 12, qname);
      B.writeUInt16BE(qtype, o); B.writeUInt16BE(1, o + 2); o += 4;
      if (edns) o = writeOpt(o);
      emitUdp(c, 0, o - o0, tUs);
      counts.dns_query++;
      names.dns_query++;
      if (ent.k) names.kaspersky++;
    }
    const rtt = rng.chance(0.7) ? 800 + rng.exp(3000) : 8000 + rng.exp(25000);
    schedule(tUs + rtt, (t) => dnsResponse(c, t, id, qname, qtype, ent, edns));
  }

  function writeOpt(o) {
    B[o++] = 0; B.writeUInt16BE(TYPE.OPT, o); B.writeUInt16BE(1232, o + 2);
    B.writeUInt32BE(0, o + 4); B.writeUInt16BE(0, o + 8);
    return o + 10;
  }

  function dnsResponse(c, tUs, id, qname, qtype, ent, edns) {
    const o0 = l4Offset(c) + 8;
    const nx = rng.chance(0.02) && !ent.k;
    B.writeUInt16BE(id, o0); B.writeUInt16BE(nx ? 0x8183 : 0x8180, o0 + 2);
    B.writeUInt16BE(1, o0 + 4);
    B.writeUInt16BE(edns ? 1 : 0, o0 + 10);
    let o = writeName(o0 + 12, qname);
    B.writeUInt16BE(qtype, o); B.writeUInt16BE(1, o + 2); o += 4;
    let an = 0;
    if (!nx) {
      let ptr = 12; // compression pointer to the current owner name
      for (const target of ent.cn) {
        B.writeUInt16BE(0xc000 | ptr, o); B.writeUInt16BE(TYPE.CNAME, o + 2); B.writeUInt16BE(1, o + 4);
        B.writeUInt32BE(rng.range(30, 3600), o + 6);
        const rd = o + 12;
        const end = writeName(rd, target);
        B.writeUInt16BE(end - rd, o + 10);
        ptr = rd - o0;
        o = end;
        an++;
        names.dns_answer_CNAME++;
      }
      const final = ent.cn.length ? ent.cn[ent.cn.length - 1] : ent.n;
      const nAddr = qtype === TYPE.HTTPS ? 0 : ent.net === 'lan' ? 1 : rng.range(1, 4);
      for (let i = 0; i < nAddr; i++) {
        const rtype = qtype;
        B.writeUInt16BE(0xc000 | ptr, o); B.writeUInt16BE(rtype, o + 2); B.writeUInt16BE(1, o + 4);
        B.writeUInt32BE(rng.range(20, 300), o + 6);
        const addr = rtype === TYPE.A ? v4For(final, ent.net, i) : v6For(final, ent.net, i);
        B.writeUInt16BE(addr.length, o + 10);
        addr.copy(B, o + 12);
        o += 12 + addr.length;
        an++;
        if (rtype === TYPE.A) names.dns_answer_A++; else names.dns_answer_AAAA++;
      }
    }
    B.writeUInt16BE(an, o0 + 6);
    B.writeUInt16BE(0, o0 + 8);
    if (edns) o = writeOpt(o);
    emitUdp(c, 1, o - o0, tUs);
    counts.dns_response++;
    names.dns_answer += an;
    names.dns_response_question++;
  }

  // ---- TLS ClientHello ------------------------------------------------------------------
  const GREASE = Array.from({ length: 16 }, (_, i) => ((i << 4) | 0x0a) * 0x101);
  const PROFILES = [
    { name: 'chrome', p: 0.45, ver: 13, grease: true, sid: 32,
      suites: [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
      groups: [0x001d, 0x0017, 0x0018], shares: [0x001d], alpn: ['h2', 'http/1.1'], pad: 'chrome' },
    { name: 'firefox', p: 0.2, ver: 13, grease: false, sid: 32,
      suites: [0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
      groups: [0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101], shares: [0x001d, 0x0017], alpn: ['h2', 'http/1.1'], pad: 'none' },
    { name: 'schannel12', p: 0.2, ver: 12, grease: false, sid: 32,
      suites: [0xc02c, 0xc02b, 0xc030, 0xc02f, 0x009f, 0x009e, 0xc024, 0xc023, 0xc028, 0xc027, 0xc00a, 0xc009, 0xc014, 0xc013, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x000a],
      groups: [0x001d, 0x0017, 0x0018], shares: [], alpn: ['http/1.1'], pad: 'target' },
    { name: 'openssl', p: 0.15, ver: 13, grease: false, sid: 32,
      suites: [0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f, 0x009e, 0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff],
      groups: [0x001d, 0x0017, 0x001e, 0x0019, 0x0018], shares: [0x001d], alpn: ['http/1.1'], pad: 'target' },
  ];
  const SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
  const tlsSizes = { min: Infinity, max: 0 };

  function rnd(o, n) {
    const s = poolOff();
    pool.copy(B, o, s, s + n);
    return o + n;
  }

  /** Writes a ClientHello record at o; returns the end offset. */
  function clientHello(o, sni) {
    let r = rng.f();
    let pr = PROFILES[PROFILES.length - 1];
    for (const p of PROFILES) { if ((r -= p.p) < 0) { pr = p; break; } }
    const g1 = rng.pick(GREASE), g2 = rng.pick(GREASE), g4 = rng.pick(GREASE);
    // GREASE extensions first and last; like BoringSSL, never the same type twice (a
    // ClientHello MUST NOT repeat an extension type, RFC 8446 4.2; strict parsers drop it).
    const gFirst = rng.pick(GREASE);
    const gLast = gFirst ^ 0x1010;
    const target = rng.range(pr.pad === 'chrome' ? 517 : 250, 600);
    const rec = o;
    B[o] = 0x16; B[o + 1] = 3; B[o + 2] = 1; o += 5; // record header, length later
    const hs = o;
    B[o] = 1; o += 4; // handshake type, length later
    B[o++] = 3; B[o++] = 3; // legacy_version TLS 1.2
    o = rnd(o, 32);
    const sid = pr.sid && rng.chance(pr.ver === 13 ? 1 : 0.3) ? pr.sid : 0;
    B[o++] = sid;
    if (sid) o = rnd(o, sid);
    const suites = pr.grease ? [g1, ...pr.suites] : pr.suites;
    B.writeUInt16BE(suites.length * 2, o); o += 2;
    for (const s of suites) { B.writeUInt16BE(s, o); o += 2; }
    B[o++] = 1; B[o++] = 0; // compression: null
    const extLenAt = o; o += 2;
    const extStart = o;
    const ext = (type, writeBody) => {
      B.writeUInt16BE(type, o);
      const lenAt = o + 2;
      o = writeBody(o + 4);
      B.writeUInt16BE(o - lenAt - 2, lenAt);
    };
    const list16 = (p, vals) => { B.writeUInt16BE(vals.length * 2, p); p += 2; for (const v of vals) { B.writeUInt16BE(v, p); p += 2; } return p; };
    const sniExt = () => ext(0x0000, (p) => {
      const n = sni.length;
      B.writeUInt16BE(n + 3, p); B[p + 2] = 0; B.writeUInt16BE(n, p + 3);
      return p + 5 + B.write(sni, p + 5, 'latin1');
    });
    const alpnExt = () => ext(0x0010, (p) => {
      const at = p; p += 2;
      for (const a of pr.alpn) { B[p++] = a.length; p += B.write(a, p, 'latin1'); }
      B.writeUInt16BE(p - at - 2, at);
      return p;
    });
    const groups = pr.grease ? [g2, ...pr.groups] : pr.groups;
    const exts = [];
    exts.push(sniExt);
    exts.push(() => ext(0x0017, (p) => p)); // extended_master_secret
    exts.push(() => ext(0xff01, (p) => { B[p] = 0; return p + 1; })); // renegotiation_info
    exts.push(() => ext(0x000a, (p) => list16(p, groups)));
    exts.push(() => ext(0x000b, (p) => { B[p] = 1; B[p + 1] = 0; return p + 2; }));
    exts.push(() => ext(0x0023, (p) => p)); // session_ticket
    exts.push(alpnExt);
    if (pr.name !== 'openssl') exts.push(() => ext(0x0005, (p) => { B[p] = 1; B.writeUInt32BE(0, p + 1); return p + 5; }));
    exts.push(() => ext(0x000d, (p) => list16(p, SIGALGS)));
    if (pr.name === 'chrome') exts.push(() => ext(0x0012, (p) => p));
    if (pr.name === 'openssl') exts.push(() => ext(0x0016, (p) => p)); // encrypt_then_mac
    if (pr.ver === 13) {
      exts.push(() => ext(0x0033, (p) => {
        const at = p; p += 2;
        if (pr.grease) { B.writeUInt16BE(g2, p); B.writeUInt16BE(1, p + 2); B[p + 4] = 0; p += 5; } // BoringSSL: same GREASE as in supported_groups
        for (const grp of pr.shares) {
          const klen = grp === 0x001d ? 32 : 65;
          B.writeUInt16BE(grp, p); B.writeUInt16BE(klen, p + 2); p += 4;
          p = rnd(p, klen);
          if (klen === 65) B[p - 65] = 4;
        }
        B.writeUInt16BE(p - at - 2, at);
        return p;
      }));
      exts.push(() => ext(0x002d, (p) => { B[p] = 1; B[p + 1] = 1; return p + 2; }));
      exts.push(() => ext(0x002b, (p) => {
        const vs = pr.grease ? [g4, 0x0304, 0x0303] : [0x0304, 0x0303];
        B[p++] = vs.length * 2;
        for (const v of vs) { B.writeUInt16BE(v, p); p += 2; }
        return p;
      }));
      if (pr.name === 'chrome') exts.push(() => ext(0x001b, (p) => { B[p] = 2; B.writeUInt16BE(2, p + 1); return p + 3; }));
      if (pr.name === 'firefox') exts.push(() => ext(0x001c, (p) => { B.writeUInt16BE(0x4001, p); return p + 2; }));
    }
    if (pr.grease) {
      // Chrome: GREASE first and last, the middle in random order (Chrome >= 110).
      const mid = exts.slice();
      for (let i = mid.length - 1; i > 0; i--) { const j = rng.int(i + 1); [mid[i], mid[j]] = [mid[j], mid[i]]; }
      ext(gFirst, (p) => p);
      for (const e of mid) e();
      ext(gLast, (p) => { B[p] = 0; return p + 1; });
    } else {
      for (const e of exts) e();
    }
    // padding (RFC 7685) up to the target record size
    if (pr.pad !== 'none' || o - rec < 250) {
      let want = target - (o - rec) - 4;
      if (o - rec < 250 && want < 0) want = 0; // 246..249 bytes: an empty padding ext gets it over 250
      if (want >= 0) ext(0x0015, (p) => { B.fill(0, p, p + want); return p + want; });
    }
    B.writeUInt16BE(o - extStart, extLenAt);
    const hsLen = o - hs - 4;
    B[hs + 1] = hsLen >> 16; B[hs + 2] = (hsLen >> 8) & 255; B[hs + 3] = hsLen & 255;
    B.writeUInt16BE(o - rec - 5, rec + 3);
    tlsSizes.min = Math.min(tlsSizes.min, o - rec);
    tlsSizes.max = Math.max(tlsSizes.max, o - rec);
    return o;
  }

  /** SYN now, SYN-ACK one RTT later, then the first data segment (built by `data`). */
  function connect(c, tUs, data) {
    emitTcp(c, 0, F.SYN, 0, tUs, true);
    counts.tcp_handshake++;
    const rtt = c.sip[0] === 10 || c.sip[0] === 0xfd ? 300 + rng.exp(500) : 6000 + rng.exp(30000);
    schedule(tUs + rtt, (t1) => {
      emitTcp(c, 1, F.SYN | F.ACK, 0, t1, true);
      counts.tcp_handshake++;
      schedule(t1 + 150 + rng.exp(400), (t2) => data(t2));
    });
  }

  function tlsEvent(tUs) {
    const v6 = eventV6();
    const ent = chooseName(0.25);
    const sip = v6 ? v6For(ent.n, ent.net) : v4For(ent.n, ent.net);
    const c = makeConv(v6, eventVlan(), pickClient(v6), sip, ephemeral(), 443);
    connect(c, tUs, (t) => {
      const o = l4Offset(c) + 32;
      const end = clientHello(o, ent.n);
      emitTcp(c, 0, F.ACK | F.PSH, end - o, t);
      counts.tls_client_hello++;
      names.tls_sni++;
      if (ent.k) names.kaspersky++;
    });
  }

  // ---- HTTP -----------------------------------------------------------------------------
  const HTTP_TARGETS = [
    ...range2(1, 19).map((n) => [`dnl-${n}.geo.kaspersky.com`, 'ksp', ['/index/u0607g.xml', '/index/u1313g.xml', '/bases/av/kdb/i386/kdb-i386-0607g.xml.klz', '/diffs/bases/av/kdb/i386/base012c.kdc.8f3a.dif', '/bases/ids/i386/idsbase.kdz']]),
    ['crl.kaspersky.com', 'ksp', ['/crl/kl-ca.crl']],
    ['touch.kaspersky.com', 'ksp', ['/kas.txt']],
    ['ctldl.windowsupdate.com', 'akam', ['/msdownload/update/v3/static/trustedr/en/authrootstl.cab', '/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab']],
    ['www.msftconnecttest.com', 'msft', ['/connecttest.txt']],
    ['connectivity-check.ubuntu.com', 'misc', ['/']],
    ['captive.apple.com', 'apple', ['/hotspot-detect.html']],
    ['ocsp.digicert.com', 'edg', ['/MFEwTzBNMEswSTAJBgUrDgMCGgUABBTfqhLjKLEJQZPin0KCzkdAQpVYowQUsT7DaQP4v0cB1JgmGggC72NkK8MCEAx5qUSwjBGVIJJhX%2BJrHYM%3D']],
    ['intranet.corp.example', 'lan', ['/status', '/api/v1/health']],
  ];
  const UAS = [
    'Microsoft-CryptoAPI/10.0',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36',
    'kaspersky-updater/21.3',
    'Wget/1.21.3',
  ];

  function httpEvent(tUs) {
    const v6 = eventV6();
    const ksp = rng.chance(0.4);
    const tgt = ksp ? HTTP_TARGETS[rng.int(21)] : HTTP_TARGETS[21 + rng.int(HTTP_TARGETS.length - 21)];
    const [host, net, paths] = tgt;
    const port = host === 'intranet.corp.example' ? 8080 : 80;
    const sip = v6 ? v6For(host, net) : v4For(host, net);
    const c = makeConv(v6, eventVlan(), pickClient(v6), sip, ephemeral(), port);
    connect(c, tUs, (t) => {
      const o = l4Offset(c) + 32;
      const hostHdr = port === 80 ? host : `${host}:${port}`;
      const ua = ksp ? UAS[2] : rng.pick(UAS);
      const req = `GET ${rng.pick(paths)} HTTP/1.1\r\nHost: ${hostHdr}\r\nUser-Agent: ${ua}\r\nAccept: */*\r\nConnection: Keep-Alive\r\nCache-Control: no-cache\r\n\r\n`;
      const n = B.write(req, o, 'latin1');
      emitTcp(c, 0, F.ACK | F.PSH, n, t);
      counts.http_get++;
      names.http_host++;
      if (ksp) names.kaspersky++;
    });
  }

  // ---- other UDP ------------------------------------------------------------------------
  const NTP_EPOCH_OFFSET = 2208988800;
  function ntpWrite(o, mode, tUs) {
    B.fill(0, o, o + 48);
    B[o] = (0 << 6) | (4 << 3) | mode;
    if (mode === 4) { B[o + 1] = 2; B[o + 2] = 6; B[o + 3] = 0xe9; B.writeUInt32BE(0x0a140001, o + 12); }
    const sec = Math.floor(tUs / 1e6) + NTP_EPOCH_OFFSET;
    const frac = Math.floor(((tUs % 1e6) / 1e6) * 4294967296) >>> 0;
    B.writeUInt32BE(sec >>> 0, o + 40); B.writeUInt32BE(frac, o + 44);
    if (mode === 4) { B.writeUInt32BE(sec >>> 0, o + 32); B.writeUInt32BE(frac, o + 36); B.writeUInt32BE(sec >>> 0, o + 16); }
    return 48;
  }
  function ntpEvent(tUs) {
    const v6 = eventV6();
    const c = makeConv(v6, eventVlan(), pickClient(v6), v6 ? NTP6[0] : rng.pick(NTP4), 123, 123);
    emitUdp(c, 0, ntpWrite(l4Offset(c) + 8, 3, tUs), tUs);
    counts.ntp++;
    schedule(tUs + 400 + rng.exp(8000), (t) => {
      emitUdp(c, 1, ntpWrite(l4Offset(c) + 8, 4, t), t);
      counts.ntp++;
    });
  }
  function udpOtherEvent(tUs) {
    const v6 = eventV6();
    const ent = rng.pick(BENIGN_NAMES);
    const sip = v6 ? v6For(ent.n, ent.net, 99) : v4For(ent.n, ent.net, 99);
    const c = makeConv(v6, eventVlan(), pickClient(v6), sip, ephemeral(), port(30000, 46000));
    // Shaped as WireGuard transport-data messages (type 4, receiver index, counter,
    // ciphertext + 16-byte tag, a multiple of 16): random bytes alone make tshark's
    // heuristic dissectors (R-GOOSE, RTCP, Elasticsearch, ...) claim a few frames and flag
    // them malformed, which would muddy bench/verify-capture.mjs.
    const len = 32 + 16 * (rng.chance(0.5) ? rng.range(1, 10) : rng.range(11, 73));
    const o = l4Offset(c) + 8;
    rnd(o, len);
    B[o] = 4; B[o + 1] = 0; B[o + 2] = 0; B[o + 3] = 0;
    emitUdp(c, rng.chance(0.5) ? 0 : 1, len, tUs);
    counts.udp_other++;
  }

  // ---- main loop ------------------------------------------------------------------------
  const EVENTS = [
    [bulkEvent, CLASS_MIX.bulk],
    [ackEvent, CLASS_MIX.ack],
    [dnsEvent, CLASS_MIX.dns / 2],
    [tlsEvent, CLASS_MIX.tls],
    [httpEvent, CLASS_MIX.http],
    [ntpEvent, CLASS_MIX.ntp / 2],
    [udpOtherEvent, CLASS_MIX.udp_other],
  ];
  const total = EVENTS.reduce((s, [, w]) => s + w, 0);
  const cum = [];
  let acc = 0;
  for (const [fn, w] of EVENTS) { acc += w / total; cum.push([acc, fn]); }
  cum[cum.length - 1][0] = 1.01;

  let tUs = startUs;
  const t0 = process.hrtime.bigint();
  while (emitted < N) {
    tUs += Math.max(1, Math.round(rng.exp(meanGapUs)));
    if (pending.length > 0 && pending[0].due <= tUs) {
      pending.shift().fn(tUs);
      continue;
    }
    const r = rng.f();
    for (let i = 0; ; i++) {
      if (r < cum[i][0]) { cum[i][1](tUs); break; }
    }
  }
  flush();
  fs.closeSync(fd);
  fs.renameSync(tmp, opts.out);
  const genSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

  const meta = {
    generatorVersion: GENERATOR_VERSION,
    seed: opts.seed,
    packets: emitted,
    bytes: fileBytes,
    start: new Date(startUs / 1000).toISOString(),
    end: new Date(tUs / 1000).toISOString(),
    cutoff: '2024-09-29T04:00:00Z',
    counts,
    layers,
    names,
    tlsClientHelloRecordBytes: tlsSizes,
    checkpoints,
    genSeconds,
  };
  fs.writeFileSync(opts.out + '.meta.json', JSON.stringify(meta, null, 1) + '\n');
  return meta;
}

export function summary(meta, file) {
  const pct = (n) => ((100 * n) / meta.packets).toFixed(2).padStart(6) + '%';
  const lines = [];
  lines.push(`${file}: ${meta.packets.toLocaleString('en-US')} packets, ${meta.bytes.toLocaleString('en-US')} bytes ` +
    `(${(meta.bytes / 2 ** 20).toFixed(1)} MiB), ${meta.start} .. ${meta.end}, generated in ${meta.genSeconds.toFixed(1)} s`);
  lines.push('class              packets    share');
  for (const [k, v] of Object.entries(meta.counts)) lines.push(`  ${k.padEnd(17)}${String(v).padStart(9)}  ${pct(v)}`);
  lines.push('layers:');
  for (const [k, v] of Object.entries(meta.layers)) lines.push(`  ${k.padEnd(17)}${String(v).padStart(9)}  ${pct(v)}`);
  const n = meta.names;
  lines.push(`names: dns_query ${n.dns_query}, dns_answer ${n.dns_answer} (A ${n.dns_answer_A}, AAAA ${n.dns_answer_AAAA}, ` +
    `CNAME ${n.dns_answer_CNAME}), tls_sni ${n.tls_sni}, http_host ${n.http_host}; Kaspersky names among queries/SNI/Host: ${n.kaspersky}`);
  lines.push(`TLS ClientHello records: ${meta.tlsClientHelloRecordBytes.min}..${meta.tlsClientHelloRecordBytes.max} bytes`);
  return lines.join('\n');
}

function main() {
  const { values } = parseArgs({
    options: {
      packets: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      'span-seconds': { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  const packets = values.packets ? Number(values.packets.replace(/_/g, '')) : DEFAULTS.packets;
  if (!Number.isInteger(packets) || packets < 1) throw new Error(`bad --packets ${values.packets}`);
  const out = values.out ?? path.join(path.dirname(new URL(import.meta.url).pathname), 'out', `capture-${packets}.pcap`);
  const seed = values.seed ? Number(values.seed) >>> 0 : DEFAULTS.seed;
  const spanSeconds = values['span-seconds'] ? Number(values['span-seconds']) : DEFAULTS.spanSeconds;
  const meta = generate({ packets, out, seed, start: DEFAULTS.start, spanSeconds });
  if (!values.quiet) console.log(summary(meta, out));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
