import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip, gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { DECODER_BUG } from '../../src/capture/decoder.js';
import type { Observation } from '../../src/capture/observation.js';
import { MAX_RECORD_BYTES } from '../../src/capture/read/pcap.js';
import { READ_CHUNK, readCapture } from '../../src/capture/read/source.js';
import { isoTime } from '../../src/common/time.js';
import { KasmonError } from '../../src/errors.js';
import { ascii, concat, dnsQuery, eth, ETH_IPV4, ipv4, IPPROTO_UDP, LINKTYPE, udp } from '../helpers/packets.js';
import { decodeAll, dnsObservation, pcapFile, pcapHeader, pcapRecord, readFrames, T0, type PcapOptions } from '../helpers/pcap.js';

const CLIENT = '198.18.0.10';
const RESOLVER = '198.19.0.53';

/** An Ethernet frame carrying a DNS query for `name` from CLIENT:40000 to RESOLVER:53. */
function dnsFrame(name: string): Uint8Array {
  return eth({ type: ETH_IPV4 }, ipv4({ src: CLIENT, dst: RESOLVER, proto: IPPROTO_UDP }, udp({ sport: 40000, dport: 53 }, dnsQuery(name))));
}


async function rejection(p: Promise<unknown>): Promise<KasmonError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KasmonError) return e;
    throw e;
  }
  throw new Error('expected a KasmonError, got a result');
}

describe('classic pcap: byte order × timestamp resolution', () => {
  const ts = { sec: T0, nsec: 123_456_789 };
  test.for<{ name: string; opts: Omit<PcapOptions, 'linktype'>; wantTime: Observation['time']; iso: string }>([
    { name: 'little-endian, microseconds', opts: {}, wantTime: { sec: T0, nsec: 123_456_000, digits: 6 }, iso: '2024-09-30T08:15:02.123456Z' },
    { name: 'big-endian, microseconds', opts: { bigEndian: true }, wantTime: { sec: T0, nsec: 123_456_000, digits: 6 }, iso: '2024-09-30T08:15:02.123456Z' },
    { name: 'little-endian, nanoseconds', opts: { nanos: true }, wantTime: { sec: T0, nsec: 123_456_789, digits: 9 }, iso: '2024-09-30T08:15:02.123456789Z' },
    {
      name: 'big-endian, nanoseconds',
      opts: { nanos: true, bigEndian: true },
      wantTime: { sec: T0, nsec: 123_456_789, digits: 9 },
      iso: '2024-09-30T08:15:02.123456789Z',
    },
  ])('$name', async ({ opts, wantTime, iso }) => {
    const frame = dnsFrame('s01.upd.kaspersky.com');
    const bytes = pcapFile([{ data: frame, ts }], { linktype: LINKTYPE.ETHERNET, ...opts });
    const { observations, result } = await decodeAll(bytes);
    expect(observations).toStrictEqual([dnsObservation('s01.upd.kaspersky.com', 1, wantTime)]);
    expect(isoTime(observations[0]!.time)).toBe(iso);
    expect(result).toStrictEqual({ input: result.input, format: 'pcap', gzip: false, frames: 1, bytes: bytes.length, linktype: 1 });
  });

  test.for([
    { name: 'zero fraction, microseconds', nanos: false, ts: { sec: T0, nsec: 0 }, iso: '2024-09-30T08:15:02.000000Z' },
    { name: 'last nanosecond of a second', nanos: true, ts: { sec: T0, nsec: 999_999_999 }, iso: '2024-09-30T08:15:02.999999999Z' },
    { name: 'the epoch', nanos: false, ts: { sec: 0, nsec: 1000 }, iso: '1970-01-01T00:00:00.000001Z' },
    { name: 'largest ts_sec (2106)', nanos: false, ts: { sec: 0xffffffff, nsec: 0 }, iso: '2106-02-07T06:28:15.000000Z' },
  ])('time $name → $iso', async ({ nanos, ts, iso }) => {
    const { frames } = await readFrames(pcapFile([{ data: dnsFrame('a.test'), ts }], { linktype: LINKTYPE.ETHERNET, nanos }));
    expect(frames).toHaveLength(1);
    expect(isoTime(frames[0]!.time)).toBe(iso);
  });

  test('the link-type field’s FCS bits (pcap-savefile(5)) are masked off', async () => {
    const { observations, result } = await decodeAll(pcapFile([{ data: dnsFrame('a.test') }], { linktype: 0x40000000 | LINKTYPE.ETHERNET }));
    expect(result.linktype).toBe(LINKTYPE.ETHERNET);
    expect(observations.map((o) => o.name)).toEqual(['a.test']);
  });
});

describe('classic pcap: records', () => {
  test('zero packets: a global header alone is a valid, empty capture', async () => {
    const bytes = pcapHeader({ linktype: LINKTYPE.ETHERNET });
    const { observations, result, decoder } = await decodeAll(bytes);
    expect(observations).toEqual([]);
    expect(result).toStrictEqual({ input: result.input, format: 'pcap', gzip: false, frames: 0, bytes: 24, linktype: 1 });
    expect(decoder.stats.frames).toBe(0);
  });

  test('snaplen-truncated record: caplen < origlen is delivered as such, and the cut DNS message is not reported', async () => {
    const full = dnsFrame('s01.upd.kaspersky.com');
    const cut = full.subarray(0, 60);
    const { frames, result } = await readFrames(pcapFile([{ data: cut, origLen: full.length }], { linktype: LINKTYPE.ETHERNET, snaplen: 60 }));
    expect(result.damaged).toBeUndefined();
    expect(frames.map((f) => [f.frame, f.caplen, f.origlen])).toEqual([[1, 60, full.length]]);
    expect(frames[0]!.data).toEqual(cut);

    const { observations, decoder } = await decodeAll(pcapFile([{ data: cut, origLen: full.length }], { linktype: LINKTYPE.ETHERNET, snaplen: 60 }));
    expect(observations).toEqual([]);
    // The message is cut inside its question: truncated, and the name lost to the snap length.
    expect(decoder.issues.rows().map((r) => `${r.layer}/${r.kind}/${r.reason}`)).toEqual(['dns/truncated/records', 'name/truncated/capture_truncated']);
    expect(decoder.issues.get(DECODER_BUG)).toBe(0);
  });

  test('orig_len beyond the captured bytes but the whole DNS message captured (FCS not kept): reported', async () => {
    const frame = dnsFrame('s01.upd.kaspersky.com');
    const { observations } = await decodeAll(pcapFile([{ data: frame, origLen: frame.length + 4 }], { linktype: LINKTYPE.ETHERNET }));
    expect(observations).toStrictEqual([dnsObservation('s01.upd.kaspersky.com', 1, { sec: T0, nsec: 0, digits: 6 })]);
  });

  test('orig_len smaller than incl_len is raised to incl_len', async () => {
    const frame = dnsFrame('a.test');
    const { frames } = await readFrames(pcapFile([{ data: frame, origLen: 10 }], { linktype: LINKTYPE.ETHERNET }));
    expect(frames.map((f) => [f.caplen, f.origlen])).toEqual([[frame.length, frame.length]]);
  });

  test('a record of exactly MAX_RECORD_BYTES is read; one byte more is damage', async () => {
    const big = new Uint8Array(MAX_RECORD_BYTES);
    big.set(dnsFrame('big.test'));
    const ok = await readFrames(pcapFile([{ data: big }, { data: dnsFrame('after.test') }], { linktype: LINKTYPE.ETHERNET }));
    expect(ok.result.damaged).toBeUndefined();
    expect(ok.frames.map((f) => [f.frame, f.caplen])).toEqual([
      [1, MAX_RECORD_BYTES],
      [2, dnsFrame('after.test').length],
    ]);

    const tooBig = new Uint8Array(MAX_RECORD_BYTES + 1);
    const bad = await readFrames(pcapFile([{ data: dnsFrame('before.test') }, { data: tooBig }], { linktype: LINKTYPE.ETHERNET }));
    expect(bad.frames.map((f) => f.frame)).toEqual([1]);
    expect(bad.result.damaged).toMatch(/damaged after frame 1: record claims 262145 bytes/);
  });
});

describe('classic pcap: damaged and unreadable inputs', () => {
  const names = ['one.test', 'two.test', 'three.test'];
  const opts = { linktype: LINKTYPE.ETHERNET };
  const whole = pcapFile(names.map((n) => ({ data: dnsFrame(n) })), opts);
  const thirdStart = whole.length - (16 + dnsFrame('three.test').length);

  test.for([
    { name: 'cut inside the third record’s data', cutAt: whole.length - 5, left: 16 + dnsFrame('three.test').length - 5 },
    { name: 'cut inside the third record’s header', cutAt: thirdStart + 10, left: 10 },
    { name: 'cut right after the third record’s header', cutAt: thirdStart + 16, left: 16 },
  ])('$name: damaged, the first two frames delivered', async ({ cutAt, left }) => {
    const { observations, result } = await decodeAll(whole.subarray(0, cutAt));
    expect(observations.map((o) => [o.frame, o.name])).toEqual([
      [1, 'one.test'],
      [2, 'two.test'],
    ]);
    expect(result.frames).toBe(2);
    expect(result.damaged).toMatch(new RegExp(`cut short in the middle of a record after frame 2 \\(${left} bytes left over\\)`));
  });

  test('cut exactly at a record boundary is a complete capture', async () => {
    const { observations, result } = await decodeAll(whole.subarray(0, thirdStart));
    expect(observations).toHaveLength(2);
    expect(result.damaged).toBeUndefined();
  });

  test('a record claiming 4 MB: damaged, the frames before it delivered', async () => {
    const bytes = concat(
      pcapFile([{ data: dnsFrame('one.test') }], opts),
      pcapRecord({ data: new Uint8Array(64), inclLenOverride: 4 * 1024 * 1024 }, opts),
    );
    const { observations, result } = await decodeAll(bytes);
    expect(observations.map((o) => o.name)).toEqual(['one.test']);
    expect(result.frames).toBe(1);
    expect(result.damaged).toMatch(/damaged after frame 1: record claims 4194304 bytes \(more than 262144\)/);
  });

  test.for([
    { name: 'a text file', bytes: ascii('hello, this is not a capture\n'), magic: '68656c6c' },
    { name: 'a PNG header', bytes: Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), magic: '89504e47' },
    { name: 'three bytes', bytes: Uint8Array.of(0xd4, 0xc3, 0xb2), magic: 'd4c3b2' },
    { name: 'a pcap magic with the byte order garbled', bytes: concat(Uint8Array.of(0xd4, 0xc3, 0xa1, 0xb2), new Uint8Array(20)), magic: 'd4c3a1b2' },
  ])('not a capture ($name): ERR_INPUT_NOT_CAPTURE, exit 2', async ({ bytes, magic }) => {
    const e = await rejection(decodeAll(bytes));
    expect(e.code).toBe('ERR_INPUT_NOT_CAPTURE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(`magic 0x${magic}`);
  });

  test('a pcap magic but a global header cut short: ERR_INPUT_NOT_CAPTURE, exit 2', async () => {
    const e = await rejection(decodeAll(pcapHeader(opts).subarray(0, 20)));
    expect(e.code).toBe('ERR_INPUT_NOT_CAPTURE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/too short for a pcap header \(20 bytes\)/);
  });

  test('an empty file: ERR_INPUT_NOT_CAPTURE, exit 2', async () => {
    const e = await rejection(decodeAll(new Uint8Array(0)));
    expect(e.code).toBe('ERR_INPUT_NOT_CAPTURE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/empty file/);
  });

  test.for([
    { name: 'a missing file', path: () => join(tmpdir(), 'kasmon-test-does-not-exist', 'x.pcap'), why: 'ENOENT' },
    { name: 'a directory', path: () => tmpdir(), why: 'EISDIR' },
  ])('$name: ERR_INPUT_UNREADABLE, exit 2', async ({ path, why }) => {
    const p = path();
    const e = await rejection(readCapture(p, () => {}));
    expect(e.code).toBe('ERR_INPUT_UNREADABLE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(p);
    expect(e.message).toContain(why);
  });
});

describe('gzip-compressed pcap', () => {
  const plain = pcapFile(
    ['one.test', 'two.test', 'three.test'].map((n) => ({ data: dnsFrame(n) })),
    { linktype: LINKTYPE.ETHERNET, nanos: true },
  );

  test('is read transparently: same frames, gzip flagged, bytes = decompressed size', async () => {
    const { observations, result } = await decodeAll(gzipSync(plain), { ext: 'pcap.gz' });
    expect(observations.map((o) => [o.frame, o.name, o.time.digits])).toEqual([
      [1, 'one.test', 9],
      [2, 'two.test', 9],
      [3, 'three.test', 9],
    ]);
    expect(result).toStrictEqual({ input: result.input, format: 'pcap', gzip: true, frames: 3, bytes: plain.length, linktype: 1 });
  });

  test('a gzip stream cut short: damaged, every frame zlib could recover is delivered', async () => {
    const frame = dnsFrame('n000.test');
    const many = pcapFile(Array.from({ length: 100 }, (_, i) => ({ data: dnsFrame(`n${String(i).padStart(3, '0')}.test`) })), {
      linktype: LINKTYPE.ETHERNET,
    });
    const gz = gzipSync(many);
    const cut = gz.subarray(0, Math.floor(gz.length * 0.6));
    const recovered = await new Promise<number>((resolve) => {
      let n = 0;
      const g = createGunzip();
      g.on('data', (c: Buffer) => (n += c.length));
      g.on('error', () => resolve(n));
      g.end(cut);
    });
    const complete = Math.floor((recovered - 24) / (16 + frame.length));
    expect(complete).toBeGreaterThan(10);

    const { observations, result } = await decodeAll(cut, { ext: 'pcap.gz' });
    expect(result.gzip).toBe(true);
    expect(result.frames).toBe(complete);
    expect(result.damaged).toMatch(/gzip stream damaged \(unexpected end of file\)$/);
    expect(observations.map((o) => o.frame)).toEqual(Array.from({ length: complete }, (_, i) => i + 1));
  });

  test('gzip of something that is not a capture: ERR_INPUT_NOT_CAPTURE', async () => {
    const e = await rejection(decodeAll(gzipSync(ascii('just some text, long enough for a header'))));
    expect(e.code).toBe('ERR_INPUT_NOT_CAPTURE');
  });
});

describe('a capture larger than the read chunk', () => {
  test('3000 frames of 1400 bytes: records straddle chunk boundaries, every frame arrives numbered', async () => {
    const N = 3000;
    const frames = Array.from({ length: N }, (_, i) => {
      const data = new Uint8Array(1400); // Ethernet trailer after the IPv4 packet: zero padding
      data.set(dnsFrame(`n${i + 1}.upd.kaspersky.com`));
      return { data, ts: { sec: T0 + i, nsec: i * 1000 } };
    });
    const bytes = pcapFile(frames, { linktype: LINKTYPE.ETHERNET });
    expect(bytes.length).toBeGreaterThan(4 * READ_CHUNK);
    // Some record must straddle each chunk boundary for the test to mean anything.
    for (const boundary of [READ_CHUNK, 2 * READ_CHUNK, 3 * READ_CHUNK]) expect((boundary - 24) % (16 + 1400)).not.toBe(0);

    const { observations, result, decoder } = await decodeAll(bytes);
    expect(result.damaged).toBeUndefined();
    expect(result.frames).toBe(N);
    expect(result.bytes).toBe(bytes.length);
    expect(decoder.stats.frames).toBe(N);
    expect(decoder.stats.bytes).toBe(N * 1400);
    expect(observations).toHaveLength(N);
    observations.forEach((o, i) => {
      expect(o.frame).toBe(i + 1);
      expect(o.name).toBe(`n${i + 1}.upd.kaspersky.com`);
      expect(o.time).toEqual({ sec: T0 + i, nsec: i * 1000, digits: 6 });
    });
    expect(decoder.issues.total()).toBe(0);
  });

  test('1000 frames of 1400 bytes, gzip-compressed: every frame arrives numbered', async () => {
    const frames = Array.from({ length: 1000 }, (_, i) => {
      const data = new Uint8Array(1400);
      data.set(dnsFrame(`g${i + 1}.test`));
      return { data };
    });
    const bytes = pcapFile(frames, { linktype: LINKTYPE.ETHERNET });
    const { observations, result } = await decodeAll(gzipSync(bytes));
    expect(result).toMatchObject({ gzip: true, frames: 1000, bytes: bytes.length });
    expect(result.damaged).toBeUndefined();
    expect(observations.map((o) => o.frame)).toEqual(frames.map((_, i) => i + 1));
  });

  test('a record header straddling the end of the first 2 MiB read is put back together', async () => {
    // Filler records so that the last record's header starts 8 bytes before 2 MiB.
    const headerAt = 2 * READ_CHUNK - 8;
    const fill: { data: Uint8Array }[] = [];
    let used = 24;
    while (headerAt - used > 16 + MAX_RECORD_BYTES) {
      fill.push({ data: new Uint8Array(MAX_RECORD_BYTES) });
      used += 16 + MAX_RECORD_BYTES;
    }
    fill.push({ data: new Uint8Array(headerAt - used - 16) });
    const bytes = pcapFile([...fill, { data: dnsFrame('straddle.test') }], { linktype: LINKTYPE.ETHERNET });
    expect(bytes.length - (16 + dnsFrame('straddle.test').length)).toBe(headerAt);

    const { observations, result } = await decodeAll(bytes);
    expect(result.damaged).toBeUndefined();
    expect(result.frames).toBe(fill.length + 1);
    expect(observations.map((o) => [o.frame, o.name])).toEqual([[fill.length + 1, 'straddle.test']]);
  });
});
