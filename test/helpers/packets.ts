/**
 * Packet builders for the capture tests: each returns the bytes of one protocol layer wrapped
 * around its payload, so a test composes a frame from the outside in and states only what it is
 * about:
 *
 *   eth({ type: ETH_IPV4, vlan: [10] },
 *     ipv4({ src: '198.18.0.1', dst: '198.19.0.53', proto: IPPROTO_UDP },
 *       udp({ sport: 40000, dport: 53 }, dnsQuery('s01.upd.kaspersky.com'))))
 *
 * Lengths, IPv4 header checksums and UDP/TCP checksums are computed, so the frames are what a
 * real stack sends (tshark shows no expert warnings); options named `*Override` write a wrong
 * value on purpose for negative tests.
 *
 * Project rule: addresses come only from 198.18.0.0/15 (RFC 2544 benchmarking) and fd00::/8
 * (RFC 4193 unique local). The address parsers below throw on anything else.
 */
import dnsPacket from 'dns-packet';

// ─────────────────────────────── numbers ───────────────────────────────

/** IEEE 802 EtherTypes used below (IANA "IEEE 802 Numbers"). */
export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
export const ETH_VLAN = 0x8100;
export const ETH_QINQ = 0x88a8;
export const ETH_MPLS = 0x8847;
export const ETH_PPPOE_SESSION = 0x8864;
export const ETH_TEB = 0x6558;
export const ETH_ERSPAN_2 = 0x88be;
export const ETH_ERSPAN_3 = 0x22eb;
export const ETH_ARP = 0x0806;

/** IANA protocol numbers. */
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_GRE = 47;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_DSTOPTS = 60;

/** tcpdump.org LINKTYPE_* values (https://www.tcpdump.org/linktypes.html). */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW_12: 12,
  RAW_OPENBSD: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11: 105,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
  ARCNET_BSD: 7,
  PPP: 9,
  FDDI: 10,
  PPP_HDLC: 50,
  C_HDLC: 104,
  IEEE802_11_RADIOTAP: 127,
  ARCNET_LINUX: 129,
  USER2: 149,
  PPI: 192,
  PPP_WITH_DIR: 204,
  C_HDLC_WITH_DIR: 205,
  NFLOG: 239,
  PKTAP: 258,
} as const;

/** TCP flag bits (RFC 9293 §3.1). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export const MAC_CLIENT = '02:00:00:00:00:01';
export const MAC_ROUTER = '02:00:00:00:00:fe';

// ─────────────────────────────── bytes ───────────────────────────────

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** latin1: one byte per character, so a test can put any byte in a text protocol. */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export function u16(v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
}

export function u32(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** A copy of `b` with the bytes at `off` replaced (for negative tests: a bad field in a good packet). */
export function patch(b: Uint8Array, off: number, bytes: readonly number[] | Uint8Array): Uint8Array {
  const out = b.slice();
  out.set(bytes, off);
  return out;
}

/** RFC 1071 Internet checksum: one's-complement sum of 16-bit words, complemented. */
export function internetChecksum(...parts: readonly Uint8Array[]): number {
  const b = concat(...parts);
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

// ─────────────────────────────── addresses ───────────────────────────────

/** 198.18.0.0/15 dotted quad → 4 bytes (RFC 2544 benchmarking range; the project's only IPv4 range). */
export function ip4(s: string): Uint8Array {
  const parts = s.split('.').map((p) => Number(p));
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${s}`);
  }
  if (parts[0] !== 198 || (parts[1] !== 18 && parts[1] !== 19)) {
    throw new Error(`${s}: test addresses must come from 198.18.0.0/15`);
  }
  return Uint8Array.from(parts);
}

/** fd00::/8 text (with at most one `::`) → 16 bytes (RFC 4291 §2.2; RFC 4193 unique local only). */
export function ip6(s: string): Uint8Array {
  const halves = s.split('::');
  if (halves.length > 2) throw new Error(`not an IPv6 address: ${s}`);
  const groups = (h: string | undefined): number[] =>
    h === undefined || h === '' ? [] : h.split(':').map((g) => {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) throw new Error(`not an IPv6 address: ${s}`);
      return Number.parseInt(g, 16);
    });
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) throw new Error(`not an IPv6 address: ${s}`);
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => out.set(u16(g), 2 * i));
  if (out[0] !== 0xfd) throw new Error(`${s}: test addresses must come from fd00::/8`);
  return out;
}

function mac(s: string): Uint8Array {
  const parts = s.split(':').map((p) => Number.parseInt(p, 16));
  if (parts.length !== 6 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`not a MAC: ${s}`);
  return Uint8Array.from(parts);
}

// ─────────────────────────────── link layer ───────────────────────────────

export interface EthOptions {
  src?: string;
  dst?: string;
  /** EtherType of the payload (after any tags). */
  type: number;
  /**
   * 802.1Q VLAN ids, outermost first. One id gives a C-tag (TPID 0x8100); with two or more the
   * outermost is an IEEE 802.1ad S-tag (TPID 0x88a8), the rest C-tags (QinQ).
   */
  vlan?: readonly number[];
  /** Priority code point for every tag (default 0). */
  pcp?: number;
}

/** IEEE 802.3 Ethernet II: dst(6) src(6) [TPID(2) TCI(2)]* EtherType(2) payload (no FCS). */
export function eth(o: EthOptions, payload: Uint8Array): Uint8Array {
  const tags = (o.vlan ?? []).map((id, i, all) =>
    concat(u16(all.length > 1 && i === 0 ? ETH_QINQ : ETH_VLAN), u16(((o.pcp ?? 0) << 13) | (id & 0x0fff))),
  );
  return concat(mac(o.dst ?? MAC_ROUTER), mac(o.src ?? MAC_CLIENT), ...tags, u16(o.type), payload);
}

/**
 * BSD loopback (LINKTYPE_NULL, and LINKTYPE_LOOP in network order): a 4-byte address family
 * (2 = AF_INET; AF_INET6 is 10 Linux, 24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS), then the packet.
 * `le` writes the family little-endian (host order of a little-endian sniffer).
 */
export function nullLink(af: number, le: boolean, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, af, le);
  return concat(h, payload);
}

export interface SllOptions {
  /** EtherType of the payload. */
  protocol: number;
  /** 0 to us, 1 broadcast, 2 multicast, 3 other host, 4 outgoing (default 4). */
  pktType?: number;
  /** ARPHRD_ type (default 1, ARPHRD_ETHER). */
  arphrd?: number;
  /** Link-layer source address (default MAC_CLIENT). */
  addr?: string;
}

/**
 * Linux cooked capture v1 (LINKTYPE_LINUX_SLL, https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html):
 * packet type(2) ARPHRD(2) address length(2) address(8, zero-padded) protocol(2).
 */
export function sll(o: SllOptions, payload: Uint8Array): Uint8Array {
  const a = mac(o.addr ?? MAC_CLIENT);
  const addr = new Uint8Array(8);
  addr.set(a);
  return concat(u16(o.pktType ?? 4), u16(o.arphrd ?? 1), u16(a.length), addr, u16(o.protocol), payload);
}

export interface Sll2Options extends SllOptions {
  /** Interface index (default 2). */
  ifindex?: number;
}

/**
 * Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html):
 * protocol(2) reserved(2) interface index(4) ARPHRD(2) packet type(1) address length(1) address(8).
 */
export function sll2(o: Sll2Options, payload: Uint8Array): Uint8Array {
  const a = mac(o.addr ?? MAC_CLIENT);
  const addr = new Uint8Array(8);
  addr.set(a);
  return concat(
    u16(o.protocol),
    u16(0),
    u32(o.ifindex ?? 2),
    u16(o.arphrd ?? 1),
    Uint8Array.of(o.pktType ?? 4, a.length),
    addr,
    payload,
  );
}

/** RFC 3032 §2.1 MPLS label stack entries: label(20) TC(3) S(1) TTL(8); S set on the last. */
export function mpls(labels: readonly number[], payload: Uint8Array): Uint8Array {
  const entries = labels.map((label, i) => {
    const bos = i === labels.length - 1 ? 1 : 0;
    return u32(((label & 0xfffff) << 12) | (bos << 8) | 64);
  });
  return concat(...entries, payload);
}

export interface PppoeOptions {
  /** Session id (default 0x1234). */
  session?: number;
  /** PPP protocol (RFC 1661 §2): 0x0021 IPv4 (default), 0x0057 IPv6. */
  proto?: number;
}

/**
 * RFC 2516 §4 PPPoE session stage: ver=1/type=1 (1), code 0 (1), session id (2), length (2),
 * then the PPP protocol field (2) and the packet; length counts the PPP protocol and payload.
 */
export function pppoe(o: PppoeOptions, payload: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0x11, 0x00), u16(o.session ?? 0x1234), u16(payload.length + 2), u16(o.proto ?? 0x0021), payload);
}

/** PPP protocol numbers (RFC 1661 §2). */
export const PPP_IPV4 = 0x0021;
export const PPP_IPV6 = 0x0057;
export const PPP_LCP = 0xc021;

export interface PppOptions {
  /** Protocol field (default 0x0021 IPv4). */
  proto?: number;
  /** HDLC-like framing: address 0xff, control 0x03 first (RFC 1662 §3.1). */
  hdlc?: boolean;
  /** Protocol-Field-Compression (RFC 1661 §6.5): a one-byte protocol field. */
  pfc?: boolean;
}

/** A PPP frame: [FF 03] protocol (2, or 1 with PFC), packet. */
export function ppp(o: PppOptions, payload: Uint8Array): Uint8Array {
  const proto = o.proto ?? PPP_IPV4;
  const field = o.pfc === true ? Uint8Array.of(proto & 0xff) : u16(proto);
  return concat(o.hdlc === true ? Uint8Array.of(0xff, 0x03) : new Uint8Array(0), field, payload);
}

/** Cisco HDLC: address (0x0f unicast), control (0), EtherType (2), packet. */
export function chdlc(type: number, payload: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0x0f, 0x00), u16(type), payload);
}

/** IEEE 802.2 LLC with a SNAP header (RFC 1042): AA AA 03, OUI 00-00-00, EtherType. */
export function llcSnap(type: number, payload: Uint8Array, oui = 0): Uint8Array {
  return concat(Uint8Array.of(0xaa, 0xaa, 0x03, (oui >> 16) & 0xff, (oui >> 8) & 0xff, oui & 0xff), u16(type), payload);
}

/** IEEE 802.3 frame with a length field instead of an EtherType: dst, src, length (2), LLC payload. */
export function eth8023(llcPayload: Uint8Array): Uint8Array {
  return concat(mac(MAC_ROUTER), mac(MAC_CLIENT), u16(llcPayload.length), llcPayload);
}

/** FDDI (LINKTYPE_FDDI): frame control 0x50 (async LLC), dst (6), src (6), then LLC. */
export function fddi(llcPayload: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0x50), mac(MAC_ROUTER), mac(MAC_CLIENT), llcPayload);
}

/**
 * ARCnet: source (1), destination (1), [offset (2) on Linux], protocol id (1) (0xf0 RFC 1051 IP,
 * 0xd4 RFC 1201 IP, 0xc4 IPv6); RFC 1201 ids add split flag (1) and sequence (2).
 */
export function arcnet(o: { linux: boolean; protoId: number }, payload: Uint8Array): Uint8Array {
  const head = o.linux ? Uint8Array.of(0xbe, 0x50, 0xc6, 0x00, o.protoId) : Uint8Array.of(0xbe, 0x50, o.protoId);
  const split = o.protoId === 0xf0 ? new Uint8Array(0) : Uint8Array.of(0, 0x12, 0x34);
  return concat(head, split, payload);
}

/** One NFLOG TLV: length (2), type (2) in the given byte order, value, padded to 4 bytes. */
export function nflogTlv(type: number, value: Uint8Array, le = true): Uint8Array {
  const h = new Uint8Array(4);
  const v = new DataView(h.buffer);
  v.setUint16(0, 4 + value.length, le);
  v.setUint16(2, type, le);
  return concat(h, value, new Uint8Array((4 - (value.length % 4)) % 4));
}

/**
 * Linux NFLOG (LINKTYPE_NFLOG): family (1), version 0 (1), resource id (2, BE), then TLVs:
 * a prefix string (type 10), a hardware protocol (type 1) and the packet (type 9, NFULA_PAYLOAD).
 */
export function nflog(o: { family?: number; le?: boolean; payload?: boolean }, packet: Uint8Array): Uint8Array {
  const le = o.le ?? true;
  return concat(
    Uint8Array.of(o.family ?? 2, 0, 0, 5),
    nflogTlv(1, Uint8Array.of(0x08, 0x00, 3, 0), le),
    nflogTlv(10, ascii('kasmon\0'), le),
    o.payload === false ? new Uint8Array(0) : nflogTlv(9, packet, le),
  );
}

/** Apple PKTAP header (108 bytes, little-endian): length, record type 1 (packet), DLT, interface name, ... */
export function pktap(dlt: number, frame: Uint8Array, recordType = 1): Uint8Array {
  const h = new Uint8Array(108);
  const v = new DataView(h.buffer);
  v.setUint32(0, 108, true);
  v.setUint32(4, recordType, true);
  v.setUint32(8, dlt, true);
  h.set(ascii('en0'), 12);
  return concat(h, frame);
}

export interface WlanOptions {
  /** QoS Data (subtype 8) instead of Data (default true). */
  qos?: boolean;
  toDs?: boolean;
  fromDs?: boolean;
  protected?: boolean;
  moreFragments?: boolean;
  /** Frame control type (default 2, data) and subtype override. */
  type?: number;
  subtype?: number;
  /** +HTC/Order bit: a 4-byte HT Control field in QoS frames. */
  htc?: boolean;
  /** A-MSDU present in the QoS Control field: the body is A-MSDU subframes. */
  amsdu?: boolean;
}

/** IEEE 802.11 data frame (IEEE 802.11-2020 §9.3.2.1): header, then the body as given (no FCS). */
export function wlan(o: WlanOptions, body: Uint8Array): Uint8Array {
  const qos = o.qos ?? true;
  const subtype = o.subtype ?? (qos ? 8 : 0);
  const fc0 = ((o.type ?? 2) << 2) | (subtype << 4);
  const fc1 = (o.toDs ? 1 : 0) | (o.fromDs ? 2 : 0) | (o.moreFragments ? 4 : 0) | (o.protected ? 0x40 : 0) | (o.htc ? 0x80 : 0);
  const parts = [Uint8Array.of(fc0, fc1, 0, 0), mac(MAC_ROUTER), mac(MAC_CLIENT), mac(MAC_ROUTER), Uint8Array.of(0x10, 0x00)];
  if (o.toDs && o.fromDs) parts.push(mac(MAC_CLIENT));
  if (subtype & 8) {
    parts.push(Uint8Array.of(o.amsdu ? 0x80 : 0, 0));
    if (o.htc) parts.push(new Uint8Array(4));
  }
  return concat(...parts, body);
}

/** One A-MSDU subframe: DA (6), SA (6), length (2), MSDU, padded to 4 bytes (except the last). */
export function amsduSubframe(msdu: Uint8Array, last = false): Uint8Array {
  const pad = last ? 0 : (4 - ((14 + msdu.length) % 4)) % 4;
  return concat(mac(MAC_ROUTER), mac(MAC_CLIENT), u16(msdu.length), msdu, new Uint8Array(pad));
}

/**
 * Radiotap header (radiotap.org): version 0, pad, length (LE), present bitmap(s), then TSFT (8,
 * 8-aligned), Flags (1: 0x10 FCS at end, 0x20 data pad), Rate (1). `extraPresent` adds a second
 * present word (bit 31 of the first set), as drivers with vendor namespaces write.
 */
export function radiotap(o: { flags?: number; extraPresent?: boolean }, frame: Uint8Array): Uint8Array {
  const words = o.extraPresent ? 2 : 1;
  const fieldsAt = 4 + 4 * words;
  const tsftAt = (fieldsAt + 7) & ~7;
  const len = tsftAt + 8 + 2;
  const h = new Uint8Array(len);
  const v = new DataView(h.buffer);
  v.setUint16(2, len, true);
  v.setUint32(4, 0x07 | (o.extraPresent ? 0x80000000 : 0), true);
  if (o.extraPresent) v.setUint32(8, 0, true);
  h[tsftAt + 8] = o.flags ?? 0;
  h[tsftAt + 9] = 2; // 1 Mb/s
  return concat(h, frame);
}

/** CACE PPI header with one 802.11-Common field (type 2, 20 bytes; flags bit 0x0001 = FCS present). */
export function ppi(o: { dlt?: number; fcs?: boolean }, frame: Uint8Array): Uint8Array {
  const h = new Uint8Array(8 + 4 + 20);
  const v = new DataView(h.buffer);
  v.setUint16(2, h.length, true);
  v.setUint32(4, o.dlt ?? 105, true);
  v.setUint16(8, 2, true);
  v.setUint16(10, 20, true);
  v.setUint16(12 + 8, o.fcs ? 1 : 0, true);
  return concat(h, frame);
}

// ─────────────────────────────── network layer ───────────────────────────────

export interface Ipv4Options {
  src: string;
  dst: string;
  proto: number;
  id?: number;
  /** The 3 flag bits: 0b010 = DF, 0b001 = MF (default 0b010, DF). */
  flags?: number;
  /** Fragment offset in 8-octet units. */
  fragOffset?: number;
  ttl?: number;
  /** Options, zero-padded to a multiple of 4 (IHL grows accordingly). */
  options?: Uint8Array;
  /** Write this total length instead of the true one. */
  totalLengthOverride?: number;
  /** Leave the transport checksum as the payload has it (default: fill in a zero UDP/TCP checksum). */
  keepTransportChecksum?: boolean;
}

/**
 * RFC 791 §3.1 IPv4: version/IHL, TOS, total length, id, flags/fragment offset, TTL, protocol,
 * header checksum (RFC 1071), source, destination, options. A UDP or TCP payload whose checksum
 * field is zero gets its checksum computed over the RFC 768 / RFC 9293 §3.1 pseudo-header.
 */
export function ipv4(o: Ipv4Options, payload: Uint8Array): Uint8Array {
  const opts = o.options ?? new Uint8Array(0);
  const optLen = (opts.length + 3) & ~3;
  const ihl = 20 + optLen;
  const h = new Uint8Array(ihl);
  const src = ip4(o.src);
  const dst = ip4(o.dst);
  h[0] = 0x40 | (ihl / 4);
  h.set(u16(o.totalLengthOverride ?? ihl + payload.length), 2);
  h.set(u16(o.id ?? 0x1c46), 4);
  h.set(u16(((o.flags ?? 0b010) << 13) | (o.fragOffset ?? 0)), 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  h.set(src, 12);
  h.set(dst, 16);
  h.set(opts, 20);
  h.set(u16(internetChecksum(h)), 10);
  const firstFragment = (o.fragOffset ?? 0) === 0;
  const body = o.keepTransportChecksum === true || !firstFragment ? payload : withTransportChecksum(o.proto, src, dst, payload);
  return concat(h, body);
}

/**
 * RFC 791 §3.2 fragmentation: the datagram `ipv4(o, payload)` would be, split into fragments
 * carrying `size` payload bytes each (a multiple of 8; the last takes the rest). The UDP/TCP
 * checksum is computed over the whole payload first, as the sender does.
 */
export function ipv4Fragments(o: Ipv4Options, payload: Uint8Array, size: number): Uint8Array[] {
  if (size % 8 !== 0 || size <= 0) throw new Error('fragment size must be a positive multiple of 8');
  const full = o.keepTransportChecksum === true ? payload : withTransportChecksum(o.proto, ip4(o.src), ip4(o.dst), payload);
  const out: Uint8Array[] = [];
  for (let off = 0; off < full.length; off += size) {
    const more = off + size < full.length;
    out.push(ipv4({ ...o, flags: more ? 0b001 : 0, fragOffset: off / 8, keepTransportChecksum: true }, full.subarray(off, off + size)));
  }
  return out;
}

/** One IPv6 extension header (RFC 8200 §4): `body` is everything after next header and length. */
export interface ExtHeader {
  type: number;
  body: Uint8Array;
}

/**
 * RFC 8200 §4.3 Hop-by-Hop / §4.6 Destination Options body: the given options, padded with
 * Pad1/PadN (§4.2) so the header is a multiple of 8 octets.
 */
export function optionsHeader(type: typeof IPPROTO_HOPOPTS | typeof IPPROTO_DSTOPTS, options: Uint8Array = new Uint8Array(0)): ExtHeader {
  const pad = (8 - ((2 + options.length) % 8)) % 8;
  const padding = pad === 0 ? new Uint8Array(0) : pad === 1 ? Uint8Array.of(0) : concat(Uint8Array.of(1, pad - 2), new Uint8Array(pad - 2));
  return { type, body: concat(options, padding) };
}

/** RFC 2711 Router Alert option (type 5, MLD value 0), the usual hop-by-hop content. */
export const ROUTER_ALERT = Uint8Array.of(0x05, 0x02, 0x00, 0x00);

/**
 * RFC 8200 §4.5 Fragment header: next header, reserved, offset(13 bits, 8-octet units) res(2) M(1),
 * identification(4).
 */
export function ipv6Frag(o: { offset?: number; more?: boolean; id?: number } = {}): ExtHeader {
  return { type: IPPROTO_FRAGMENT, body: concat(u16(((o.offset ?? 0) << 3) | (o.more === true ? 1 : 0)), u32(o.id ?? 0xdead)) };
}

export interface Ipv6Options {
  src: string;
  dst: string;
  /** Upper-layer protocol after the extension headers. */
  next: number;
  hopLimit?: number;
  /** Write this payload length instead of the true one. */
  payloadLengthOverride?: number;
}

/**
 * RFC 8200 §3 IPv6: version/traffic class/flow label (4), payload length (2), next header (1),
 * hop limit (1), source (16), destination (16), then the extension headers in order (each one's
 * length field in 8-octet units not counting the first 8; §4.2) and the payload. A UDP or TCP
 * payload with a zero checksum field gets its checksum over the RFC 8200 §8.1 pseudo-header.
 */
export function ipv6(o: Ipv6Options, payload: Uint8Array, extHeaders: readonly ExtHeader[] = []): Uint8Array {
  const src = ip6(o.src);
  const dst = ip6(o.dst);
  const types = [...extHeaders.map((e) => e.type), o.next];
  const exts = extHeaders.map((e, i) => {
    if (e.type === IPPROTO_FRAGMENT) return concat(Uint8Array.of(types[i + 1]!, 0), e.body);
    if ((2 + e.body.length) % 8 !== 0) throw new Error(`extension header ${e.type}: length ${2 + e.body.length} is not a multiple of 8`);
    return concat(Uint8Array.of(types[i + 1]!, (2 + e.body.length) / 8 - 1), e.body);
  });
  const fragmented = extHeaders.some((e) => e.type === IPPROTO_FRAGMENT);
  const body = fragmented ? payload : withTransportChecksum(o.next, src, dst, payload);
  const rest = concat(...exts, body);
  const h = new Uint8Array(40);
  h.set(u32(0x60000000), 0);
  h.set(u16(o.payloadLengthOverride ?? rest.length), 4);
  h[6] = types[0]!;
  h[7] = o.hopLimit ?? 64;
  h.set(src, 8);
  h.set(dst, 24);
  return concat(h, rest);
}

/**
 * RFC 8200 §4.5 fragmentation: the packet `ipv6(o, payload)` would be, as fragments each
 * carrying `size` bytes of it (a multiple of 8; the last takes the rest), with identification `id`.
 */
export function ipv6Fragments(o: Ipv6Options, payload: Uint8Array, size: number, id = 0xdead): Uint8Array[] {
  if (size % 8 !== 0 || size <= 0) throw new Error('fragment size must be a positive multiple of 8');
  const full = withTransportChecksum(o.next, ip6(o.src), ip6(o.dst), payload);
  const out: Uint8Array[] = [];
  for (let off = 0; off < full.length; off += size) {
    const more = off + size < full.length;
    out.push(ipv6(o, full.subarray(off, off + size), [ipv6Frag({ offset: off / 8, more, id })]));
  }
  return out;
}

/** Fills a zero UDP/TCP checksum field over the pseudo-header (RFC 768, RFC 9293 §3.1, RFC 8200 §8.1). */
function withTransportChecksum(proto: number, src: Uint8Array, dst: Uint8Array, seg: Uint8Array): Uint8Array {
  const at = proto === IPPROTO_UDP ? 6 : proto === IPPROTO_TCP ? 16 : -1;
  if (at < 0 || seg.length < at + 2 || seg[at] !== 0 || seg[at + 1] !== 0) return seg;
  const pseudo =
    src.length === 4
      ? concat(src, dst, Uint8Array.of(0, proto), u16(seg.length))
      : concat(src, dst, u32(seg.length), Uint8Array.of(0, 0, 0, proto));
  let sum = internetChecksum(pseudo, seg);
  if (sum === 0 && proto === IPPROTO_UDP) sum = 0xffff; // RFC 768: 0 means "no checksum"
  return patch(seg, at, u16(sum));
}

// ─────────────────────────────── transport layer ───────────────────────────────

export interface UdpOptions {
  sport: number;
  dport: number;
  /** Write this length instead of the true one. */
  lengthOverride?: number;
}

/** RFC 768 UDP: source port, destination port, length, checksum (left zero; ipv4/ipv6 fill it in). */
export function udp(o: UdpOptions, payload: Uint8Array): Uint8Array {
  return concat(u16(o.sport), u16(o.dport), u16(o.lengthOverride ?? 8 + payload.length), u16(0), payload);
}

export interface TcpOptions {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  /** Flag bits (default PSH|ACK). */
  flags?: number;
  window?: number;
  /** Options, zero-padded (End of Option List, RFC 9293 §3.2) to a multiple of 4. */
  options?: Uint8Array;
}

/**
 * RFC 9293 §3.1 TCP: ports, sequence, acknowledgment, data offset/flags, window, checksum
 * (left zero; ipv4/ipv6 fill it in), urgent pointer, options.
 */
export function tcp(o: TcpOptions, payload: Uint8Array): Uint8Array {
  const opts = o.options ?? new Uint8Array(0);
  const hlen = 20 + ((opts.length + 3) & ~3);
  const h = new Uint8Array(hlen);
  h.set(u16(o.sport), 0);
  h.set(u16(o.dport), 2);
  h.set(u32(o.seq ?? 1000), 4);
  h.set(u32(o.ack ?? 2000), 8);
  h[12] = (hlen / 4) << 4;
  h[13] = o.flags ?? TCP_PSH | TCP_ACK;
  h.set(u16(o.window ?? 64240), 14);
  h.set(opts, 20);
  return concat(h, payload);
}

// ─────────────────────────────── tunnels ───────────────────────────────

export interface GreOptions {
  /** Protocol type (an EtherType: 0x0800, 0x86dd, 0x6558 TEB, 0x88be ERSPAN I/II, 0x22eb ERSPAN III). */
  proto: number;
  /** RFC 2890 §2.1 key. */
  key?: number;
  /** RFC 2890 §2.2 sequence number (ERSPAN II and III carry one; type I does not). */
  seq?: number;
  /** RFC 2784 §2.5 checksum present (computed over header and payload). */
  checksum?: boolean;
  /** Version (0 = GRE; 1 = enhanced GRE of PPTP, RFC 2637). */
  version?: number;
}

/**
 * RFC 2784 §2 GRE with RFC 2890 extensions: C(1) 0 K(1) S(1) reserved0(9) version(3),
 * protocol type(2), [checksum(2) reserved1(2)] [key(4)] [sequence number(4)].
 */
export function gre(o: GreOptions, payload: Uint8Array): Uint8Array {
  const c = o.checksum === true;
  const flags = (c ? 0x8000 : 0) | (o.key !== undefined ? 0x2000 : 0) | (o.seq !== undefined ? 0x1000 : 0) | (o.version ?? 0);
  const parts = [u16(flags), u16(o.proto)];
  if (c) parts.push(new Uint8Array(4));
  if (o.key !== undefined) parts.push(u32(o.key));
  if (o.seq !== undefined) parts.push(u32(o.seq));
  const out = concat(...parts, payload);
  if (c) out.set(u16(internetChecksum(out)), 4);
  return out;
}

export interface ErspanOptions {
  /** Session id (10 bits, default 1). */
  session?: number;
  /** Original VLAN (12 bits, default 0). */
  vlan?: number;
}

/**
 * ERSPAN type II header (draft-foschiano-erspan-03 §4.2), carried in GRE 0x88be with S set:
 * Ver=1(4) VLAN(12) COS(3) En(2) T(1) Session ID(10) Reserved(12) Index(20), then the mirrored frame.
 * Type I is the frame directly in GRE 0x88be without a sequence number: `gre({ proto: ETH_ERSPAN_2 }, frame)`.
 */
export function erspan2(o: ErspanOptions, frame: Uint8Array, index = 0): Uint8Array {
  return concat(u16((1 << 12) | (o.vlan ?? 0)), u16(o.session ?? 1), u32(index & 0xfffff), frame);
}

export interface Erspan3Options extends ErspanOptions {
  timestamp?: number;
  /** Security group tag (default 0). */
  sgt?: number;
  hwId?: number;
  /** 8-byte platform-specific sub-header; sets the O flag. */
  platform?: Uint8Array;
}

/**
 * ERSPAN type III header (draft-foschiano-erspan-03 §4.3), carried in GRE 0x22eb:
 * Ver=2(4) VLAN(12) | COS(3) BSO(2) T(1) Session ID(10) | Timestamp(32) |
 * SGT(16) P(1) FT(5) Hw ID(6) D(1) Gra(2) O(1) | [platform-specific sub-header (8) when O].
 */
export function erspan3(o: Erspan3Options, frame: Uint8Array): Uint8Array {
  const platform = o.platform;
  const hasPlatform = platform !== undefined;
  if (hasPlatform && platform.length !== 8) throw new Error('ERSPAN III platform sub-header is 8 bytes');
  const last = (((o.hwId ?? 0) & 0x3f) << 4) | (0b01 << 1) | (hasPlatform ? 1 : 0); // Gra = 01 (100 µs)
  return concat(
    u16((2 << 12) | (o.vlan ?? 0)),
    u16(o.session ?? 1),
    u32(o.timestamp ?? 0x01020304),
    u16(o.sgt ?? 0),
    u16(last),
    platform ?? new Uint8Array(0),
    frame,
  );
}

/**
 * RFC 2637 §4.1 enhanced GRE (PPTP): flags with K set (and S/A when given), version 1, protocol
 * 0x880b, payload length (2), call id (2), [sequence (4)], [acknowledgment (4)], then PPP.
 */
export function pptpGre(o: { seq?: number; ack?: number; callId?: number }, pppFrame: Uint8Array): Uint8Array {
  const flags = 0x2000 | (o.seq !== undefined ? 0x1000 : 0) | (o.ack !== undefined ? 0x0080 : 0) | 1;
  const parts = [u16(flags), u16(0x880b), u16(pppFrame.length), u16(o.callId ?? 7)];
  if (o.seq !== undefined) parts.push(u32(o.seq));
  if (o.ack !== undefined) parts.push(u32(o.ack));
  return concat(...parts, pppFrame);
}

/**
 * AYIYA (draft-massar-v6ops-ayiya §5), as SixXS used it: identity 16 bytes (IDLen 4, type 1),
 * SHA-1 signature 20 bytes (SigLen 5, hash 2), auth 1, the opcode (1 = forward), next header.
 */
export function ayiya(next: number, payload: Uint8Array, opcode = 1): Uint8Array {
  return concat(Uint8Array.of(0x41, 0x52, 0x10 | opcode, next), u32(0x4af64c05), new Uint8Array(16).fill(0x20), new Uint8Array(20).fill(0x5a), payload);
}

/**
 * RFC 5415 CAPWAP data: preamble 0, then HLEN 2 (8 bytes), RID 1, WBID 1, flags T (native
 * frame) when `native`, F when `fragment`; fragment id and offset zero.
 */
export function capwapData(o: { native: boolean; fragment?: boolean; dtls?: boolean }, frame: Uint8Array): Uint8Array {
  if (o.dtls === true) return concat(Uint8Array.of(0x01, 0, 0, 0), frame);
  const h = (2 << 19) | (1 << 14) | (1 << 9) | (o.native ? 0x100 : 0) | (o.fragment === true ? 0x80 : 0);
  return concat(Uint8Array.of(0x00, (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff), new Uint8Array(4), frame);
}

/** RFC 4380 Teredo: [origin indicator 0x0000, port (2), address (4)], then the IPv6 packet. */
export function teredo(ipv6Packet: Uint8Array, origin = false): Uint8Array {
  return origin ? concat(Uint8Array.of(0, 0, 0xc3, 0x50, 0x3f, 0x57, 0xfe, 0x12), ipv6Packet) : ipv6Packet;
}

/** RFC 8300 NSH: version 0, length 2 words (MD type 2, no metadata), next protocol, service path 42/255. */
export function nsh(next: number, payload: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0x0f, 0xc2, 0x02, next, 0, 0, 42, 255), payload);
}

/** RFC 7348 §5 VXLAN (UDP 4789): flags (I=0x08) (1), reserved (3), VNI (3), reserved (1), then an Ethernet frame. */
export function vxlan(vni: number, ethFrame: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0x08, 0, 0, 0, (vni >>> 16) & 0xff, (vni >>> 8) & 0xff, vni & 0xff, 0), ethFrame);
}

/** A GENEVE option TLV (RFC 8926 §3.5): class(2) type(1) R(3)+length(5, 4-byte words), data. */
export interface GeneveOption {
  optClass: number;
  type: number;
  /** Multiple of 4 bytes. */
  data: Uint8Array;
}

export interface GeneveOptions {
  vni: number;
  /** Protocol type (an EtherType; default 0x6558, an Ethernet frame). */
  proto?: number;
  options?: readonly GeneveOption[];
  /** Version field (2 bits, default 0). */
  version?: number;
}

/**
 * RFC 8926 §3.4 GENEVE (UDP 6081): Ver(2) Opt Len(6, 4-byte words) | O(1) C(1) Rsvd(6) |
 * Protocol Type(2) | VNI(3) Reserved(1) | options.
 */
export function geneve(o: GeneveOptions, payload: Uint8Array): Uint8Array {
  const opts = (o.options ?? []).map((x) => {
    if (x.data.length % 4 !== 0) throw new Error('GENEVE option data must be a multiple of 4 bytes');
    return concat(u16(x.optClass), Uint8Array.of(x.type, x.data.length / 4), x.data);
  });
  const optBytes = concat(...opts);
  const critical = (o.options ?? []).some((x) => (x.type & 0x80) !== 0);
  return concat(
    Uint8Array.of(((o.version ?? 0) << 6) | (optBytes.length / 4), critical ? 0x40 : 0),
    u16(o.proto ?? ETH_TEB),
    Uint8Array.of((o.vni >>> 16) & 0xff, (o.vni >>> 8) & 0xff, o.vni & 0xff, 0),
    optBytes,
    payload,
  );
}

/** A GTP-U extension header (3GPP TS 29.281 §5.2.1): `content` is 4n-2 bytes (length and next type added). */
export interface GtpuExtension {
  type: number;
  content: Uint8Array;
}

/** 3GPP TS 38.415 PDU Session Container (type 0x85), uplink, QFI 9: the usual 5G extension header. */
export const PDU_SESSION_CONTAINER: GtpuExtension = { type: 0x85, content: Uint8Array.of(0x10, 0x09) };

export interface GtpuOptions {
  /** Sequence number (sets S). */
  seq?: number;
  /** Extension headers (sets E). */
  extensions?: readonly GtpuExtension[];
}

/**
 * 3GPP TS 29.281 §5.1 GTP-U (UDP 2152) G-PDU: flags (version 1, PT=1, E, S, PN) (1), message type
 * 0xff (1), length of what follows the first 8 bytes (2), TEID (4), [sequence (2), N-PDU (1),
 * next extension header type (1)] when any of E/S/PN, then extension headers, then the user packet.
 */
export function gtpu(teid: number, ipPacket: Uint8Array, o: GtpuOptions = {}): Uint8Array {
  const exts = o.extensions ?? [];
  const e = exts.length > 0;
  const s = o.seq !== undefined;
  const optional: Uint8Array[] = [];
  if (e || s) {
    optional.push(u16(o.seq ?? 0), Uint8Array.of(0, e ? exts[0]!.type : 0));
    exts.forEach((x, i) => {
      const len = x.content.length + 2;
      if (len % 4 !== 0) throw new Error('GTP-U extension content must be 4n-2 bytes');
      optional.push(Uint8Array.of(len / 4), x.content, Uint8Array.of(exts[i + 1]?.type ?? 0));
    });
  }
  const rest = concat(...optional, ipPacket);
  const flags = 0x30 | (e ? 0x04 : 0) | (s ? 0x02 : 0);
  return concat(Uint8Array.of(flags, 0xff), u16(rest.length), u32(teid), rest);
}

// ─────────────────────────────── application layer ───────────────────────────────

export type DnsAnswer = dnsPacket.Answer;

/**
 * RFC 1035 §4.1 DNS query (QR=0, RD=1) through dns-packet's `encode`: one question per name.
 * dns-packet keeps the case and drops a trailing dot when it encodes a name.
 */
export function dnsQuery(name: string | readonly string[], type: dnsPacket.RecordType = 'A', id = 0x4b4c): Uint8Array {
  const names = typeof name === 'string' ? [name] : name;
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: names.map((n) => ({ type, name: n, class: 'IN' as const })),
  });
}

/**
 * RFC 1035 §4.1 DNS response (QR=1, RD, RA) echoing one question for `name` (of the first
 * answer's type, or A), with the given answer records (defaults: class IN, TTL 300).
 */
export function dnsResponse(name: string, answers: readonly DnsAnswer[], id = 0x4b4c): Uint8Array {
  const qtype = answers[0]?.type ?? 'A';
  return dnsPacket.encode({
    type: 'response',
    id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: qtype, name, class: 'IN' }],
    answers: answers.map((a) => ({ ttl: 300, class: 'IN', ...a }) as DnsAnswer),
  });
}

/** RFC 1035 §4.2.2 / RFC 7766 §8: DNS messages over TCP, each preceded by its two-byte length. */
export function dnsTcp(...messages: readonly Uint8Array[]): Uint8Array {
  return concat(...messages.flatMap((m) => [u16(m.length), m]));
}

export interface HttpRequestOptions {
  method?: string;
  /** request-target (origin-form `/path`, or absolute-form `http://host/path`). */
  target: string;
  /** Host header value; `undefined` leaves the header out. */
  host?: string;
  /** Further header lines, in order, as `Name: value` strings. */
  headers?: readonly string[];
  body?: string;
  version?: string;
}

/** RFC 9112 §3 request-line, §5 header fields (Host first, as clients send it), empty line, body. */
export function httpRequest(o: HttpRequestOptions): Uint8Array {
  const lines = [`${o.method ?? 'GET'} ${o.target} ${o.version ?? 'HTTP/1.1'}`];
  if (o.host !== undefined) lines.push(`Host: ${o.host}`);
  lines.push(...(o.headers ?? ['User-Agent: kasmon-test/1', 'Accept: */*']));
  return ascii(`${lines.join('\r\n')}\r\n\r\n${o.body ?? ''}`);
}

/** RFC 9110 §9.3.1 GET with a Host header (RFC 9112 §3.2). */
export function httpGet(host: string, path = '/'): Uint8Array {
  return httpRequest({ target: path, host });
}
