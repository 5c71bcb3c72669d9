import type { PacketTime } from '../../common/time.js';

/**
 * One captured frame, as a window into the reader's buffer. The reader owns `buf` and
 * reuses this object for every record (like gopacket's ZeroCopyReadPacketData): the bytes
 * and fields are valid only during the callback. Copy what must outlive it.
 */
export interface RawFrame {
  buf: Uint8Array;
  /** Offset of the first captured byte in `buf`. */
  off: number;
  /** Captured length (bytes present in `buf` from `off`). */
  caplen: number;
  /** Length of the frame on the wire (caplen < origlen means snaplen truncation). */
  origlen: number;
  linktype: number;
  /** 1-based frame number within its file. */
  frame: number;
  time: PacketTime;
  /** Interface index (pcapng); 0 for classic pcap. */
  ifIndex: number;
}

export function newRawFrame(): RawFrame {
  return {
    buf: new Uint8Array(0),
    off: 0,
    caplen: 0,
    origlen: 0,
    linktype: 1,
    frame: 0,
    time: { sec: 0, nsec: 0, digits: 6 },
    ifIndex: 0,
  };
}

/** A record format: consumes whole records from `buf[start, end)` and reports each one. */
export interface RecordParser {
  /**
   * Parse as many complete records as `buf[start, end)` holds, calling `onFrame` for each.
   * Returns the number of bytes consumed. Throws KasmonError only for file-level damage.
   */
  parse(buf: Uint8Array, start: number, end: number, onFrame: (f: RawFrame) => void): number;
  /** Bytes needed at least for the next record (to size the read buffer). */
  readonly need: number;
  /** Record number of the last complete record, for "stopped after frame N" messages. */
  readonly frames: number;
}
