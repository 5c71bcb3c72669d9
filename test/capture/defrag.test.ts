/**
 * IP reassembly (src/capture/packet/defrag.ts, wired in by ipv4() and ipv6Chain() in packet/ip.ts):
 * a DNS answer larger than the MTU, fragmented at the IP layer (RFC 791 §3.2 for IPv4, RFC 8200
 * §4.5 Fragment header for IPv6), yields its names once the last missing fragment arrives, on
 * that fragment's frame (tshark's convention). Policy: exact duplicates are ignored, any other
 * overlap drops the whole datagram (RFC 5722), nothing past 65535 bytes, and every drop,
 * timeout and eviction is counted.
 *
 * Frames go through a real pcap file; frame i (1-based) is at T0 + (i-1) ms unless a case
 * gives times, so no idle sweep runs in between unless a case asks for one.
 */
import { describe, expect, test } from 'vitest';
import type { DecoderOptions } from '../../src/capture/decoder.js';
import {
  Defragmenter,
  FRAG_AT_END,
  FRAG_BUDGET,
  FRAG_EVICTED,
  FRAG_INCONSISTENT,
  FRAG_OVERLAP,
  FRAG_TIMEOUT,
  FRAG_TOO_BIG,
  FRAG_TOO_MANY,
  PIECE_OVERHEAD,
  TRAIN_BYTES,
} from '../../src/capture/packet/defrag.js';
import type { Observation } from '../../src/capture/observation.js';
import type { DecodeIssue } from '../../src/capture/issues.js';
import {
  dnsQuery,
  dnsResponse,
  eth,
  ETH_IPV4,
  ETH_IPV6,
  ipv4,
  ipv6,
  ipv6Frag,
  IPPROTO_UDP,
  LINKTYPE,
  udp,
  type DnsAnswer,
} from '../helpers/packets.js';
import { decodeAll, pcapFile, T0 } from '../helpers/pcap.js';

// ─────────────────────────────── builders ───────────────────────────────

const CLIENT4 = '198.18.0.11';
const RESOLVER4 = '198.18.0.1';
const CLIENT6 = 'fd00::11';
const RESOLVER6 = 'fd00::1';
const CPORT = 40_000;
const QNAME = 'dnl-01.geo.kaspersky.com';
const TARGET = 'dnl-pool.kaspersky-labs.com';

/** A CNAME to TARGET and `n` addresses: the shape of the fixture's answer, ~2 KB (v4) / ~3.4 KB (v6). */
function bigAnswer(af: 4 | 6, n = 120): { msg: Uint8Array; records: Array<{ name: string; rrtype: string; data: string }> } {
  const addrs = Array.from({ length: n }, (_, i) => (af === 4 ? `198.18.10.${i + 1}` : `fd00::10:${(i + 1).toString(16)}`));
  const answers: DnsAnswer[] = [
    { type: 'CNAME', name: QNAME, data: TARGET },
    ...addrs.map((a) => ({ type: af === 4 ? ('A' as const) : ('AAAA' as const), name: TARGET, data: a })),
  ];
  const records = [{ name: QNAME, rrtype: 'CNAME', data: TARGET }, ...addrs.map((a) => ({ name: TARGET, rrtype: af === 4 ? 'A' : 'AAAA', data: a }))];
  return { msg: dnsResponse(QNAME, answers), records };
}

const V4 = bigAnswer(4);
const V6 = bigAnswer(6);

/** The UDP datagram (header + DNS message) with its checksum, as the sender computed it before fragmenting. */
function datagram(af: 4 | 6, msg: Uint8Array): Uint8Array {
  const u = udp({ sport: 53, dport: CPORT }, msg);
  return af === 4
    ? ipv4({ src: RESOLVER4, dst: CLIENT4, proto: IPPROTO_UDP }, u).subarray(20)
    : ipv6({ src: RESOLVER6, dst: CLIENT6, next: IPPROTO_UDP }, u).subarray(40);
}

const DGRAM4 = datagram(4, V4.msg);
const DGRAM6 = datagram(6, V6.msg);

/**
 * One fragment of `dgram`: bytes [off, off + len) (off a multiple of 8), MF unless it reaches the
 * end (or `more` says otherwise). `bytes` replaces the fragment's data (overlap tests).
 */
interface FragOptions {
  off: number;
  len?: number;
  more?: boolean;
  id?: number;
  bytes?: Uint8Array;
}

function frag4(dgram: Uint8Array, o: FragOptions): Uint8Array {
  const data = o.bytes ?? dgram.subarray(o.off, o.len === undefined ? undefined : o.off + o.len);
  const more = o.more ?? o.off + data.length < dgram.length;
  if (o.off % 8 !== 0) throw new Error('fragment offset must be a multiple of 8');
  return eth(
    { type: ETH_IPV4 },
    ipv4({ src: RESOLVER4, dst: CLIENT4, proto: IPPROTO_UDP, id: o.id ?? 0x5151, flags: more ? 0b001 : 0b000, fragOffset: o.off / 8 }, data),
  );
}

function frag6(dgram: Uint8Array, o: FragOptions): Uint8Array {
  const data = o.bytes ?? dgram.subarray(o.off, o.len === undefined ? undefined : o.off + o.len);
  const more = o.more ?? o.off + data.length < dgram.length;
  if (o.off % 8 !== 0) throw new Error('fragment offset must be a multiple of 8');
  return eth({ type: ETH_IPV6 }, ipv6({ src: RESOLVER6, dst: CLIENT6, next: IPPROTO_UDP }, data, [ipv6Frag({ offset: o.off / 8, more, id: o.id ?? 0x5151 })]));
}

/** Fragments of `dgram` cut at the given offsets (multiples of 8). */
function cutAt(af: 4 | 6, dgram: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const bounds = [0, ...cuts, dgram.length];
  const mk = af === 4 ? frag4 : frag6;
  return bounds.slice(1).map((end, i) => mk(dgram, { off: bounds[i]!, len: end - bounds[i]! }));
}

/** A small unfragmented DNS query from the client (a packet between fragments, or to move time on). */
function query4(name = 'example.org'): Uint8Array {
  return eth({ type: ETH_IPV4 }, ipv4({ src: CLIENT4, dst: RESOLVER4, proto: IPPROTO_UDP }, udp({ sport: CPORT + 1, dport: 53 }, dnsQuery(name))));
}

// ─────────────────────────────── expectations ───────────────────────────────

function time(frame: number, at?: readonly number[]): { time: Observation['time']; tsMicros: number } {
  const ms = at?.[frame - 1] ?? frame - 1; // milliseconds after T0
  const sec = T0 + Math.floor(ms / 1000);
  const nsec = (ms % 1000) * 1_000_000;
  return { time: { sec, nsec, digits: 6 }, tsMicros: sec * 1_000_000 + nsec / 1000 };
}

/** Every answer record of `ans` as the observation reported on `frame`. */
function answers(af: 4 | 6, ans: typeof V4, frame: number, at?: readonly number[]): Observation[] {
  return ans.records.map((r) => ({
    kind: 'dns_answer',
    name: r.name,
    ...time(frame, at),
    frame,
    src: af === 4 ? RESOLVER4 : RESOLVER6,
    dst: af === 4 ? CLIENT4 : CLIENT6,
    sport: 53,
    dport: CPORT,
    transport: 'udp',
    rrtype: r.rrtype,
    data: r.data,
    ttl: 300, // dnsResponse's
  }));
}

function queryObs(name: string, frame: number, at?: readonly number[]): Observation {
  return { kind: 'dns_query', name, ...time(frame, at), frame, src: CLIENT4, dst: RESOLVER4, sport: CPORT + 1, dport: 53, transport: 'udp', qtype: 'A' };
}

function issueCounts(rows: ReadonlyArray<{ layer: string; kind: string; reason: string; count: number }>): Record<string, number> {
  return Object.fromEntries(rows.map((r) => [`${r.layer}/${r.kind}/${r.reason}`, r.count]));
}

interface Case {
  name: string;
  frames: Uint8Array[];
  want: Observation[];
  issues?: Record<string, number>;
  /** Packet time of each frame, in ms after T0 (default: frame i at i-1 ms). */
  at?: readonly number[];
  pendingTrains?: number;
}

async function check(c: Case, opts: DecoderOptions = {}): Promise<void> {
  const frames = c.frames.map((data, i) => {
    const t = time(i + 1, c.at).time;
    return { data, ts: { sec: t.sec, nsec: t.nsec } };
  });
  // Before the end of input, then after it: every train still waiting is dropped, and the
  // live ones (not the tombstones of dropped datagrams) are counted as incomplete at the end.
  const { observations, decoder } = await decodeAll(pcapFile(frames, { linktype: LINKTYPE.ETHERNET }), { ...opts, finish: false });
  expect(observations).toStrictEqual(c.want);
  expect(issueCounts(decoder.issues.rows())).toStrictEqual(c.issues ?? {});
  expect(decoder.pending().fragmentTrains).toBe(c.pendingTrains ?? 0);
  decoder.finish();
  expect(decoder.pending().fragmentTrains).toBe(0);
  const { [FRAG_AT_END.key]: atEnd = 0, ...rest } = issueCounts(decoder.issues.rows());
  expect(rest).toStrictEqual(c.issues ?? {});
  expect(atEnd).toBeLessThanOrEqual(c.pendingTrains ?? 0);
  expect(observations).toStrictEqual(c.want);
}

// ─────────────────────────────── cases ───────────────────────────────

describe('the builders', () => {
  test('the answers are bigger than one 1500-byte MTU and the datagrams carry a UDP checksum', () => {
    expect(DGRAM4.length).toBeGreaterThan(1480);
    expect(DGRAM6.length).toBeGreaterThan(2 * 1448);
    expect(DGRAM4[6]! | DGRAM4[7]!).not.toBe(0);
    expect(DGRAM6[6]! | DGRAM6[7]!).not.toBe(0);
    expect(V4.records).toHaveLength(121);
  });
});

for (const af of [4, 6] as const) {
  const dg = af === 4 ? DGRAM4 : DGRAM6;
  const ans = af === 4 ? V4 : V6;
  const mk = af === 4 ? frag4 : frag6;
  // Real MTU-sized cuts: 1480 (IPv4, 20-byte header) / 1448 (IPv6, 40 + 8-byte Fragment header; the fixture's).
  const mtu = af === 4 ? 1480 : 1448;
  const two = cutAt(af, dg, [mtu]);
  const three = cutAt(af, dg, [800, 1600]);
  const [a, b] = [two[0]!, two[1]!];
  const [x, y, z] = [three[0]!, three[1]!, three[2]!];

  describe(`IPv${af}: a fragmented DNS answer`, () => {
    test.for<Case>([
      { name: '2 fragments in order', frames: [a, b], want: answers(af, ans, 2) },
      { name: '2 fragments reversed', frames: [b, a], want: answers(af, ans, 2) },
      { name: '3 fragments in order', frames: [x, y, z], want: answers(af, ans, 3) },
      { name: '3 fragments reversed', frames: [z, y, x], want: answers(af, ans, 3) },
      { name: '3 fragments, middle one last', frames: [x, z, y], want: answers(af, ans, 3) },
      {
        name: 'the frame is that of the last fragment, other packets in between keep theirs',
        frames: [y, query4('a.example'), x, query4('b.example'), z],
        want: [queryObs('a.example', 2), queryObs('b.example', 4), ...answers(af, ans, 5)],
      },
      { name: 'an exact duplicate (retransmission) is ignored', frames: [x, x, y, z], want: answers(af, ans, 4) },
      { name: 'an exact duplicate of the last fragment before the rest', frames: [z, z, x, y], want: answers(af, ans, 4) },
      {
        name: 'overlap with different bytes: the whole datagram is dropped (RFC 5722), counted once',
        frames: [x, mk(dg, { off: 792, bytes: dg.slice(792, 1600).map((v) => v ^ 0xff) }), y, z],
        want: [],
        issues: { [FRAG_OVERLAP.key]: 1 },
        pendingTrains: 1, // the dead train's tombstone, until it times out
      },
      {
        name: 'overlap with the same bytes but other boundaries: dropped too (only exact duplicates pass)',
        frames: [x, mk(dg, { off: 400, len: 1200 }), y, z],
        want: [],
        issues: { [FRAG_OVERLAP.key]: 1 },
        pendingTrains: 1,
      },
      {
        name: 'fragments of a dropped datagram that arrive later do not start it again',
        frames: [x, mk(dg, { off: 0, len: 808 }), y, z, query4()],
        want: [queryObs('example.org', 5)],
        issues: { [FRAG_OVERLAP.key]: 1 },
        pendingTrains: 1,
      },
      {
        name: 'two datagrams with different ids, interleaved',
        frames: [
          mk(dg, { off: 0, len: 800, id: 1 }),
          mk(dg, { off: 0, len: 800, id: 2 }),
          mk(dg, { off: 800, id: 2 }),
          mk(dg, { off: 800, id: 1 }),
        ],
        want: [...answers(af, ans, 3), ...answers(af, ans, 4)],
      },
      {
        name: 'a fragment ending past 65535 is invalid: too_big',
        frames: [mk(dg, { off: 8191 * 8, bytes: new Uint8Array(16), more: true })],
        want: [],
        issues: { [FRAG_TOO_BIG.key]: 1 },
      },
      {
        name: 'a last fragment shorter than data already held: inconsistent_length',
        frames: [y, mk(dg, { off: 800, len: 400, more: false }), x],
        want: [],
        issues: { [FRAG_INCONSISTENT.key]: 1 },
        pendingTrains: 1,
      },
      {
        name: 'an orphan last fragment waits (no count before the timeout)',
        frames: [z, query4()],
        at: [0, 59_000],
        want: [queryObs('example.org', 2, [0, 59_000])],
        pendingTrains: 1,
      },
      {
        name: 'an orphan last fragment is counted when it times out (60 s of packet time)',
        frames: [z, query4()],
        at: [0, 61_000],
        want: [queryObs('example.org', 2, [0, 61_000])],
        issues: { [FRAG_TIMEOUT.key]: 1 },
      },
      {
        name: 'a fragment arriving after its datagram timed out does not complete it',
        frames: [x, y, query4(), z],
        at: [0, 1, 61_000, 61_001],
        want: [queryObs('example.org', 3, [0, 1, 61_000, 61_001])],
        issues: { [FRAG_TIMEOUT.key]: 1 },
        pendingTrains: 1,
      },
    ])('$name', (c) => check(c));

    test('evictions() counts the timeout', async () => {
      const frames = [z, query4()].map((data, i) => ({ data, ts: { sec: T0 + 61 * i, nsec: 0 } }));
      const { decoder } = await decodeAll(pcapFile(frames, { linktype: LINKTYPE.ETHERNET }));
      expect(decoder.evictions()).toMatchObject({ ip_fragments_timeout: 1, ip_fragments: 0 });
    });
  });
}

describe('end of input', () => {
  test('a train still waiting is dropped and counted once as incomplete at the end; a tombstone is not', () => {
    const seen: string[] = [];
    const d = new Defragmenter((i) => seen.push(i.key));
    expect(d.add('live', 0, true, 17, new Uint8Array(8), T0, 65_515)).toBeUndefined();
    // Two fragments that overlap with other bytes: the datagram is dropped, its tombstone waits.
    d.add('dead', 0, true, 17, new Uint8Array(16), T0, 65_515);
    d.add('dead', 8, true, 17, new Uint8Array(16).fill(1), T0, 65_515);
    expect(seen).toEqual([FRAG_OVERLAP.key]);
    expect(d.pending).toBe(2);
    d.finish();
    expect(seen).toEqual([FRAG_OVERLAP.key, FRAG_AT_END.key]);
    expect(d.pending).toBe(0);
    expect(d.bytes).toBe(0);
    d.finish();
    expect(seen).toHaveLength(2);
  });
});

describe('IPv4 only', () => {
  test('the key includes the protocol: same id, different protocol → different datagrams', async () => {
    const other = eth(
      { type: ETH_IPV4 },
      ipv4({ src: RESOLVER4, dst: CLIENT4, proto: 47, id: 0x5151, flags: 0b000, fragOffset: 1480 / 8 }, new Uint8Array(DGRAM4.length - 1480)),
    );
    await check({ name: '', frames: [frag4(DGRAM4, { off: 0, len: 1480 }), other, frag4(DGRAM4, { off: 1480 })], want: answers(4, V4, 3), pendingTrains: 1 });
  });

  test('an unfragmented packet with DF is decoded directly, no train', async () => {
    await check({ name: '', frames: [query4()], want: [queryObs('example.org', 1)] });
  });
});

describe('IPv6 only', () => {
  test('an atomic fragment (offset 0, M = 0; RFC 6946 §4) is processed directly, outside reassembly', async () => {
    const small = bigAnswer(6, 2);
    const dg = datagram(6, small.msg);
    const atomic = eth({ type: ETH_IPV6 }, ipv6({ src: RESOLVER6, dst: CLIENT6, next: IPPROTO_UDP }, dg, [ipv6Frag({ offset: 0, more: false, id: 0x5151 })]));
    // A pending train with the same id must not swallow it (RFC 6946 §4).
    const pendingFirst = frag6(DGRAM6, { off: 0, len: 1448 });
    await check({ name: '', frames: [pendingFirst, atomic], want: answers(6, small, 2), pendingTrains: 1 });
  });

  test('a last fragment ending exactly at 65535 is not too big (RFC 8200 §4.5: reassembled Payload Length 65535)', async () => {
    await check({ name: '', frames: [frag6(DGRAM6, { off: 8191 * 8, bytes: new Uint8Array(7), more: false })], want: [], pendingTrains: 1 });
  });

  test('the key is (src, dst, id) without the protocol; the protocol is the first fragment’s next header', async () => {
    const b = frag6(DGRAM6, { off: 1448 });
    await check({ name: '', frames: [b, frag6(DGRAM6, { off: 0, len: 1448 })], want: answers(6, V6, 2) });
  });
});

// ─────────────────────────────── the Defragmenter's own limits ───────────────────────────────

describe('Defragmenter limits (constructed small)', () => {
  const UDP = IPPROTO_UDP;
  const bytes = (n: number, v = 1): Uint8Array => new Uint8Array(n).fill(v);
  /** A Defragmenter whose reported issues are collected, newest last. */
  const make = (...limits: number[]): { d: Defragmenter; seen: DecodeIssue[]; last: () => DecodeIssue | undefined } => {
    const seen: DecodeIssue[] = [];
    const d = new Defragmenter((i) => seen.push(i), ...limits);
    return { d, seen, last: () => seen.at(-1) };
  };

  test('train limit: the oldest train is evicted and counted; the newest complete', () => {
    const { d, last } = make(2, 1 << 20, 60_000_000);
    expect(d.add('a', 0, true, UDP, bytes(8), 0)).toBeUndefined();
    expect(last()).toBeUndefined();
    expect(d.add('b', 0, true, UDP, bytes(8), 1)).toBeUndefined();
    expect(d.add('c', 0, true, UDP, bytes(8), 2)).toBeUndefined();
    expect(last()).toBe(FRAG_EVICTED);
    expect([d.evictions, d.pending]).toEqual([1, 2]);
    // 'a' lost its first fragment: its last one starts a new train instead of completing.
    expect(d.add('a', 8, false, UDP, bytes(8), 3)).toBeUndefined();
    expect([d.evictions, d.pending]).toEqual([2, 2]); // and evicted 'b' to make room
    const c = d.add('c', 8, false, UDP, bytes(8, 2), 4);
    expect(c?.proto).toBe(UDP);
    expect(c?.payload).toEqual(Uint8Array.of(...bytes(8), ...bytes(8, 2)));
    expect(d.pending).toBe(1);
  });

  test('byte budget: the oldest trains are evicted to make room, each counted', () => {
    // Each 400-byte first fragment costs its bytes plus the train's and the piece's bookkeeping.
    const per = TRAIN_BYTES + PIECE_OVERHEAD + 400;
    const { d, seen, last } = make(100, 2 * per + PIECE_OVERHEAD + 8, 60_000_000);
    d.add('a', 0, true, UDP, bytes(400), 0);
    d.add('b', 0, true, UDP, bytes(400), 1);
    expect([d.evictions, d.pending, last()]).toEqual([0, 2, undefined]);
    d.add('c', 0, true, UDP, bytes(400), 2); // three trains do not fit: 'a' goes
    expect([d.evictions, d.pending, last()]).toEqual([1, 2, FRAG_BUDGET]);
    expect(seen).toEqual([FRAG_BUDGET]); // once, not again on later calls
    const c = d.add('c', 400, false, UDP, bytes(8), 3); // two trains and one more small piece fit exactly
    expect(c?.payload.length).toBe(408);
    expect([d.evictions, d.pending]).toEqual([1, 1]);
  });

  test('byte budget: a fragment bigger than the whole budget evicts older trains on the way, then kills its own', () => {
    const { d, seen, last } = make(100, TRAIN_BYTES + PIECE_OVERHEAD + 1000, 60_000_000);
    d.add('a', 0, true, UDP, bytes(400), 0);
    d.add('b', 0, true, UDP, bytes(1008), 1);
    expect(last()).toBe(FRAG_BUDGET);
    // 'a' was evicted on the way (counted); 'b' alone still did not fit, so it was dropped.
    expect(d.evictions).toBe(1);
    expect(seen).toEqual([FRAG_BUDGET, FRAG_BUDGET]);
    expect(d.add('b', 1008, false, UDP, bytes(8), 2)).toBeUndefined(); // tombstone: later fragments dropped
    expect(seen).toHaveLength(2); // and nothing new is counted for them
  });

  test('timeout on packet time: trains older than the timeout are dropped and counted', () => {
    const { d, seen, last } = make(100, 1 << 20, 10_000_000);
    d.add('a', 8, false, UDP, bytes(8), 0);
    d.expire(9_999_999);
    expect([d.timeouts, d.pending, last()]).toEqual([0, 1, undefined]);
    d.expire(10_000_000);
    expect([d.timeouts, d.pending, last()]).toEqual([1, 0, FRAG_TIMEOUT]);
    d.expire(20_000_000);
    expect(seen).toEqual([FRAG_TIMEOUT]); // a later sweep does not count it again
  });

  test('more than 256 pieces in one train: too_many_fragments', () => {
    const { d, last } = make();
    for (let i = 0; i < 256; i++) d.add('a', i * 8, true, UDP, bytes(8), 0);
    expect(last()).toBeUndefined();
    d.add('a', 256 * 8, true, UDP, bytes(8), 0);
    expect(last()).toBe(FRAG_TOO_MANY);
  });

  test('the payload handed in is copied: the caller may reuse its buffer', () => {
    const { d } = make();
    const buf = bytes(8, 7);
    d.add('a', 0, true, UDP, buf, 0);
    buf.fill(0);
    expect(d.add('a', 8, false, UDP, bytes(8, 9), 0)?.payload).toEqual(Uint8Array.of(...bytes(8, 7), ...bytes(8, 9)));
  });
});

// ─────────────── regressions (found in review; each failed before its fix) ───────────────

describe('regressions', () => {
  const [x, y, z] = cutAt(4, DGRAM4, [800, 1600]) as [Uint8Array, Uint8Array, Uint8Array];
  test('an overlap is counted once even when later packets come more than 1 s apart', async () => {
    const bad = frag4(DGRAM4, { off: 792, bytes: DGRAM4.slice(792, 1600).map((v) => v ^ 0xff) });
    const at = [0, 1500, 3000, 4500, 6000];
    await check({ name: '', frames: [x, bad, y, z, query4()], at, want: [queryObs('example.org', 5, at)], issues: { [FRAG_OVERLAP.key]: 1 }, pendingTrains: 1 });
  });
  test('an orphan timeout is counted once when more packets follow', async () => {
    const at = [0, 61_000, 63_000, 65_000];
    await check({
      name: '',
      frames: [z, query4('a.example'), query4('b.example'), query4('c.example')],
      at,
      want: [queryObs('a.example', 2, at), queryObs('b.example', 3, at), queryObs('c.example', 4, at)],
      issues: { [FRAG_TIMEOUT.key]: 1 },
    });
  });
  test('two trains timing out at once are counted twice, like evictions()', async () => {
    const frames = [frag4(DGRAM4, { off: 800, len: 800, id: 1 }), frag4(DGRAM4, { off: 800, len: 800, id: 2 }), query4()].map((data, i) => ({
      data,
      ts: { sec: T0 + (i === 2 ? 61 : 0), nsec: i * 1000 },
    }));
    const { decoder } = await decodeAll(pcapFile(frames, { linktype: LINKTYPE.ETHERNET }));
    expect(decoder.evictions()).toMatchObject({ ip_fragments_timeout: 2 });
    expect(issueCounts(decoder.issues.rows())).toStrictEqual({ [FRAG_TIMEOUT.key]: 2 });
  });
  test('an IPv4 datagram over 65535 bytes including its 20-byte header is too_big', async () => {
    await check({ name: '', frames: [frag4(DGRAM4, { off: 8189 * 8, bytes: new Uint8Array(16), more: false })], want: [], issues: { [FRAG_TOO_BIG.key]: 1 } });
  });
});
