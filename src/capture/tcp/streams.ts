import { u16be, u32be } from '../../common/bytes.js';
import type { PacketContext } from '../packet/context.js';
import { AppKind, BUFFER_OVERHEAD, FLOW_BYTES, FlowState, FlowTable, SEGMENT_OVERHEAD, seqDiff, type AppKindValue, type Flow } from './flows.js';
import { looksLikeHttpRequest, MAX_HEADER_BYTES, parseHttpRequests, type HttpSink } from '../app/http.js';
import { PROXY_NEED_MORE, proxyHeaderLength } from '../app/proxy.js';
import { defineIssue, isIssue, type DecodeIssue } from '../issues.js';
import { looksLikeTlsHandshake, MAX_CLIENT_HELLO_BYTES, readClientHelloMessage, TLS_HELLO_TOO_LARGE } from '../app/tls.js';
import { DNS_TCP_LENGTH } from '../app/dns.js';
import {
  NAME_EVICTED,
  NAME_GAP,
  NAME_IDLE,
  NAME_INCOMPLETE,
  NAME_LIMIT,
  NAME_MALFORMED,
  NAME_MIDSTREAM,
  NAME_SNAPLEN,
} from '../unrecovered.js';

/**
 * TCP client streams: just enough reassembly to read the first message of each connection
 * (a ClientHello, HTTP request headers) and DNS over TCP in both directions. The common case
 * costs no state: a message in one segment is parsed where it lies. A flow is kept only while
 * a message continues past its segment (out-of-order, overlapping and retransmitted segments
 * put back in sequence, the first copy of every byte winning), then forgotten, leaving a
 * tombstone so the rest of the connection is neither mistaken for one picked up mid-stream
 * nor re-buffered by retransmissions. Flows live in a bounded FlowTable (count, bytes, LRU,
 * idle timeout on ageing time); every way a name can be lost is counted (unrecovered.ts).
 */

export const TCP_TRUNCATED = defineIssue('tcp', 'truncated', 'header');
export const TCP_BAD_OFFSET = defineIssue('tcp', 'invalid', 'data_offset');

/** Client-stream bytes kept per flow: the largest ClientHello we read plus its record headers. */
export const MAX_STREAM_BYTES = MAX_CLIENT_HELLO_BYTES + 1024;
/** A first segment shorter than this that could start a hello or request is waited on. */
const SHORT_PREFIX = 8;
/** Out-of-order segments held per flow before the gap fills. */
export const MAX_OOO_SEGMENTS = 32;
export const DEFAULT_MAX_FLOWS = 65_536;
export const DEFAULT_FLOW_BYTES = 48 * 1024 * 1024;
export const DEFAULT_FLOW_IDLE_SECONDS = 120;
/** TCP destination ports where a connection picked up mid-stream is counted as a possibly missed name. */
export const NAME_PORTS: readonly number[] = [80, 443, 8080, 8443, 853];

/**
 * First bytes that may start what the stream layer reads: a TLS handshake (0x16) or the
 * change_cipher_spec before a second hello (0x14), an HTTP method or a PROXY v1 header (A-Z),
 * a PROXY v2 header (CR). A segment starting with any other byte is the middle of a stream.
 */
const MAY_START = new Uint8Array(256);
for (const c of [0x0d, 0x14, 0x16]) MAY_START[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) MAY_START[c] = 1;

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

/** What the stream layer hands the application decoders. */
export interface StreamApp {
  count(i: DecodeIssue): void;
  /** A complete ClientHello handshake message from a client stream. */
  clientHello(message: Uint8Array): void;
  /** One DNS message (the two-byte length prefix removed). */
  dnsMessage(msg: Uint8Array): void;
  /** A connection to a name port ended (FIN/RST from the client) before any data: no hello came. */
  nameless?(): void;
  readonly http: HttpSink;
}

export interface StreamOptions {
  /** 1 at each port that carries DNS. */
  dnsPort: Uint8Array;
  maxFlows: number;
  /** Byte budget of the flow table (flows and what they hold). */
  flowBytes: number;
  flowIdleSeconds: number;
}

export class TcpStreams {
  private readonly flows: FlowTable;
  private readonly namePort = new Uint8Array(65536);
  private readonly dnsPort: Uint8Array;
  /** The current segment's presence-filter key and tuple hash (`hashed`: computed yet). */
  private qk = 0;
  private hash = 0;
  private hashed = false;
  /**
   * The current segment's sequence number of its first data byte (mod 2^32). A field rather
   * than an argument: a value above 2^31 is a double, and passing it to a call that is not
   * inlined would box it, for most segments. Starts as a double so it never changes representation.
   */
  private seq = 0.5;
  /** Bytes of an HTTP body the last `consume` left to come. */
  private httpSkip = 0;
  /** In to and out of `consume`: the HTTP stream is inside a chunked body (Flow.httpChunked). */
  private httpChunked = false;

  constructor(
    private readonly ctx: PacketContext,
    private readonly app: StreamApp,
    opts: StreamOptions,
  ) {
    this.dnsPort = opts.dnsPort;
    for (const p of NAME_PORTS) this.namePort[p] = 1;
    this.flows = new FlowTable(opts.maxFlows, opts.flowBytes, opts.flowIdleSeconds * 1_000_000, (f, why) => this.flowLost(f, why));
  }

  get size(): number {
    return this.flows.size;
  }

  get evictions(): number {
    return this.flows.evictions;
  }

  get timeouts(): number {
    return this.flows.timeouts;
  }

  /** Bytes the flow table holds (see FLOW_BYTES). */
  get bytes(): number {
    return this.flows.bytes;
  }

  /** Drops flows idle past the timeout (ageing time). */
  expire(nowMicros: number): void {
    this.flows.expire(nowMicros);
  }

  /** End of input: flows still waiting for bytes are counted as unrecovered. */
  finish(): void {
    this.flows.drain((f) => this.flowLost(f, 'end'));
  }

  /** One TCP segment (RFC 9293 §3.1) starting at `o`; the IP layer already filled the context. */
  segment(b: Uint8Array, o: number, end: number): void {
    if (end - o < 20) return this.app.count(TCP_TRUNCATED);
    const dataOff = (b[o + 12]! >> 4) * 4;
    if (dataOff < 20) return this.app.count(TCP_BAD_OFFSET);
    const sport = u16be(b, o);
    const dport = u16be(b, o + 2);
    const seq = u32be(b, o + 4);
    const flags = b[o + 13]!;
    if (o + dataOff > end) return this.app.count(TCP_TRUNCATED); // options cut by the snap length
    const p = o + dataOff;
    this.ctx.sport = sport;
    this.ctx.dport = dport;
    this.ctx.transport = 'tcp';
    const flows = this.flows;
    const syn = (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    // A bare ACK carries nothing and changes no flow.
    if (p >= end && (flags & (TCP_SYN | TCP_FIN | TCP_RST)) === 0) return;
    const alen = this.ctx.af === 4 ? 4 : 16;
    const zone = this.ctx.zone;
    this.qk = FlowTable.quickKey(this.ctx.addrBuf, this.ctx.srcOff, this.ctx.dstOff, alen, sport, dport, zone);
    this.hashed = false; // computed when needed (a lookup past the filter, or a new flow)
    let flow: Flow | undefined;
    if (flows.mayContain(this.qk)) {
      this.hashed = true;
      this.hash = FlowTable.hashOf(this.ctx.addrBuf, this.ctx.srcOff, this.ctx.dstOff, alen, sport, dport, zone);
      flow = flows.find(this.hash, this.ctx.addrBuf, this.ctx.srcOff, this.ctx.dstOff, this.ctx.af, sport, dport, zone);
    }
    // RFC 9293 §3.4: a SYN occupies the sequence number before its data, if it has any (TCP
    // Fast Open, RFC 7413, sends the ClientHello or request in the SYN).
    const dataSeq = flags & TCP_SYN ? (seq + 1) >>> 0 : seq;
    this.seq = dataSeq;
    if (flow === undefined) {
      if (syn) {
        // A client opens a connection: remember where its stream starts, so segments that
        // arrive out of order before the first one can be put back in place.
        const f = this.newFlow(sport, dport);
        f.isn = seq;
        f.nextSeq = dataSeq;
        if (p < end) this.feed(f, b, p, end);
      } else if (p < end) {
        this.fresh(b, p, end, sport, dport);
      }
      return;
    }
    if (syn && flow.isn !== seq) {
      // Another SYN than the one that opened this flow: a new connection reusing the ports.
      this.restart(flow, seq);
    } else if (flags & TCP_SYN && flow.state === FlowState.AwaitData) {
      flow.nextSeq = dataSeq; // SYN retransmitted
    }
    if (flags & TCP_RST) return this.endFlow(flow, 'end');
    if (p < end) {
      if (flow.state === FlowState.Ignore) this.afterDone(flow, b, p, end);
      else this.feed(flow, b, p, end);
    }
    if (flags & TCP_FIN) this.endFlow(flow, 'end');
  }

  /** A SYN of a new connection on a flow's 4-tuple: what the old one still waited for is lost; start again. */
  private restart(flow: Flow, isn: number): void {
    this.flowLost(flow, 'end');
    this.tombstone(flow, (isn + 1) >>> 0);
    flow.state = FlowState.AwaitData;
    flow.app = AppKind.Unknown;
    flow.isn = isn;
    flow.streamBytes = 0;
  }

  /** A new flow for the current packet's 4-tuple (`qk`/`hash` of this packet, set in tcp()). */
  private newFlow(sport: number, dport: number): Flow {
    const alen = this.ctx.af === 4 ? 4 : 16;
    if (!this.hashed) {
      this.hashed = true;
      this.hash = FlowTable.hashOf(this.ctx.addrBuf, this.ctx.srcOff, this.ctx.dstOff, alen, sport, dport, this.ctx.zone);
    }
    return this.flows.create(this.hash, this.qk, this.ctx.addrBuf, this.ctx.srcOff, this.ctx.dstOff, this.ctx.af, sport, dport, this.ctx.zone, this.ctx.nowMicros);
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
    return end - p < SHORT_PREFIX && MAY_START[b[p]!] === 1;
  }

  /** A data segment (its sequence number in `seq`) of a connection with no flow state (no SYN seen, or state forgotten). */
  private fresh(b: Uint8Array, p: number, end: number, sport: number, dport: number): void {
    const segEnd = (this.seq + (end - p)) >>> 0;
    // Most such segments are bulk data: when the first byte starts nothing (and no DNS port
    // says otherwise), the PROXY, TLS and HTTP probes below would all say no.
    if (MAY_START[b[p]!] === 0 && this.dnsPort[sport] !== 1 && this.dnsPort[dport] !== 1) return this.midstream(sport, dport, segEnd);
    const px = proxyHeaderLength(b, p, end);
    if (px > 0) {
      // A load balancer's PROXY header opens the stream: what follows it is the client's.
      p += px;
      if (p === end) {
        this.newFlow(sport, dport).nextSeq = segEnd;
        return;
      }
    } else if (px === PROXY_NEED_MORE) {
      const f = this.newFlow(sport, dport);
      f.state = FlowState.Buffering;
      f.nextSeq = segEnd;
      this.append(f, b.subarray(p, end));
      return;
    }
    const kind = this.classify(b, p, end, sport, dport);
    if (kind !== AppKind.Unknown) return this.message(undefined, kind, b.subarray(p, end), segEnd, sport, dport);
    if (this.couldStart(b, p, end)) {
      const f = this.newFlow(sport, dport);
      f.state = FlowState.Buffering;
      f.nextSeq = segEnd;
      this.append(f, b.subarray(p, end));
      return;
    }
    this.midstream(sport, dport, segEnd);
  }

  /** A connection picked up mid-stream: to a name port, a name may have been missed. */
  private midstream(sport: number, dport: number, segEnd: number): void {
    if (this.namePort[dport] === 1) {
      // Counted once per connection: the tombstone absorbs its later segments.
      this.app.count(NAME_MIDSTREAM);
      this.tombstone(this.newFlow(sport, dport), segEnd);
    }
  }

  /**
   * Runs the parser on a segment that starts a message (the common case costs no state: a
   * ClientHello or request in one segment); keeps a flow only when the message continues.
   */
  private message(flow: Flow | undefined, kind: AppKindValue, view: Uint8Array, segEnd: number, sport: number, dport: number): void {
    this.httpSkip = 0;
    this.httpChunked = false;
    const used = this.consume(kind, view);
    if (used === view.length && this.httpSkip === 0 && !this.httpChunked) {
      // Done with what this segment held; the tombstone keeps its retransmissions from being
      // read again (tshark does not dissect a retransmitted segment a second time).
      this.tombstone(flow ?? this.newFlow(sport, dport), segEnd);
      return;
    }
    if (this.ctx.ipCut) {
      this.app.count(NAME_SNAPLEN);
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
    f.httpChunked = this.httpChunked;
    f.streamBytes = used;
    this.append(f, view.subarray(used));
  }

  /**
   * A segment of a connection whose name was read (or that carries none). New data that
   * starts a message is parsed (a kept-alive connection's next request). Old data is a
   * retransmission or a duplicate: what it holds was read from the first copy, so nothing
   * in it is reported again (as tshark, which does not dissect a retransmission twice); of a
   * segment partly old, the new bytes only.
   */
  private afterDone(flow: Flow, b: Uint8Array, p: number, end: number): void {
    const seq = this.seq;
    const segEnd = (seq + (end - p)) >>> 0;
    if (seqDiff(segEnd, flow.nextSeq) <= 0) return;
    const old = seqDiff(flow.nextSeq, seq);
    if (old > 0) p += old;
    const kind = MAY_START[b[p]!] === 0 && this.dnsPort[flow.sport] !== 1 && this.dnsPort[flow.dport] !== 1 ? AppKind.Unknown : this.classify(b, p, end, flow.sport, flow.dport);
    if (kind === AppKind.Unknown) {
      flow.nextSeq = segEnd;
      if (this.ctx.nowMicros - flow.lastMicros > 1_000_000) this.flows.touch(flow, this.ctx.nowMicros);
      return;
    }
    this.flows.touch(flow, this.ctx.nowMicros);
    this.message(flow, kind, b.subarray(p, end), segEnd, flow.sport, flow.dport);
  }

  /** A segment (its sequence number in `seq`) of a flow under reassembly: put it in sequence order, then try the parser. */
  private feed(flow: Flow, b: Uint8Array, p: number, end: number): void {
    const seq = this.seq;
    this.flows.touch(flow, this.ctx.nowMicros);
    const d = seqDiff(seq, flow.nextSeq);
    if (d > 0) {
      // Out of order: hold it until the gap before it fills.
      if (d > MAX_STREAM_BYTES) return;
      const ooo = (flow.ooo ??= []);
      if (ooo.length >= MAX_OOO_SEGMENTS) return this.dropFlow(flow, NAME_LIMIT);
      ooo.push({ seq, data: b.slice(p, end) }); // copy: outlives frame
      this.recharge(flow);
      return;
    }
    if (d < 0) {
      // Retransmission or overlap: the first copy of each byte wins.
      p -= d;
      if (p >= end) return;
    }
    const cut = this.ctx.ipCut;
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
      const px = proxyHeaderLength(view, 0, view.length);
      if (px === PROXY_NEED_MORE && !cut) {
        flow.state = FlowState.Buffering;
        if (!buffered) this.append(flow, view);
        return;
      }
      if (px > 0) {
        // The PROXY header is not the client's: drop it and read what follows.
        if (buffered) {
          flow.buf!.copyWithin(0, px, flow.bufLen);
          flow.bufLen -= px;
          view = flow.buf!.subarray(0, flow.bufLen);
        } else {
          view = view.subarray(px);
        }
        if (view.length === 0) return;
      }
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
    this.httpChunked = flow.httpChunked;
    const used = this.consume(flow.app, view);
    flow.httpChunked = this.httpChunked;
    if (used === view.length && this.httpSkip === 0 && !this.httpChunked) return this.tombstone(flow, flow.nextSeq);
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
    this.recharge(flow);
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
    flow.httpChunked = false;
    flow.ooo = undefined;
    if (flow.bytes !== FLOW_BYTES) this.flows.charge(flow, FLOW_BYTES - flow.bytes);
  }

  /** Appends stream bytes to a flow's buffer; false (flow dropped) past MAX_STREAM_BYTES. */
  private append(flow: Flow, data: Uint8Array): boolean {
    if (flow.app === AppKind.Http && flow.bufLen + data.length > MAX_STREAM_BYTES && flow.bufLen < MAX_HEADER_BYTES) {
      // Headers longer than the window: keep what fits, so the parser sees the whole window,
      // reports a Host it holds and says why the rest is given up (http.ts).
      data = data.subarray(0, MAX_STREAM_BYTES - flow.bufLen);
    }
    const need = flow.bufLen + data.length;
    flow.streamBytes += data.length;
    if (need > MAX_STREAM_BYTES || flow.streamBytes > 4 * MAX_STREAM_BYTES) {
      this.dropFlow(flow, NAME_LIMIT);
      return false;
    }
    if (flow.buf === undefined || flow.buf.length < need) {
      // The first buffer holds what is there (rounded up to 64 bytes); a growing one doubles.
      // So a flow costs about what it holds: many half-open flows with a few bytes each stay small.
      const size = flow.buf === undefined ? (need + 63) & ~63 : Math.max(need, flow.buf.length * 2);
      const nb = new Uint8Array(Math.min(MAX_STREAM_BYTES, size));
      if (flow.buf) nb.set(flow.buf.subarray(0, flow.bufLen));
      flow.buf = nb;
      this.recharge(flow);
    }
    flow.buf.set(data, flow.bufLen); // copy: outlives frame
    flow.bufLen = need;
    return true;
  }

  /** Re-accounts a flow's bytes after its buffers changed (the table evicts others if over budget). */
  private recharge(flow: Flow): void {
    let held = FLOW_BYTES;
    if (flow.buf !== undefined) held += flow.buf.length + BUFFER_OVERHEAD;
    if (flow.ooo !== undefined) for (const s of flow.ooo) held += s.data.length + SEGMENT_OVERHEAD;
    if (held !== flow.bytes) this.flows.charge(flow, held - flow.bytes);
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
          this.app.count(r);
          this.app.count(r === TLS_HELLO_TOO_LARGE ? NAME_LIMIT : NAME_MALFORMED);
          return v.length;
        }
        if (r.status === 'need_more') return 0;
        this.app.clientHello(r.message);
        return v.length;
      }
      case AppKind.Http: {
        const r = parseHttpRequests(v, 0, v.length, this.app.http, this.httpChunked);
        if (r.issue) this.app.count(r.issue);
        if (r.nameLost) this.app.count(NAME_LIMIT);
        this.httpSkip = r.bodyRemaining;
        this.httpChunked = r.chunked;
        return r.needMore ? r.consumed : v.length;
      }
      case AppKind.Dns: {
        // RFC 1035 §4.2.2 / RFC 7766 §8: each message is preceded by a two-byte length.
        let q = 0;
        while (v.length - q >= 2) {
          const len = u16be(v, q);
          if (len === 0) {
            this.app.count(DNS_TCP_LENGTH);
            return v.length;
          }
          if (v.length - q - 2 < len) break;
          this.app.dnsMessage(v.subarray(q + 2, q + 2 + len));
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
    this.app.count(why);
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
      if (held) this.app.count(NAME_GAP);
      // FIN/RST on the client's side of a connection that never sent its hello (this packet's
      // addresses are the connection's); idle or evicted ones have no packet to name them by.
      else if (why === 'end' && this.namePort[this.ctx.dport] === 1) this.app.nameless?.();
      return;
    }
    if (flow.state !== FlowState.Buffering || flow.app === AppKind.Unknown) return;
    if (why === 'evicted') this.app.count(NAME_EVICTED);
    else if (held) this.app.count(NAME_GAP);
    else if (why === 'timeout') this.app.count(NAME_IDLE);
    else if (flow.app !== AppKind.Dns || flow.bufLen > 0) this.app.count(NAME_INCOMPLETE);
  }
}
