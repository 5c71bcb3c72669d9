import { u16be, u32be, u32le } from '../common/bytes.js';
import { PacketContext } from './packet/context.js';
import { Defragmenter } from './packet/defrag.js';
import { decodeDns, type DnsSink } from './app/dns.js';
import type { HttpSink } from './app/http.js';
import { ipv4Text, ipv6Text } from '../common/address.js';
import { defineIssue, IssueCounter, isIssue, type DecodeIssue } from './issues.js';
import { ja4 } from './app/ja4.js';
import type { Observation, ObservationKind } from './observation.js';
import type { RawFrame } from './read/frame.js';
import { EtherType, IpProto, LinkType, Port } from './packet/protocols.js';
import { NameRootFilter } from './app/name-filter.js';
import { looksLikeQuicInitial, QuicInitialAssembler } from './app/quic.js';
import { DEFAULT_FLOW_IDLE_SECONDS, DEFAULT_MAX_FLOWS, TcpStreams, type StreamApp } from './tcp/streams.js';
import { toMicros } from '../common/time.js';
import { parseClientHello, type ClientHello } from './app/tls.js';
import { NAME_NO_SNI, NAME_SNAPLEN } from './unrecovered.js';

/**
 * Frame → link → network → transport → application, synchronously, with no allocation
 * until something yields an observation. Every layer checks its fixed header length once,
 * clamps to the length its header claims (tcpdump's nd_push_snaplen) and, when it cannot
 * go on, counts a DecodeIssue and returns: a decoder never throws out of the pipeline.
 * Per-packet context (addresses, ports, VLAN, tunnels) lives in one PacketContext,
 * overwritten by each layer, so a tunnel's inner header simply replaces the outer one.
 * TCP client streams are src/capture/tcp-streams.ts; this file owns the layers around them.
 */

export const LINK_TRUNCATED = defineIssue('link', 'truncated', 'header');
export const LINK_UNSUPPORTED = defineIssue('link', 'skipped', 'unsupported_linktype');
export const ETHER_UNSUPPORTED = defineIssue('ethernet', 'skipped', 'unsupported_ethertype');
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
export const TUNNEL_TRUNCATED = defineIssue('tunnel', 'truncated', 'header');
export const TUNNEL_UNSUPPORTED = defineIssue('tunnel', 'skipped', 'unsupported');
export const TUNNEL_TOO_DEEP = defineIssue('tunnel', 'skipped', 'too_deep');
export const MPLS_TRUNCATED = defineIssue('mpls', 'truncated', 'label_stack');
export const PPPOE_TRUNCATED = defineIssue('pppoe', 'truncated', 'header');
export const DECODER_BUG = defineIssue('decoder', 'invalid', 'internal_error');

/** Tunnels nest (GRE in VXLAN in ...); past this depth a packet is dropped, counted. */
export const MAX_ENCAP_DEPTH = 8;

export interface DecoderOptions {
  /** UDP/TCP ports carrying DNS (default [53]). */
  dnsPorts?: readonly number[];
  /** State bounds (flows under reassembly, their idle timeout). */
  limits?: { maxFlows: number; flowIdleSeconds: number };
  /**
   * Which names deserve an Observation (default: all). Lets `replay` skip building objects,
   * formatting addresses and computing JA4 for names no rule matches.
   */
  accept?: (kind: ObservationKind, name: string, cnameTarget: string | undefined) => boolean;
  /**
   * With `accept`: the last two labels every accepted name ends in (see name-roots.ts). DNS
   * names outside them are counted without building their strings. `accept` must reject every
   * name whose root is not listed.
   */
  nameRoots?: readonly string[];
}

export interface DecoderStats {
  frames: number;
  bytes: number;
  observations: Record<ObservationKind, number>;
}

export class Decoder implements DnsSink, HttpSink {
  readonly issues = new IssueCounter();
  readonly stats: DecoderStats = {
    frames: 0,
    bytes: 0,
    observations: { dns_query: 0, dns_answer: 0, tls_sni: 0, http_host: 0, quic_sni: 0 },
  };
  private readonly ctx = new PacketContext();
  private readonly dnsPort: Uint8Array = new Uint8Array(65536);
  private readonly tcp: TcpStreams;
  private readonly defrag = new Defragmenter((i) => this.count(i));
  private readonly quic = new QuicInitialAssembler();
  /** When bounded state was last swept for idle entries (packet time). */
  private lastSweepMicros = 0;
  private source: string | undefined;
  private readonly accept: DecoderOptions['accept'];
  /** DnsSink: the byte-level root filter (replay only). */
  readonly nameFilter: NameRootFilter | undefined;

  constructor(
    private readonly emit: (o: Observation) => void,
    opts: DecoderOptions = {},
  ) {
    this.accept = opts.accept;
    this.nameFilter = opts.accept !== undefined && opts.nameRoots !== undefined ? new NameRootFilter(opts.nameRoots) : undefined;
    for (const p of opts.dnsPorts ?? [Port.DNS]) this.dnsPort[p] = 1;
    const limits = opts.limits ?? { maxFlows: DEFAULT_MAX_FLOWS, flowIdleSeconds: DEFAULT_FLOW_IDLE_SECONDS };
    const app: StreamApp = {
      count: (i) => this.count(i),
      clientHello: (m) => this.clientHello(m, 'tls_sni'),
      dnsMessage: (m) => this.dnsMessage(m),
      http: this,
    };
    this.tcp = new TcpStreams(this.ctx, app, { dnsPort: this.dnsPort, ...limits });
  }

  /** Names the file the following frames come from (copied into observations). */
  setSource(name: string | undefined): void {
    this.source = name;
  }

  /** End of input: flows still waiting for bytes are counted as unrecovered. */
  finish(): void {
    this.tcp.finish();
  }

  /** Evictions and timeouts from bounded state tables, by table. */
  evictions(): Record<string, number> {
    return {
      tcp_flows: this.tcp.evictions,
      tcp_flows_idle: this.tcp.timeouts,
      ip_fragments: this.defrag.evictions,
      ip_fragments_timeout: this.defrag.timeouts,
      quic_connections: this.quic.evictions,
      quic_connections_timeout: this.quic.timeouts,
    };
  }

  /** Entries currently held in bounded state (for tests and metrics). */
  pending(): { flows: number; fragmentTrains: number; quicConnections: number } {
    return { flows: this.tcp.size, fragmentTrains: this.defrag.pending, quicConnections: this.quic.pendingCount };
  }

  onFrame(f: RawFrame): void {
    this.stats.frames++;
    this.stats.bytes += f.caplen;
    this.ctx.reset(f);
    const now = this.ctx.nowMicros;
    if (now - this.lastSweepMicros > 1_000_000 || now < this.lastSweepMicros) {
      // Idle state is swept at most once per second of packet time.
      this.lastSweepMicros = now;
      this.tcp.expire(now);
      this.defrag.expire(now);
    }
    try {
      this.link(f.buf, f.off, f.off + f.caplen, f.linktype);
    } catch {
      // Defence in depth: every decoder bounds-checks, but a bug must cost one packet, not the run.
      this.issues.add(DECODER_BUG);
    }
  }

  private count(i: DecodeIssue): void {
    this.issues.add(i);
  }

  // ───────────────────────────── link layer ─────────────────────────────

  private link(b: Uint8Array, o: number, end: number, linktype: number): void {
    switch (linktype) {
      case LinkType.ETHERNET:
        return this.ethernet(b, o, end);
      case LinkType.NULL:
      case LinkType.LOOP: {
        // 4-byte address family: host byte order for NULL (either order in the wild),
        // network order for LOOP. AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24
        // (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS).
        if (end - o < 4) return this.count(LINK_TRUNCATED);
        let af = linktype === LinkType.LOOP ? u32be(b, o) : u32le(b, o);
        if (af > 0xffff) af = u32be(b, o);
        if (af === 2) return this.ipv4(b, o + 4, end);
        if (af === 10 || af === 24 || af === 28 || af === 30) return this.ipv6(b, o + 4, end);
        return this.count(LINK_UNSUPPORTED);
      }
      case LinkType.RAW:
      case LinkType.RAW_12:
      case LinkType.RAW_OPENBSD:
        return this.ipAny(b, o, end);
      case LinkType.IPV4:
        return this.ipv4(b, o, end);
      case LinkType.IPV6:
        return this.ipv6(b, o, end);
      case LinkType.LINUX_SLL:
        // SLL: packet type (2), ARPHRD (2), address length (2), address (8), protocol (2)
        if (end - o < 16) return this.count(LINK_TRUNCATED);
        return this.etherType(b, o + 16, end, u16be(b, o + 14));
      case LinkType.LINUX_SLL2:
        // SLL2: protocol (2), reserved (2), ifindex (4), ARPHRD (2), type (1), addr len (1), addr (8)
        if (end - o < 20) return this.count(LINK_TRUNCATED);
        return this.etherType(b, o + 20, end, u16be(b, o));
      default:
        return this.count(LINK_UNSUPPORTED);
    }
  }

  private ethernet(b: Uint8Array, o: number, end: number): void {
    if (end - o < 14) return this.count(LINK_TRUNCATED);
    this.etherType(b, o + 14, end, u16be(b, o + 12));
  }

  /** Dispatch on an EtherType, peeling any 802.1Q / 802.1ad tags first. */
  private etherType(b: Uint8Array, o: number, end: number, type: number): void {
    while (type === EtherType.VLAN || type === EtherType.QINQ || type === EtherType.QINQ_OLD) {
      if (end - o < 4) return this.count(LINK_TRUNCATED);
      if (this.ctx.vlan < 0) this.ctx.vlan = u16be(b, o) & 0x0fff;
      type = u16be(b, o + 2);
      o += 4;
    }
    switch (type) {
      case EtherType.IPv4:
        return this.ipv4(b, o, end);
      case EtherType.IPv6:
        return this.ipv6(b, o, end);
      case EtherType.MPLS:
      case EtherType.MPLS_MC:
        return this.mpls(b, o, end);
      case EtherType.PPPOE_SESSION:
        return this.pppoe(b, o, end);
      default:
        return this.count(ETHER_UNSUPPORTED);
    }
  }

  /** RFC 3032: 4-byte label entries until the bottom-of-stack bit; the payload is IP (by its version nibble) or a pseudowire. */
  private mpls(b: Uint8Array, o: number, end: number): void {
    for (let n = 0; ; n++) {
      if (end - o < 4 || n > 16) return this.count(MPLS_TRUNCATED);
      const bos = (b[o + 2]! & 0x01) !== 0;
      o += 4;
      if (bos) break;
    }
    if (end - o < 1) return this.count(MPLS_TRUNCATED);
    const nib = b[o]! >> 4;
    if (nib === 4 || nib === 6) return this.ipAny(b, o, end);
    // RFC 4385 pseudowire control word (first nibble 0), then an Ethernet frame.
    if (nib === 0 && end - o >= 4) {
      if (this.enter('mpls-pw')) this.ethernet(b, o + 4, end);
      return;
    }
    return this.count(ETHER_UNSUPPORTED);
  }

  /** RFC 2516 PPPoE session: ver/type, code, session id, length, then a PPP protocol field. */
  private pppoe(b: Uint8Array, o: number, end: number): void {
    if (end - o < 8) return this.count(PPPOE_TRUNCATED);
    const len = u16be(b, o + 4);
    const pEnd = Math.min(end, o + 6 + len);
    const proto = u16be(b, o + 6);
    if (proto === 0x0021) return this.ipv4(b, o + 8, pEnd);
    if (proto === 0x0057) return this.ipv6(b, o + 8, pEnd);
    return this.count(ETHER_UNSUPPORTED);
  }

  private ipAny(b: Uint8Array, o: number, end: number): void {
    if (end - o < 1) return this.count(LINK_TRUNCATED);
    const v = b[o]! >> 4;
    if (v === 4) return this.ipv4(b, o, end);
    if (v === 6) return this.ipv6(b, o, end);
    return this.count(IPV4_BAD_VERSION);
  }

  /** Goes one encapsulation level deeper, bounded by MAX_ENCAP_DEPTH (false = too deep, counted). */
  private enter(name: string): boolean {
    if (this.ctx.depth >= MAX_ENCAP_DEPTH) {
      this.count(TUNNEL_TOO_DEEP);
      return false;
    }
    this.ctx.depth++;
    this.ctx.tunnels.push(name);
    return true;
  }

  // ───────────────────────────── network layer ─────────────────────────────

  /** RFC 791 §3.1 */
  private ipv4(b: Uint8Array, o: number, end: number): void {
    if (end - o < 20) return this.count(IPV4_TRUNCATED);
    const vihl = b[o]!;
    if (vihl >> 4 !== 4) return this.count(IPV4_BAD_VERSION);
    const ihl = (vihl & 0x0f) * 4;
    if (ihl < 20) return this.count(IPV4_BAD_IHL);
    const total = u16be(b, o + 2);
    // Total length 0 is what segmentation offload leaves in captures: trust the capture.
    if (total !== 0 && total < ihl) return this.count(IPV4_BAD_LENGTH);
    const ipEnd = total === 0 ? end : Math.min(end, o + total);
    if (ipEnd - o < ihl) return this.count(IPV4_TRUNCATED);
    const frag = u16be(b, o + 6);
    const proto = b[o + 9]!;
    this.ctx.ipCut = total !== 0 && o + total > end;
    this.ctx.af = 4;
    this.ctx.addrBuf = b;
    this.ctx.srcOff = o + 12;
    this.ctx.dstOff = o + 16;
    if ((frag & 0x3fff) === 0) return this.transportLayer(b, o + ihl, ipEnd, proto);
    // RFC 791 §3.2: fragment offset in 8-octet units, MF flag; the key is (src, dst, id, proto).
    if (this.ctx.ipCut) return this.count(IPV4_FRAGMENT_CUT);
    const key = `4|${u32be(b, o + 12)}|${u32be(b, o + 16)}|${u16be(b, o + 4)}|${proto}`;
    const r = this.defrag.add(key, (frag & 0x1fff) * 8, (frag & 0x2000) !== 0, proto, b.subarray(o + ihl, ipEnd), this.ctx.nowMicros, 65_535 - ihl);
    if (r === undefined) return;
    this.ctx.ipCut = false;
    this.transportLayer(r.payload, 0, r.payload.length, r.proto);
  }

  /** RFC 8200 §3: the fixed header, then the extension-header chain. */
  private ipv6(b: Uint8Array, o: number, end: number): void {
    if (end - o < 40) return this.count(IPV6_TRUNCATED);
    if (b[o]! >> 4 !== 6) return this.count(IPV6_BAD_VERSION);
    const plen = u16be(b, o + 4);
    // Payload length 0 means a jumbogram or offload: use what was captured.
    const ipEnd = plen === 0 ? end : Math.min(end, o + 40 + plen);
    this.ctx.af = 6;
    this.ctx.addrBuf = b;
    this.ctx.srcOff = o + 8;
    this.ctx.dstOff = o + 24;
    this.ctx.ipCut = plen !== 0 && o + 40 + plen > end;
    this.ipv6Chain(b, o + 40, ipEnd, b[o + 6]!, this.ctx.ipCut);
  }

  /** RFC 8200 §4: extension headers until an upper-layer protocol; restarts after reassembly. */
  private ipv6Chain(b: Uint8Array, p: number, ipEnd: number, next: number, cut: boolean): void {
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
          if (ipEnd - p < 8) return this.count(IPV6_EXT_TRUNCATED);
          next = b[p]!;
          p += (b[p + 1]! + 1) * 8;
          continue;
        }
        case IpProto.AH: {
          // RFC 4302 §2.2: payload length in 4-octet units, minus 2.
          if (ipEnd - p < 8) return this.count(IPV6_EXT_TRUNCATED);
          next = b[p]!;
          p += (b[p + 1]! + 2) * 4;
          continue;
        }
        case IpProto.FRAGMENT: {
          // RFC 8200 §4.5: next header (1), reserved (1), offset (13 bits) | res (2) | M (1), id (4).
          if (ipEnd - p < 8) return this.count(IPV6_EXT_TRUNCATED);
          const offField = u16be(b, p + 2);
          const offset = offField & 0xfff8;
          const more = (offField & 1) !== 0;
          next = b[p]!;
          p += 8;
          // RFC 6946: an atomic fragment is a whole packet.
          if (offset === 0 && !more) continue;
          if (cut) return this.count(IPV6_FRAGMENT_CUT);
          const a = this.ctx.addrBuf;
          const so = this.ctx.srcOff;
          const d = this.ctx.dstOff;
          const key = `6|${u32be(a, so)}|${u32be(a, so + 4)}|${u32be(a, so + 8)}|${u32be(a, so + 12)}|${u32be(a, d)}|${u32be(a, d + 4)}|${u32be(a, d + 8)}|${u32be(a, d + 12)}|${u32be(b, p - 4)}`;
          const r = this.defrag.add(key, offset, more, next, b.subarray(p, ipEnd), this.ctx.nowMicros);
          if (r === undefined) return;
          this.ctx.ipCut = false;
          b = r.payload;
          p = 0;
          ipEnd = b.length;
          next = r.proto;
          continue;
        }
        default:
          if (p > ipEnd) return this.count(IPV6_EXT_TRUNCATED);
          return this.transportLayer(b, p, ipEnd, next);
      }
    }
    this.count(IPV6_EXT_TRUNCATED);
  }

  private transportLayer(b: Uint8Array, o: number, end: number, proto: number): void {
    switch (proto) {
      case IpProto.UDP:
        return this.udp(b, o, end);
      case IpProto.TCP:
        return this.tcp.segment(b, o, end);
      case IpProto.GRE:
        return this.gre(b, o, end);
      case IpProto.IPIP:
        if (this.enter('ipip')) this.ipv4(b, o, end);
        return;
      case IpProto.IPV6:
        if (this.enter('ip6in4')) this.ipv6(b, o, end);
        return;
      default:
        // ICMP errors quote packets; quoted copies are not observations (DESIGN.md).
        return this.count(IP_PROTO_SKIPPED);
    }
  }

  // ───────────────────────────── tunnels ─────────────────────────────

  /** RFC 2784/2890 GRE, with ERSPAN type I/II/III (draft-foschiano-erspan) and TEB. */
  private gre(b: Uint8Array, o: number, end: number): void {
    if (end - o < 4) return this.count(TUNNEL_TRUNCATED);
    const flags = u16be(b, o);
    const proto = u16be(b, o + 2);
    if ((flags & 0x0007) !== 0) return this.count(TUNNEL_UNSUPPORTED); // version 1 = PPTP
    let p = o + 4;
    if (flags & 0x8000) p += 4; // checksum + reserved
    if (flags & 0x2000) p += 4; // key
    const seq = (flags & 0x1000) !== 0;
    if (seq) p += 4;
    if (p > end) return this.count(TUNNEL_TRUNCATED);
    switch (proto) {
      case EtherType.IPv4:
        if (this.enter('gre')) this.ipv4(b, p, end);
        return;
      case EtherType.IPv6:
        if (this.enter('gre')) this.ipv6(b, p, end);
        return;
      case EtherType.TEB:
        if (this.enter('gre')) this.ethernet(b, p, end);
        return;
      case EtherType.ERSPAN_2:
        // Type I has no sequence number and no ERSPAN header; type II has both (8 bytes).
        if (!seq) {
          if (this.enter('erspan1')) this.ethernet(b, p, end);
          return;
        }
        if (end - p < 8) return this.count(TUNNEL_TRUNCATED);
        if (this.enter('erspan2')) this.ethernet(b, p + 8, end);
        return;
      case EtherType.ERSPAN_3: {
        // Type III: 12-byte header, plus an 8-byte platform sub-header when O is set.
        if (end - p < 12) return this.count(TUNNEL_TRUNCATED);
        const hdr = (b[p + 11]! & 0x01) !== 0 ? 20 : 12;
        if (this.enter('erspan3')) this.ethernet(b, p + hdr, end);
        return;
      }
      default:
        return this.count(TUNNEL_UNSUPPORTED);
    }
  }

  /** RFC 7348 VXLAN: 8-byte header (I flag), then an Ethernet frame. */
  private vxlan(b: Uint8Array, o: number, end: number): boolean {
    if (end - o >= 1 && (b[o]! & 0x08) === 0) return false;
    if (end - o < 8 + 14) {
      this.count(TUNNEL_TRUNCATED);
      return true;
    }
    if (this.enter('vxlan')) this.ethernet(b, o + 8, end);
    return true;
  }

  /** RFC 8926 GENEVE: 8 bytes + options (length in 4-byte words), protocol type as EtherType. */
  private geneve(b: Uint8Array, o: number, end: number): boolean {
    if (end - o >= 1 && b[o]! >> 6 !== 0) return false;
    if (end - o < 8) {
      this.count(TUNNEL_TRUNCATED);
      return true;
    }
    const p = o + 8 + (b[o]! & 0x3f) * 4;
    const proto = u16be(b, o + 2);
    if (p > end) {
      this.count(TUNNEL_TRUNCATED);
      return true;
    }
    if (!this.enter('geneve')) return true;
    if (proto === EtherType.TEB) this.ethernet(b, p, end);
    else this.etherType(b, p, end, proto);
    return true;
  }

  /** 3GPP TS 29.281 GTP-U: G-PDU (type 0xff) carries a user IP packet. */
  private gtpu(b: Uint8Array, o: number, end: number): boolean {
    if (end - o < 2) return false;
    const flags = b[o]!;
    if (flags >> 5 !== 1 || (flags & 0x10) === 0 || b[o + 1] !== 0xff) return false;
    const truncated = (): boolean => {
      this.count(TUNNEL_TRUNCATED);
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
    if (this.enter('gtp-u')) this.ipAny(b, p, end);
    return true;
  }

  // ───────────────────────────── transport layer ─────────────────────────────

  /** RFC 768 */
  private udp(b: Uint8Array, o: number, end: number): void {
    if (end - o < 8) return this.count(UDP_TRUNCATED);
    const sport = u16be(b, o);
    const dport = u16be(b, o + 2);
    const ulen = u16be(b, o + 4);
    if (ulen !== 0 && ulen < 8) return this.count(UDP_BAD_LENGTH);
    const uEnd = ulen === 0 ? end : Math.min(end, o + ulen);
    const p = o + 8;
    this.ctx.sport = sport;
    this.ctx.dport = dport;
    this.ctx.transport = 'udp';
    if (this.dnsPort[sport] === 1 || this.dnsPort[dport] === 1) return this.dnsMessage(b.subarray(p, uEnd));
    if (dport === Port.VXLAN && this.vxlan(b, p, uEnd)) return;
    if (dport === Port.GENEVE && this.geneve(b, p, uEnd)) return;
    if ((dport === Port.GTP_U || sport === Port.GTP_U) && this.gtpu(b, p, uEnd)) return;
    // QUIC on any port, found by content (RFC 9000 §17.2 long header, Initial type).
    if (p < uEnd && (b[p]! & 0xc0) === 0xc0) {
      const payload = b.subarray(p, uEnd);
      if (looksLikeQuicInitial(payload)) this.quicDatagram(payload);
    }
  }

  /** RFC 9001 §5: decrypt client Initials, reassemble CRYPTO, parse the ClientHello. */
  private quicDatagram(payload: Uint8Array): void {
    const key = `${this.address(this.ctx.srcOff)}|${this.ctx.sport}|${this.address(this.ctx.dstOff)}|${this.ctx.dport}`;
    const r = this.quic.onDatagram(payload, key, this.ctx.nowMicros);
    if (r === undefined) return;
    if (isIssue(r)) {
      this.count(r);
      if (r.kind === 'truncated' && this.ctx.ipCut) this.count(NAME_SNAPLEN);
      return;
    }
    this.clientHello(r, 'quic_sni');
  }

  // ───────────────────────────── application layer ─────────────────────────────

  private dnsMessage(msg: Uint8Array): void {
    const issue = decodeDns(msg, this);
    if (issue) this.count(issue);
  }

  private clientHello(message: Uint8Array, kind: 'tls_sni' | 'quic_sni'): void {
    // With a filter (replay), validate and read the name first; the lists JA4 needs are
    // decoded only for a wanted name. Without one (names), every hello is wanted.
    const first = parseClientHello(message, this.accept !== undefined);
    if (isIssue(first)) return this.count(first);
    if (first.sni === undefined) return this.count(NAME_NO_SNI);
    if (!this.wanted(kind, first.sni, undefined)) return;
    const hello = this.accept === undefined ? first : parseClientHello(message);
    if (isIssue(hello)) return this.count(hello); // cannot happen: the same bytes validated above
    const o = this.observation(kind, first.sni);
    this.helloExtras(o, hello, kind === 'tls_sni' ? 't' : 'q');
    this.publish(o);
  }

  private helloExtras(o: Observation, h: ClientHello, transport: 't' | 'q'): void {
    if (h.alpn.length > 0) o.alpn = h.alpn;
    if (h.ech) o.ech = true;
    o.ja4 = ja4(h, transport);
  }

  // DnsSink
  wants(kind: 'dns_query' | 'dns_answer', name: string, cnameTarget: string | undefined): boolean {
    return this.wanted(kind, name, cnameTarget);
  }

  /** A decoded name nobody wants: counted, no observation (also DnsSink, for filtered names). */
  unwanted(kind: ObservationKind): void {
    this.stats.observations[kind]++;
  }

  query(name: string, qtype: string): void {
    const o = this.observation('dns_query', name);
    o.qtype = qtype;
    this.publish(o);
  }

  answer(name: string, rrtype: 'A' | 'AAAA' | 'CNAME', data: string): void {
    const o = this.observation('dns_answer', name);
    o.rrtype = rrtype;
    o.data = data;
    this.publish(o);
  }

  // HttpSink
  request(host: string, path: string): void {
    if (!this.wanted('http_host', host, undefined)) return;
    const o = this.observation('http_host', host);
    o.http_path = path;
    this.publish(o);
  }

  /**
   * Decoded names are counted; an Observation (addresses formatted, JA4 computed) is built
   * only when the consumer wants this one: `names` wants all, `replay` only matches.
   */
  private wanted(kind: ObservationKind, name: string, cnameTarget: string | undefined): boolean {
    if (this.accept === undefined || this.accept(kind, name, cnameTarget)) return true;
    this.unwanted(kind);
    return false;
  }

  private observation(kind: ObservationKind, name: string): Observation {
    const f = this.ctx.frame;
    const t = { sec: f.time.sec, nsec: f.time.nsec, digits: f.time.digits };
    const o: Observation = {
      kind,
      name,
      time: t,
      tsMicros: toMicros(t),
      frame: f.frame,
      src: this.address(this.ctx.srcOff),
      dst: this.address(this.ctx.dstOff),
      sport: this.ctx.sport,
      dport: this.ctx.dport,
      transport: this.ctx.transport,
    };
    if (this.ctx.vlan >= 0) o.vlan = this.ctx.vlan;
    if (this.ctx.tunnels.length > 0) o.tunnel = this.ctx.tunnels.slice();
    if (this.source !== undefined) o.source = this.source;
    return o;
  }

  /** The current packet's address at `off` as text (cached: hosts repeat). */
  private address(off: number): string {
    return this.ctx.af === 4 ? ipv4Text(this.ctx.addrBuf, off) : ipv6Text(this.ctx.addrBuf, off);
  }

  private publish(o: Observation): void {
    this.stats.observations[o.kind]++;
    this.emit(o);
  }
}
