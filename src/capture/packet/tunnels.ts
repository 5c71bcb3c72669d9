/**
 * Tunnels a mirror, a mobile core, a wireless controller or a VPN wraps traffic in: GRE (with
 * ERSPAN, TEB, PPTP's PPP and Aruba's 802.11), GRE-in-UDP, VXLAN, GENEVE, GTP-U, AYIYA,
 * CAPWAP data, Teredo and NSH.
 */
import { u16be, u32be } from '../../common/bytes.js';
import { zoneMix } from './context.js';
import { defineIssue } from '../issues.js';
import { ipAny, ipv4, ipv6 } from './ip.js';
import type { Layers } from './layers.js';
import { ethernet, etherType, ieee80211, mpls, ppp } from './link.js';
import { EtherType, IpProto } from './protocols.js';

export const TUNNEL_TRUNCATED = defineIssue('tunnel', 'truncated', 'header');
export const TUNNEL_UNSUPPORTED = defineIssue('tunnel', 'skipped', 'unsupported');
export const TUNNEL_TOO_DEEP = defineIssue('tunnel', 'skipped', 'too_deep');
/** A GRE packet with no payload: a PPTP acknowledgement or a GRE keepalive; no IP. */
export const GRE_NO_PAYLOAD = defineIssue('gre', 'skipped', 'not_ip');
/** A CAPWAP data keep-alive (RFC 5415 §4.4.1): no IP. */
export const CAPWAP_KEEPALIVE = defineIssue('capwap', 'skipped', 'not_ip');
/** CAPWAP data in DTLS (RFC 5415 §2.4.4): encrypted. */
export const CAPWAP_DTLS = defineIssue('capwap', 'skipped', 'dtls');
/** One fragment of a CAPWAP data frame (RFC 5415 §3.4): fragments are not reassembled. */
export const CAPWAP_FRAGMENT = defineIssue('capwap', 'skipped', 'fragment');
/** An L2TP control message (RFC 2661 §3.1, T bit): no IP. */
export const L2TP_CONTROL = defineIssue('l2tp', 'skipped', 'not_ip');
/** An AYIYA message that is not a forwarded packet (opcode 1): echo, heartbeat, ...; no IP. */
export const AYIYA_NOT_FORWARD = defineIssue('ayiya', 'skipped', 'not_ip');

/** Tunnels nest (GRE in VXLAN in ...); past this depth a packet is dropped, counted. */
export const MAX_ENCAP_DEPTH = 8;

/**
 * Goes one encapsulation level deeper, bounded by MAX_ENCAP_DEPTH (false = too deep, counted).
 * `id` (a VNI, GRE key, TEID, call or session id) and the outer addresses go into the
 * packet's zone, so the same inner 5-tuple in two tunnels is two flows.
 */
export function enter(d: Layers, name: string, id = 0): boolean {
  const ctx = d.ctx;
  if (ctx.depth >= MAX_ENCAP_DEPTH) {
    d.count(TUNNEL_TOO_DEEP);
    return false;
  }
  ctx.depth++;
  ctx.tunnels.push(name);
  let z = zoneMix(ctx.zone, (ctx.depth << 24) ^ id);
  if (ctx.srcOff >= 0) {
    // The outer addresses, mixed so that both directions of the tunnel give the same value.
    let s = 0;
    let t = 0;
    for (let i = 0, n = ctx.af === 4 ? 4 : 16; i < n; i += 4) {
      s = zoneMix(s, u32be(ctx.addrBuf, ctx.srcOff + i));
      t = zoneMix(t, u32be(ctx.addrBuf, ctx.dstOff + i));
    }
    z = zoneMix(z, s ^ t);
  }
  ctx.zone = z;
  return true;
}

/**
 * RFC 2784/2890 GRE, with ERSPAN type I/II/III (draft-foschiano-erspan), TEB, PPP and Aruba's
 * 802.11; version 1 is PPTP's enhanced GRE (RFC 2637 §4.1). `name` is the tunnel reported
 * ('gre', or 'gre-udp' for RFC 8086 GRE-in-UDP).
 */
export function gre(d: Layers, b: Uint8Array, o: number, end: number, name = 'gre'): void {
  if (end - o < 4) return d.count(TUNNEL_TRUNCATED);
  const flags = u16be(b, o);
  const proto = u16be(b, o + 2);
  const version = flags & 0x0007;
  if (version === 1) return pptpGre(d, b, o, end, flags, proto);
  if (version !== 0) return d.count(TUNNEL_UNSUPPORTED);
  let p = o + 4;
  if (flags & 0x8000) p += 4; // checksum + reserved
  const key = (flags & 0x2000) !== 0 && end - p >= 4 ? u32be(b, p) : 0;
  if (flags & 0x2000) p += 4; // key
  const seq = (flags & 0x1000) !== 0;
  if (seq) p += 4;
  if (p > end) return d.count(TUNNEL_TRUNCATED);
  if (p >= end && proto !== EtherType.ERSPAN_2) return d.count(GRE_NO_PAYLOAD);
  switch (proto) {
    case EtherType.IPv4:
      if (enter(d, name, key)) ipv4(d, b, p, end);
      return;
    case EtherType.IPv6:
      if (enter(d, name, key)) ipv6(d, b, p, end);
      return;
    case EtherType.TEB:
      if (enter(d, name, key)) ethernet(d, b, p, end);
      return;
    case EtherType.MPLS:
    case EtherType.MPLS_MC:
    case EtherType.PPP:
    case EtherType.NSH:
      if (enter(d, name, key)) etherType(d, b, p, end, proto);
      return;
    case EtherType.ERSPAN_2:
      // Type I has no sequence number and no ERSPAN header; type II has both (8 bytes).
      if (!seq) {
        if (enter(d, 'erspan1')) ethernet(d, b, p, end);
        return;
      }
      if (end - p < 8) return d.count(TUNNEL_TRUNCATED);
      if (enter(d, 'erspan2', u16be(b, p + 2) & 0x03ff)) ethernet(d, b, p + 8, end);
      return;
    case EtherType.ERSPAN_3: {
      // Type III: 12-byte header, plus an 8-byte platform sub-header when O is set.
      if (end - p < 12) return d.count(TUNNEL_TRUNCATED);
      const hdr = (b[p + 11]! & 0x01) !== 0 ? 20 : 12;
      if (enter(d, 'erspan3', u16be(b, p + 2) & 0x03ff)) ethernet(d, b, p + hdr, end);
      return;
    }
    default:
      // Aruba controllers tunnel their APs' 802.11 frames (without FCS) in GRE with protocol
      // types 0x8200-0x8370 in steps of 0x10, and 0x9000 (tshark's packet-gre.h).
      if ((proto >= 0x8200 && proto <= 0x8370 && (proto & 0x000f) === 0) || proto === 0x9000) {
        if (enter(d, 'gre-aruba', key)) ieee80211(d, b, p, end, false);
        return;
      }
      return d.count(TUNNEL_UNSUPPORTED);
  }
}

/**
 * RFC 2637 §4.1 enhanced GRE (PPTP): C R K S s Recur A Flags Ver=1 (2), protocol 0x880b (2),
 * payload length (2), call id (2), [sequence number (4) if S], [acknowledgment (4) if A],
 * then a PPP frame (in HDLC-like framing, possibly with compressed fields).
 */
function pptpGre(d: Layers, b: Uint8Array, o: number, end: number, flags: number, proto: number): void {
  if (proto !== EtherType.PPP || (flags & 0x2000) === 0) return d.count(TUNNEL_UNSUPPORTED);
  if (end - o < 8) return d.count(TUNNEL_TRUNCATED);
  const len = u16be(b, o + 4);
  let p = o + 8;
  if (flags & 0x1000) p += 4;
  if (flags & 0x0080) p += 4;
  if (p > end) return d.count(TUNNEL_TRUNCATED);
  if (len === 0) return d.count(GRE_NO_PAYLOAD);
  if (enter(d, 'pptp', u16be(b, o + 6))) ppp(d, b, p, Math.min(end, p + len));
}

/** RFC 7348 VXLAN: 8-byte header (I flag), then an Ethernet frame. */
export function vxlan(d: Layers, b: Uint8Array, o: number, end: number): boolean {
  if (end - o >= 1 && (b[o]! & 0x08) === 0) return false;
  if (end - o < 8 + 14) {
    d.count(TUNNEL_TRUNCATED);
    return true;
  }
  if (enter(d, 'vxlan', (b[o + 4]! << 16) | (b[o + 5]! << 8) | b[o + 6]!)) ethernet(d, b, o + 8, end);
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
  if (!enter(d, 'geneve', (b[o + 4]! << 16) | (b[o + 5]! << 8) | b[o + 6]!)) return true;
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
  if (enter(d, 'gtp-u', u32be(b, o + 4))) ipAny(d, b, p, end);
  return true;
}

/**
 * AYIYA, "Anything In Anything" (draft-massar-v6ops-ayiya §5), as SixXS tunnels used it:
 *   IDLen (4) IDType (4) | SigLen (4) HshMeth (4) | AutMeth (4) OpCode (4) | Next Header (8)
 *   Epoch Time (32) | Identity (2^IDLen bytes) | Signature (SigLen * 4 bytes) | payload
 * OpCode 1 (forward) carries a packet of protocol Next Header. False: not AYIYA after all.
 */
export function ayiya(d: Layers, b: Uint8Array, o: number, end: number): boolean {
  if (end - o < 8) return false;
  const idLen = 1 << (b[o]! >> 4);
  const sigLen = (b[o + 1]! >> 4) * 4;
  const opcode = b[o + 2]! & 0x0f;
  const next = b[o + 3]!;
  const p = o + 8 + idLen + sigLen;
  if (opcode > 8 || (opcode === 1 && next !== IpProto.IPV6 && next !== IpProto.IPIP && next !== IpProto.NONE)) return false;
  if (opcode !== 1 || next === IpProto.NONE) {
    d.count(AYIYA_NOT_FORWARD);
    return true;
  }
  if (p >= end) {
    d.count(TUNNEL_TRUNCATED);
    return true;
  }
  if (enter(d, 'ayiya')) {
    if (next === IpProto.IPV6) ipv6(d, b, p, end);
    else ipv4(d, b, p, end);
  }
  return true;
}

/**
 * RFC 5415 §4.1 CAPWAP data channel: preamble version 0 (4) type (4), where type 1 means a
 * DTLS record follows (encrypted); §4.3 header: HLEN (5, in 4-byte words, preamble included),
 * RID (5), WBID (5), T F L W M K (1 each), flags (3), fragment id (2), fragment offset (13)
 * reserved (3), optional fields, then the payload: an 802.3 frame (T = 0) or a native frame of
 * the binding (T = 1, WBID 1 = IEEE 802.11). False: not CAPWAP.
 */
export function capwapData(d: Layers, b: Uint8Array, o: number, end: number): boolean {
  if (end - o < 1 || b[o]! >> 4 !== 0) return false;
  const type = b[o]! & 0x0f;
  if (type === 1) {
    d.count(CAPWAP_DTLS);
    return true;
  }
  if (type !== 0 || end - o < 8) return false;
  const h = (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  const hlen = (h >> 19) * 4;
  const wbid = (h >> 9) & 0x1f;
  const native = (h & 0x100) !== 0; // T
  const fragment = (h & 0x80) !== 0; // F
  const keepAlive = (h & 0x08) !== 0; // K
  if (hlen < 8 || o + hlen > end) return false;
  if (fragment || keepAlive) {
    d.count(fragment ? CAPWAP_FRAGMENT : CAPWAP_KEEPALIVE);
    return true;
  }
  if (!enter(d, 'capwap')) return true;
  const p = o + hlen;
  if (!native) ethernet(d, b, p, end);
  else if (wbid === 1) {
    // Cisco controllers send the 802.11 Frame Control byte-swapped and tshark assumes so
    // (capwap.swap_frame_control): swapped when that reading is a data frame and the
    // plain one is not.
    const swapped = end - p >= 2 && (b[p]! & 0x0c) !== 0x08 && (b[p + 1]! & 0x0c) === 0x08;
    ieee80211(d, b, p, end, false, swapped);
  } else d.count(TUNNEL_UNSUPPORTED);
  return true;
}

/**
 * draft-ietf-nvo3-vxlan-gpe §3.2 VXLAN-GPE (UDP 4790): flags (R R Ver(2) I P B O), reserved
 * (2), Next Protocol (1: 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS; Ethernet without the P
 * flag), VNI (3), reserved (1). False: not VXLAN-GPE.
 */
export function vxlanGpe(d: Layers, b: Uint8Array, o: number, end: number): boolean {
  if (end - o < 8 || (b[o]! & 0xf0) !== 0) return false;
  const next = b[o]! & 0x04 ? b[o + 3]! : 3;
  if (next < 1 || next > 5) return false;
  if (!enter(d, 'vxlan-gpe', (b[o + 4]! << 16) | (b[o + 5]! << 8) | b[o + 6]!)) return true;
  const p = o + 8;
  if (next === 1) ipv4(d, b, p, end);
  else if (next === 2) ipv6(d, b, p, end);
  else if (next === 3) ethernet(d, b, p, end);
  else if (next === 4) nsh(d, b, p, end);
  else mpls(d, b, p, end);
  return true;
}

/**
 * RFC 2661 §3.1 L2TP version 2 (UDP 1701): T L x x S x O P x x x x Ver=2 (2), [Length (2) if
 * L], Tunnel ID (2), Session ID (2), [Ns (2), Nr (2) if S], [Offset Size (2), padding if O],
 * then a PPP frame (data messages; T = 1 is a control message). False: not L2TPv2.
 */
export function l2tp(d: Layers, b: Uint8Array, o: number, end: number): boolean {
  if (end - o < 6) return false;
  const flags = u16be(b, o);
  if ((flags & 0x000f) !== 2 || (flags & 0x34f0) !== 0) return false;
  if (flags & 0x8000) {
    d.count(L2TP_CONTROL);
    return true;
  }
  let p = o + 2;
  if (flags & 0x4000) p += 2;
  const session = p + 4 <= end ? u16be(b, p) * 65536 + u16be(b, p + 2) : 0;
  p += 4;
  if (flags & 0x0800) p += 4;
  if (flags & 0x0200) {
    if (end - p < 2) {
      d.count(TUNNEL_TRUNCATED);
      return true;
    }
    p += 2 + u16be(b, p);
  }
  if (p >= end) {
    d.count(TUNNEL_TRUNCATED);
    return true;
  }
  if (enter(d, 'l2tp', session)) ppp(d, b, p, end);
  return true;
}

/**
 * RFC 4380 §5.1.1 Teredo: IPv6 in UDP, optionally preceded by an authentication indicator
 * (0x0001, ID length, auth length, ID, auth, nonce (8), confirmation (1)) and an origin
 * indicator (0x0000, port (2), address (4)). False: not Teredo.
 */
export function teredo(d: Layers, b: Uint8Array, o: number, end: number): boolean {
  let p = o;
  if (end - p >= 4 && b[p] === 0x00 && b[p + 1] === 0x01) {
    p += 4 + b[p + 2]! + b[p + 3]! + 9;
  }
  if (end - p >= 8 && b[p] === 0x00 && b[p + 1] === 0x00) p += 8;
  if (end - p < 40 || b[p]! >> 4 !== 6) return false;
  if (enter(d, 'teredo')) ipv6(d, b, p, end);
  return true;
}

/**
 * RFC 8300 §2 Network Service Header: Ver (2) O (1) U (1) TTL (6) Length (6, in 4-byte words),
 * U (4) MD Type (4), Next Protocol (8: 1 IPv4, 2 IPv6, 3 Ethernet, 5 MPLS), service path (4).
 */
export function nsh(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 8) return d.count(TUNNEL_TRUNCATED);
  const len = (b[o + 1]! & 0x3f) * 4;
  const next = b[o + 3]!;
  if (len < 8 || o + len > end) return d.count(TUNNEL_TRUNCATED);
  if (!enter(d, 'nsh', u32be(b, o + 4))) return;
  const p = o + len;
  if (next === 1) return ipv4(d, b, p, end);
  if (next === 2) return ipv6(d, b, p, end);
  if (next === 3) return ethernet(d, b, p, end);
  if (next === 5) return etherType(d, b, p, end, EtherType.MPLS);
  d.count(TUNNEL_UNSUPPORTED);
}
