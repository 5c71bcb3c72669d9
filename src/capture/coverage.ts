import type { DecodeIssue } from './issues.js';
import type { RawFrame } from './read/frame.js';

/**
 * How much of the input the decoder could read, frame by frame, for the report's coverage
 * line: frames it could not decode below the transport layer (an unsupported link type, an
 * encapsulation it does not know, a header cut short), frames cut by the snap length, and
 * client QUIC long-header packets of a version it cannot open. Counted from the issue that
 * ended each frame, so the hot path pays one comparison per frame.
 */

/** Layers below transport: a frame whose last issue is here was not decoded. */
const FRAME_LAYERS = new Set([
  'link',
  'ethernet',
  'llc',
  'ppp',
  'wlan',
  'arcnet',
  'nflog',
  'pktap',
  'mpls',
  'pppoe',
  'tunnel',
  'gre',
  'capwap',
  'ayiya',
  'l2tp',
  'ipv4',
  'ipv6',
]);
/** Understood and not IP (ARP, LLDP, STP ...): decoded, nothing to look for. */
const DECODED_REASONS = new Set(['not_ip', 'fragment_cut_by_snaplen']);

export class Coverage {
  /** Frames not decoded, by the issue that stopped them. */
  readonly undecoded = new Map<DecodeIssue, number>();
  /** Frames of a link type kasmon has no decoder for, by link type. */
  readonly unsupportedLinktypes = new Map<number, number>();
  /** Frames captured shorter than they were on the wire (snap length), and the longest such capture. */
  cutFrames = 0;
  snaplen = 0;
  /** Client QUIC datagrams that start like an Initial of a version kasmon can open (the others count as quic/skipped/unsupported_version). */
  quicKnown = 0;

  /** After a frame: `last` is the last issue counted while decoding it (undefined: none). */
  frame(f: RawFrame, last: DecodeIssue | undefined, unsupportedLink: boolean): void {
    if (f.caplen < f.origlen) {
      this.cutFrames++;
      if (f.caplen > this.snaplen) this.snaplen = f.caplen;
    }
    if (last === undefined || !FRAME_LAYERS.has(last.layer) || DECODED_REASONS.has(last.reason)) return;
    this.undecoded.set(last, (this.undecoded.get(last) ?? 0) + 1);
    if (unsupportedLink) this.unsupportedLinktypes.set(f.linktype, (this.unsupportedLinktypes.get(f.linktype) ?? 0) + 1);
  }

  get undecodedFrames(): number {
    let n = 0;
    for (const v of this.undecoded.values()) n += v;
    return n;
  }
}
