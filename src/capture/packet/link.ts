/**
 * Link layers (tcpdump's LINKTYPE list) and what rides directly on them: Ethernet with
 * 802.1Q/QinQ tags, Linux SLL/SLL2, BSD NULL/LOOP, raw IP, MPLS and PPPoE sessions.
 */
import { u16be, u32be, u32le } from '../../common/bytes.js';
import { defineIssue } from '../issues.js';
import { ipAny, ipv4, ipv6 } from './ip.js';
import type { Layers } from './layers.js';
import { EtherType, LinkType } from './protocols.js';
import { enter } from './tunnels.js';

export const LINK_TRUNCATED = defineIssue('link', 'truncated', 'header');
export const LINK_UNSUPPORTED = defineIssue('link', 'skipped', 'unsupported_linktype');
export const ETHER_UNSUPPORTED = defineIssue('ethernet', 'skipped', 'unsupported_ethertype');
/** A protocol that is not IP and carries no IP (ARP, LLDP, STP ...): understood, nothing to decode. */
export const ETHER_NOT_IP = defineIssue('ethernet', 'skipped', 'not_ip');

/**
 * EtherTypes of link-layer protocols that never carry IP. Anything else kasmon cannot decode
 * (MACsec, PBB, NSH, a vendor tag ...) may hide IP and counts as not decoded.
 */
const NOT_IP = new Set([
  0x0806, // ARP
  0x8035, // RARP
  0x0842, // Wake-on-LAN
  0x809b, // AppleTalk
  0x80f3, // AARP
  0x8137, // IPX
  0x8808, // Ethernet flow control
  0x8809, // slow protocols (LACP, marker, OAM)
  0x888e, // EAPOL (802.1X)
  0x88c7, // 802.11i pre-authentication
  0x88cc, // LLDP
  0x88e1, // HomePlug
  0x88e3, // MRP
  0x88f7, // PTP
  0x8902, // CFM
  0x8906, // FCoE
  0x8914, // FIP
  0x893a, // IEEE 1905.1
  0x9000, // loopback (configuration test protocol)
]);

/** Below 0x0600 the field is an 802.3 length: LLC frames (STP, CDP, VTP, NetBIOS ...), not IP. */
const isNotIp = (type: number): boolean => type < 0x0600 || NOT_IP.has(type);
export const MPLS_TRUNCATED = defineIssue('mpls', 'truncated', 'label_stack');
export const PPPOE_TRUNCATED = defineIssue('pppoe', 'truncated', 'header');

export function link(d: Layers, b: Uint8Array, o: number, end: number, linktype: number): void {
  switch (linktype) {
    case LinkType.ETHERNET:
      return ethernet(d, b, o, end);
    case LinkType.NULL:
    case LinkType.LOOP: {
      // 4-byte address family: host byte order for NULL (either order in the wild),
      // network order for LOOP. AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24
      // (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS).
      if (end - o < 4) return d.count(LINK_TRUNCATED);
      let af = linktype === LinkType.LOOP ? u32be(b, o) : u32le(b, o);
      if (af > 0xffff) af = u32be(b, o);
      if (af === 2) return ipv4(d, b, o + 4, end);
      if (af === 10 || af === 24 || af === 28 || af === 30) return ipv6(d, b, o + 4, end);
      return d.count(LINK_UNSUPPORTED);
    }
    case LinkType.RAW:
    case LinkType.RAW_12:
    case LinkType.RAW_OPENBSD:
      return ipAny(d, b, o, end);
    case LinkType.IPV4:
      return ipv4(d, b, o, end);
    case LinkType.IPV6:
      return ipv6(d, b, o, end);
    case LinkType.LINUX_SLL:
      // SLL: packet type (2), ARPHRD (2), address length (2), address (8), protocol (2)
      if (end - o < 16) return d.count(LINK_TRUNCATED);
      return etherType(d, b, o + 16, end, u16be(b, o + 14));
    case LinkType.LINUX_SLL2:
      // SLL2: protocol (2), reserved (2), ifindex (4), ARPHRD (2), type (1), addr len (1), addr (8)
      if (end - o < 20) return d.count(LINK_TRUNCATED);
      return etherType(d, b, o + 20, end, u16be(b, o));
    default:
      return d.count(LINK_UNSUPPORTED);
  }
}

export function ethernet(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 14) return d.count(LINK_TRUNCATED);
  etherType(d, b, o + 14, end, u16be(b, o + 12));
}

/** Dispatch on an EtherType, peeling any 802.1Q / 802.1ad tags first. */
export function etherType(d: Layers, b: Uint8Array, o: number, end: number, type: number): void {
  while (type === EtherType.VLAN || type === EtherType.QINQ || type === EtherType.QINQ_OLD) {
    if (end - o < 4) return d.count(LINK_TRUNCATED);
    if (d.ctx.vlan < 0) d.ctx.vlan = u16be(b, o) & 0x0fff;
    type = u16be(b, o + 2);
    o += 4;
  }
  switch (type) {
    case EtherType.IPv4:
      return ipv4(d, b, o, end);
    case EtherType.IPv6:
      return ipv6(d, b, o, end);
    case EtherType.MPLS:
    case EtherType.MPLS_MC:
      return mpls(d, b, o, end);
    case EtherType.PPPOE_SESSION:
      return pppoe(d, b, o, end);
    default:
      return d.count(isNotIp(type) ? ETHER_NOT_IP : ETHER_UNSUPPORTED);
  }
}

/** RFC 3032: 4-byte label entries until the bottom-of-stack bit; the payload is IP (by its version nibble) or a pseudowire. */
export function mpls(d: Layers, b: Uint8Array, o: number, end: number): void {
  for (let n = 0; ; n++) {
    if (end - o < 4 || n > 16) return d.count(MPLS_TRUNCATED);
    const bos = (b[o + 2]! & 0x01) !== 0;
    o += 4;
    if (bos) break;
  }
  if (end - o < 1) return d.count(MPLS_TRUNCATED);
  const nib = b[o]! >> 4;
  if (nib === 4 || nib === 6) return ipAny(d, b, o, end);
  // RFC 4385 pseudowire control word (first nibble 0), then an Ethernet frame.
  if (nib === 0 && end - o >= 4) {
    if (enter(d, 'mpls-pw')) ethernet(d, b, o + 4, end);
    return;
  }
  return d.count(ETHER_UNSUPPORTED);
}

/** RFC 2516 PPPoE session: ver/type, code, session id, length, then a PPP protocol field. */
export function pppoe(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 8) return d.count(PPPOE_TRUNCATED);
  const len = u16be(b, o + 4);
  const pEnd = Math.min(end, o + 6 + len);
  const proto = u16be(b, o + 6);
  if (proto === 0x0021) return ipv4(d, b, o + 8, pEnd);
  if (proto === 0x0057) return ipv6(d, b, o + 8, pEnd);
  // RFC 1661 §2: 0x8000-0xbfff are network control protocols (IPCP ...), 0xc000 and up link
  // control (LCP, PAP, CHAP): PPP's own talk, never IP.
  return d.count(proto >= 0x8000 ? ETHER_NOT_IP : ETHER_UNSUPPORTED);
}
