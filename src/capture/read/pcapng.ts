import { KasmonError } from '../../errors.js';
import { u16be, u16le, u32be, u32le } from '../../common/bytes.js';
import { defineIssue, type DecodeIssue } from '../issues.js';
import { newRawFrame, type RawFrame, type RecordParser } from './frame.js';

/**
 * A section whose Section Header Block has a major version other than 1: its blocks may mean
 * something else, so the whole section is skipped, as draft-ietf-opsawg-pcapng §4.1 says a
 * reader must (counted once per section; its packets are not read).
 */
export const PCAPNG_SECTION_VERSION = defineIssue('pcapng', 'skipped', 'unsupported_section_version');
/** The major version this reader understands (§4.1: 1; minor versions 0 and 2 are the same format). */
const PCAPNG_MAJOR = 1;

/**
 * pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks, each
 *   Block Type (4) | Block Total Length (4) | body | Block Total Length (4)
 * Sections start with a Section Header Block whose byte-order magic fixes the endianness
 * for the section; Interface Description Blocks give each interface its link type and
 * timestamp resolution (if_tsresol) and offset (if_tsoffset). Enhanced, Simple and the
 * obsolete Packet blocks carry frames; every other block is skipped by its length.
 */
export const PCAPNG_SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;
const BT_IDB = 1;
const BT_OPB = 2; // obsolete Packet Block
const BT_SPB = 3;
const BT_EPB = 6;
const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
/** Blocks larger than this are file damage (a frame is at most 256 KiB; NRBs are small). */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024;

export function isPcapngMagic(b: Uint8Array): boolean {
  return b.length >= 4 && u32be(b, 0) === PCAPNG_SHB;
}

interface Iface {
  linktype: number;
  snaplen: number;
  /** Timestamp units per second. */
  unitsPerSec: number;
  digits: number;
  offsetSec: number;
}

export class PcapngParser implements RecordParser {
  need = 12;
  frames = 0;
  /** Blocks of types we do not use, skipped by length (counted for the summary). */
  skippedBlocks = 0;
  /** Sections skipped for an unsupported major version. */
  skippedSections = 0;
  /** The current section's version is not ours: its blocks are walked by length, unread. */
  private skipping = false;
  private le = true;
  private ifaces: Iface[] = [];
  private readonly frame: RawFrame = newRawFrame();

  constructor(
    private readonly name: string,
    private readonly onIssue?: (i: DecodeIssue) => void,
  ) {}

  private u16(b: Uint8Array, o: number): number {
    return this.le ? u16le(b, o) : u16be(b, o);
  }

  private u32(b: Uint8Array, o: number): number {
    return this.le ? u32le(b, o) : u32be(b, o);
  }

  private damaged(why: string): KasmonError {
    return new KasmonError('ERR_INPUT_DAMAGED', `${this.name}: damaged after frame ${this.frames}: ${why}`);
  }

  parse(buf: Uint8Array, start: number, end: number, onFrame: (f: RawFrame) => void): number {
    let o = start;
    for (;;) {
      if (end - o < 12) {
        this.need = 12;
        break;
      }
      const type = u32be(buf, o) === PCAPNG_SHB ? PCAPNG_SHB : this.u32(buf, o);
      if (type === PCAPNG_SHB) {
        // The byte-order magic decides how to read this block's own length.
        const bom = u32le(buf, o + 8);
        if (bom === BOM) this.le = true;
        else if (u32be(buf, o + 8) === BOM) this.le = false;
        else throw this.damaged('section header with an unknown byte-order magic');
      }
      const len = this.u32(buf, o + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK_BYTES) {
        throw this.damaged(`block of type 0x${type.toString(16)} claims ${len} bytes`);
      }
      if (end - o < len) {
        this.need = len;
        break;
      }
      if (this.u32(buf, o + len - 4) !== len) throw this.damaged('block trailer length does not match its header');
      this.block(type, buf, o, len, onFrame);
      o += len;
    }
    return o - start;
  }

  private block(type: number, b: Uint8Array, o: number, len: number, onFrame: (f: RawFrame) => void): void {
    const bodyEnd = o + len - 4;
    if (this.skipping && type !== PCAPNG_SHB) {
      this.skippedBlocks++;
      return;
    }
    switch (type) {
      case PCAPNG_SHB:
        // A new section: interface ids start again from zero. Major version (2) after the
        // byte-order magic; the block is at least 28 bytes when it holds one.
        this.ifaces = [];
        this.skipping = len >= 28 && this.u16(b, o + 12) !== PCAPNG_MAJOR;
        if (this.skipping) {
          this.skippedSections++;
          this.onIssue?.(PCAPNG_SECTION_VERSION);
        }
        return;
      case BT_IDB:
        this.ifaces.push(this.idb(b, o + 8, bodyEnd));
        return;
      case BT_EPB:
      case BT_OPB: {
        // EPB: interface id (4); obsolete PB: interface id (2), drops count (2). Then both:
        // timestamp high (4), low (4), captured length (4), original length (4), data.
        if (bodyEnd - (o + 8) < 20) throw this.damaged(`${type === BT_EPB ? 'enhanced ' : ''}packet block too short`);
        const ifId = type === BT_EPB ? this.u32(b, o + 8) : this.u16(b, o + 8);
        const caplen = this.u32(b, o + 20);
        const origlen = this.u32(b, o + 24);
        if (o + 28 + caplen > bodyEnd) throw this.damaged('packet data runs past its block');
        this.emit(b, ifId, this.u32(b, o + 12), this.u32(b, o + 16), o + 28, caplen, origlen, onFrame, false);
        return;
      }
      case BT_SPB: {
        // Simple Packet Block: interface 0, no timestamp; captured length is what fits.
        if (bodyEnd - (o + 8) < 4) throw this.damaged('simple packet block too short');
        const origlen = this.u32(b, o + 8);
        const iface = this.ifaces[0];
        const room = bodyEnd - (o + 12);
        const caplen = Math.min(origlen, iface && iface.snaplen > 0 ? Math.min(iface.snaplen, room) : room);
        this.emit(b, 0, 0, 0, o + 12, caplen, origlen, onFrame, true);
        return;
      }
      default:
        this.skippedBlocks++;
    }
  }

  private emit(
    b: Uint8Array,
    ifId: number,
    tsHigh: number,
    tsLow: number,
    dataOff: number,
    caplen: number,
    origlen: number,
    onFrame: (f: RawFrame) => void,
    noTime: boolean,
  ): void {
    const iface = this.ifaces[ifId];
    if (iface === undefined) throw this.damaged(`packet refers to interface ${ifId}, which was not described`);
    const f = this.frame;
    f.buf = b;
    f.off = dataOff;
    f.caplen = caplen;
    f.origlen = origlen < caplen ? caplen : origlen;
    f.linktype = iface.linktype;
    f.ifIndex = ifId;
    f.frame = ++this.frames;
    f.time.digits = iface.digits;
    if (noTime) {
      f.time.sec = 0;
      f.time.nsec = 0;
    } else {
      splitTimestamp(tsHigh, tsLow, iface.unitsPerSec, f.time);
      f.time.sec += iface.offsetSec;
    }
    onFrame(f);
  }

  private idb(b: Uint8Array, o: number, end: number): Iface {
    if (end - o < 8) throw this.damaged('interface description block too short');
    const iface: Iface = {
      linktype: this.u16(b, o),
      snaplen: this.u32(b, o + 4),
      unitsPerSec: 1_000_000,
      digits: 6,
      offsetSec: 0,
    };
    // Options: code (2), length (2), value padded to 32 bits.
    let p = o + 8;
    while (end - p >= 4) {
      const code = this.u16(b, p);
      const olen = this.u16(b, p + 2);
      const v = p + 4;
      if (code === OPT_ENDOFOPT || v + olen > end) break;
      if (code === OPT_IF_TSRESOL && olen >= 1) {
        const r = b[v]!;
        const exp = r & 0x7f;
        if (r & 0x80) {
          iface.unitsPerSec = 2 ** exp;
          iface.digits = Math.min(9, Math.ceil(exp * Math.LOG10E * Math.LN2));
        } else {
          iface.unitsPerSec = 10 ** exp;
          iface.digits = Math.min(9, exp);
        }
      } else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        const hi = this.le ? this.u32(b, v + 4) : this.u32(b, v);
        const lo = this.le ? this.u32(b, v) : this.u32(b, v + 4);
        // A signed 64-bit count of seconds (draft-ietf-opsawg-pcapng §4.2).
        iface.offsetSec = (hi | 0) * 4294967296 + lo;
      }
      p = v + ((olen + 3) & ~3);
    }
    return iface;
  }
}

/**
 * (high·2^32 + low) / unitsPerSec as seconds + nanoseconds, exactly: the 64-bit count does
 * not fit a double at nanosecond resolution, so divide in base 2^16 (each step < 2^53).
 */
export function splitTimestamp(high: number, low: number, unitsPerSec: number, out: { sec: number; nsec: number }): void {
  const R = unitsPerSec;
  if (R > 1e9) {
    // Finer than nanoseconds (rare): the remainder times 1e9 no longer fits a double.
    const units = (BigInt(high) << 32n) + BigInt(low);
    const r = BigInt(R);
    out.sec = Number(units / r);
    out.nsec = Number(((units % r) * 1_000_000_000n) / r);
    return;
  }
  let q = Math.floor(high / R);
  let r = high - q * R;
  let d = r * 65536 + (low >>> 16);
  const q2 = Math.floor(d / R);
  r = d - q2 * R;
  d = r * 65536 + (low & 0xffff);
  const q3 = Math.floor(d / R);
  r = d - q3 * R;
  q = q * 4294967296 + q2 * 65536 + q3;
  out.sec = q;
  out.nsec = R === 1e9 ? r : R === 1e6 ? r * 1000 : Math.floor((r * 1e9) / R);
}
