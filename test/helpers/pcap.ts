/**
 * Capture-file builders and a decode harness for the capture tests.
 *
 *   pcapFile([{ data: frame }], { linktype: LINKTYPE.ETHERNET })           classic pcap bytes
 *   pcapngFile([{ interfaces: [{ linktype: 1 }], packets: [{ iface: 0, data }] }])
 *   const { observations, decoder, result } = await decodeAll(bytes)      readCapture + Decoder
 *
 * Formats: pcap-savefile(5) / draft-ietf-opsawg-pcap (classic), draft-ietf-opsawg-pcapng (pcapng).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decoder, type DecoderOptions } from '../../src/capture/decoder.js';
import type { Observation } from '../../src/capture/observation.js';
import { newRawFrame, type RawFrame } from '../../src/capture/read/frame.js';
import { readCapture, type ReadResult } from '../../src/capture/read/source.js';
import { toMicros } from '../../src/common/time.js';
import { concat } from './packets.js';

/** 2024-09-30T08:15:02Z: the default packet time (the US cutoff week). */
export const T0 = 1_727_684_102;

export interface Timestamp {
  sec: number;
  nsec: number;
}

// ─────────────────────────────── classic pcap ───────────────────────────────

export interface PcapFrame {
  data: Uint8Array;
  /** Default: T0 + the frame's index seconds. */
  ts?: Timestamp;
  /** orig_len (default data.length). */
  origLen?: number;
  /** incl_len (default data.length): a wrong value for damaged-file tests. */
  inclLenOverride?: number;
}

export interface PcapOptions {
  linktype: number;
  /** Magic 0xa1b23c4d, nanosecond timestamps (default microseconds, 0xa1b2c3d4). */
  nanos?: boolean;
  bigEndian?: boolean;
  /** Default 262144. */
  snaplen?: number;
}

/** pcap-savefile(5) global header: magic, version 2.4, thiszone, sigfigs, snaplen, linktype. */
export function pcapHeader(o: PcapOptions): Uint8Array {
  const h = new Uint8Array(24);
  const v = new DataView(h.buffer);
  const le = o.bigEndian !== true;
  v.setUint32(0, o.nanos === true ? 0xa1b23c4d : 0xa1b2c3d4, le);
  v.setUint16(4, 2, le);
  v.setUint16(6, 4, le);
  v.setUint32(16, o.snaplen ?? 262_144, le);
  v.setUint32(20, o.linktype >>> 0, le);
  return h;
}

/** One record: ts_sec, ts_usec|ts_nsec, incl_len, orig_len (16 bytes), then the captured bytes. */
export function pcapRecord(f: PcapFrame, o: PcapOptions, index = 0): Uint8Array {
  const ts = f.ts ?? { sec: T0 + index, nsec: 0 };
  const h = new Uint8Array(16 + f.data.length);
  const v = new DataView(h.buffer);
  const le = o.bigEndian !== true;
  v.setUint32(0, ts.sec, le);
  v.setUint32(4, o.nanos === true ? ts.nsec : Math.floor(ts.nsec / 1000), le);
  v.setUint32(8, f.inclLenOverride ?? f.data.length, le);
  v.setUint32(12, f.origLen ?? f.data.length, le);
  h.set(f.data, 16);
  return h;
}

export function pcapFile(frames: readonly PcapFrame[], o: PcapOptions): Uint8Array {
  return concat(pcapHeader(o), ...frames.map((f, i) => pcapRecord(f, o, i)));
}

// ─────────────────────────────── pcapng ───────────────────────────────

export interface PcapngInterface {
  linktype: number;
  /** if_tsresol byte (§4.2): 6 = µs (default), 9 = ns, 0x80|n = 2^-n seconds. */
  tsresol?: number;
  /** if_tsoffset seconds (§4.2), a signed 64-bit integer. */
  tsoffset?: bigint | number;
  /** Default 262144; 0 = no limit. */
  snaplen?: number;
  /** Further options `[code, value]`, written before if_tsresol/if_tsoffset (e.g. if_name 2, opt_comment 1). */
  options?: ReadonlyArray<readonly [number, Uint8Array]>;
}

export interface PcapngPacket {
  /** Interface id (ignored for SPB, which always means interface 0). */
  iface: number;
  data: Uint8Array;
  /**
   * The timestamp as stored in the block (readers add if_tsoffset): a bigint is the raw count of
   * if_tsresol units; {sec, nsec} is converted to units exactly. Default T0 + index seconds.
   */
  ts?: bigint | Timestamp;
  /** Enhanced (default), Simple, or the obsolete Packet Block. */
  type?: 'epb' | 'spb' | 'opb';
  /** Original length (default data.length). */
  origLen?: number;
  /** EPB options `[code, value]` after the packet data (§4.3.1: epb_flags 2, epb_hash 3, …). */
  options?: ReadonlyArray<readonly [number, Uint8Array]>;
}

export interface PcapngBlock {
  type: number;
  body: Uint8Array;
  /** Index of the packet this block goes before (default 0: right after the interfaces). */
  before?: number;
}

export interface PcapngSection {
  bigEndian?: boolean;
  /** Section Header Block major version (default 1). */
  major?: number;
  interfaces: readonly PcapngInterface[];
  packets: readonly PcapngPacket[];
  /** Further blocks (unknown types, NRB, ISB…), placed among the packets. */
  extraBlocks?: readonly PcapngBlock[];
}

export const PCAPNG_BT = { SHB: 0x0a0d0d0a, IDB: 1, OPB: 2, SPB: 3, NRB: 4, ISB: 5, EPB: 6, DSB: 10, CUSTOM: 0x00000bad } as const;

/** if_tsresol byte → units per second. */
export function unitsPerSecond(tsresol = 6): bigint {
  return tsresol & 0x80 ? 1n << BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
}

/** A general block (§3.1): type(4) total length(4) body, padded to 32 bits, total length(4). */
export function pcapngBlock(type: number, body: Uint8Array, bigEndian = false): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const len = 12 + padded;
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  v.setUint32(0, type >>> 0, !bigEndian);
  v.setUint32(4, len, !bigEndian);
  b.set(body, 8);
  v.setUint32(len - 4, len, !bigEndian);
  return b;
}

/** An option list (§3.5): code(2) length(2) value padded to 32 bits, ending with opt_endofopt. */
function options(opts: ReadonlyArray<readonly [number, Uint8Array]>, be: boolean): Uint8Array {
  if (opts.length === 0) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  for (const [code, value] of [...opts, [0, new Uint8Array(0)] as const]) {
    const h = new Uint8Array(4 + ((value.length + 3) & ~3));
    const v = new DataView(h.buffer);
    v.setUint16(0, code, !be);
    v.setUint16(2, value.length, !be);
    h.set(value, 4);
    parts.push(h);
  }
  return concat(...parts);
}

function shb(be: boolean, major = 1): Uint8Array {
  // §4.1: byte-order magic, major 1, minor 0, section length -1 (unknown).
  const body = new Uint8Array(16);
  const v = new DataView(body.buffer);
  v.setUint32(0, 0x1a2b3c4d, !be);
  v.setUint16(4, major, !be);
  v.setUint16(6, 0, !be);
  v.setBigInt64(8, -1n, !be);
  return pcapngBlock(PCAPNG_BT.SHB, body, be);
}

function idb(i: PcapngInterface, be: boolean): Uint8Array {
  // §4.2: LinkType(2) Reserved(2) SnapLen(4) options.
  const head = new Uint8Array(8);
  const v = new DataView(head.buffer);
  v.setUint16(0, i.linktype, !be);
  v.setUint32(4, i.snaplen ?? 262_144, !be);
  const opts: Array<readonly [number, Uint8Array]> = [...(i.options ?? [])];
  if (i.tsresol !== undefined) opts.push([9, Uint8Array.of(i.tsresol)]);
  if (i.tsoffset !== undefined) {
    const off = new Uint8Array(8);
    new DataView(off.buffer).setBigInt64(0, BigInt(i.tsoffset), !be);
    opts.push([14, off]);
  }
  return pcapngBlock(PCAPNG_BT.IDB, concat(head, options(opts, be)), be);
}

function packetBlock(p: PcapngPacket, index: number, ifaces: readonly PcapngInterface[], be: boolean): Uint8Array {
  const type = p.type ?? 'epb';
  const orig = p.origLen ?? p.data.length;
  if (type === 'spb') {
    // §4.4: Original Packet Length(4), packet data.
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, orig, !be);
    return pcapngBlock(PCAPNG_BT.SPB, concat(head, p.data), be);
  }
  const R = unitsPerSecond(ifaces[p.iface]?.tsresol);
  const ts = p.ts ?? { sec: T0 + index, nsec: 0 };
  const units = typeof ts === 'bigint' ? ts : BigInt(ts.sec) * R + (BigInt(ts.nsec) * R) / 1_000_000_000n;
  const head = new Uint8Array(20);
  const v = new DataView(head.buffer);
  if (type === 'opb') {
    // Appendix A (obsolete Packet Block): Interface ID(2) Drops Count(2) Timestamp(8) Captured(4) Original(4).
    v.setUint16(0, p.iface, !be);
    v.setUint16(2, 0, !be);
  } else {
    // §4.3: Interface ID(4) Timestamp (Upper)(4) Timestamp (Lower)(4) Captured(4) Original(4).
    v.setUint32(0, p.iface, !be);
  }
  v.setUint32(4, Number(units >> 32n), !be);
  v.setUint32(8, Number(units & 0xffffffffn), !be);
  v.setUint32(12, p.data.length, !be);
  v.setUint32(16, orig, !be);
  const data = concat(p.data, new Uint8Array(((p.data.length + 3) & ~3) - p.data.length));
  return pcapngBlock(type === 'opb' ? PCAPNG_BT.OPB : PCAPNG_BT.EPB, concat(head, data, options(p.options ?? [], be)), be);
}

export function pcapngSection(s: PcapngSection): Uint8Array {
  const be = s.bigEndian === true;
  const parts = [shb(be, s.major), ...s.interfaces.map((i) => idb(i, be))];
  const extra = s.extraBlocks ?? [];
  const blocksBefore = (k: number): Uint8Array[] =>
    extra.filter((x) => (x.before ?? 0) === k).map((x) => pcapngBlock(x.type, x.body, be));
  s.packets.forEach((p, i) => parts.push(...blocksBefore(i), packetBlock(p, i, s.interfaces, be)));
  // Blocks placed after the last packet.
  for (let k = s.packets.length; k <= Math.max(s.packets.length, ...extra.map((x) => x.before ?? 0)); k++) {
    parts.push(...blocksBefore(k));
  }
  return concat(...parts);
}

export function pcapngFile(sections: readonly PcapngSection[]): Uint8Array {
  return concat(...sections.map(pcapngSection));
}

// ─────────────────────────────── files and decoding ───────────────────────────────

let dir: string | undefined;
let seq = 0;

/** Writes `bytes` to a new file in a per-process temp directory (removed at exit); returns its path. */
export function writeTemp(bytes: Uint8Array, ext = 'pcap'): string {
  if (dir === undefined) {
    const d = mkdtempSync(join(tmpdir(), 'kasmon-test-'));
    dir = d;
    process.once('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  const path = join(dir, `${++seq}.${ext}`);
  writeFileSync(path, bytes);
  return path;
}

export interface Decoded {
  observations: Observation[];
  decoder: Decoder;
  result: ReadResult;
}

/**
 * Decoder.onFrame the way the engine drives it in `packet` ageing mode, minus the clock's
 * guard against bad stamps (these tests write sane times): ageing time is packet time, and
 * idle state is swept once per second of it.
 */
export function packetTimeDriver(decoder: Decoder): (f: RawFrame) => void {
  let lastSweep = Number.NEGATIVE_INFINITY;
  return (f) => {
    const now = toMicros(f.time);
    if (now - lastSweep >= 1_000_000) {
      lastSweep = now;
      decoder.expire(now);
    }
    decoder.now = now;
    decoder.onFrame(f);
  };
}

/**
 * Writes `bytes` to a temp file and runs it through readCapture + Decoder the way the engine
 * does for a single input (see packetTimeDriver). KasmonErrors propagate.
 */
export async function decodeAll(bytes: Uint8Array, opts: DecoderOptions & { ext?: string; finish?: boolean } = {}): Promise<Decoded> {
  const { ext, finish = true, ...decoderOpts } = opts;
  const path = writeTemp(bytes, ext);
  const observations: Observation[] = [];
  const decoder = new Decoder((o) => observations.push(o), decoderOpts);
  decoder.setSource(undefined);
  const result = await readCapture(path, packetTimeDriver(decoder), { onIssue: (i) => decoder.count(i) });
  if (finish) decoder.finish();
  return { observations, decoder, result };
}

/** What readCapture handed over for one frame, copied out of the reused RawFrame. */
export interface FrameInfo {
  frame: number;
  linktype: number;
  ifIndex: number;
  caplen: number;
  origlen: number;
  time: { sec: number; nsec: number; digits: number };
  data: Uint8Array;
}

/** Writes `bytes` to a temp file and lists the frames readCapture delivers (no decoding). */
export async function readFrames(bytes: Uint8Array, ext = 'pcap'): Promise<{ frames: FrameInfo[]; result: ReadResult }> {
  const frames: FrameInfo[] = [];
  const result = await readCapture(writeTemp(bytes, ext), (f) => {
    frames.push({
      frame: f.frame,
      linktype: f.linktype,
      ifIndex: f.ifIndex,
      caplen: f.caplen,
      origlen: f.origlen,
      time: { ...f.time },
      data: f.buf.slice(f.off, f.off + f.caplen), // copy: outlives frame
    });
  });
  return { frames, result };
}

export interface FrameFeeder {
  observations: Observation[];
  decoder: Decoder;
  /**
   * Hands one frame to Decoder.onFrame as a pcap reader would (frame n, time T0 + (n-1) µs);
   * `origLen` > data.length makes it a snaplen-truncated record.
   */
  feed(data: Uint8Array, linktype: number, origLen?: number): void;
}

/** The in-memory shortcut for many small cases (property tests): no file, one Decoder. */
export function frameFeeder(opts: DecoderOptions = {}): FrameFeeder {
  const observations: Observation[] = [];
  const decoder = new Decoder((o) => observations.push(o), opts);
  const drive = packetTimeDriver(decoder);
  const f = newRawFrame();
  let n = 0;
  return {
    observations,
    decoder,
    feed(data, linktype, origLen) {
      f.buf = data;
      f.off = 0;
      f.caplen = data.length;
      f.origlen = Math.max(origLen ?? 0, data.length);
      f.linktype = linktype;
      f.frame = ++n;
      f.time.sec = T0;
      f.time.nsec = (n - 1) * 1000;
      f.time.digits = 6;
      drive(f);
    },
  };
}

/** Decodes frames of one link type in memory; see `frameFeeder`. */
export function decodeFrames(frames: readonly Uint8Array[], linktype: number, opts: DecoderOptions = {}): FrameFeeder {
  const feeder = frameFeeder(opts);
  for (const d of frames) feeder.feed(d, linktype);
  return feeder;
}

/** The observation a DNS query for `name` (A, from src:40000 to dst:53) yields as frame `frame` at `time`. */
export function dnsObservation(name: string, frame: number, time: Observation['time'], src = '198.18.0.10', dst = '198.19.0.53'): Observation {
  return {
    kind: 'dns_query',
    name,
    qtype: 'A',
    time,
    tsMicros: time.sec * 1_000_000 + Math.floor(time.nsec / 1000),
    frame,
    src,
    dst,
    sport: 40000,
    dport: 53,
    transport: 'udp',
  };
}
