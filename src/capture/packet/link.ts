/**
 * Link layers (tcpdump's LINKTYPE list) and what rides directly on them: Ethernet II and
 * 802.3 LLC/SNAP with 802.1Q/QinQ tags, Linux SLL/SLL2, BSD NULL/LOOP, raw IP, PPP (bare,
 * in HDLC-like framing, with a direction byte), Cisco HDLC, FDDI, ARCnet, NFLOG, Apple
 * PKTAP, 802.11 data frames (bare, radiotap, PPI), MPLS and PPPoE sessions.
 *
 * Link types not decoded (counted link/skipped/unsupported_linktype): token ring, IrDA,
 * Bluetooth, USB, CAN, DOCSIS, the other 802.11 radio headers (Prism, AVS), and LINKTYPE_PPP_ETHER
 * / PPP_PPPD: none of them turned up in the captures tshark's corpora hold; each is one more
 * case in `link()` when one does.
 */
import { u16be, u16le, u32be, u32le } from '../../common/bytes.js';
import { defineIssue } from '../issues.js';
import { ipAny, ipv4, ipv6 } from './ip.js';
import type { Layers } from './layers.js';
import { EtherType, LinkType, PppProto } from './protocols.js';
import { enter, nsh } from './tunnels.js';
import { zoneMix } from './context.js';

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
/** An 802.2 LLC frame that is neither SNAP with an EtherType nor IP (spanning tree, NetBIOS, IPX, CDP ...). */
export const LLC_NOT_IP = defineIssue('llc', 'skipped', 'not_ip');
/** A PPP frame of a control protocol (RFC 1661 §2: 0x8000 and up: LCP, IPCP, PAP, CHAP ...): PPP's own talk. */
export const PPP_NOT_IP = defineIssue('ppp', 'skipped', 'not_ip');
/** A PPP frame of another network protocol (IPX, compressed or encrypted datagrams, ...): may hide IP. */
export const PPP_UNSUPPORTED = defineIssue('ppp', 'skipped', 'unsupported_protocol');
export const PPP_TRUNCATED = defineIssue('ppp', 'truncated', 'header');
/** 802.11 management and control frames, and data frames without a body (Null, QoS Null): no IP. */
export const WLAN_NOT_DATA = defineIssue('wlan', 'skipped', 'not_ip');
/** An 802.11 data frame with the Protected bit: WEP/TKIP/CCMP-encrypted, no keys. */
export const WLAN_PROTECTED = defineIssue('wlan', 'skipped', 'protected');
/** One fragment of an 802.11 MSDU (IEEE 802.11-2020 §10.4): fragments are not reassembled. */
export const WLAN_FRAGMENT = defineIssue('wlan', 'skipped', 'fragment');
export const WLAN_TRUNCATED = defineIssue('wlan', 'truncated', 'header');
/** A radiotap or PPI header whose own length runs past the frame, or a version we do not know. */
export const RADIO_BAD_HEADER = defineIssue('wlan', 'invalid', 'radio_header');
/** An NFLOG record without a payload TLV (a log entry with headers only): nothing to decode. */
export const NFLOG_NO_PAYLOAD = defineIssue('nflog', 'skipped', 'not_ip');
export const NFLOG_BAD_TLV = defineIssue('nflog', 'invalid', 'tlv');
/** A PKTAP record that is not a packet (PTH_TYPE_PACKET), or one nesting another PKTAP header. */
export const PKTAP_NOT_PACKET = defineIssue('pktap', 'skipped', 'not_packet');
/** An ARCnet frame carrying ARP, IPX, AppleTalk, ...: not IP. */
export const ARCNET_NOT_IP = defineIssue('arcnet', 'skipped', 'not_ip');

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
    case LinkType.IPV6:
      // The version nibble decides, as in tshark: tcpdump's own test suite has an IPv6
      // packet in a LINKTYPE_IPV4 file, and the bytes leave no doubt about what it is.
      return ipAny(d, b, o, end);
    case LinkType.LINUX_SLL:
      // SLL: packet type (2), ARPHRD (2), address length (2), address (8), protocol (2)
      if (end - o < 16) return d.count(LINK_TRUNCATED);
      // Protocol 0x0004: an 802.2 LLC frame (packet(7)'s ETH_P_802_2).
      if (u16be(b, o + 14) === 0x0004) return llc(d, b, o + 16, end);
      return etherType(d, b, o + 16, end, u16be(b, o + 14));
    case LinkType.LINUX_SLL2:
      // SLL2: protocol (2), reserved (2), ifindex (4), ARPHRD (2), type (1), addr len (1), addr (8)
      if (end - o < 20) return d.count(LINK_TRUNCATED);
      return etherType(d, b, o + 20, end, u16be(b, o));
    case LinkType.PPP:
    case LinkType.PPP_HDLC:
      return ppp(d, b, o, end);
    case LinkType.PPP_WITH_DIR:
      // One direction byte (0 = received, 1 = sent), then the PPP frame.
      return ppp(d, b, o + 1, end);
    case LinkType.C_HDLC:
      return ciscoHdlc(d, b, o, end);
    case LinkType.C_HDLC_WITH_DIR:
      return ciscoHdlc(d, b, o + 1, end);
    case LinkType.FDDI:
      // ANSI X3.139 frame control (1), destination (6), source (6), then 802.2 LLC.
      if (end - o < 13) return d.count(LINK_TRUNCATED);
      return llc(d, b, o + 13, end);
    case LinkType.ARCNET_LINUX:
      return arcnet(d, b, o, end, true);
    case LinkType.ARCNET_BSD:
      return arcnet(d, b, o, end, false);
    case LinkType.NFLOG:
      return nflog(d, b, o, end);
    case LinkType.PKTAP:
    case LinkType.USER2:
      return pktap(d, b, o, end);
    case LinkType.IEEE802_11:
      return ieee80211(d, b, o, end, false);
    case LinkType.IEEE802_11_RADIOTAP:
      return radiotap(d, b, o, end);
    case LinkType.PPI:
      return ppi(d, b, o, end);
    default:
      return d.count(LINK_UNSUPPORTED);
  }
}

export function ethernet(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 14) return d.count(LINK_TRUNCATED);
  const type = u16be(b, o + 12);
  // Untagged IP, most frames: straight to the IP layer (etherType would end up there too).
  if (type === EtherType.IPv4) return ipv4(d, b, o + 14, end);
  if (type === EtherType.IPv6) return ipv6(d, b, o + 14, end);
  // IEEE 802.3 §3.2.6: a value up to 1500 is the length of an LLC frame, not an EtherType.
  if (type <= 1500) return llc(d, b, o + 14, Math.min(end, o + 14 + type));
  etherType(d, b, o + 14, end, type);
}

/**
 * IEEE 802.2 LLC (DSAP, SSAP, control), IP only behind SNAP (RFC 1042): AA AA 03, an OUI
 * (3), then an EtherType when the OUI is 00-00-00 or the 802.1H bridge tunnel 00-00-F8.
 */
export function llc(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 3) return d.count(LINK_TRUNCATED);
  // RFC 1042 sends IP in SNAP; DSAP/SSAP 0x06 (DoD IP) with a UI control byte is IP directly.
  if (b[o] === 0x06 && b[o + 1] === 0x06 && b[o + 2] === 0x03) return ipv4(d, b, o + 3, end);
  if (b[o] !== 0xaa || b[o + 1] !== 0xaa || b[o + 2] !== 0x03) return d.count(LLC_NOT_IP);
  if (end - o < 8) return d.count(LINK_TRUNCATED);
  const oui = (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!;
  if (oui !== 0 && oui !== 0xf8) return d.count(LLC_NOT_IP);
  etherType(d, b, o + 8, end, u16be(b, o + 6));
}

/** Dispatch on an EtherType, peeling any 802.1Q / 802.1ad tags first. */
export function etherType(d: Layers, b: Uint8Array, o: number, end: number, type: number): void {
  while (type === EtherType.VLAN || type === EtherType.QINQ || type === EtherType.QINQ_OLD) {
    if (end - o < 4) return d.count(LINK_TRUNCATED);
    const id = u16be(b, o) & 0x0fff;
    if (d.ctx.vlan < 0) d.ctx.vlan = id;
    d.ctx.zone = zoneMix(d.ctx.zone, 0x10000 | id);
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
    case EtherType.PPP:
      return ppp(d, b, o, end);
    case EtherType.NSH:
      return nsh(d, b, o, end);
    // Tags a data-center switch or fabric adds in front of the EtherType (tshark vntag, etag, cmd).
    case EtherType.VNTAG:
      if (end - o < 6) return d.count(LINK_TRUNCATED);
      return etherType(d, b, o + 6, end, u16be(b, o + 4));
    case EtherType.ETAG:
      if (end - o < 8) return d.count(LINK_TRUNCATED);
      return etherType(d, b, o + 8, end, u16be(b, o + 6));
    case EtherType.CMD:
      // version (1), length (1), option type (2), SGT (2), then the EtherType (tshark's cmd).
      if (end - o < 8) return d.count(LINK_TRUNCATED);
      return etherType(d, b, o + 8, end, u16be(b, o + 6));
    case EtherType.PBB:
      // I-TAG: PCP/DEI/UCA/res (1) I-SID (3), then the customer's destination, source, type.
      if (end - o < 4) return d.count(LINK_TRUNCATED);
      if (enter(d, 'pbb', ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0)) ethernet(d, b, o + 4, end);
      return;
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
  if (end - o < 7) return d.count(PPPOE_TRUNCATED);
  const len = u16be(b, o + 4);
  pppProtocol(d, b, o + 6, Math.min(end, o + 6 + len));
}

/**
 * A PPP frame (RFC 1661 §2), as LINKTYPE_PPP, LINKTYPE_PPP_HDLC and PPTP's GRE carry it:
 * the HDLC-like address and control bytes FF 03 (RFC 1662 §3.1) when present (they may be
 * elided by ACFC, RFC 1661 §6.6), then the protocol field.
 */
export function ppp(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o >= 2 && b[o] === 0xff && b[o + 1] === 0x03) o += 2;
  pppProtocol(d, b, o, end);
}

/**
 * The PPP protocol field: two bytes, or one when Protocol-Field-Compression is on (RFC 1661
 * §6.5): values are odd in their low byte and even in their high byte, so an odd first
 * byte is a one-byte field.
 */
export function pppProtocol(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 1) return d.count(PPP_TRUNCATED);
  let proto = b[o]!;
  if ((proto & 1) === 0) {
    if (end - o < 2) return d.count(PPP_TRUNCATED);
    proto = u16be(b, o);
    o += 2;
  } else {
    o += 1;
  }
  switch (proto) {
    case PppProto.IPv4:
      return ipv4(d, b, o, end);
    case PppProto.IPv6:
      return ipv6(d, b, o, end);
    case PppProto.MPLS:
    case PppProto.MPLS_MC:
      return mpls(d, b, o, end);
    default:
      // RFC 1661 §2: 0x8000-0xbfff are network control protocols (IPCP ...), 0xc000 and up
      // link control (LCP, PAP, CHAP): PPP's own talk, never IP.
      return d.count(proto >= 0x8000 ? PPP_NOT_IP : PPP_UNSUPPORTED);
  }
}

/** Cisco HDLC: address (0x0f unicast, 0x8f broadcast), control (0), then an EtherType. */
function ciscoHdlc(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 4) return d.count(LINK_TRUNCATED);
  etherType(d, b, o + 4, end, u16be(b, o + 2));
}

/** ARCnet protocol ids (RFC 1051, RFC 1201, Linux if_arcnet.h). */
const ARC_IP_1051 = 0xf0;
const ARC_IP_1201 = 0xd4;
const ARC_IPV6 = 0xc4;

/**
 * ARCnet: source (1), destination (1), [offset (2), Linux only], protocol id (1). RFC 1051
 * IP follows at once; RFC 1201 framing (IP, IPv6) adds split flag (1) and sequence (2),
 * and on BSD an exception frame (split flag 0xff) repeats the header after 2 padding bytes.
 */
function arcnet(d: Layers, b: Uint8Array, o: number, end: number, linux: boolean): void {
  let p = o + (linux ? 4 : 2);
  if (end - p < 1) return d.count(LINK_TRUNCATED);
  const id = b[p++]!;
  if (id === ARC_IP_1051) return ipv4(d, b, p, end);
  if (id !== ARC_IP_1201 && id !== ARC_IPV6) return d.count(ARCNET_NOT_IP);
  if (end - p < 3) return d.count(LINK_TRUNCATED);
  if (!linux && b[p] === 0xff) p += 4; // exception frame: flag, padding (2), protocol id again
  p += 3;
  if (id === ARC_IPV6) return ipv6(d, b, p, end);
  ipv4(d, b, p, end);
}

/** NFLOG TLV type of the logged packet (linux/netfilter/nfnetlink_log.h, NFULA_PAYLOAD). */
const NFULA_PAYLOAD = 9;
/** TLVs walked per record before giving up (a record has about a dozen). */
const MAX_NFLOG_TLVS = 64;

/**
 * Linux NFLOG (tcpdump.org LINKTYPE_NFLOG): family (1), version (1), resource id (2), then
 * TLVs of length (2), type (2) and value, each padded to 4 bytes. Length and type are in the
 * byte order of the capturing host: little-endian unless that reading does not fit the
 * record and the big-endian one does. The payload TLV holds the network-layer packet.
 */
function nflog(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 4) return d.count(LINK_TRUNCATED);
  let p = o + 4;
  let le = true;
  if (end - p >= 4) {
    const l = u16le(b, p);
    if (l < 4 || l > end - p) le = false;
  }
  for (let n = 0; n < MAX_NFLOG_TLVS && end - p >= 4; n++) {
    const len = le ? u16le(b, p) : u16be(b, p);
    const type = (le ? u16le(b, p + 2) : u16be(b, p + 2)) & 0x7fff; // NLA_F_NESTED
    if (len < 4) return d.count(NFLOG_BAD_TLV);
    if (type === NFULA_PAYLOAD) return ipAny(d, b, p + 4, Math.min(end, p + len));
    p += (len + 3) & ~3;
  }
  d.count(NFLOG_NO_PAYLOAD);
}

/** PTH_TYPE_PACKET (Apple's net/pktap.h): the record carries a packet. */
const PTH_TYPE_PACKET = 1;

/**
 * Apple PKTAP: a little-endian header whose first words are its own length, the record type
 * and the DLT of the packet that follows it (tshark's packet-pktap.c).
 */
function pktap(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 12) return d.count(LINK_TRUNCATED);
  const hdrLen = u32le(b, o);
  const dlt = u32le(b, o + 8);
  if (u32le(b, o + 4) !== PTH_TYPE_PACKET || dlt === LinkType.PKTAP || dlt === LinkType.USER2 || dlt === LinkType.PPI) {
    return d.count(PKTAP_NOT_PACKET);
  }
  if (hdrLen < 12 || hdrLen > end - o) return d.count(LINK_TRUNCATED);
  link(d, b, o + hdrLen, end, dlt);
}

/**
 * Radiotap (radiotap.org): version 0 (1), pad (1), length (2, LE), present words (4 each,
 * bit 31 = another follows), then fields aligned to their natural size. Only the Flags
 * field matters here: bit 0x10 says the 802.11 frame ends in a 4-byte FCS, bit 0x20 that
 * the header is padded to a 32-bit boundary. Flags is field 1, after the 8-byte TSFT.
 */
function radiotap(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 8) return d.count(LINK_TRUNCATED);
  const len = u16le(b, o + 2);
  if (b[o] !== 0 || len < 8 || len > end - o) return d.count(RADIO_BAD_HEADER);
  const present = u32le(b, o + 4);
  let p = o + 8;
  for (let w = present; (w & 0x80000000) !== 0; p += 4) {
    if (p + 4 > o + len) return d.count(RADIO_BAD_HEADER);
    w = u32le(b, p);
  }
  let flags = 0;
  if (present & 0x02) {
    if (present & 0x01) p = o + (((p - o + 7) & ~7) + 8); // TSFT: u64, 8-aligned
    if (p >= o + len) return d.count(RADIO_BAD_HEADER);
    flags = b[p]!;
  }
  const fEnd = flags & 0x10 ? end - 4 : end;
  ieee80211(d, b, o + len, fEnd, (flags & 0x20) !== 0);
}

/** PPI field type of the 802.11-Common field, whose flags say whether an FCS is present. */
const PPI_80211_COMMON = 2;

/**
 * Per-Packet Information (CACE PPI 1.0.10): version (1), flags (1), length (2, LE), DLT (4,
 * LE), then fields of type (2), length (2) and data. The 802.11-Common field (type 2):
 * TSF (8), flags (2, bit 0x0001 = FCS present), ...
 */
function ppi(d: Layers, b: Uint8Array, o: number, end: number): void {
  if (end - o < 8) return d.count(LINK_TRUNCATED);
  const len = u16le(b, o + 2);
  if (b[o] !== 0 || len < 8 || len > end - o) return d.count(RADIO_BAD_HEADER);
  const dlt = u32le(b, o + 4);
  let fcs = false;
  for (let p = o + 8, n = 0; p + 4 <= o + len && n < 32; n++) {
    const type = u16le(b, p);
    const flen = u16le(b, p + 2);
    if (type === PPI_80211_COMMON && flen >= 10 && p + 4 + 10 <= o + len) fcs = (u16le(b, p + 12) & 0x0001) !== 0;
    p += 4 + flen;
  }
  // PPI wraps 802.11 in practice (Ethernet and others are allowed; nothing nests a header).
  if (dlt === LinkType.ETHERNET) return ethernet(d, b, o + len, end);
  if (dlt !== LinkType.IEEE802_11) return d.count(LINK_UNSUPPORTED);
  ieee80211(d, b, o + len, fcs ? end - 4 : end, false);
}

/**
 * An IEEE 802.11 frame (IEEE 802.11-2020 §9.2): only data frames carry packets.
 *   Frame Control (2): protocol version, type (2 bits), subtype (4 bits); flags: To DS, From DS,
 *     More Fragments, Retry, Power Mgmt, More Data, Protected, +HTC/Order
 *   Duration (2), Address 1-3 (6 each), Sequence Control (2), [Address 4 (6) when To and From DS],
 *   [QoS Control (2) in QoS subtypes], [HT Control (4) in QoS frames with +HTC], then the body:
 *   an LLC/SNAP header (802.1H / RFC 1042), or A-MSDU subframes when the QoS Control says so.
 * `padded`: radiotap's DATAPAD flag, the header is padded to a multiple of 4 bytes.
 * `swappedFc`: the two Frame Control bytes come in the other order (Cisco CAPWAP).
 */
export function ieee80211(d: Layers, b: Uint8Array, o: number, end: number, padded: boolean, swappedFc = false): void {
  if (end - o < 24) return d.count(WLAN_TRUNCATED);
  const fc0 = swappedFc ? b[o + 1]! : b[o]!;
  const fc1 = swappedFc ? b[o]! : b[o + 1]!;
  const type = (fc0 >> 2) & 0x03;
  const subtype = fc0 >> 4;
  // Type 2 = data; subtypes with bit 2 set carry no body (Null, CF-Ack/Poll without data).
  if ((fc0 & 0x03) !== 0 || type !== 2 || (subtype & 0x04) !== 0) return d.count(WLAN_NOT_DATA);
  if (fc1 & 0x40) return d.count(WLAN_PROTECTED);
  if ((fc1 & 0x04) !== 0 || (u16le(b, o + 22) & 0x000f) !== 0) return d.count(WLAN_FRAGMENT);
  let hdr = 24;
  if ((fc1 & 0x03) === 0x03) hdr += 6;
  let amsdu = false;
  if (subtype & 0x08) {
    if (end - o < hdr + 2) return d.count(WLAN_TRUNCATED);
    amsdu = (b[o + hdr]! & 0x80) !== 0;
    hdr += 2;
    if (fc1 & 0x80) hdr += 4;
  }
  if (padded) hdr = (hdr + 3) & ~3;
  if (end - o < hdr) return d.count(WLAN_TRUNCATED);
  if (!amsdu) return llc(d, b, o + hdr, end);
  // A-MSDU (§9.3.2.2.2): subframes of DA (6), SA (6), length (2, BE), an LLC/SNAP MSDU,
  // each padded to a multiple of 4 bytes. Every subframe is a packet of its own.
  const ctx = d.ctx;
  const depth = ctx.depth;
  const tunnels = ctx.tunnels.length;
  for (let p = o + hdr, n = 0; end - p >= 14 && n < 64; n++) {
    const len = u16be(b, p + 12);
    const sEnd = Math.min(end, p + 14 + len);
    llc(d, b, p + 14, sEnd);
    ctx.depth = depth;
    ctx.tunnels.length = tunnels;
    p += (14 + len + 3) & ~3;
  }
}
