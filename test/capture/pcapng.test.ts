import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Observation } from '../../src/capture/observation.js';
import { splitTimestamp } from '../../src/capture/read/pcapng.js';
import { READ_CHUNK } from '../../src/capture/read/source.js';
import { isoTime } from '../../src/common/time.js';
import { concat, dnsQuery, eth, ETH_IPV4, ipv4, ipv6, IPPROTO_UDP, LINKTYPE, u32, udp } from '../helpers/packets.js';
import {
  decodeAll,
  dnsObservation,
  PCAPNG_BT,
  pcapngBlock,
  pcapngFile,
  pcapngSection,
  readFrames,
  T0,
  type PcapngInterface,
  type PcapngSection,
} from '../helpers/pcap.js';

const CLIENT = '198.18.0.10';
const RESOLVER = '198.19.0.53';

function rawDns(name: string): Uint8Array {
  return ipv4({ src: CLIENT, dst: RESOLVER, proto: IPPROTO_UDP }, udp({ sport: 40000, dport: 53 }, dnsQuery(name)));
}

function ethDns(name: string): Uint8Array {
  return eth({ type: ETH_IPV4 }, rawDns(name));
}


describe('pcapng sections', () => {
  test.for([
    { name: 'little-endian section', bigEndian: false },
    { name: 'big-endian section', bigEndian: true },
  ])('$name: EPB on an Ethernet interface', async ({ bigEndian }) => {
    const bytes = pcapngFile([
      { bigEndian, interfaces: [{ linktype: LINKTYPE.ETHERNET }], packets: [{ iface: 0, data: ethDns('s01.upd.kaspersky.com'), ts: { sec: T0, nsec: 654_321_000 } }] },
    ]);
    const { observations, result } = await decodeAll(bytes, { ext: 'pcapng' });
    expect(observations).toStrictEqual([dnsObservation('s01.upd.kaspersky.com', 1, { sec: T0, nsec: 654_321_000, digits: 6 })]);
    expect(result).toStrictEqual({ input: result.input, format: 'pcapng', gzip: false, frames: 1, bytes: bytes.length });
  });

  test('several sections in one file: interface ids restart, byte order may change', async () => {
    const bytes = pcapngFile([
      { interfaces: [{ linktype: LINKTYPE.ETHERNET }], packets: [{ iface: 0, data: ethDns('one.test') }] },
      { bigEndian: true, interfaces: [{ linktype: LINKTYPE.RAW, tsresol: 9 }], packets: [{ iface: 0, data: rawDns('two.test') }] },
      { interfaces: [{ linktype: LINKTYPE.IPV4 }, { linktype: LINKTYPE.ETHERNET }], packets: [{ iface: 1, data: ethDns('three.test') }, { iface: 0, data: rawDns('four.test') }] },
    ]);
    const { frames, result } = await readFrames(bytes, 'pcapng');
    expect(result.damaged).toBeUndefined();
    expect(frames.map((f) => [f.frame, f.ifIndex, f.linktype, f.time.digits])).toEqual([
      [1, 0, LINKTYPE.ETHERNET, 6],
      [2, 0, LINKTYPE.RAW, 9],
      [3, 1, LINKTYPE.ETHERNET, 6],
      [4, 0, LINKTYPE.IPV4, 6],
    ]);
    const { observations } = await decodeAll(bytes, { ext: 'pcapng' });
    expect(observations.map((o) => [o.frame, o.name])).toEqual([
      [1, 'one.test'],
      [2, 'two.test'],
      [3, 'three.test'],
      [4, 'four.test'],
    ]);
  });

  test('a section of another major version is skipped whole and counted (pcapng §4.1)', async () => {
    const bytes = pcapngFile([
      { interfaces: [{ linktype: LINKTYPE.ETHERNET }], packets: [{ iface: 0, data: ethDns('one.test') }] },
      { major: 2, interfaces: [{ linktype: LINKTYPE.RAW }], packets: [{ iface: 0, data: rawDns('two.test') }, { iface: 3, data: rawDns('unknown.iface') }] },
      { bigEndian: true, interfaces: [{ linktype: LINKTYPE.RAW }], packets: [{ iface: 0, data: rawDns('three.test') }] },
    ]);
    const { observations, decoder, result } = await decodeAll(bytes, { ext: 'pcapng' });
    expect(result.damaged).toBeUndefined();
    expect(observations.map((o) => [o.frame, o.name])).toEqual([
      [1, 'one.test'],
      [2, 'three.test'],
    ]);
    expect(decoder.issues.rows()).toStrictEqual([{ layer: 'pcapng', kind: 'skipped', reason: 'unsupported_section_version', count: 1 }]);
  });

  test('zero packets: a section header and an interface alone', async () => {
    const { frames, result } = await readFrames(pcapngFile([{ interfaces: [{ linktype: LINKTYPE.ETHERNET }], packets: [] }]), 'pcapng');
    expect(frames).toEqual([]);
    expect(result.frames).toBe(0);
    expect(result.damaged).toBeUndefined();
  });
});

describe('pcapng interfaces: link types and timestamp resolution', () => {
  // One timestamp, 2024-09-30T08:15:02.123456789Z, as each interface's resolution can hold it.
  const ts = { sec: T0, nsec: 123_456_789 };
  test.for<{ name: string; iface: PcapngInterface; data: () => Uint8Array; time: Observation['time']; iso: string }>([
    {
      name: 'Ethernet, if_tsresol absent (µs)',
      iface: { linktype: LINKTYPE.ETHERNET },
      data: () => ethDns('a.test'),
      time: { sec: T0, nsec: 123_456_000, digits: 6 },
      iso: '2024-09-30T08:15:02.123456Z',
    },
    {
      name: 'RAW, if_tsresol 6',
      iface: { linktype: LINKTYPE.RAW, tsresol: 6 },
      data: () => rawDns('a.test'),
      time: { sec: T0, nsec: 123_456_000, digits: 6 },
      iso: '2024-09-30T08:15:02.123456Z',
    },
    {
      name: 'Ethernet, if_tsresol 9 (ns)',
      iface: { linktype: LINKTYPE.ETHERNET, tsresol: 9 },
      data: () => ethDns('a.test'),
      time: { sec: T0, nsec: 123_456_789, digits: 9 },
      iso: '2024-09-30T08:15:02.123456789Z',
    },
    {
      name: 'RAW, if_tsresol 3 (ms)',
      iface: { linktype: LINKTYPE.RAW, tsresol: 3 },
      data: () => rawDns('a.test'),
      time: { sec: T0, nsec: 123_000_000, digits: 3 },
      iso: '2024-09-30T08:15:02.123Z',
    },
    {
      name: 'RAW, if_tsresol 0 (s)',
      iface: { linktype: LINKTYPE.RAW, tsresol: 0 },
      data: () => rawDns('a.test'),
      time: { sec: T0, nsec: 0, digits: 0 },
      iso: '2024-09-30T08:15:02Z',
    },
    {
      // 0.123456789 s = 129453.6… units of 2^-20 s → 129453 units → ⌊129453·10^9/2^20⌋ ns;
      // 2^-20 s ≈ 0.95 µs needs ⌈20·log10 2⌉ = 7 digits.
      name: 'RAW, if_tsresol 2^-20 (binary)',
      iface: { linktype: LINKTYPE.RAW, tsresol: 0x80 | 20 },
      data: () => rawDns('a.test'),
      time: { sec: T0, nsec: 123_456_001, digits: 7 },
      iso: '2024-09-30T08:15:02.1234560Z',
    },
    {
      name: 'IPv4 link type 228, if_tsresol 2^-30',
      iface: { linktype: LINKTYPE.IPV4, tsresol: 0x80 | 30 },
      data: () => rawDns('a.test'),
      time: { sec: T0, nsec: 123_456_788, digits: 9 },
      iso: '2024-09-30T08:15:02.123456788Z',
    },
  ])('$name', async ({ iface, data, time, iso }) => {
    const { observations } = await decodeAll(pcapngFile([{ interfaces: [iface], packets: [{ iface: 0, data: data(), ts }] }]), { ext: 'pcapng' });
    expect(observations).toStrictEqual([dnsObservation('a.test', 1, time)]);
    expect(isoTime(observations[0]!.time)).toBe(iso);
  });

  test('two interfaces with different link types and resolutions, interleaved', async () => {
    const bytes = pcapngFile([
      {
        interfaces: [
          { linktype: LINKTYPE.ETHERNET, tsresol: 6 },
          { linktype: LINKTYPE.RAW, tsresol: 9 },
        ],
        packets: [
          { iface: 0, data: ethDns('eth.test'), ts: { sec: T0, nsec: 1_000 } },
          { iface: 1, data: rawDns('raw.test'), ts: { sec: T0, nsec: 2_001 } },
          { iface: 0, data: ethDns('eth2.test'), ts: { sec: T0 + 1, nsec: 0 } },
        ],
      },
    ]);
    const { observations } = await decodeAll(bytes, { ext: 'pcapng' });
    expect(observations).toStrictEqual([
      dnsObservation('eth.test', 1, { sec: T0, nsec: 1_000, digits: 6 }),
      dnsObservation('raw.test', 2, { sec: T0, nsec: 2_001, digits: 9 }),
      dnsObservation('eth2.test', 3, { sec: T0 + 1, nsec: 0, digits: 6 }),
    ]);
  });

  test.for([
    { name: 'positive if_tsoffset', tsoffset: 1_000_000_000, stored: { sec: T0 - 1_000_000_000, nsec: 5_000 }, want: { sec: T0, nsec: 5_000, digits: 6 } },
    { name: 'if_tsoffset 0', tsoffset: 0, stored: { sec: T0, nsec: 5_000 }, want: { sec: T0, nsec: 5_000, digits: 6 } },
    { name: 'timestamps relative to an offset (small stored values)', tsoffset: T0, stored: { sec: 3, nsec: 250_000_000 }, want: { sec: T0 + 3, nsec: 250_000_000, digits: 6 } },
  ])('$name is added to the seconds', async ({ tsoffset, stored, want }) => {
    const { frames } = await readFrames(
      pcapngFile([{ interfaces: [{ linktype: LINKTYPE.RAW, tsoffset }], packets: [{ iface: 0, data: rawDns('a.test'), ts: stored }] }]),
      'pcapng',
    );
    expect(frames.map((f) => f.time)).toEqual([want]);
  });

  test('if_tsoffset applies per interface', async () => {
    const { frames } = await readFrames(
      pcapngFile([
        {
          interfaces: [{ linktype: LINKTYPE.RAW, tsoffset: 100 }, { linktype: LINKTYPE.RAW }],
          packets: [
            { iface: 0, data: rawDns('a.test'), ts: { sec: T0, nsec: 0 } },
            { iface: 1, data: rawDns('b.test'), ts: { sec: T0, nsec: 0 } },
          ],
        },
      ]),
      'pcapng',
    );
    expect(frames.map((f) => f.time.sec)).toEqual([T0 + 100, T0]);
  });
});

describe('pcapng packet blocks', () => {
  test('EPB, SPB and the obsolete Packet Block all deliver their frames', async () => {
    const full = ethDns('spb.test');
    const bytes = pcapngFile([
      {
        interfaces: [{ linktype: LINKTYPE.ETHERNET, tsresol: 9 }, { linktype: LINKTYPE.RAW }],
        packets: [
          { iface: 0, data: ethDns('epb.test'), ts: { sec: T0, nsec: 7 } },
          { iface: 0, data: full, type: 'spb' },
          { iface: 1, data: rawDns('opb.test'), type: 'opb', ts: { sec: T0 + 2, nsec: 3_000 } },
        ],
      },
    ]);
    const { frames, result } = await readFrames(bytes, 'pcapng');
    expect(result.damaged).toBeUndefined();
    expect(frames.map((f) => ({ frame: f.frame, ifIndex: f.ifIndex, linktype: f.linktype, caplen: f.caplen, time: f.time }))).toEqual([
      { frame: 1, ifIndex: 0, linktype: LINKTYPE.ETHERNET, caplen: ethDns('epb.test').length, time: { sec: T0, nsec: 7, digits: 9 } },
      // SPB: interface 0, no timestamp.
      { frame: 2, ifIndex: 0, linktype: LINKTYPE.ETHERNET, caplen: full.length, time: { sec: 0, nsec: 0, digits: 9 } },
      { frame: 3, ifIndex: 1, linktype: LINKTYPE.RAW, caplen: rawDns('opb.test').length, time: { sec: T0 + 2, nsec: 3_000, digits: 6 } },
    ]);
    const { observations } = await decodeAll(bytes, { ext: 'pcapng' });
    expect(observations.map((o) => [o.frame, o.name])).toEqual([
      [1, 'epb.test'],
      [2, 'spb.test'],
      [3, 'opb.test'],
    ]);
  });

  test('SPB captured length: the smaller of original length, snaplen and the block', async () => {
    const full = ethDns('spb.test');
    const padded = concat(full, new Uint8Array(3)); // padding the builder adds is not data
    const bytes = pcapngFile([
      { interfaces: [{ linktype: LINKTYPE.ETHERNET, snaplen: 40 }], packets: [{ iface: 0, data: full.subarray(0, 40), origLen: full.length, type: 'spb' }] },
      { interfaces: [{ linktype: LINKTYPE.ETHERNET, snaplen: 0 }], packets: [{ iface: 0, data: padded, origLen: full.length, type: 'spb' }] },
    ]);
    const { frames } = await readFrames(bytes, 'pcapng');
    expect(frames.map((f) => [f.caplen, f.origlen])).toEqual([
      [40, full.length],
      [full.length, full.length],
    ]);
  });

  test('EPB with caplen < original length (snaplen) is delivered as such', async () => {
    const full = ethDns('cut.test');
    const { frames } = await readFrames(
      pcapngFile([{ interfaces: [{ linktype: LINKTYPE.ETHERNET }], packets: [{ iface: 0, data: full.subarray(0, 50), origLen: full.length }] }]),
      'pcapng',
    );
    expect(frames.map((f) => [f.caplen, f.origlen])).toEqual([[50, full.length]]);
  });

  test('options around the data: EPB options after the packet, IDB options before if_tsresol', async () => {
    const frame = ethDns('opts.test'); // 63 bytes: the data is padded before the options
    const bytes = pcapngFile([
      {
        bigEndian: true,
        interfaces: [
          {
            linktype: LINKTYPE.ETHERNET,
            options: [
              [2, new TextEncoder().encode('eth0')], // if_name
              [1, new TextEncoder().encode('odd')], // opt_comment, 3 bytes + 1 padding
            ],
            tsresol: 9,
          },
        ],
        packets: [
          {
            iface: 0,
            data: frame,
            ts: { sec: T0, nsec: 1 },
            options: [
              [2, u32(0x00000001)], // epb_flags: inbound
              [1, new TextEncoder().encode('a comment')],
            ],
          },
        ],
      },
    ]);
    const { frames, result } = await readFrames(bytes, 'pcapng');
    expect(result.damaged).toBeUndefined();
    expect(frames.map((f) => [f.caplen, f.time.nsec, f.time.digits])).toEqual([[frame.length, 1, 9]]);
    expect(frames[0]!.data).toEqual(frame);
  });

  test('gzip-compressed pcapng is read transparently', async () => {
    const plain = pcapngFile([{ interfaces: [{ linktype: LINKTYPE.ETHERNET }], packets: [{ iface: 0, data: ethDns('gz.test') }] }]);
    const { observations, result } = await decodeAll(gzipSync(plain), { ext: 'pcapng.gz' });
    expect(result).toMatchObject({ format: 'pcapng', gzip: true, frames: 1, bytes: plain.length });
    expect(observations.map((o) => o.name)).toEqual(['gz.test']);
  });

  test('unknown and unused block types are skipped by their length', async () => {
    const bytes = pcapngFile([
      {
        interfaces: [{ linktype: LINKTYPE.ETHERNET }],
        packets: [
          { iface: 0, data: ethDns('one.test') },
          { iface: 0, data: ethDns('two.test') },
        ],
        extraBlocks: [
          { type: PCAPNG_BT.NRB, body: new Uint8Array(4), before: 0 },
          { type: PCAPNG_BT.CUSTOM, body: Uint8Array.of(0, 0, 0x7e, 0xd9, 1, 2, 3), before: 1 },
          { type: 0x0000_0fff, body: new Uint8Array(0), before: 1 },
          { type: PCAPNG_BT.ISB, body: new Uint8Array(16), before: 2 },
          { type: PCAPNG_BT.DSB, body: new Uint8Array(12), before: 2 },
        ],
      },
    ]);
    const { observations, result } = await decodeAll(bytes, { ext: 'pcapng' });
    expect(result.damaged).toBeUndefined();
    expect(observations.map((o) => [o.frame, o.name])).toEqual([
      [1, 'one.test'],
      [2, 'two.test'],
    ]);
  });

  test('a 3 MiB block (larger than the read buffer) is skipped and reading goes on', async () => {
    const bytes = pcapngFile([
      {
        interfaces: [{ linktype: LINKTYPE.ETHERNET }],
        packets: [
          { iface: 0, data: ethDns('before.test') },
          { iface: 0, data: ethDns('after.test') },
        ],
        extraBlocks: [{ type: PCAPNG_BT.CUSTOM, body: new Uint8Array(3 * READ_CHUNK), before: 1 }],
      },
    ]);
    const { observations, result } = await decodeAll(bytes, { ext: 'pcapng' });
    expect(result.damaged).toBeUndefined();
    expect(observations.map((o) => [o.frame, o.name])).toEqual([
      [1, 'before.test'],
      [2, 'after.test'],
    ]);
  });

  test('many packets across several read chunks', async () => {
    const N = 2500;
    const packets = Array.from({ length: N }, (_, i) => {
      const data = new Uint8Array(1500);
      data.set(ethDns(`n${i + 1}.test`));
      return { iface: 0, data, ts: { sec: T0 + i, nsec: 0 } };
    });
    const bytes = pcapngFile([{ interfaces: [{ linktype: LINKTYPE.ETHERNET }], packets }]);
    expect(bytes.length).toBeGreaterThan(3 * READ_CHUNK);
    const { observations, result } = await decodeAll(bytes, { ext: 'pcapng' });
    expect(result).toMatchObject({ frames: N, bytes: bytes.length });
    expect(result.damaged).toBeUndefined();
    expect(observations.map((o) => `${o.frame}:${o.name}`)).toEqual(packets.map((_, i) => `${i + 1}:n${i + 1}.test`));
  });
});

describe('pcapng damage', () => {
  const good: PcapngSection = {
    interfaces: [{ linktype: LINKTYPE.ETHERNET }],
    packets: [
      { iface: 0, data: ethDns('one.test') },
      { iface: 0, data: ethDns('two.test') },
    ],
  };
  const goodBytes = pcapngSection(good);
  const epb = (iface: number, data: Uint8Array, caplen = data.length): Uint8Array =>
    pcapngBlock(PCAPNG_BT.EPB, concat(u32le(iface), u32le(0), u32le(0), u32le(caplen), u32le(data.length), data));

  test.for<{ name: string; tail: () => Uint8Array; damaged: RegExp }>([
    {
      name: 'a packet refers to an interface that was not described',
      tail: () => epb(3, ethDns('three.test')),
      damaged: /damaged after frame 2: packet refers to interface 3, which was not described/,
    },
    {
      name: 'a packet in a new section refers to an interface of the previous one',
      tail: () => concat(pcapngSection({ interfaces: [{ linktype: LINKTYPE.RAW }], packets: [] }), epb(1, rawDns('x.test'))),
      damaged: /packet refers to interface 1, which was not described/,
    },
    {
      name: 'a section without interfaces, then a packet',
      tail: () => concat(pcapngSection({ interfaces: [], packets: [] }), epb(0, rawDns('x.test'))),
      damaged: /packet refers to interface 0, which was not described/,
    },
    {
      name: 'cut short in the middle of a block',
      tail: () => epb(0, ethDns('three.test')).subarray(0, 30),
      damaged: /cut short in the middle of a record after frame 2 \(30 bytes left over\)/,
    },
    {
      name: 'cut short inside a block header',
      tail: () => epb(0, ethDns('three.test')).subarray(0, 6),
      damaged: /cut short in the middle of a record after frame 2 \(6 bytes left over\)/,
    },
    {
      name: 'block trailer length differs from its header',
      tail: () => patchTail(epb(0, ethDns('three.test'))),
      damaged: /damaged after frame 2: block trailer length does not match its header/,
    },
    {
      name: 'block length not a multiple of 4',
      tail: () => concat(u32le(PCAPNG_BT.EPB), u32le(33), new Uint8Array(25)),
      damaged: /block of type 0x6 claims 33 bytes/,
    },
    {
      name: 'block length below 12',
      tail: () => concat(u32le(PCAPNG_BT.EPB), u32le(8), new Uint8Array(8)),
      damaged: /block of type 0x6 claims 8 bytes/,
    },
    {
      name: 'block length above 16 MiB',
      tail: () => concat(u32le(PCAPNG_BT.CUSTOM), u32le(32 * 1024 * 1024), new Uint8Array(8)),
      damaged: /block of type 0xbad claims 33554432 bytes/,
    },
    {
      name: 'packet data runs past its block',
      tail: () => epb(0, ethDns('three.test'), 4000),
      damaged: /packet data runs past its block/,
    },
    {
      name: 'EPB too short for its fixed fields',
      tail: () => pcapngBlock(PCAPNG_BT.EPB, new Uint8Array(12)),
      damaged: /enhanced packet block too short/,
    },
    {
      name: 'section header with an unknown byte-order magic',
      tail: () => concat(Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a), u32le(28), u32le(0x11223344), new Uint8Array(12), u32le(28)),
      damaged: /section header with an unknown byte-order magic/,
    },
  ])('$name: damaged, earlier frames delivered', async ({ tail, damaged }) => {
    const { observations, result } = await decodeAll(concat(goodBytes, tail()), { ext: 'pcapng' });
    expect(observations.map((o) => [o.frame, o.name])).toEqual([
      [1, 'one.test'],
      [2, 'two.test'],
    ]);
    expect(result.frames).toBe(2);
    expect(result.damaged).toMatch(damaged);
  });

  function u32le(v: number): Uint8Array {
    return u32(v).reverse();
  }

  function patchTail(block: Uint8Array): Uint8Array {
    const out = block.slice();
    new DataView(out.buffer).setUint32(out.length - 4, block.length + 4, true);
    return out;
  }
});

describe('splitTimestamp', () => {
  /** Exact reference in BigInt: seconds, and the remainder as whole nanoseconds (floor). */
  function reference(units: bigint, unitsPerSec: bigint): { sec: number; nsec: number } {
    return { sec: Number(units / unitsPerSec), nsec: Number(((units % unitsPerSec) * 1_000_000_000n) / unitsPerSec) };
  }
  function split(units: bigint, unitsPerSec: number): { sec: number; nsec: number } {
    const out = { sec: -1, nsec: -1 };
    splitTimestamp(Number(units >> 32n), Number(units & 0xffffffffn), unitsPerSec, out);
    return out;
  }

  test.for([
    { name: 'ns around 1.7e18 units', units: 1_727_684_102_123_456_789n, R: 1e9, want: { sec: 1_727_684_102, nsec: 123_456_789 } },
    { name: 'ns: last nanosecond of a second', units: 1_727_684_102_999_999_999n, R: 1e9, want: { sec: 1_727_684_102, nsec: 999_999_999 } },
    { name: 'ns: exact second', units: 1_727_684_103_000_000_000n, R: 1e9, want: { sec: 1_727_684_103, nsec: 0 } },
    { name: 'ns: 2^53 + 1 units (not a double)', units: 9_007_199_254_740_993n, R: 1e9, want: { sec: 9_007_199, nsec: 254_740_993 } },
    { name: 'ns: largest 64-bit count', units: 0xffff_ffff_ffff_ffffn, R: 1e9, want: { sec: 18_446_744_073, nsec: 709_551_615 } },
    { name: 'µs', units: 1_727_684_102_123_456n, R: 1e6, want: { sec: 1_727_684_102, nsec: 123_456_000 } },
    { name: 'µs: largest 64-bit count', units: 0xffff_ffff_ffff_ffffn, R: 1e6, want: { sec: 18_446_744_073_709, nsec: 551_615_000 } },
    { name: 'zero', units: 0n, R: 1e9, want: { sec: 0, nsec: 0 } },
    { name: '2^-20 s units', units: (1_727_684_102n << 20n) + 524_288n, R: 2 ** 20, want: { sec: 1_727_684_102, nsec: 500_000_000 } },
    { name: '2^-32 s units (NTP-like)', units: (1_727_684_102n << 32n) + 1n, R: 2 ** 32, want: { sec: 1_727_684_102, nsec: 0 } },
  ])('$name', ({ units, R, want }) => {
    expect(split(units, R)).toEqual(want);
    expect(reference(units, BigInt(R))).toEqual(want);
  });

  test('matches exact BigInt arithmetic for realistic times at every common resolution', () => {
    const resolutions = [1, 10, 1e3, 1e6, 1e7, 1e8, 1e9, 2 ** 10, 2 ** 20, 2 ** 24, 2 ** 30, 2 ** 32];
    fc.assert(
      fc.property(
        fc.constantFrom(...resolutions),
        fc.bigInt({ min: 0n, max: (1n << 34n) - 1n }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (R, sec, frac) => {
          const RB = BigInt(R);
          const units = sec * RB + BigInt(Math.floor(frac * R));
          fc.pre(units < 1n << 64n);
          expect(split(units, R)).toEqual(reference(units, RB));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('timestamps through the reader agree with the reference (ns, near 1.7e18 units)', async () => {
    const stamps = [1_727_684_102_000_000_001n, 1_727_684_102_999_999_999n, 1_700_000_000_123_456_789n, 1_799_999_999_999_999_999n];
    const { frames } = await readFrames(
      pcapngFile([{ interfaces: [{ linktype: LINKTYPE.RAW, tsresol: 9 }], packets: stamps.map((ts) => ({ iface: 0, data: rawDns('a.test'), ts })) }]),
      'pcapng',
    );
    expect(frames.map((f) => ({ sec: f.time.sec, nsec: f.time.nsec }))).toEqual(stamps.map((u) => reference(u, 1_000_000_000n)));
  });
});

describe('pcapng with IPv6 on a RAW interface', () => {
  test('source and destination in RFC 5952 form', async () => {
    const pkt = ipv6({ src: 'fd00:0:0:1::10', dst: 'fd00::53', next: IPPROTO_UDP }, udp({ sport: 40000, dport: 53 }, dnsQuery('a.test', 'AAAA')));
    const { observations } = await decodeAll(pcapngFile([{ interfaces: [{ linktype: LINKTYPE.RAW }], packets: [{ iface: 0, data: pkt }] }]), {
      ext: 'pcapng',
    });
    expect(observations.map((o) => [o.src, o.dst, o.qtype])).toEqual([['fd00:0:0:1::10', 'fd00::53', 'AAAA']]);
  });
});
