import { KasmonError } from '../../errors.js';
import { u32be, u32le } from '../../common/bytes.js';
import { carryNanos } from '../../common/time.js';
import { newRawFrame, type RawFrame, type RecordParser } from './frame.js';

/**
 * Classic libpcap files (https://www.tcpdump.org/manpages/pcap-savefile.5.html,
 * draft-ietf-opsawg-pcap): a 24-byte global header, then records of a 16-byte header
 * (ts_sec, ts_usec|ts_nsec, incl_len, orig_len) and incl_len bytes. Either byte order;
 * magic 0xa1b2c3d4 = microseconds, 0xa1b23c4d = nanoseconds.
 *
 * Hand-written rather than pcap-parser: pcap-parser has no nanosecond magic, emits one
 * event and one Buffer per record, and walks several times slower (`npm run bench`, lines a
 * and b; README, "Dependency notes").
 */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;
/** Larger records are file damage, not packets (tshark's limit: WTAP_MAX_PACKET_SIZE_STANDARD). */
export const MAX_RECORD_BYTES = 262_144;

export function isPcapMagic(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const be = u32be(b, 0);
  const le = u32le(b, 0);
  return be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS;
}

export class PcapParser implements RecordParser {
  readonly need = RECORD_HEADER_LEN;
  frames = 0;
  private readonly frame: RawFrame = newRawFrame();
  private readonly le: boolean;
  private readonly nanos: boolean;
  readonly linktype: number;
  readonly snaplen: number;

  /** `header` holds at least the 24-byte global header. */
  constructor(
    header: Uint8Array,
    private readonly name: string,
  ) {
    if (header.length < PCAP_GLOBAL_HEADER_LEN) {
      throw new KasmonError('ERR_INPUT_NOT_CAPTURE', `${name}: too short for a pcap header (${header.length} bytes)`);
    }
    const magicLe = u32le(header, 0);
    this.le = magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS;
    const magic = this.le ? magicLe : u32be(header, 0);
    this.nanos = magic === PCAP_MAGIC_NS;
    const rd = this.le ? u32le : u32be;
    this.snaplen = rd(header, 16);
    // The upper bits of the link-type field carry FCS flags (pcap-savefile(5)); tcpdump
    // masks them off, and files in the wild set them (0x40000000 seen in fuzz corpora).
    this.linktype = rd(header, 20) & 0x0fffffff;
    this.frame.linktype = this.linktype;
    this.frame.time.digits = this.nanos ? 9 : 6;
  }

  parse(buf: Uint8Array, start: number, end: number, onFrame: (f: RawFrame) => void): number {
    const f = this.frame;
    const le = this.le;
    let o = start;
    while (end - o >= RECORD_HEADER_LEN) {
      const sec = le ? u32le(buf, o) : u32be(buf, o);
      const frac = le ? u32le(buf, o + 4) : u32be(buf, o + 4);
      const incl = le ? u32le(buf, o + 8) : u32be(buf, o + 8);
      const orig = le ? u32le(buf, o + 12) : u32be(buf, o + 12);
      if (incl > MAX_RECORD_BYTES) {
        throw new KasmonError(
          'ERR_INPUT_DAMAGED',
          `${this.name}: damaged after frame ${this.frames}: record claims ${incl} bytes (more than ${MAX_RECORD_BYTES})`,
        );
      }
      if (end - o - RECORD_HEADER_LEN < incl) break;
      f.buf = buf;
      f.off = o + RECORD_HEADER_LEN;
      f.caplen = incl;
      f.origlen = orig < incl ? incl : orig;
      f.time.sec = sec;
      f.time.nsec = this.nanos ? frac : frac * 1000;
      // A fraction field past one second (any 32-bit value can be written) carries into the
      // seconds, so every time helper sees the same instant (common/time.ts).
      if (f.time.nsec >= 1_000_000_000) carryNanos(f.time);
      f.frame = ++this.frames;
      onFrame(f);
      o += RECORD_HEADER_LEN + incl;
    }
    return o - start;
  }
}
