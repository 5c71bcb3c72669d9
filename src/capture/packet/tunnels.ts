/** Tunnels a mirror or a mobile core wraps traffic in: GRE (with ERSPAN and TEB), VXLAN, GENEVE, GTP-U. */
import { u16be } from '../../common/bytes.js';
import { defineIssue } from '../issues.js';
import { ipAny, ipv4, ipv6 } from './ip.js';
import type { Layers } from './layers.js';
import { ethernet, etherType } from './link.js';
import { EtherType } from './protocols.js';

export const TUNNEL_TRUNCATED = defineIssue('tunnel', 'truncated', 'header');
export const TUNNEL_UNSUPPORTED = defineIssue('tunnel', 'skipped', 'unsupported');
export const TUNNEL_TOO_DEEP = defineIssue('tunnel', 'skipped', 'too_deep');

/** Tunnels nest (GRE in VXLAN in ...); past this depth a packet is dropped, counted. */
export const MAX_ENCAP_DEPTH = 8;

/** Goes one encapsulation level deeper, bounded by MAX_ENCAP_DEPTH (false = too deep, counted). */
export function enter(d: Layers, name: string): boolean {
  if (d.ctx.depth >= MAX_ENCAP_DEPTH) {
    d.count(TUNNEL_TOO_DEEP);
    return false;
  }
  d.ctx.depth++;
  d.ctx.tunnels.push(name);
  return true;
}

/** RFC 2784/2890 GRE, with ERSPAN type I/II/III (draft-foschiano-erspan) and TEB. */
export function gre(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 4) return d.count(TUNNEL_TRUNCATED);
  const flags = u16be(b, o);
  const proto = u16be(b, o + 2);
  if ((flags & 0x0007) !== 0) return d.count(TUNNEL_UNSUPPORTED); // version 1 = PPTP
  let p = o + 4;
  if (flags & 0x8000) p += 4; // checksum + reserved
  if (flags & 0x2000) p += 4; // key
  const seq = (flags & 0x1000) !== 0;
  if (seq) p += 4;
  if (p > end) return d.count(TUNNEL_TRUNCATED);
  switch (proto) {
    case EtherType.IPv4:
      if (enter(d, 'gre')) ipv4(d, b, p, end);
      return;
    case EtherType.IPv6:
      if (enter(d, 'gre')) ipv6(d, b, p, end);
      return;
    case EtherType.TEB:
      if (enter(d, 'gre')) ethernet(d, b, p, end);
      return;
    case EtherType.ERSPAN_2:
      // Type I has no sequence number and no ERSPAN header; type II has both (8 bytes).
      if (!seq) {
        if (enter(d, 'erspan1')) ethernet(d, b, p, end);
        return;
      }
      if (end - p < 8) return d.count(TUNNEL_TRUNCATED);
      if (enter(d, 'erspan2')) ethernet(d, b, p + 8, end);
      return;
    case EtherType.ERSPAN_3: {
      // Type III: 12-byte header, plus an 8-byte platform sub-header when O is set.
      if (end - p < 12) return d.count(TUNNEL_TRUNCATED);
      const hdr = (b[p + 11]! & 0x01) !== 0 ? 20 : 12;
      if (enter(d, 'erspan3')) ethernet(d, b, p + hdr, end);
      return;
    }
    default:
      return d.count(TUNNEL_UNSUPPORTED);
  }
}

/** RFC 7348 VXLAN: 8-byte header (I flag), then an Ethernet frame. */
export function vxlan(d: Layers, b: Uint8Array, o: number, end: number): boolean {
  if (end - o >= 1 && (b[o]! & 0x08) === 0) return false;
  if (end - o < 8 + 14) {
    d.count(TUNNEL_TRUNCATED);
    return true;
  }
  if (enter(d, 'vxlan')) ethernet(d, b, o + 8, end);
  return true;
}

/** RFC 8926 GENEVE: 8 bytes + options (length in 4-byte words), protocol type as EtherType. */
export function geneve(d: Layers, b: Uint8Array, o: number, end: number): boolean {
  if (end - o >= 1 && b[o]! >> 6 !== 0) return false;
  if (end - o < 8) {
    d.count(TUNNEL_TRUNCATED);
    return true;
  }
  const p = o + 8 + (b[o]! & 0x3f) * 4;
  const proto = u16be(b, o + 2);
  if (p > end) {
    d.count(TUNNEL_TRUNCATED);
    return true;
  }
  if (!enter(d, 'geneve')) return true;
  if (proto === EtherType.TEB) ethernet(d, b, p, end);
  else etherType(d, b, p, end, proto);
  return true;
}

/** 3GPP TS 29.281 GTP-U: G-PDU (type 0xff) carries a user IP packet. */
export function gtpu(d: Layers, b: Uint8Array, o: number, end: number): boolean {
  if (end - o < 2) return false;
  const flags = b[o]!;
  if (flags >> 5 !== 1 || (flags & 0x10) === 0 || b[o + 1] !== 0xff) return false;
  const truncated = (): boolean => {
    d.count(TUNNEL_TRUNCATED);
    return true;
  };
  if (end - o < 8) return truncated();
  let p = o + 8;
  if (flags & 0x07) {
    // sequence number (2), N-PDU (1), next extension header type (1)
    if (end - p < 4) return truncated();
    let nextExt = b[p + 3]!;
    p += 4;
    for (let n = 0; nextExt !== 0 && n < 8; n++) {
      // extension header: length in 4-octet units, content, next type in its last byte
      if (end - p < 1) return truncated();
      const len = b[p]! * 4;
      if (len === 0) return false;
      if (end - p < len) return truncated();
      nextExt = b[p + len - 1]!;
      p += len;
    }
  }
  if (enter(d, 'gtp-u')) ipAny(d, b, p, end);
  return true;
}
