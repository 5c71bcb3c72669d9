import { ipv4Text, ipv6Text } from '../common/address.js';
import { toMicros, type PacketTime } from '../common/time.js';
import { decodeDns, type DnsSink } from './app/dns.js';
import type { HttpSink } from './app/http.js';
import { ja4 } from './app/ja4.js';
import type { NameFilter } from './app/name-filter.js';
import { DEFAULT_QUIC_BYTES, QUIC_UNSUPPORTED_VERSION, QuicInitialAssembler } from './app/quic.js';
import { parseClientHello, type ClientHello } from './app/tls.js';
import { defineIssue, IssueCounter, isIssue, type DecodeIssue } from './issues.js';
import type { ConnectionKind, ConnectionReason, Observation, ObservationKind } from './observation.js';
import { u32be } from '../common/bytes.js';
import { PacketContext } from './packet/context.js';
import { Defragmenter, MAX_FRAG_BYTES, MAX_TRAINS } from './packet/defrag.js';
import type { Layers } from './packet/layers.js';
import { ethernet, link, LINK_UNSUPPORTED } from './packet/link.js';
import { Coverage } from './coverage.js';
import { LinkType, Port } from './packet/protocols.js';
import type { RawFrame } from './read/frame.js';
import { DEFAULT_FLOW_BYTES, DEFAULT_FLOW_IDLE_SECONDS, DEFAULT_MAX_FLOWS, TcpStreams, type StreamApp } from './tcp/streams.js';
import { NAME_NO_SNI, NAME_SNAPLEN } from './unrecovered.js';

/**
 * Frame → link → network → transport → application, synchronously, with no allocation
 * until something yields an observation. Every layer checks its fixed header length once,
 * clamps to the length its header claims (tcpdump's nd_push_snaplen) and, when it cannot
 * go on, counts a DecodeIssue and returns: a decoder never throws out of the pipeline.
 * Per-packet context (addresses, ports, VLAN, tunnels) lives in one PacketContext,
 * overwritten by each layer, so a tunnel's inner header simply replaces the outer one.
 * The layers are packet/*.ts, TCP client streams tcp/streams.ts, the application decoders
 * app/*.ts; this file wires them and turns what they find into Observations.
 */

export const DECODER_BUG = defineIssue('decoder', 'invalid', 'internal_error');

/** An HTTP Host that is an address, not a name: digits and dots (IPv4), or a colon (IPv6, brackets already removed). */
export function isIpLiteral(host: string): boolean {
  const c = host.charCodeAt(0);
  if (host.includes(':')) return true;
  if (c < 0x30 || c > 0x39) return false;
  for (let i = 0; i < host.length; i++) {
    const d = host.charCodeAt(i);
    if (d !== 0x2e && (d < 0x30 || d > 0x39)) return false;
  }
  return true;
}

/** Bounds of the decoder's state tables (limits.* in the config). */
export interface DecoderLimits {
  /** TCP flows under reassembly (and tombstones of finished ones): count, bytes, idle timeout. */
  readonly maxFlows: number;
  readonly flowBytes: number;
  readonly flowIdleSeconds: number;
  /** IP fragment trains waiting to be completed: bytes. */
  readonly fragmentBytes: number;
  /** QUIC connections whose ClientHello is being reassembled: bytes. */
  readonly quicBytes: number;
}

export const DEFAULT_DECODER_LIMITS: DecoderLimits = {
  maxFlows: DEFAULT_MAX_FLOWS,
  flowBytes: DEFAULT_FLOW_BYTES,
  flowIdleSeconds: DEFAULT_FLOW_IDLE_SECONDS,
  fragmentBytes: MAX_FRAG_BYTES,
  quicBytes: DEFAULT_QUIC_BYTES,
};

export interface DecoderOptions {
  /** UDP/TCP ports carrying DNS (default [53]). */
  dnsPorts?: readonly number[];
  /** Also recognise DNS by content on other UDP ports (default true; see looksLikeDns). */
  dnsHeuristic?: boolean;
  limits?: DecoderLimits;
  /** Which names deserve an Observation (default: all). See app/name-filter.ts. */
  nameFilter?: NameFilter | undefined;
}

export interface DecoderStats {
  frames: number;
  bytes: number;
  /** Names decoded, by kind (observations made and names the filter passed over). */
  observations: Record<ObservationKind, number>;
}

/** An Observation with its optional fields present (undefined when unset): see Decoder.analysisObservation. */
type DenseObservation = { [K in keyof Observation]-?: Observation[K] | undefined };

export class Decoder implements Layers, DnsSink, HttpSink {
  readonly issues = new IssueCounter();
  /** What could not be decoded, frame by frame (coverage.ts). */
  readonly coverage = new Coverage();
  /** The last issue counted during the current frame: what ended it, if it ended early. */
  private lastIssue: DecodeIssue | undefined;
  /** Connection starts that showed no name (ip_connection observations made). */
  connections = 0;
  readonly stats: DecoderStats = {
    frames: 0,
    bytes: 0,
    observations: { dns_query: 0, dns_answer: 0, tls_sni: 0, http_host: 0, quic_sni: 0 },
  };
  // Layers: what the packet layers (packet/*.ts) read and hand data to.
  readonly ctx = new PacketContext();
  readonly dnsPort: Uint8Array = new Uint8Array(65536);
  /** Layers: look for DNS by content on other UDP ports too (set with setDnsPorts). */
  dnsHeuristic = true;
  readonly tcp: TcpStreams;
  readonly defrag: Defragmenter;
  private readonly quic: QuicInitialAssembler;
  private source: string | undefined;
  /** DnsSink, and for every other kind too: which names become observations (undefined: all). */
  nameFilter: NameFilter | undefined;

  constructor(
    private readonly emit: (o: Observation) => void,
    opts: DecoderOptions = {},
  ) {
    this.nameFilter = opts.nameFilter;
    this.setDnsPorts(opts.dnsPorts ?? [Port.DNS], opts.dnsHeuristic ?? true);
    const limits = opts.limits ?? DEFAULT_DECODER_LIMITS;
    const app: StreamApp = {
      count: (i) => this.count(i),
      clientHello: (m) => this.clientHello(m, 'tls_sni'),
      dnsMessage: (m) => this.dnsMessage(m),
      nameless: () => this.nameless(),
      http: this,
    };
    this.tcp = new TcpStreams(this.ctx, app, { dnsPort: this.dnsPort, maxFlows: limits.maxFlows, flowBytes: limits.flowBytes, flowIdleSeconds: limits.flowIdleSeconds });
    this.defrag = new Defragmenter((i) => this.count(i), MAX_TRAINS, limits.fragmentBytes);
    this.quic = new QuicInitialAssembler({ issues: this.issues, budgetBytes: limits.quicBytes });
  }

  /** Names the file the following frames come from (copied into observations). */
  setSource(name: string | undefined): void {
    this.source = name;
  }

  /** Which names become observations from now on (reload). */
  setNameFilter(f: NameFilter | undefined): void {
    this.nameFilter = f;
  }

  /** Which UDP/TCP ports carry DNS from now on (reload). */
  setDnsPorts(ports: readonly number[], heuristic = this.dnsHeuristic): void {
    this.dnsPort.fill(0);
    for (const p of ports) this.dnsPort[p] = 1;
    this.dnsHeuristic = heuristic;
  }

  /** Drops state idle past its timeout at ageing time `now` (µs): flows, fragment trains, QUIC handshakes. */
  expire(now: number): void {
    this.tcp.expire(now);
    this.defrag.expire(now);
    this.quic.expire(now);
  }

  /** End of input: flows, handshakes and fragment trains still waiting for bytes are counted as unrecovered. */
  finish(): void {
    this.tcp.finish();
    this.quic.finish();
    this.defrag.finish();
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

  /** Bytes each state table is accounted at (see the *_BYTES constants of each table). */
  memory(): { tcp_flows: number; ip_fragments: number; quic: number } {
    return { tcp_flows: this.tcp.bytes, ip_fragments: this.defrag.bytes, quic: this.quic.bytes };
  }

  /**
   * Ageing time (µs, engine/clock.ts): what idle timeouts of the state the next frames create
   * or touch run on. Set by the engine when it moves (a field, not an argument: the per-frame
   * call passes no boxed double).
   */
  now = 0;

  /** One captured frame; its own time goes into observations, `now` stamps the state it touches. */
  onFrame(f: RawFrame): void {
    this.stats.frames++;
    this.stats.bytes += f.caplen;
    this.ctx.reset(f, this.now);
    this.lastIssue = undefined;
    try {
      // Ethernet, most captures: one call less than through link()'s switch.
      if (f.linktype === LinkType.ETHERNET) ethernet(this, f.buf, f.off, f.off + f.caplen);
      else link(this, f.buf, f.off, f.off + f.caplen, f.linktype);
    } catch {
      // Defence in depth: every decoder bounds-checks, but a bug must cost one packet, not the
      // run. (Observations are handed on through `emit`, which must not throw: its consumer
      // catches its own errors, so what lands here is the decoder's.)
      this.issues.add(DECODER_BUG);
    }
    this.coverage.frame(f, this.lastIssue, this.lastIssue === LINK_UNSUPPORTED);
  }

  count(i: DecodeIssue): void {
    this.issues.add(i);
    this.lastIssue = i;
  }

  // ───────────────────────────── hand-offs from the layers ─────────────────────────────


  /** RFC 9001 §5: decrypt client Initials, reassemble CRYPTO, parse the ClientHello. */
  quicDatagram(payload: Uint8Array): void {
    // The probe passed: a version kasmon opens, or one whose salt is to be guessed.
    if (this.quic.knows(u32be(payload, 1))) this.coverage.quicKnown++;
    // The zone goes last: the assembler reads the reverse direction by swapping the first four.
    const key = `${this.address(this.ctx.srcOff)}|${this.ctx.sport}|${this.address(this.ctx.dstOff)}|${this.ctx.dport}|${this.ctx.zone}`;
    const r = this.quic.onDatagram(payload, key, this.ctx.nowMicros);
    if (r === undefined) return;
    if (isIssue(r)) {
      this.count(r);
      if (r.kind === 'truncated' && this.ctx.ipCut) this.count(NAME_SNAPLEN);
      else if (r === QUIC_UNSUPPORTED_VERSION) this.connection('quic_undecryptable');
      return;
    }
    this.clientHello(r, 'quic_sni');
  }

  // ───────────────────────────── application layer ─────────────────────────────

  dnsMessage(msg: Uint8Array): void {
    const issue = decodeDns(msg, this);
    if (issue === undefined) return;
    this.count(issue);
    // A datagram cut by the snap length: the records past the cut are the names lost.
    if (this.ctx.ipCut && this.ctx.transport === 'udp') this.count(NAME_SNAPLEN);
  }

  private clientHello(message: Uint8Array, kind: 'tls_sni' | 'quic_sni'): void {
    // With a filter (replay), validate and read the name first; the lists JA4 needs are
    // decoded only for a wanted name. Without one (names), every hello is wanted.
    const first = parseClientHello(message, this.nameFilter !== undefined);
    if (isIssue(first)) return this.count(first);
    if (first.sni === undefined) {
      this.count(NAME_NO_SNI);
      return this.connection('no_sni');
    }
    if (!this.wanted(kind, first.sni)) {
      // Encrypted Client Hello: the outer name is a public one; the real one may be Kaspersky's.
      if (first.ech) this.connection('ech');
      return;
    }
    const hello = this.nameFilter === undefined ? first : parseClientHello(message);
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
  filtered(kind: ObservationKind): void {
    this.stats.observations[kind]++;
  }

  query(name: string, qtype: string): void {
    const o = this.observation('dns_query', name);
    o.qtype = qtype;
    this.publish(o);
  }

  answer(name: string, rrtype: 'A' | 'AAAA' | 'CNAME', data: string, ttl: number): void {
    const o = this.observation('dns_answer', name);
    o.rrtype = rrtype;
    o.data = data;
    o.ttl = ttl;
    this.publish(o);
  }

  // HttpSink
  request(host: string, path: string): void {
    if (this.nameFilter !== undefined && isIpLiteral(host)) {
      this.stats.observations.http_host++; // decoded like any Host; analysed as a connection to that address
      return this.connection('ip_literal', path);
    }
    if (!this.wanted('http_host', host)) return;
    const o = this.observation('http_host', host);
    o.http_path = path;
    this.publish(o);
  }

  /**
   * Decoded names are counted; an Observation (addresses formatted, JA4 computed) is built
   * only when the name filter wants this one: `names` has no filter, `replay` wants matches.
   */
  private wanted(kind: ObservationKind, name: string): boolean {
    if (this.nameFilter === undefined || this.nameFilter.wants(kind, name, undefined)) return true;
    this.filtered(kind);
    return false;
  }

  /**
   * A connection start that showed no name (analysis modes only: `names` prints names): an
   * `ip_connection` to the packet's destination, which analysis may attribute to a Kaspersky
   * name through a remembered DNS answer. Built only for these rare starts (no SNI, an ECH
   * hello whose outer name no rule wants, HTTP to an IP literal, a SYN whose hello never came,
   * QUIC kasmon cannot decrypt), never per packet.
   */
  private connection(why: ConnectionReason, path?: string): void {
    if (this.nameFilter === undefined) return;
    this.connections++;
    const o = this.observation('ip_connection', this.address(this.ctx.dstOff));
    o.conn = why;
    if (path !== undefined) o.http_path = path;
    this.publish(o);
  }

  /** StreamApp: a TCP connection to a name port ended (FIN/RST) before its first byte of data. */
  nameless(): void {
    this.connection('no_hello');
  }

  private observation(kind: ObservationKind | ConnectionKind, name: string): Observation {
    const f = this.ctx.frame;
    const t: PacketTime = { sec: f.time.sec, nsec: f.time.nsec, digits: f.time.digits };
    if (this.nameFilter !== undefined) return this.analysisObservation(kind, name, t);
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

  /**
   * With a name filter (analysis), every observation has every field, unset ones undefined:
   * one object shape, whatever the kind, VLAN or tunnel, so the analyzer's reads of them stay
   * monomorphic and never meet a new shape under optimised code. (`names` prints what it
   * gets and keeps the sparse objects; every writer reads the fields one by one, so either
   * prints the same.)
   */
  private analysisObservation(kind: ObservationKind | ConnectionKind, name: string, t: PacketTime): Observation {
    const ctx = this.ctx;
    const o: DenseObservation = {
      kind,
      name,
      time: t,
      tsMicros: toMicros(t),
      frame: ctx.frame.frame,
      src: this.address(ctx.srcOff),
      dst: this.address(ctx.dstOff),
      sport: ctx.sport,
      dport: ctx.dport,
      transport: ctx.transport,
      rrtype: undefined,
      data: undefined,
      ttl: undefined,
      conn: undefined,
      qtype: undefined,
      alpn: undefined,
      ech: undefined,
      ja4: undefined,
      http_path: undefined,
      vlan: ctx.vlan >= 0 ? ctx.vlan : undefined,
      tunnel: ctx.tunnels.length > 0 ? ctx.tunnels.slice() : undefined,
      source: this.source,
    };
    return o as Observation;
  }

  /** The current packet's address at `off` as text (cached: hosts repeat). */
  private address(off: number): string {
    return this.ctx.af === 4 ? ipv4Text(this.ctx.addrBuf, off) : ipv6Text(this.ctx.addrBuf, off);
  }

  private publish(o: Observation): void {
    if (o.kind !== 'ip_connection') this.stats.observations[o.kind]++;
    this.emit(o);
  }
}
