/** IPv4 and IPv6 (with extension headers and reassembly), and the dispatch to UDP, TCP and IP-in-IP tunnels. */
import { u16be, u32be } from '../../common/bytes.js';
import { defineIssue } from '../issues.js';
import { looksLikeQuicInitial, unsupportedVersionIssue } from '../app/quic.js';
import { quicVersionInfo } from '../app/quic-crypto.js';
import { looksLikeDns } from '../app/dns.js';
import type { Layers } from './layers.js';
import { LINK_TRUNCATED, mpls } from './link.js';
import { EtherType, IpProto, Port } from './protocols.js';
import { ayiya, capwapData, enter, geneve, gre, gtpu, l2tp, teredo, vxlan, vxlanGpe } from './tunnels.js';

export const IPV4_TRUNCATED = defineIssue('ipv4', 'truncated', 'header');
export const IPV4_BAD_VERSION = defineIssue('ipv4', 'invalid', 'version');
export const IPV4_BAD_IHL = defineIssue('ipv4', 'invalid', 'ihl_lt_5');
export const IPV4_BAD_LENGTH = defineIssue('ipv4', 'invalid', 'total_length');
export const IPV4_FRAGMENT_CUT = defineIssue('ipv4', 'truncated', 'fragment_cut_by_snaplen');
export const IPV6_TRUNCATED = defineIssue('ipv6', 'truncated', 'header');
export const IPV6_BAD_VERSION = defineIssue('ipv6', 'invalid', 'version');
export const IPV6_EXT_TRUNCATED = defineIssue('ipv6', 'truncated', 'extension_header');
export const IPV6_FRAGMENT_CUT = defineIssue('ipv6', 'truncated', 'fragment_cut_by_snaplen');
export const IP_PROTO_SKIPPED = defineIssue('ip', 'skipped', 'other_protocol');
export const UDP_TRUNCATED = defineIssue('udp', 'truncated', 'header');
export const UDP_BAD_LENGTH = defineIssue('udp', 'invalid', 'length');

export function ipAny(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 1) return d.count(LINK_TRUNCATED);
  const v = b[o]! >> 4;
  if (v === 4) return ipv4(d, b, o, end);
  if (v === 6) return ipv6(d, b, o, end);
  return d.count(IPV4_BAD_VERSION);
}

/** RFC 791 §3.1 */
export function ipv4(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 20) return d.count(IPV4_TRUNCATED);
  const vihl = b[o]!;
  if (vihl >> 4 !== 4) return d.count(IPV4_BAD_VERSION);
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < 20) return d.count(IPV4_BAD_IHL);
  const total = u16be(b, o + 2);
  // Total length 0 is what segmentation offload leaves in captures: trust the capture.
  if (total !== 0 && total < ihl) return d.count(IPV4_BAD_LENGTH);
  const ipEnd = total === 0 ? end : Math.min(end, o + total);
  if (ipEnd - o < ihl) return d.count(IPV4_TRUNCATED);
  const frag = u16be(b, o + 6);
  const proto = b[o + 9]!;
  d.ctx.ipCut = total !== 0 && o + total > end;
  d.ctx.af = 4;
  d.ctx.addrBuf = b;
  d.ctx.srcOff = o + 12;
  d.ctx.dstOff = o + 16;
  if ((frag & 0x3fff) === 0) return transportLayer(d, b, o + ihl, ipEnd, proto);
  // RFC 791 §3.2: fragment offset in 8-octet units, MF flag; the key is (src, dst, id, proto).
  if (d.ctx.ipCut) {
    // Cut by the snap length, it cannot be reassembled. The first fragment still starts the
    // transport header: what was captured of it is decoded (truncated), as tshark does.
    d.count(IPV4_FRAGMENT_CUT);
    if ((frag & 0x1fff) === 0) transportLayer(d, b, o + ihl, ipEnd, proto);
    return;
  }
  const key = `4|${u32be(b, o + 12)}|${u32be(b, o + 16)}|${u16be(b, o + 4)}|${proto}|${d.ctx.zone}`;
  const r = d.defrag.add(key, (frag & 0x1fff) * 8, (frag & 0x2000) !== 0, proto, b.subarray(o + ihl, ipEnd), d.ctx.nowMicros, 65_535 - ihl);
  if (r === undefined) return;
  d.ctx.ipCut = false;
  transportLayer(d, r.payload, 0, r.payload.length, r.proto);
}

/** RFC 8200 §3: the fixed header, then the extension-header chain. */
export function ipv6(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 40) return d.count(IPV6_TRUNCATED);
  if (b[o]! >> 4 !== 6) return d.count(IPV6_BAD_VERSION);
  const plen = u16be(b, o + 4);
  // Payload length 0 means a jumbogram or offload: use what was captured.
  const ipEnd = plen === 0 ? end : Math.min(end, o + 40 + plen);
  d.ctx.af = 6;
  d.ctx.addrBuf = b;
  d.ctx.srcOff = o + 8;
  d.ctx.dstOff = o + 24;
  d.ctx.ipCut = plen !== 0 && o + 40 + plen > end;
  ipv6Chain(d, b, o + 40, ipEnd, b[o + 6]!, d.ctx.ipCut);
}

/** RFC 8200 §4: extension headers until an upper-layer protocol; restarts after reassembly. */
export function ipv6Chain(d: Layers, b: Uint8Array, p: number, ipEnd: number, next: number, cut: boolean): void {
  for (let n = 0; n < 16; n++) {
    switch (next) {
      case IpProto.HOPOPT:
      case IpProto.ROUTING:
      case IpProto.DSTOPTS:
      case IpProto.MOBILITY:
      case IpProto.HIP:
      case IpProto.SHIM6:
      case IpProto.EXP1:
      case IpProto.EXP2: {
        // RFC 8200 §4.2: next header (1), length in 8-octet units not counting the first 8.
        if (ipEnd - p < 8) return d.count(IPV6_EXT_TRUNCATED);
        next = b[p]!;
        p += (b[p + 1]! + 1) * 8;
        continue;
      }
      case IpProto.AH: {
        // RFC 4302 §2.2: payload length in 4-octet units, minus 2.
        if (ipEnd - p < 8) return d.count(IPV6_EXT_TRUNCATED);
        next = b[p]!;
        p += (b[p + 1]! + 2) * 4;
        continue;
      }
      case IpProto.FRAGMENT: {
        // RFC 8200 §4.5: next header (1), reserved (1), offset (13 bits) | res (2) | M (1), id (4).
        if (ipEnd - p < 8) return d.count(IPV6_EXT_TRUNCATED);
        const offField = u16be(b, p + 2);
        const offset = offField & 0xfff8;
        const more = (offField & 1) !== 0;
        next = b[p]!;
        p += 8;
        // RFC 6946: an atomic fragment is a whole packet.
        if (offset === 0 && !more) continue;
        if (cut) {
          // As for IPv4: only the first fragment's captured bytes are worth decoding.
          d.count(IPV6_FRAGMENT_CUT);
          if (offset !== 0) return;
          continue;
        }
        const a = d.ctx.addrBuf;
        const so = d.ctx.srcOff;
        const dOff = d.ctx.dstOff;
        const key = `6|${u32be(a, so)}|${u32be(a, so + 4)}|${u32be(a, so + 8)}|${u32be(a, so + 12)}|${u32be(a, dOff)}|${u32be(a, dOff + 4)}|${u32be(a, dOff + 8)}|${u32be(a, dOff + 12)}|${u32be(b, p - 4)}|${d.ctx.zone}`;
        const r = d.defrag.add(key, offset, more, next, b.subarray(p, ipEnd), d.ctx.nowMicros);
        if (r === undefined) return;
        d.ctx.ipCut = false;
        b = r.payload;
        p = 0;
        ipEnd = b.length;
        next = r.proto;
        continue;
      }
      default:
        if (p > ipEnd) return d.count(IPV6_EXT_TRUNCATED);
        return transportLayer(d, b, p, ipEnd, next);
    }
  }
  d.count(IPV6_EXT_TRUNCATED);
}

export function transportLayer(d: Layers, b: Uint8Array, o: number, end: number, proto: number): void {
  switch (proto) {
    case IpProto.UDP:
      return udp(d, b, o, end);
    case IpProto.TCP:
      return d.tcp.segment(b, o, end);
    case IpProto.GRE:
      return gre(d, b, o, end);
    case IpProto.IPIP:
      if (enter(d, 'ipip')) ipv4(d, b, o, end);
      return;
    case IpProto.IPV6:
      if (enter(d, 'ip6in4')) ipv6(d, b, o, end);
      return;
    default:
      // ICMP errors quote packets; quoted copies are not observations (DESIGN.md).
      return d.count(IP_PROTO_SKIPPED);
  }
}

/**
 * The UDP tunnels, by one of the datagram's ports; false when the payload is not that tunnel
 * after all. `byDst`: matched by the destination port; matched by the source port only, a
 * header must look right on more bits before the datagram is claimed.
 */
function udpTunnel(d: Layers, b: Uint8Array, p: number, end: number, port: number, byDst: boolean): boolean {
  switch (port) {
    case Port.VXLAN:
      // RFC 7348 §5: flags 0x08 (I), reserved bits zero.
      if (!byDst && (end - p < 8 || b[p] !== 0x08 || b[p + 1] !== 0 || b[p + 2] !== 0 || b[p + 3] !== 0 || b[p + 7] !== 0)) return false;
      return vxlan(d, b, p, end);
    case Port.GENEVE:
      // RFC 8926 §3.4: version 0; by the source port, also a protocol type we follow.
      if (!byDst && (end - p < 8 || !isGeneveProto(u16be(b, p + 2)))) return false;
      return geneve(d, b, p, end);
    case Port.GTP_U:
      return gtpu(d, b, p, end);
    case Port.GRE_UDP:
      // RFC 8086: a GRE header (version 0, reserved bits zero) with an EtherType.
      if (end - p < 4 || (u16be(b, p) & 0x4ff7) !== 0) return false;
      gre(d, b, p, end, 'gre-udp');
      return true;
    case Port.AYIYA:
      return ayiya(d, b, p, end);
    case Port.CAPWAP_DATA:
      return capwapData(d, b, p, end);
    case Port.TEREDO:
      return teredo(d, b, p, end);
    case Port.VXLAN_GPE:
      return vxlanGpe(d, b, p, end);
    case Port.L2TP:
      return l2tp(d, b, p, end);
    case Port.MPLS_UDP:
      // RFC 7510: an MPLS label stack, then IP. By the source port only if the stack ends in IP.
      if (!byDst && !mplsThenIp(b, p, end)) return false;
      if (enter(d, 'mpls-udp')) mpls(d, b, p, end);
      return true;
    default:
      return false;
  }
}

/** A label stack of at most 4 entries whose bottom is followed by an IPv4 or IPv6 header. */
function mplsThenIp(b: Uint8Array, p: number, end: number): boolean {
  for (let n = 0; n < 4 && end - p >= 5; n++, p += 4) {
    if (b[p + 2]! & 0x01) return b[p + 4]! >> 4 === 4 || b[p + 4]! >> 4 === 6;
  }
  return false;
}

function isGeneveProto(t: number): boolean {
  return t === EtherType.TEB || t === EtherType.IPv4 || t === EtherType.IPv6;
}

/** RFC 768 */
export function udp(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 8) return d.count(UDP_TRUNCATED);
  const sport = u16be(b, o);
  const dport = u16be(b, o + 2);
  const ulen = u16be(b, o + 4);
  if (ulen !== 0 && ulen < 8) return d.count(UDP_BAD_LENGTH);
  const uEnd = ulen === 0 ? end : Math.min(end, o + ulen);
  const p = o + 8;
  d.ctx.sport = sport;
  d.ctx.dport = dport;
  d.ctx.transport = 'udp';
  if (d.dnsPort[sport] === 1 || d.dnsPort[dport] === 1) return d.dnsMessage(b.subarray(p, uEnd));
  // Tunnels by port, the destination's first; the source's too, for the return direction
  // (tshark tries the lower port first; each decoder checks its header before claiming).
  if (udpTunnel(d, b, p, uEnd, dport, true) || (sport !== dport && udpTunnel(d, b, p, uEnd, sport, false))) return;
  // QUIC on any port, found by content (RFC 9000 §17.2 long header, Initial type).
  const longHeader = p < uEnd && (b[p]! & 0xc0) === 0xc0;
  if (longHeader) {
    const payload = b.subarray(p, uEnd);
    if (looksLikeQuicInitial(payload)) return d.quicDatagram(payload);
  }
  // DNS on a port not configured for it, found by content (tshark's heuristic, tightened).
  if (d.dnsHeuristic && looksLikeDns(b, p, uEnd, sport, dport)) return d.dnsMessage(b.subarray(p, uEnd));
  // A client's long header to 443 in a version we have no keys for (0 = version negotiation,
  // a server's): its names are out of reach, and the report's coverage says so.
  if (longHeader && dport === Port.HTTPS && uEnd - p >= 5 && u32be(b, p + 1) !== 0 && quicVersionInfo(u32be(b, p + 1)) === undefined) d.count(unsupportedVersionIssue(u32be(b, p + 1)));
}
