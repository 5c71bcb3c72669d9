import { u16be, u32be, u32le } from './bytes.js';
import { decodeDns, DNS_TCP_LENGTH, type DnsSink } from './dns.js';
import { parseHttpRequests, looksLikeHttpRequest, type HttpSink } from './http.js';
import { ipv4ToString, ipv6ToString } from './ipfmt.js';
import { defineIssue, IssueCounter, isIssue, type DecodeIssue } from './issues.js';
import type { Observation, ObservationKind } from './observation.js';
import type { RawFrame } from './packet.js';
import { Defragmenter } from './defrag.js';
import { AppKind, FlowState, FlowTable, seqDiff, type AppKindValue, type Flow } from './flows.js';
import { EtherType, IpProto, LinkType, Port } from './protocols.js';
import { toMicros } from './timefmt.js';
import {
  looksLikeTlsHandshake,
  MAX_CLIENT_HELLO_BYTES,
  parseClientHello,
  readClientHelloMessage,
  TLS_HELLO_TOO_LARGE,
  type ClientHello,
} from './tls.js';
import { ja4 } from './ja4.js';
import { looksLikeQuicInitial, QuicInitialAssembler } from './quic.js';

/**
 * Frame → link → network → transport → application, synchronously, with no allocation
 * until something yields an observation. Every layer checks its fixed header length once,
 * clamps to the length its header claims (tcpdump's nd_push_snaplen) and, when it cannot
 * go on, counts a DecodeIssue and returns: a decoder never throws out of the pipeline.
 * Per-packet context (addresses, ports, VLAN, tunnels) lives in fields of this object,
 * overwritten by each layer, so a tunnel's inner header simply replaces the outer one.
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
export const TCP_TRUNCATED = defineIssue('tcp', 'truncated', 'header');
export const TCP_BAD_OFFSET = defineIssue('tcp', 'invalid', 'data_offset');
export const TUNNEL_TRUNCATED = defineIssue('tunnel', 'truncated', 'header');
export const TUNNEL_UNSUPPORTED = defineIssue('tunnel', 'skipped', 'unsupported');
export const TUNNEL_TOO_DEEP = defineIssue('tunnel', 'skipped', 'too_deep');
export const MPLS_TRUNCATED = defineIssue('mpls', 'truncated', 'label_stack');
export const PPPOE_TRUNCATED = defineIssue('pppoe', 'truncated', 'header');
/**
 * Why a flow or message that could carry a name did not yield one (issue 3 §6): these
 * let an analyst trust "no Kaspersky traffic here". Layer `name`, one reason each.
 */
export const NAME_NO_SNI = defineIssue('name', 'skipped', 'client_hello_without_sni');
export const NAME_GAP = defineIssue('name', 'truncated', 'reassembly_gap');
export const NAME_SNAPLEN = defineIssue('name', 'truncated', 'capture_truncated');
export const NAME_MIDSTREAM = defineIssue('name', 'skipped', 'midstream');
export const NAME_LIMIT = defineIssue('name', 'skipped', 'limit_exceeded');
export const NAME_MALFORMED = defineIssue('name', 'invalid', 'malformed');
export const NAME_EVICTED = defineIssue('name', 'skipped', 'flow_evicted');
export const NAME_INCOMPLETE = defineIssue('name', 'truncated', 'incomplete_at_end');
export const NAME_IDLE = defineIssue('name', 'truncated', 'idle_timeout');
export const DECODER_BUG = defineIssue('decoder', 'invalid', 'internal_error');

/** Tunnels nest (GRE in VXLAN in ...); past this depth a packet is dropped, counted. */
export const MAX_ENCAP_DEPTH = 8;
/** Client-stream bytes kept per flow: the largest ClientHello we read plus its record headers. */
export const MAX_STREAM_BYTES = MAX_CLIENT_HELLO_BYTES + 1024;
/** A first segment shorter than this that could start a hello or request is waited on. */
const SHORT_PREFIX = 8;
/** Out-of-order segments held per flow before the gap fills. */
export const MAX_OOO_SEGMENTS = 32;
export const DEFAULT_MAX_FLOWS = 65_536;
export const DEFAULT_FLOW_IDLE_SECONDS = 120;
/** TCP destination ports where a connection picked up mid-stream is counted as a possibly missed name. */
export const NAME_PORTS: readonly number[] = [80, 443, 8080, 8443, 853];

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

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
  private readonly dnsPort: Uint8Array = new Uint8Array(65536);
  private readonly namePort: Uint8Array = new Uint8Array(65536);
  private readonly flows: FlowTable;
  private readonly defrag = new Defragmenter((i) => this.count(i));
  private readonly quic = new QuicInitialAssembler();
  /** Packet time of the current frame, and when state was last swept for idle entries. */
  private nowMicros = 0;
  private lastSweepMicros = 0;
  /** The current TCP segment's presence-filter key and tuple hash (-1: not computed yet). */
  private qk = 0;
  private hash = -1;
  /** The current IP packet was cut by the snap length (its header claims more than was captured). */
  private ipCut = false;
  /** Bytes of an HTTP body the last `consume` left to come. */
  private httpSkip = 0;
  /** Set for the duration of one frame. */
  private frame!: RawFrame;
  private source: string | undefined;
  // Per-packet context, overwritten layer by layer (inner headers replace outer ones).
  private af: 4 | 6 = 4;
  private addrBuf: Uint8Array = new Uint8Array(0);
  private srcOff = 0;
  private dstOff = 0;
  private sport = 0;
  private dport = 0;
  private transport: 'udp' | 'tcp' = 'udp';
  private vlan = -1;
  private depth = 0;
  private readonly tunnels: string[] = [];

  private readonly accept: DecoderOptions['accept'];

  constructor(
    private readonly emit: (o: Observation) => void,
    opts: DecoderOptions = {},
  ) {
    this.accept = opts.accept;
    for (const p of opts.dnsPorts ?? [Port.DNS]) this.dnsPort[p] = 1;
    for (const p of NAME_PORTS) this.namePort[p] = 1;
    const limits = opts.limits ?? { maxFlows: DEFAULT_MAX_FLOWS, flowIdleSeconds: DEFAULT_FLOW_IDLE_SECONDS };
    this.flows = new FlowTable(limits.maxFlows, limits.flowIdleSeconds * 1_000_000, (f, why) => this.flowLost(f, why));
  }

  /** Names the file the following frames come from (copied into observations). */
  setSource(name: string | undefined): void {
    this.source = name;
  }

  /** End of input: flows still waiting for bytes are counted as unrecovered. */
  finish(): void {
    this.flows.drain((f) => this.flowLost(f, 'end'));
  }

  /** Evictions and timeouts from bounded state tables, by table. */
  evictions(): Record<string, number> {
    return {
      tcp_flows: this.flows.evictions,
      tcp_flows_idle: this.flows.timeouts,
      ip_fragments: this.defrag.evictions,
      ip_fragments_timeout: this.defrag.timeouts,
      quic_connections: this.quic.evictions,
      quic_connections_timeout: this.quic.timeouts,
    };
  }

  /** Entries currently held in bounded state (for tests and metrics). */
  pending(): { flows: number; fragmentTrains: number; quicConnections: number } {
    return { flows: this.flows.size, fragmentTrains: this.defrag.pending, quicConnections: this.quic.pendingCount };
  }

  onFrame(f: RawFrame): void {
    this.frame = f;
    this.stats.frames++;
    this.stats.bytes += f.caplen;
    this.vlan = -1;
    this.depth = 0;
    if (this.tunnels.length > 0) this.tunnels.length = 0;
    const now = f.time.sec * 1_000_000 + ((f.time.nsec / 1000) | 0);
    this.nowMicros = now;
    if (now - this.lastSweepMicros > 1_000_000 || now < this.lastSweepMicros) {
      // Idle state is swept at most once per second of packet time.
      this.lastSweepMicros = now;
      this.flows.expire(now);
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
      if (this.vlan < 0) this.vlan = u16be(b, o) & 0x0fff;
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
    if (this.depth >= MAX_ENCAP_DEPTH) {
      this.count(TUNNEL_TOO_DEEP);
      return false;
    }
    this.depth++;
    this.tunnels.push(name);
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
    this.ipCut = total !== 0 && o + total > end;
    this.af = 4;
    this.addrBuf = b;
    this.srcOff = o + 12;
    this.dstOff = o + 16;
    if ((frag & 0x3fff) === 0) return this.transportLayer(b, o + ihl, ipEnd, proto);
    // RFC 791 §3.2: fragment offset in 8-octet units, MF flag; the key is (src, dst, id, proto).
    if (this.ipCut) return this.count(IPV4_FRAGMENT_CUT);
    const key = `4|${u32be(b, o + 12)}|${u32be(b, o + 16)}|${u16be(b, o + 4)}|${proto}`;
    const r = this.defrag.add(key, (frag & 0x1fff) * 8, (frag & 0x2000) !== 0, proto, b.subarray(o + ihl, ipEnd), this.nowMicros, 65_535 - ihl);
    if (r === undefined) return;
    this.ipCut = false;
    this.transportLayer(r.payload, 0, r.payload.length, r.proto);
  }

  /** RFC 8200 §3: the fixed header, then the extension-header chain. */
  private ipv6(b: Uint8Array, o: number, end: number): void {
    if (end - o < 40) return this.count(IPV6_TRUNCATED);
    if (b[o]! >> 4 !== 6) return this.count(IPV6_BAD_VERSION);
    const plen = u16be(b, o + 4);
    // Payload length 0 means a jumbogram or offload: use what was captured.
    const ipEnd = plen === 0 ? end : Math.min(end, o + 40 + plen);
    this.af = 6;
    this.addrBuf = b;
    this.srcOff = o + 8;
    this.dstOff = o + 24;
    this.ipCut = plen !== 0 && o + 40 + plen > end;
    this.ipv6Chain(b, o + 40, ipEnd, b[o + 6]!, this.ipCut);
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
          const a = this.addrBuf;
          const so = this.srcOff;
          const d = this.dstOff;
          const key = `6|${u32be(a, so)}|${u32be(a, so + 4)}|${u32be(a, so + 8)}|${u32be(a, so + 12)}|${u32be(a, d)}|${u32be(a, d + 4)}|${u32be(a, d + 8)}|${u32be(a, d + 12)}|${u32be(b, p - 4)}`;
          const r = this.defrag.add(key, offset, more, next, b.subarray(p, ipEnd), this.nowMicros);
          if (r === undefined) return;
          this.ipCut = false;
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
        return this.tcp(b, o, end);
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
    this.sport = sport;
    this.dport = dport;
    this.transport = 'udp';
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
    const fmt = this.af === 4 ? ipv4ToString : ipv6ToString;
    const key = `${fmt(this.addrBuf, this.srcOff)}|${this.sport}|${fmt(this.addrBuf, this.dstOff)}|${this.dport}`;
    const r = this.quic.onDatagram(payload, key, this.nowMicros);
    if (r === undefined) return;
    if (isIssue(r)) {
      this.count(r);
      if (r.kind === 'truncated' && this.ipCut) this.count(NAME_SNAPLEN);
      return;
    }
    this.clientHello(r, 'quic_sni');
  }

  /** RFC 9293 §3.1 */
  private tcp(b: Uint8Array, o: number, end: number): void {
    if (end - o < 20) return this.count(TCP_TRUNCATED);
    const dataOff = (b[o + 12]! >> 4) * 4;
    if (dataOff < 20) return this.count(TCP_BAD_OFFSET);
    const sport = u16be(b, o);
    const dport = u16be(b, o + 2);
    const seq = u32be(b, o + 4);
    const flags = b[o + 13]!;
    if (o + dataOff > end) return this.count(TCP_TRUNCATED); // options cut by the snap length
    const p = o + dataOff;
    this.sport = sport;
    this.dport = dport;
    this.transport = 'tcp';
    const flows = this.flows;
    const syn = (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    // A bare ACK carries nothing and changes no flow.
    if (p >= end && (flags & (TCP_SYN | TCP_FIN | TCP_RST)) === 0) return;
    const alen = this.af === 4 ? 4 : 16;
    this.qk = FlowTable.quickKey(this.addrBuf, this.srcOff, this.dstOff, alen, sport, dport);
    this.hash = -1; // computed when needed (a lookup past the filter, or a new flow)
    let flow: Flow | undefined;
    if (flows.mayContain(this.qk)) {
      this.hash = FlowTable.hashOf(this.addrBuf, this.srcOff, this.dstOff, alen, sport, dport);
      flow = flows.find(this.hash, this.addrBuf, this.srcOff, this.dstOff, this.af, sport, dport);
    }
    if (flow === undefined) {
      if (syn) {
        // A client opens a connection: remember where its stream starts, so segments that
        // arrive out of order before the first one can be put back in place.
        this.newFlow(sport, dport).nextSeq = (seq + 1) >>> 0;
      } else if (p < end) {
        this.fresh(b, p, end, seq, sport, dport);
      }
      return;
    }
    if (flags & TCP_SYN) {
      if (flow.state === FlowState.AwaitData) flow.nextSeq = (seq + 1) >>> 0; // SYN retransmitted
      return;
    }
    if (flags & TCP_RST) return this.endFlow(flow, 'end');
    if (p < end) {
      if (flow.state === FlowState.Ignore) this.afterDone(flow, b, p, end, seq);
      else this.feed(flow, b, p, end, seq);
    }
    if (flags & TCP_FIN) this.endFlow(flow, 'end');
  }

  /** A new flow for the current packet's 4-tuple (`qk`/`hash` of this packet, set in tcp()). */
  private newFlow(sport: number, dport: number): Flow {
    const alen = this.af === 4 ? 4 : 16;
    if (this.hash < 0) this.hash = FlowTable.hashOf(this.addrBuf, this.srcOff, this.dstOff, alen, sport, dport);
    return this.flows.create(this.hash, this.qk, this.addrBuf, this.srcOff, this.dstOff, this.af, sport, dport, this.nowMicros);
  }

  /** What the first bytes of a client stream are, by port hint then a cheap content probe. */
  private classify(b: Uint8Array, p: number, end: number, sport: number, dport: number): AppKindValue {
    if (this.dnsPort[sport] === 1 || this.dnsPort[dport] === 1) return AppKind.Dns;
    if (looksLikeTlsHandshake(b, p, end)) return AppKind.Tls;
    if (looksLikeHttpRequest(b, p, end)) return AppKind.Http;
    // RFC 8446 §D.4: a second ClientHello (after HelloRetryRequest) may follow a
    // middlebox-compatibility ChangeCipherSpec record in the same segment.
    if (end - p > 12 && b[p] === 0x14 && b[p + 1] === 0x03 && u16be(b, p + 3) === 1 && looksLikeTlsHandshake(b, p + 6, end)) {
      return AppKind.Tls;
    }
    return AppKind.Unknown;
  }

  /**
   * Too short to classify but could be the start of a ClientHello or a request (clients and
   * evasion tools split the first bytes on purpose): wait for more before deciding.
   */
  private couldStart(b: Uint8Array, p: number, end: number): boolean {
    if (end - p >= SHORT_PREFIX) return false;
    const c = b[p]!;
    return c === 0x16 || c === 0x14 || (c >= 0x41 && c <= 0x5a);
  }

  /** A data segment of a connection with no flow state (no SYN seen, or state forgotten). */
  private fresh(b: Uint8Array, p: number, end: number, seq: number, sport: number, dport: number): void {
    const segEnd = (seq + (end - p)) >>> 0;
    const kind = this.classify(b, p, end, sport, dport);
    if (kind !== AppKind.Unknown) return this.message(undefined, kind, b.subarray(p, end), segEnd, sport, dport);
    if (this.couldStart(b, p, end)) {
      const f = this.newFlow(sport, dport);
      f.state = FlowState.Buffering;
      f.nextSeq = segEnd;
      this.append(f, b.subarray(p, end));
      return;
    }
    if (this.namePort[dport] === 1) {
      // Counted once per connection: the tombstone absorbs its later segments.
      this.count(NAME_MIDSTREAM);
      this.tombstone(this.newFlow(sport, dport), segEnd);
    }
  }

  /**
   * Runs the parser on a segment that starts a message (the common case costs no state: a
   * ClientHello or request in one segment); keeps a flow only when the message continues.
   */
  private message(flow: Flow | undefined, kind: AppKindValue, view: Uint8Array, segEnd: number, sport: number, dport: number): void {
    this.httpSkip = 0;
    const used = this.consume(kind, view);
    if (used === view.length && this.httpSkip === 0) {
      if (flow !== undefined) this.tombstone(flow, segEnd);
      else if (this.namePort[dport] === 1) this.tombstone(this.newFlow(sport, dport), segEnd);
      return;
    }
    if (this.ipCut) {
      this.count(NAME_SNAPLEN);
      if (flow !== undefined) this.tombstone(flow, segEnd);
      else this.tombstone(this.newFlow(sport, dport), segEnd);
      return;
    }
    const f = flow ?? this.newFlow(sport, dport);
    f.state = FlowState.Buffering;
    f.app = kind;
    f.nextSeq = segEnd;
    f.bufLen = 0;
    f.skip = this.httpSkip;
    f.streamBytes = used;
    this.append(f, view.subarray(used));
  }

  /**
   * A segment of a connection whose name was read (or that carries none). New data that
   * starts a message is parsed (a kept-alive connection's next request). Old data is a
   * retransmission: like tshark, a complete message in it is reported again, but an
   * unfinished one starts no new buffer.
   */
  private afterDone(flow: Flow, b: Uint8Array, p: number, end: number, seq: number): void {
    const segEnd = (seq + (end - p)) >>> 0;
    const kind = this.classify(b, p, end, flow.sport, flow.dport);
    if (seqDiff(segEnd, flow.nextSeq) <= 0) {
      if (kind !== AppKind.Unknown) this.consume(kind, b.subarray(p, end));
      return;
    }
    if (kind === AppKind.Unknown) {
      flow.nextSeq = segEnd;
      if (this.nowMicros - flow.lastMicros > 1_000_000) this.flows.touch(flow, this.nowMicros);
      return;
    }
    this.flows.touch(flow, this.nowMicros);
    this.message(flow, kind, b.subarray(p, end), segEnd, flow.sport, flow.dport);
  }

  /** A segment of a flow under reassembly: put it in sequence order, then try the parser. */
  private feed(flow: Flow, b: Uint8Array, p: number, end: number, seq: number): void {
    this.flows.touch(flow, this.nowMicros);
    const d = seqDiff(seq, flow.nextSeq);
    if (d > 0) {
      // Out of order: hold it until the gap before it fills.
      if (d > MAX_STREAM_BYTES) return;
      const ooo = (flow.ooo ??= []);
      if (ooo.length >= MAX_OOO_SEGMENTS) return this.dropFlow(flow, NAME_LIMIT);
      ooo.push({ seq, data: b.slice(p, end) }); // copy: outlives frame
      return;
    }
    if (d < 0) {
      // Retransmission or overlap: the first copy of each byte wins.
      p -= d;
      if (p >= end) return;
    }
    const cut = this.ipCut;
    if (flow.bufLen === 0 && flow.skip === 0 && (flow.ooo === undefined || flow.ooo.length === 0)) {
      // Nothing buffered: parse straight from the segment, keep only an unfinished tail.
      flow.nextSeq = (flow.nextSeq + (end - p)) >>> 0;
      return this.process(flow, b.subarray(p, end), false, cut);
    }
    if (flow.ooo !== undefined && flow.ooo.length > 0) {
      // Held segments arrived first, so their bytes win where they overlap this one.
      flow.ooo.push({ seq: flow.nextSeq, data: b.slice(p, end) }); // copy: outlives frame
      if (!this.mergeHeld(flow)) return;
    } else {
      flow.nextSeq = (flow.nextSeq + (end - p)) >>> 0;
      if (!this.skipBody(flow, b.subarray(p, end))) return;
    }
    if (flow.bufLen > 0) this.process(flow, flow.buf!.subarray(0, flow.bufLen), true, cut);
  }

  /**
   * Parses contiguous stream bytes from a message boundary (`buffered`: they are the flow's
   * own buffer; otherwise a view of the current segment) and keeps what is unfinished.
   */
  private process(flow: Flow, view: Uint8Array, buffered: boolean, cut: boolean): void {
    if (view.length === 0) return;
    if (flow.app === AppKind.Unknown) {
      const kind = this.classify(view, 0, view.length, flow.sport, flow.dport);
      if (kind === AppKind.Unknown) {
        if (this.couldStart(view, 0, view.length) && !cut) {
          flow.state = FlowState.Buffering;
          if (!buffered) this.append(flow, view);
          return;
        }
        return this.tombstone(flow, flow.nextSeq);
      }
      flow.app = kind;
      flow.state = FlowState.Buffering;
    }
    this.httpSkip = 0;
    const used = this.consume(flow.app, view);
    if (used === view.length && this.httpSkip === 0) return this.tombstone(flow, flow.nextSeq);
    if (cut) return this.dropFlow(flow, NAME_SNAPLEN);
    flow.skip += this.httpSkip;
    if (buffered) {
      if (used > 0) {
        flow.buf!.copyWithin(0, used, flow.bufLen);
        flow.bufLen -= used;
      }
    } else {
      flow.streamBytes += used;
      this.append(flow, view.subarray(used));
    }
  }

  /** Appends in-order bytes, first dropping what remains of an HTTP body being skipped. */
  private skipBody(flow: Flow, data: Uint8Array): boolean {
    if (flow.skip > 0) {
      const n = Math.min(flow.skip, data.length);
      flow.skip -= n;
      data = data.subarray(n);
    }
    return data.length === 0 || this.append(flow, data);
  }

  /**
   * Appends held segments that now continue the stream, in arrival order: at each point the
   * earliest-arrived segment covering it supplies the bytes, clipped where an even earlier
   * segment takes over (the first copy of every byte wins).
   */
  private mergeHeld(flow: Flow): boolean {
    const ooo = flow.ooo!;
    for (;;) {
      let best = -1;
      for (let i = 0; i < ooo.length; i++) {
        const s = ooo[i]!;
        if (seqDiff(s.seq, flow.nextSeq) <= 0 && seqDiff((s.seq + s.data.length) >>> 0, flow.nextSeq) > 0) {
          best = i;
          break;
        }
      }
      if (best < 0) break;
      const c = ooo[best]!;
      let limit = (c.seq + c.data.length) >>> 0;
      for (let j = 0; j < best; j++) {
        const s = ooo[j]!;
        if (seqDiff(s.seq, flow.nextSeq) > 0 && seqDiff(s.seq, limit) < 0) limit = s.seq;
      }
      const piece = c.data.subarray(seqDiff(flow.nextSeq, c.seq), seqDiff(limit, c.seq));
      flow.nextSeq = limit;
      if (!this.skipBody(flow, piece)) return false;
    }
    flow.ooo = ooo.filter((s) => seqDiff((s.seq + s.data.length) >>> 0, flow.nextSeq) > 0);
    return true;
  }

  /**
   * The flow's name (or message) was read, or it carries none: its bytes are forgotten, and
   * a cheap tombstone stays so the rest of the connection is neither mistaken for one picked
   * up mid-stream nor re-buffered by retransmissions.
   */
  private tombstone(flow: Flow, nextSeq: number): void {
    flow.state = FlowState.Ignore;
    flow.nextSeq = nextSeq;
    flow.buf = undefined;
    flow.bufLen = 0;
    flow.skip = 0;
    flow.ooo = undefined;
  }

  /** Appends stream bytes to a flow's buffer; false (flow dropped) past MAX_STREAM_BYTES. */
  private append(flow: Flow, data: Uint8Array): boolean {
    const need = flow.bufLen + data.length;
    flow.streamBytes += data.length;
    if (need > MAX_STREAM_BYTES || flow.streamBytes > 4 * MAX_STREAM_BYTES) {
      this.dropFlow(flow, NAME_LIMIT);
      return false;
    }
    if (flow.buf === undefined || flow.buf.length < need) {
      const nb = new Uint8Array(Math.min(MAX_STREAM_BYTES, Math.max(need, 2048, (flow.buf?.length ?? 0) * 2)));
      if (flow.buf) nb.set(flow.buf.subarray(0, flow.bufLen));
      flow.buf = nb;
    }
    flow.buf.set(data, flow.bufLen); // copy: outlives frame
    flow.bufLen = need;
    return true;
  }

  /**
   * Runs the application parser over stream bytes from a message boundary; returns the bytes
   * fully used (names emitted). Fewer than given means the rest needs more bytes. An HTTP
   * body that continues past the bytes given is left in `httpSkip`.
   */
  private consume(kind: AppKindValue, v: Uint8Array): number {
    switch (kind) {
      case AppKind.Tls: {
        const r = readClientHelloMessage(v);
        if (isIssue(r)) {
          this.count(r);
          this.count(r === TLS_HELLO_TOO_LARGE ? NAME_LIMIT : NAME_MALFORMED);
          return v.length;
        }
        if (r.status === 'need_more') return 0;
        this.clientHello(r.message, 'tls_sni');
        return v.length;
      }
      case AppKind.Http: {
        const r = parseHttpRequests(v, 0, v.length, this);
        if (r.issue) this.count(r.issue);
        this.httpSkip = r.bodyRemaining;
        return r.needMore ? r.consumed : v.length;
      }
      case AppKind.Dns: {
        // RFC 1035 §4.2.2 / RFC 7766 §8: each message is preceded by a two-byte length.
        let q = 0;
        while (v.length - q >= 2) {
          const len = u16be(v, q);
          if (len === 0) {
            this.count(DNS_TCP_LENGTH);
            return v.length;
          }
          if (v.length - q - 2 < len) break;
          this.dnsMessage(v.subarray(q + 2, q + 2 + len));
          q += 2 + len;
        }
        return q;
      }
      default:
        return v.length;
    }
  }

  /** Gives up on a flow that could still have produced a name, counting why. */
  private dropFlow(flow: Flow, why: DecodeIssue): void {
    this.count(why);
    this.tombstone(flow, flow.nextSeq);
  }

  /** FIN/RST: a flow still waiting for bytes ends without its name. */
  private endFlow(flow: Flow, why: 'end'): void {
    if (!flow.inTable) return;
    this.flows.remove(flow);
    this.flowLost(flow, why);
  }

  /** Counts why a flow that left the table had not yielded its name (nothing if it had). */
  private flowLost(flow: Flow, why: 'end' | 'evicted' | 'timeout'): void {
    const held = flow.ooo !== undefined && flow.ooo.length > 0;
    if (flow.state === FlowState.AwaitData) {
      if (held) this.count(NAME_GAP);
      return;
    }
    if (flow.state !== FlowState.Buffering || flow.app === AppKind.Unknown) return;
    if (why === 'evicted') this.count(NAME_EVICTED);
    else if (held) this.count(NAME_GAP);
    else if (why === 'timeout') this.count(NAME_IDLE);
    else if (flow.app !== AppKind.Dns || flow.bufLen > 0) this.count(NAME_INCOMPLETE);
  }

  // ───────────────────────────── application layer ─────────────────────────────

  private dnsMessage(msg: Uint8Array): void {
    const issue = decodeDns(msg, this);
    if (issue) this.count(issue);
  }

  private clientHello(message: Uint8Array, kind: 'tls_sni' | 'quic_sni'): void {
    const hello = parseClientHello(message);
    if (isIssue(hello)) return this.count(hello);
    if (hello.sni === undefined) return this.count(NAME_NO_SNI);
    if (!this.wanted(kind, hello.sni, undefined)) return;
    const o = this.observation(kind, hello.sni);
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
    this.stats.observations[kind]++;
    return false;
  }

  private observation(kind: ObservationKind, name: string): Observation {
    const f = this.frame;
    const t = { sec: f.time.sec, nsec: f.time.nsec, digits: f.time.digits };
    const fmt = this.af === 4 ? ipv4ToString : ipv6ToString;
    const o: Observation = {
      kind,
      name,
      time: t,
      tsMicros: toMicros(t),
      frame: f.frame,
      src: fmt(this.addrBuf, this.srcOff),
      dst: fmt(this.addrBuf, this.dstOff),
      sport: this.sport,
      dport: this.dport,
      transport: this.transport,
    };
    if (this.vlan >= 0) o.vlan = this.vlan;
    if (this.tunnels.length > 0) o.tunnel = this.tunnels.slice();
    if (this.source !== undefined) o.source = this.source;
    return o;
  }

  private publish(o: Observation): void {
    this.stats.observations[o.kind]++;
    this.emit(o);
  }
}
