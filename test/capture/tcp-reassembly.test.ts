/**
 * TCP client-stream reassembly in the Decoder (src/capture/tcp/streams.ts, flows in
 * src/capture/tcp/flows.ts): a ClientHello, an HTTP request header block or a
 * DNS-over-TCP message that spans several segments yields its name once, on the frame that
 * completes it, whatever the order the segments arrive in; and every way a name can be lost
 * is counted under layer `name` (decoder.issues), so "no Kaspersky name here" can be trusted.
 *
 * Every case states the exact observations and the exact decode-issue counts. Frames are built
 * with the packet builders and go through a real pcap file (decodeAll), frame i (1-based) at
 * T0 + (i-1) ms, so no idle sweep runs unless a case asks for one.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DEFAULT_DECODER_LIMITS, Decoder, type DecoderOptions } from '../../src/capture/decoder.js';
import { MAX_OOO_SEGMENTS } from '../../src/capture/tcp/streams.js';
import { NAME_EVICTED, NAME_GAP, NAME_IDLE, NAME_INCOMPLETE, NAME_LIMIT, NAME_MIDSTREAM, NAME_NO_SNI, NAME_SNAPLEN } from '../../src/capture/unrecovered.js';
import { isIssue } from '../../src/capture/issues.js';
import { ja4 } from '../../src/capture/app/ja4.js';
import type { Observation } from '../../src/capture/observation.js';
import { newRawFrame } from '../../src/capture/read/frame.js';
import { parseClientHello, TLS_HELLO_TOO_LARGE } from '../../src/capture/app/tls.js';
import {
  concat,
  dnsQuery,
  dnsResponse,
  dnsTcp,
  eth,
  ETH_IPV4,
  httpGet,
  httpRequest,
  ipv4,
  IPPROTO_TCP,
  LINKTYPE,
  tcp,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_SYN,
} from '../helpers/packets.js';
import { decodeAll, frameFeeder, packetTimeDriver, pcapFile, T0 } from '../helpers/pcap.js';
import { clientHello, handshakeMessage, record, type ClientHelloOptions } from '../helpers/tls.js';

// ─────────────────────────────── builders ───────────────────────────────

const CLIENT = '198.18.0.10';
const SERVER = '198.18.1.1';
const RESOLVER = '198.18.0.53';
const CPORT = 50_000;
/** Client initial sequence number: the SYN carries it, the first data byte is ISN + 1. */
const ISN = 0x1000;

interface SegOptions {
  seq: number;
  flags?: number;
  sport?: number;
  dport?: number;
  src?: string;
  dst?: string;
}

/** One Ethernet/IPv4/TCP frame (default CLIENT:50000 → SERVER:443, PSH|ACK). */
function seg(o: SegOptions, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  return eth(
    { type: ETH_IPV4 },
    ipv4(
      { src: o.src ?? CLIENT, dst: o.dst ?? SERVER, proto: IPPROTO_TCP },
      tcp({ sport: o.sport ?? CPORT, dport: o.dport ?? 443, seq: o.seq >>> 0, flags: o.flags ?? TCP_PSH | TCP_ACK }, payload),
    ),
  );
}

/** The client's SYN (ISN) to `dport`. */
function syn(dport = 443, isn = ISN, sport = CPORT): Uint8Array {
  return seg({ seq: isn, flags: TCP_SYN, dport, sport });
}

/** A segment carrying stream bytes [from, to) of the client stream `s` (seq = isn + 1 + from). */
function part(s: Uint8Array, from: number, to = s.length, o: Partial<SegOptions> & { isn?: number } = {}): Uint8Array {
  const { isn, ...rest } = o;
  return seg({ ...rest, seq: (isn ?? ISN) + 1 + from }, s.subarray(from, to));
}

/** FIN|ACK at stream offset `at`. */
function fin(at: number, dport = 443): Uint8Array {
  return seg({ seq: ISN + 1 + at, flags: TCP_FIN | TCP_ACK, dport });
}

/**
 * Another client's SYN, already in the flow table when a case starts, as it is anywhere past the
 * first packets of a capture: these cases are about reassembly, not about an empty flow table.
 */
const OTHER_SYN = seg({ seq: 77, flags: TCP_SYN, src: '198.18.0.99', sport: 40_000 });

/** Change cipher spec record of TLS 1.3 middlebox compatibility mode (RFC 8446 §D.4). */
const CCS = Uint8Array.of(0x14, 0x03, 0x03, 0x00, 0x01, 0x01);

/** A HelloRetryRequest-shaped server record (ServerHello, type 2); its content is irrelevant here. */
const SERVER_HRR = record(0x16, 0x0303, Uint8Array.of(0x02, 0x00, 0x00, 0x02, 0x03, 0x03));

/** TLS 1.2 application data record: what follows a completed handshake. */
const APP_DATA = record(0x17, 0x0303, new Uint8Array(200).fill(0x5c));

// Chrome-sized (post-quantum key share) ClientHellos: ~1.8 KB, so they span 2-3 segments.
const HELLO_OPTS: ClientHelloOptions = { sni: 's01.upd.kaspersky.com', padTo: 1800, grease: true, alpn: ['h2', 'http/1.1'] };
const HELLO = clientHello(HELLO_OPTS);
/** The same hello in three handshake records of 700, 700 and the rest (records at 0, 705, 1410). */
const SPLIT_OPTS: ClientHelloOptions = { ...HELLO_OPTS, sni: 'ksn-a-1.kaspersky-labs.com', recordSplit: [700, 700] };
const SPLIT_HELLO = clientHello(SPLIT_OPTS);
const MSS = 1448;

// ─────────────────────────────── expectations ───────────────────────────────

interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}
const TO_443: Tuple = { src: CLIENT, dst: SERVER, sport: CPORT, dport: 443 };
const TO_80: Tuple = { ...TO_443, dport: 80 };
const TO_53: Tuple = { src: CLIENT, dst: RESOLVER, sport: CPORT, dport: 53 };
const FROM_53: Tuple = { src: RESOLVER, dst: CLIENT, sport: 53, dport: CPORT };

/** The observation every field of which a case knows: frame n is at T0 + (n-1) ms. */
function obs(kind: Observation['kind'], name: string, frame: number, t: Tuple, extra: Partial<Observation> = {}): Observation {
  const time = { sec: T0, nsec: (frame - 1) * 1_000_000, digits: 6 };
  return { kind, name, time, tsMicros: T0 * 1_000_000 + (frame - 1) * 1000, frame, ...t, transport: 'tcp', ...extra };
}

/**
 * tls_sni for a hello built with `opts`: JA4 of the hello as built, so a reassembly that got
 * any fingerprinted byte wrong would show up (JA4 itself is pinned in ja4.test.ts).
 */
function sni(opts: ClientHelloOptions, frame: number, t: Tuple = TO_443): Observation {
  const hello = parseClientHello(handshakeMessage(opts));
  if (isIssue(hello)) throw new Error(`builder made a bad hello: ${hello.key}`);
  const extra: Partial<Observation> = { ja4: ja4(hello, 't') };
  if (hello.alpn.length > 0) extra.alpn = hello.alpn;
  return obs('tls_sni', String(opts.sni), frame, t, extra);
}

const host = (name: string, path: string, frame: number): Observation => obs('http_host', name, frame, TO_80, { http_path: path });
const query = (name: string, frame: number): Observation => obs('dns_query', name, frame, TO_53, { qtype: 'A' });
/** An A answer as dnsResponse builds it (TTL 300), which the observation carries for attribution. */
const answerA = (name: string, addr: string, frame: number): Observation =>
  obs('dns_answer', name, frame, FROM_53, { rrtype: 'A', data: addr, ttl: 300 });

/** Issue counts as `layer/kind/reason → count`, the form the metrics export. */
function issueCounts(d: Decoder): Record<string, number> {
  return Object.fromEntries(d.issues.rows().map((r) => [`${r.layer}/${r.kind}/${r.reason}`, r.count]));
}

interface Case {
  name: string;
  frames: Uint8Array[];
  want: Observation[];
  issues?: Record<string, number>;
  /** Frame index (0-based) → orig_len, for snaplen-cut frames (the frame itself is the cut bytes). */
  origLen?: Record<number, number>;
}

async function decodeCase(c: Pick<Case, 'frames' | 'origLen'>, opts: DecoderOptions = {}): Promise<{ observations: Observation[]; decoder: Decoder }> {
  const frames = c.frames.map((data, i) => {
    const origLen = c.origLen?.[i];
    return { data, ts: { sec: T0, nsec: i * 1_000_000 }, ...(origLen !== undefined ? { origLen } : {}) };
  });
  return decodeAll(pcapFile(frames, { linktype: LINKTYPE.ETHERNET }), opts);
}

async function check(c: Case): Promise<void> {
  const { observations, decoder } = await decodeCase(c);
  expect(observations).toStrictEqual(c.want);
  expect(issueCounts(decoder)).toStrictEqual(c.issues ?? {});
}

// ─────────────────────────────── TLS ───────────────────────────────

describe('ClientHello over several TCP segments', () => {
  const h = HELLO;
  test.for<Case>([
    { name: '2 segments in order, SYN seen', frames: [syn(), part(h, 0, MSS), part(h, MSS)], want: [sni(HELLO_OPTS, 3)] },
    {
      name: '2 segments in order, picked up at the ClientHello (no SYN)',
      frames: [OTHER_SYN, part(h, 0, MSS), part(h, MSS)],
      want: [sni(HELLO_OPTS, 3)],
    },
    {
      name: '3 segments in order, SYN seen',
      frames: [syn(), part(h, 0, 600), part(h, 600, 1200), part(h, 1200)],
      want: [sni(HELLO_OPTS, 4)],
    },
    {
      name: '3 segments in order, picked up at the ClientHello (no SYN)',
      frames: [OTHER_SYN, part(h, 0, 600), part(h, 600, 1200), part(h, 1200)],
      want: [sni(HELLO_OPTS, 4)],
    },
    {
      name: 'the SYN’s ACK and a window update before the data change nothing',
      frames: [syn(), seg({ seq: ISN + 1, flags: TCP_ACK }), seg({ seq: ISN + 1, flags: TCP_ACK }), part(h, 0, MSS), part(h, MSS)],
      want: [sni(HELLO_OPTS, 5)],
    },
  ])('$name', check);
});

describe('segments out of order', () => {
  const h = HELLO;
  test.for<Case>([
    { name: '2nd before 1st, SYN seen: held, then put in place', frames: [syn(), part(h, MSS), part(h, 0, MSS)], want: [sni(HELLO_OPTS, 3)] },
    {
      name: '3 segments in 3-1-2 order, SYN seen',
      frames: [syn(), part(h, 1200), part(h, 0, 600), part(h, 600, 1200)],
      want: [sni(HELLO_OPTS, 4)],
    },
    {
      name: '3 segments in 2-3-1 order, SYN seen',
      frames: [syn(), part(h, 600, 1200), part(h, 1200), part(h, 0, 600)],
      want: [sni(HELLO_OPTS, 4)],
    },
    {
      // Without the SYN the stream's start is unknown: the 2nd segment looks mid-stream and the
      // 1st, arriving after it, is old data. A known limitation, counted once as midstream.
      name: '2nd before 1st, no SYN: the name is lost, and counted',
      frames: [OTHER_SYN, part(h, MSS), part(h, 0, MSS)],
      want: [],
      issues: { [NAME_MIDSTREAM.key]: 1 },
    },
  ])('$name', check);
});

describe('retransmissions and overlaps', () => {
  const h = HELLO;
  // Two hellos of the same shape whose SNIs differ in their bytes only (same length).
  const firstOpts: ClientHelloOptions = { ...HELLO_OPTS, sni: 'first.kaspersky.com' };
  const otherOpts: ClientHelloOptions = { ...HELLO_OPTS, sni: 'other.kaspersky.com' };
  const first = clientHello(firstOpts);
  const other = clientHello(otherOpts);
  const at = Buffer.from(first).indexOf('first.kaspersky.com');

  test('the two hellos differ in the SNI bytes only', () => {
    expect(at).toBeGreaterThan(0);
    expect(first.length).toBe(other.length);
    const differ = [...first].flatMap((b, i) => (b === other[i] ? [] : [i]));
    expect(Math.min(...differ)).toBeGreaterThanOrEqual(at);
    expect(Math.max(...differ)).toBeLessThan(at + 'first'.length);
  });

  test.for<Case>([
    {
      name: 'exact duplicate of the 1st segment while reassembling: reported once',
      frames: [syn(), part(h, 0, MSS), part(h, 0, MSS), part(h, MSS)],
      want: [sni(HELLO_OPTS, 4)],
    },
    {
      name: 'exact duplicate of the 2nd segment held out of order',
      frames: [syn(), part(h, 1200), part(h, 1200), part(h, 0, 600), part(h, 600, 1200)],
      want: [sni(HELLO_OPTS, 5)],
    },
    {
      name: 'duplicate of the last segment after completion: nothing more',
      frames: [syn(), part(h, 0, MSS), part(h, MSS), part(h, MSS)],
      want: [sni(HELLO_OPTS, 3)],
    },
    {
      name: 'overlapping retransmission with different bytes, longer than the original: the first copy wins',
      // 1st copy: bytes [0, at+20) with "first…"; the retransmission covers [0, at+40) with
      // "other…" in the overlap; the rest follows. Only the 20 new bytes of it are used.
      frames: [syn(), part(first, 0, at + 20), part(other, 0, at + 40), part(first, at + 40)],
      want: [sni(firstOpts, 4)],
    },
    {
      name: 'overlapping retransmission with different bytes, starting inside the original',
      frames: [syn(), part(first, 0, at + 10), part(other, at - 5, at + 30), part(first, at + 30)],
      want: [sni(firstOpts, 4)],
    },
  ])('$name', check);
});

describe('a ClientHello in several TLS records and several segments', () => {
  const s = SPLIT_HELLO;
  test('the stream is 3 records: 700, 700 and the rest', () => {
    expect([s[0], s[1], s[2], (s[3]! << 8) | s[4]!]).toEqual([0x16, 0x03, 0x01, 700]);
    expect([s[705], (s[708]! << 8) | s[709]!]).toEqual([0x16, 700]);
    expect(s[1410]).toBe(0x16);
  });
  test.for<Case>([
    {
      name: 'segments cut at 500 and 1200 (inside records 1 and 2)',
      frames: [syn(), part(s, 0, 500), part(s, 500, 1200), part(s, 1200)],
      want: [sni(SPLIT_OPTS, 4)],
    },
    {
      name: 'a record header split over two segments (cut at 707)',
      frames: [syn(), part(s, 0, 707), part(s, 707)],
      want: [sni(SPLIT_OPTS, 3)],
    },
    {
      name: 'the handshake header split over two records and two segments',
      frames: [syn(), part(clientHello({ ...SPLIT_OPTS, recordSplit: [2] }), 0, 8), part(clientHello({ ...SPLIT_OPTS, recordSplit: [2] }), 8)],
      want: [sni(SPLIT_OPTS, 3)],
    },
    {
      name: 'records split, segments out of order (3-1-2), no segment boundary on a record boundary',
      frames: [syn(), part(s, 1200), part(s, 0, 500), part(s, 500, 1200)],
      want: [sni(SPLIT_OPTS, 4)],
    },
  ])('$name', check);
});

describe('second ClientHello after HelloRetryRequest (RFC 8446 §4.1.4, §D.4)', () => {
  const h1 = HELLO;
  const opts2: ClientHelloOptions = { ...HELLO_OPTS, sni: 's02.upd.kaspersky.com' };
  const second = concat(CCS, clientHello(opts2));
  const base = h1.length;
  const hrr = seg({ seq: 9000, src: SERVER, dst: CLIENT, sport: 443, dport: CPORT }, SERVER_HRR);
  test.for<Case>([
    {
      name: 'CCS + hello 2 in one segment after a 2-segment hello 1: both names',
      frames: [syn(), part(h1, 0, MSS), part(h1, MSS), hrr, seg({ seq: ISN + 1 + base }, second)],
      want: [sni(HELLO_OPTS, 3), sni(opts2, 5)],
    },
    {
      name: 'CCS + the start of hello 2 in one segment, the rest in the next',
      frames: [syn(), part(h1, 0, MSS), part(h1, MSS), hrr, seg({ seq: ISN + 1 + base }, second.subarray(0, MSS)), seg({ seq: ISN + 1 + base + MSS }, second.subarray(MSS))],
      want: [sni(HELLO_OPTS, 3), sni(opts2, 6)],
    },
  ])('$name', check);
});

// ─────────────────────────────── HTTP ───────────────────────────────

describe('HTTP request headers over several segments', () => {
  const req = httpRequest({ target: '/upd/index.xml?x=1', host: 'dnl-01.geo.kaspersky.com', headers: ['User-Agent: KSC/14', 'Accept: */*', 'Connection: keep-alive'] });
  const hostAt = Buffer.from(req).indexOf('Host:');
  const r1 = httpGet('upd1.kaspersky.com', '/a');
  const r2 = httpGet('upd2.kaspersky.com', '/b');
  const r3 = httpRequest({ method: 'POST', target: '/ksn', host: 'ksn.kaspersky.com', headers: ['Content-Length: 5'], body: 'hello' });
  const r4 = httpGet('upd4.kaspersky.com', '/d');
  const pipe = concat(r1, r2, r3, r4);
  const o = (n: number): number => [r1, r2, r3].slice(0, n).reduce((a, r) => a + r.length, 0);
  test.for<Case>([
    {
      name: 'request line in the 1st segment, Host in the 2nd',
      frames: [syn(80), part(req, 0, hostAt, { dport: 80 }), part(req, hostAt, undefined, { dport: 80 })],
      want: [host('dnl-01.geo.kaspersky.com', '/upd/index.xml', 3)],
    },
    {
      name: '3 segments: the Host header name cut in two, the blank line alone',
      frames: [syn(80), part(req, 0, hostAt + 2, { dport: 80 }), part(req, hostAt + 2, req.length - 2, { dport: 80 }), part(req, req.length - 2, undefined, { dport: 80 })],
      want: [host('dnl-01.geo.kaspersky.com', '/upd/index.xml', 4)],
    },
    {
      name: 'no SYN, picked up at the request line',
      frames: [OTHER_SYN, part(req, 0, hostAt, { dport: 80 }), part(req, hostAt, undefined, { dport: 80 })],
      want: [host('dnl-01.geo.kaspersky.com', '/upd/index.xml', 3)],
    },
    {
      name: 'pipelined: each request completes in the segment that ends it (body skipped by Content-Length)',
      // seg 1: r1 + the start of r2; seg 2: the rest of r2, r3 with its body, the start of r4; seg 3: the rest of r4
      frames: [
        syn(80),
        part(pipe, 0, o(1) + 20, { dport: 80 }),
        part(pipe, o(1) + 20, o(3) + 25, { dport: 80 }),
        part(pipe, o(3) + 25, undefined, { dport: 80 }),
      ],
      want: [host('upd1.kaspersky.com', '/a', 2), host('upd2.kaspersky.com', '/b', 3), host('ksn.kaspersky.com', '/ksn', 3), host('upd4.kaspersky.com', '/d', 4)],
    },
    {
      name: 'keep-alive: a later request on the same connection, itself split',
      frames: [syn(80), part(pipe, 0, o(1), { dport: 80 }), part(pipe, o(1), o(1) + 30, { dport: 80 }), part(pipe, o(1) + 30, o(2), { dport: 80 })],
      want: [host('upd1.kaspersky.com', '/a', 2), host('upd2.kaspersky.com', '/b', 4)],
    },
  ])('$name', check);
});

// ─────────────────────────────── DNS over TCP ───────────────────────────────

describe('DNS over TCP (RFC 7766 §8: 2-byte length, then the message)', () => {
  const two = dnsTcp(dnsQuery('dnl-01.geo.kaspersky.com', 'A', 1), dnsQuery('dnl-02.geo.kaspersky.com', 'A', 2));
  const one = dnsTcp(dnsQuery('ksn-a-1.kaspersky-labs.com', 'A', 3));
  const q = (from: number, to?: number, s = one): Uint8Array => part(s, from, to, { dport: 53, dst: RESOLVER });
  const firstQueryLen = ((two[0]! << 8) | two[1]!) + 2;
  const ans = dnsTcp(
    dnsResponse('dnl-01.geo.kaspersky.com', [{ type: 'A', name: 'dnl-01.geo.kaspersky.com', data: '198.18.1.11' }], 1),
    dnsResponse('dnl-02.geo.kaspersky.com', [{ type: 'A', name: 'dnl-02.geo.kaspersky.com', data: '198.18.1.12' }], 2),
  );
  const firstLen = ((ans[0]! << 8) | ans[1]!) + 2;
  /** Server → client stream bytes (the resolver's ISN is 0x9000). */
  const a = (from: number, to?: number): Uint8Array =>
    seg({ seq: 0x9001 + from, src: RESOLVER, dst: CLIENT, sport: 53, dport: CPORT }, ans.subarray(from, to));
  test.for<Case>([
    {
      name: 'two messages in one segment',
      frames: [syn(53), q(0, undefined, two)],
      want: [query('dnl-01.geo.kaspersky.com', 2), query('dnl-02.geo.kaspersky.com', 2)],
    },
    { name: 'one message split across two segments', frames: [syn(53), q(0, 20), q(20)], want: [query('ksn-a-1.kaspersky-labs.com', 3)] },
    {
      name: 'the length prefix split 1 + 1 byte across segments',
      frames: [syn(53), q(0, 1), q(1, 2), q(2)],
      want: [query('ksn-a-1.kaspersky-labs.com', 4)],
    },
    {
      name: 'a message boundary inside a segment: the 2nd message ends in the next one',
      frames: [syn(53), q(0, firstQueryLen + 10, two), q(firstQueryLen + 10, undefined, two)],
      want: [query('dnl-01.geo.kaspersky.com', 2), query('dnl-02.geo.kaspersky.com', 3)],
    },
    {
      name: 'both directions: queries from the client, answers from the server split across segments',
      frames: [syn(53), q(0, undefined, two), a(0, 30), a(30, firstLen + 1), a(firstLen + 1)],
      want: [
        query('dnl-01.geo.kaspersky.com', 2),
        query('dnl-02.geo.kaspersky.com', 2),
        answerA('dnl-01.geo.kaspersky.com', '198.18.1.11', 4),
        answerA('dnl-02.geo.kaspersky.com', '198.18.1.12', 5),
      ],
    },
  ])('$name', check);
});

// ─────────────────────────────── sequence numbers ───────────────────────────────

describe('sequence-number wraparound (RFC 9293 §3.4: arithmetic modulo 2^32)', () => {
  const h = HELLO;
  const isn = 2 ** 32 - 700; // the stream crosses 2^32 inside the 1st segment
  test.for<Case>([
    { name: 'in order', frames: [syn(443, isn), part(h, 0, MSS, { isn }), part(h, MSS, undefined, { isn })], want: [sni(HELLO_OPTS, 3)] },
    { name: '2nd before 1st', frames: [syn(443, isn), part(h, MSS, undefined, { isn }), part(h, 0, MSS, { isn })], want: [sni(HELLO_OPTS, 3)] },
    {
      name: 'the SYN is the last sequence number before the wrap',
      frames: [syn(443, 2 ** 32 - 1), part(h, 0, MSS, { isn: 2 ** 32 - 1 }), part(h, MSS, undefined, { isn: 2 ** 32 - 1 })],
      want: [sni(HELLO_OPTS, 3)],
    },
  ])('$name', check);

  test('property: any ISN, any cut into 1-6 segments (the first ≥ 3 bytes), any arrival order (SYN seen) → the name once, on the last frame', () => {
    const h2 = clientHello(HELLO_OPTS);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.uniqueArray(fc.integer({ min: 3, max: h2.length - 1 }), { maxLength: 5 }),
        fc.func(fc.integer()),
        (isn, cutsRaw, key) => {
          const cuts = [0, ...cutsRaw.sort((x, y) => x - y), h2.length];
          const parts = cuts.slice(1).map((to, i) => part(h2, cuts[i]!, to, { isn }));
          const order = parts.map((p, i) => ({ p, k: key(i) })).sort((x, y) => x.k - y.k);
          const feeder = frameFeeder();
          feeder.feed(syn(443, isn), LINKTYPE.ETHERNET);
          for (const { p } of order) feeder.feed(p, LINKTYPE.ETHERNET);
          feeder.decoder.finish();
          expect(feeder.observations.map((o) => [o.name, o.frame])).toEqual([['s01.upd.kaspersky.com', parts.length + 1]]);
          expect(issueCounts(feeder.decoder)).toEqual({});
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ─────────────────────────────── names not recovered ───────────────────────────────

describe('why a name was not recovered (layer name)', () => {
  const h = HELLO;
  const small = clientHello({ sni: 's01.upd.kaspersky.com' });
  const cutFrame = part(small, 0);
  const midstream = (sport: number, n: number): Uint8Array[] =>
    Array.from({ length: n }, (_, i) => seg({ seq: 0x7000_0000 + i * APP_DATA.length, sport }, APP_DATA));
  // A hello cut in MAX_OOO_SEGMENTS + 2 pieces; all but the first arrive before it.
  const pieces = MAX_OOO_SEGMENTS + 2;
  const size = Math.ceil(h.length / pieces);
  const late = Array.from({ length: MAX_OOO_SEGMENTS + 1 }, (_, i) => part(h, (i + 1) * size, Math.min(h.length, (i + 2) * size)));

  test.for<Case>([
    {
      name: 'a gap that never fills, then FIN: reassembly_gap',
      frames: [syn(), part(h, 0, 600), part(h, 1200), fin(h.length)],
      want: [],
      issues: { [NAME_GAP.key]: 1 },
    },
    {
      name: 'a gap that never fills, then RST: reassembly_gap',
      frames: [syn(), part(h, 0, 600), part(h, 1200), seg({ seq: ISN + 1 + h.length, flags: 0x04 })],
      want: [],
      issues: { [NAME_GAP.key]: 1 },
    },
    {
      name: 'picked up mid-stream on port 443: counted once per connection, not per packet',
      frames: [OTHER_SYN, ...midstream(50_001, 4), ...midstream(50_002, 3)],
      want: [],
      issues: { [NAME_MIDSTREAM.key]: 2 },
    },
    {
      name: 'mid-stream on a port that carries no name (8000): not counted',
      frames: [OTHER_SYN, seg({ seq: 5, dport: 8000 }, APP_DATA), seg({ seq: 5 + APP_DATA.length, dport: 8000 }, APP_DATA)],
      want: [],
    },
    {
      name: `more than ${MAX_OOO_SEGMENTS} segments held out of order: limit_exceeded`,
      frames: [syn(), ...late],
      want: [],
      issues: { [NAME_LIMIT.key]: 1 },
    },
    {
      name: 'a ClientHello without SNI, over 2 segments: client_hello_without_sni',
      frames: [syn(), part(clientHello({ padTo: 1800 }), 0, MSS), part(clientHello({ padTo: 1800 }), MSS)],
      want: [],
      issues: { [NAME_NO_SNI.key]: 1 },
    },
    {
      name: 'the frame carrying the ClientHello cut by the snap length (caplen < origlen): capture_truncated',
      frames: [syn(), cutFrame.subarray(0, 54 + 100)],
      origLen: { 1: cutFrame.length },
      want: [],
      issues: { [NAME_SNAPLEN.key]: 1 },
    },
    {
      name: 'the same without the SYN',
      frames: [OTHER_SYN, cutFrame.subarray(0, 54 + 100)],
      origLen: { 1: cutFrame.length },
      want: [],
      issues: { [NAME_SNAPLEN.key]: 1 },
    },
  ])('$name', check);

  test('a flow still waiting for bytes is counted by finish(), not before: incomplete_at_end', () => {
    const feeder = frameFeeder();
    for (const f of [syn(), part(h, 0, MSS)]) feeder.feed(f, LINKTYPE.ETHERNET);
    expect(issueCounts(feeder.decoder)).toStrictEqual({});
    expect(feeder.decoder.pending().flows).toBe(1);
    feeder.decoder.finish();
    expect(feeder.observations).toStrictEqual([]);
    expect(issueCounts(feeder.decoder)).toStrictEqual({ [NAME_INCOMPLETE.key]: 1 });
    expect(feeder.decoder.pending().flows).toBe(0);
  });

  test('a SYN with no data at all is not a lost name', async () => {
    const { observations, decoder } = await decodeCase({ frames: [syn(), seg({ seq: ISN + 1, flags: TCP_ACK })] });
    expect(observations).toStrictEqual([]);
    expect(issueCounts(decoder)).toStrictEqual({});
  });
});

describe('a completed flow’s later segments are not mid-stream', () => {
  const h = HELLO;
  const appAt = (k: number): number => h.length + k * APP_DATA.length;
  const small = clientHello({ sni: 's01.upd.kaspersky.com' });
  test.for<Case>([
    {
      name: 'hello over 2 segments (SYN seen), then encrypted application data',
      frames: [syn(), part(h, 0, MSS), part(h, MSS), ...[0, 1, 2].map((k) => seg({ seq: ISN + 1 + appAt(k) }, APP_DATA))],
      want: [sni(HELLO_OPTS, 3)],
    },
    {
      name: 'hello in one segment (no SYN), then application data',
      frames: [OTHER_SYN, part(small, 0), ...[0, 1, 2].map((k) => seg({ seq: ISN + 1 + small.length + k * APP_DATA.length }, APP_DATA))],
      want: [sni({ sni: 's01.upd.kaspersky.com' }, 2)],
    },
    {
      name: 'hello over 2 segments (no SYN), then application data and FIN',
      frames: [OTHER_SYN, part(h, 0, MSS), part(h, MSS), seg({ seq: ISN + 1 + h.length }, APP_DATA), fin(h.length + APP_DATA.length)],
      want: [sni(HELLO_OPTS, 3)],
    },
  ])('$name', check);
});

// ─────────────────────────────── flow table bounds ───────────────────────────────

/** Feeds frames at given packet times (seconds after T0) straight into a Decoder. */
function clockFeeder(opts: DecoderOptions): { decoder: Decoder; observations: Observation[]; feed(data: Uint8Array, secAfterT0: number): void } {
  const observations: Observation[] = [];
  const decoder = new Decoder((o) => observations.push(o), opts);
  const drive = packetTimeDriver(decoder);
  const f = newRawFrame();
  let n = 0;
  return {
    decoder,
    observations,
    feed(data, s) {
      f.buf = data;
      f.off = 0;
      f.caplen = f.origlen = data.length;
      f.linktype = LINKTYPE.ETHERNET;
      f.frame = ++n;
      f.time = { sec: T0 + Math.floor(s), nsec: Math.round((s % 1) * 1e9), digits: 6 };
      drive(f);
    },
  };
}

describe('flow table bounds', () => {
  const limits = { ...DEFAULT_DECODER_LIMITS, maxFlows: 100, flowIdleSeconds: 120 };

  test('1000 half-open flows with maxFlows 100: LRU evictions counted, at most 100 flows held', () => {
    const feeder = frameFeeder({ limits });
    for (let i = 0; i < 1000; i++) feeder.feed(syn(443, ISN, 10_000 + i), LINKTYPE.ETHERNET);
    expect(feeder.decoder.pending().flows).toBe(100);
    expect(feeder.decoder.evictions()).toMatchObject({ tcp_flows: 900, tcp_flows_idle: 0 });
    feeder.decoder.finish();
    // Half-open flows had no bytes: evicting them loses no name.
    expect(issueCounts(feeder.decoder)).toStrictEqual({});
  });

  test('a flow evicted while reassembling a hello is counted as flow_evicted; the most recent flows survive', () => {
    const feeder = frameFeeder({ limits });
    feeder.feed(syn(), LINKTYPE.ETHERNET);
    feeder.feed(part(HELLO, 0, MSS), LINKTYPE.ETHERNET);
    for (let i = 0; i < 100; i++) feeder.feed(syn(443, ISN, 10_000 + i), LINKTYPE.ETHERNET);
    expect(feeder.decoder.evictions()).toMatchObject({ tcp_flows: 1 });
    expect(issueCounts(feeder.decoder)).toStrictEqual({ [NAME_EVICTED.key]: 1 });
    // A flow touched recently is not the one evicted: complete a hello on the newest flow.
    const last = clientHello({ sni: 'last.kaspersky.com', padTo: 1800 });
    feeder.feed(part(last, 0, MSS, { sport: 10_099 }), LINKTYPE.ETHERNET);
    feeder.feed(part(last, MSS, undefined, { sport: 10_099 }), LINKTYPE.ETHERNET);
    expect(feeder.observations.map((o) => [o.name, o.sport])).toStrictEqual([['last.kaspersky.com', 10_099]]);
    expect(feeder.decoder.pending().flows).toBeLessThanOrEqual(100);
  });

  test('idle timeout on packet time: flows idle > flowIdleSeconds expire (tcp_flows_idle), younger ones stay', () => {
    const feeder = clockFeeder({ limits });
    feeder.feed(syn(), 0); // half-open: expires silently
    feeder.feed(syn(443, ISN, 50_001), 0);
    feeder.feed(part(HELLO, 0, MSS, { sport: 50_001 }), 1); // reassembling: expiry loses a name
    feeder.feed(OTHER_SYN, 100);
    expect(feeder.decoder.pending().flows).toBe(3);
    feeder.feed(seg({ seq: 1, flags: TCP_SYN, sport: 7 }), 119.5); // 119.5 s idle: kept
    expect(feeder.decoder.evictions()).toMatchObject({ tcp_flows_idle: 0 });
    feeder.feed(seg({ seq: 1, flags: TCP_SYN, sport: 8 }), 121.5); // > 120 s: the first two expire
    expect(feeder.decoder.evictions()).toMatchObject({ tcp_flows_idle: 2, tcp_flows: 0 });
    expect(feeder.decoder.pending().flows).toBe(3);
    // The half-open flow leaves silently; the one holding part of a hello is counted.
    expect(issueCounts(feeder.decoder)).toStrictEqual({ [NAME_IDLE.key]: 1 });
    expect(feeder.observations).toStrictEqual([]);
  });
});

// ─────────────── regressions (found in review; each failed before its fix) ───────────────

describe('regressions', () => {
  const h = HELLO;
  const small = clientHello({ sni: 's01.upd.kaspersky.com' });
  test.for<Case>([
    { name: 'hello over 2 segments, no SYN, first TCP traffic in the capture (empty flow table)', frames: [part(h, 0, MSS), part(h, MSS)], want: [sni(HELLO_OPTS, 2)] },
    {
      name: 'mid-stream connection first in the capture: counted once',
      frames: Array.from({ length: 3 }, (_, i) => seg({ seq: 0x7000_0000 + i * APP_DATA.length }, APP_DATA)),
      want: [],
      issues: { [NAME_MIDSTREAM.key]: 1 },
    },
    {
      name: 'one-segment hello (no SYN) first, then app data: not mid-stream',
      frames: [part(small, 0), seg({ seq: ISN + 1 + small.length }, APP_DATA)],
      want: [sni({ sni: 's01.upd.kaspersky.com' }, 1)],
    },
    { name: 'SYN, 2nd segment only, FIN: a gap', frames: [syn(), part(h, MSS), fin(h.length)], want: [], issues: { [NAME_GAP.key]: 1 } },
    { name: 'SYN, 2nd segment only, end of input: a gap', frames: [syn(), part(h, MSS)], want: [], issues: { [NAME_GAP.key]: 1 } },
    // tshark 4.0 does not dissect a retransmitted segment again (TCP_A_RETRANSMISSION): once.
    { name: 'one-segment hello retransmitted: reported once, as tshark does', frames: [syn(), part(small, 0), part(small, 0)], want: [sni({ sni: 's01.upd.kaspersky.com' }, 2)] },
    { name: 'one-segment hello without the SYN, captured twice: once', frames: [part(small, 0), part(small, 0)], want: [sni({ sni: 's01.upd.kaspersky.com' }, 1)] },
    { name: 'whole 2-segment hello retransmitted after completion: once', frames: [syn(), part(h, 0, MSS), part(h, MSS), part(h, 0, MSS), part(h, MSS)], want: [sni(HELLO_OPTS, 3)] },
    { name: '1st segment retransmitted after completion: no issue', frames: [syn(), part(h, 0, MSS), part(h, MSS), part(h, 0, MSS)], want: [sni(HELLO_OPTS, 3)] },
    { name: '1-byte first segment (SYN)', frames: [syn(), part(h, 0, 1), part(h, 1)], want: [sni(HELLO_OPTS, 3)] },
    { name: '2-byte first segment (no SYN)', frames: [OTHER_SYN, part(h, 0, 2), part(h, 2)], want: [sni(HELLO_OPTS, 3)] },
    {
      name: 'HTTP split inside the method',
      frames: [syn(80), part(httpGet('upd1.kaspersky.com', '/a'), 0, 2, { dport: 80 }), part(httpGet('upd1.kaspersky.com', '/a'), 2, undefined, { dport: 80 })],
      want: [host('upd1.kaspersky.com', '/a', 3)],
    },
  ])('$name', check);

  test('first copy wins for bytes held out of order', async () => {
    const firstOpts: ClientHelloOptions = { ...HELLO_OPTS, sni: 'first.kaspersky.com' };
    const first = clientHello(firstOpts);
    const other = clientHello({ ...HELLO_OPTS, sni: 'other.kaspersky.com' });
    const at = Buffer.from(first).indexOf('first.kaspersky.com');
    await check({ name: '', frames: [syn(), part(first, at - 10), part(other, 0, at + 20)], want: [sni(firstOpts, 3)] });
  });

  test('hello > 16 KiB: limit_exceeded, not malformed', async () => {
    const big = clientHello({ sni: 'big.kaspersky.com', padTo: 20_000, recordSplit: [16_384] });
    const frames = [syn()];
    for (let o = 0; o < big.length; o += MSS) frames.push(part(big, o, Math.min(big.length, o + MSS)));
    await check({ name: '', frames, want: [], issues: { [NAME_LIMIT.key]: 1, [TLS_HELLO_TOO_LARGE.key]: 1 } });
  });

  test('hello of exactly 16384 bytes in 2 records is read', async () => {
    const opts: ClientHelloOptions = { sni: 'big.kaspersky.com', padTo: 16_384, recordSplit: [16_000] };
    const big = clientHello(opts);
    const frames = [syn()];
    for (let o = 0; o < big.length; o += MSS) frames.push(part(big, o, Math.min(big.length, o + MSS)));
    await check({ name: '', frames, want: [sni(opts, frames.length)] });
  });

  test('1st of 2 segments cut by snaplen: capture_truncated only', async () => {
    const f = part(h, 0, MSS);
    await check({ name: '', frames: [syn(), f.subarray(0, 200), part(h, MSS)], origLen: { 1: f.length }, want: [], issues: { [NAME_SNAPLEN.key]: 1 } });
  });

  test('origlen = caplen + 4 (FCS not kept): the hello is still complete', async () => {
    const f = part(h, 0, MSS);
    await check({ name: '', frames: [syn(), f, part(h, MSS)], origLen: { 1: f.length + 4 }, want: [sni(HELLO_OPTS, 3)] });
  });

  test('pipelined request after a body split across segments', async () => {
    const r3 = httpRequest({ method: 'POST', target: '/ksn', host: 'ksn.kaspersky.com', headers: ['Content-Length: 5'], body: 'hello' });
    const pipe = concat(r3, httpGet('upd4.kaspersky.com', '/d'));
    await check({
      name: '',
      frames: [syn(80), part(pipe, 0, r3.length - 2, { dport: 80 }), part(pipe, r3.length - 2, undefined, { dport: 80 })],
      want: [host('ksn.kaspersky.com', '/ksn', 2), host('upd4.kaspersky.com', '/d', 3)],
    });
  });
});
