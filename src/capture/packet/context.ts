import type { RawFrame } from '../read/frame.js';
import { newRawFrame } from '../read/frame.js';

/**
 * What the layers below the application know about the packet being decoded: its frame, the
 * innermost IP addresses (as offsets into a buffer, formatted only if an observation needs
 * them), ports, VLAN and the tunnels crossed. One instance per decoder, overwritten layer by
 * layer, so a tunnel's inner header simply replaces the outer one; no allocation per packet.
 */
/** Mixes one more 32-bit value into a zone (see PacketContext.zone). */
export function zoneMix(zone: number, v: number): number {
  const h = Math.imul(zone ^ v, 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0 || 1;
}

export class PacketContext {
  frame: RawFrame = newRawFrame();
  /** Ageing time (µs) of this frame: what state created or touched now is stamped with (engine/clock.ts). */
  nowMicros = 0;
  af: 4 | 6 = 4;
  addrBuf: Uint8Array = new Uint8Array(0);
  /** Offset of the source address in `addrBuf`; -1 until an IP header of this frame was read. */
  srcOff = -1;
  dstOff = 0;
  sport = 0;
  dport = 0;
  transport: 'udp' | 'tcp' = 'udp';
  /** Outermost 802.1Q VLAN id, -1 when untagged. */
  vlan = -1;
  /** Encapsulation depth, bounded by MAX_ENCAP_DEPTH. */
  depth = 0;
  /**
   * Where the packet travelled, as a 32-bit mix of its VLAN ids and of each tunnel's
   * identifier (VNI, GRE key, TEID, ...) and outer addresses; 0 untagged and untunneled. Flows,
   * fragment trains and QUIC handshakes are keyed on it too, so equal 5-tuples on different
   * VLANs or in different tunnels stay apart (Zeek's conn key; zeek vlan-collisions and
   * vxlan-overlapping traces).
   */
  zone = 0;
  readonly tunnels: string[] = [];
  /** The current IP packet was cut by the snap length (its header claims more than was captured). */
  ipCut = false;

  /** Starts a new frame. */
  reset(f: RawFrame, now: number): void {
    this.frame = f;
    this.nowMicros = now;
    this.vlan = -1;
    this.depth = 0;
    this.zone = 0;
    this.srcOff = -1;
    if (this.tunnels.length > 0) this.tunnels.length = 0;
    this.ipCut = false;
  }
}
