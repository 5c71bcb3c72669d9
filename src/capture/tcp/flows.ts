import { u32be } from '../../common/bytes.js';

/**
 * A bounded table of directional TCP flows, keyed without allocation: a 32-bit hash of the
 * 4-tuple picks a chain in a power-of-two array of buckets (an indexed load, not a Map
 * lookup), and the tuple's address words are compared field by field. Flows are kept in LRU
 * order on a doubly linked list; the table evicts the least recently used flow when full and
 * expires flows idle longer than a timeout (ageing time, engine/clock.ts), counting both.
 *
 * Bounded by a count and by bytes: each flow is accounted at FLOW_BYTES plus what it holds
 * (its stream buffer and out-of-order segments, charged by the stream layer as they change),
 * so the table's memory is proportional to the bytes held plus a small constant per flow.
 */
export const FlowState = {
  /** SYN seen; waiting for the first client byte (seq = isn + 1). */
  AwaitData: 0,
  /** Buffering the start of the stream until a name can be read. */
  Buffering: 1,
  /** Picked up mid-stream or not carrying a name: later segments are ignored cheaply. */
  Ignore: 2,
} as const;
export type FlowStateValue = (typeof FlowState)[keyof typeof FlowState];

export const AppKind = { Unknown: 0, Tls: 1, Http: 2, Dns: 3 } as const;
export type AppKindValue = (typeof AppKind)[keyof typeof AppKind];

export interface OooSegment {
  seq: number;
  data: Uint8Array;
}

/**
 * Initial value of the numeric fields that later hold unsigned 32-bit words or microseconds:
 * a non-integer gives them V8's double representation from the first object on, so flows
 * never change shape (and deoptimise the hot path) when a value above 2^30 is first stored.
 */
const DOUBLE = 0.5;

export class Flow {
  hash = DOUBLE;
  /** Presence-filter bucket (see FlowTable.quickKey). */
  qk = 0;
  af: 4 | 6 = 4;
  s0 = DOUBLE;
  s1 = DOUBLE;
  s2 = DOUBLE;
  s3 = DOUBLE;
  d0 = DOUBLE;
  d1 = DOUBLE;
  d2 = DOUBLE;
  d3 = DOUBLE;
  sport = 0;
  dport = 0;
  /** The packets' zone (PacketContext.zone): VLANs and tunnels they came through. */
  zone = 0;
  state: FlowStateValue = FlowState.AwaitData;
  app: AppKindValue = AppKind.Unknown;
  /** Next expected sequence number (mod 2^32). */
  nextSeq = DOUBLE;
  /** The client's initial sequence number when its SYN was seen, else -1: tells a SYN resent from a new connection reusing the ports. */
  isn = DOUBLE;
  /** Contiguous bytes of the stream not yet consumed by the application parser. */
  buf: Uint8Array | undefined;
  bufLen = 0;
  /** HTTP body bytes still to come, skipped before the next request. */
  skip = 0;
  /** After `skip`, the stream is still inside a chunked HTTP body (RFC 9112 §7.1). */
  httpChunked = false;
  /** Stream bytes seen in total (for the MAX_STREAM_BYTES limit). */
  streamBytes = 0;
  ooo: OooSegment[] | undefined;
  lastMicros = DOUBLE;
  /** Bytes this flow is accounted at (FLOW_BYTES + buffers). */
  bytes = FLOW_BYTES;
  /** False once the flow has left the table (removed, evicted, expired). */
  inTable = false;

  /** Back to a fresh flow, for reuse from the table's pool. */
  reset(): void {
    this.state = FlowState.AwaitData;
    this.app = AppKind.Unknown;
    this.nextSeq = 0;
    this.isn = -1;
    this.buf = undefined;
    this.bufLen = 0;
    this.skip = 0;
    this.httpChunked = false;
    this.streamBytes = 0;
    this.ooo = undefined;
    this.bytes = FLOW_BYTES;
  }
  chain: Flow | undefined;
  prev: Flow | undefined;
  next: Flow | undefined;
}

/**
 * Heap bytes of a flow with nothing buffered: the object (30 fields), its share of the bucket
 * array, the presence filter and the LRU links. Measured by test/memory/accounting.test.ts.
 */
export const FLOW_BYTES = 400;
/** What a Uint8Array costs besides its bytes (the view, its ArrayBuffer, the backing store's header). */
export const BUFFER_OVERHEAD = 240;
/** An out-of-order segment held: the {seq, data} object plus a buffer. */
export const SEGMENT_OVERHEAD = 48 + BUFFER_OVERHEAD;

/** Sequence-number comparison modulo 2^32 (RFC 9293 §3.4). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** Buckets of the presence filter: sparse enough that most lookups of absent flows stop there. */
const FILTER_BITS = 20;

/**
 * A presence-filter count that reached this stays there (one byte per bucket keeps the filter
 * at 1 MiB, cache-friendly; only a crafted collision of 255 live flows in one bucket gets
 * there): the bucket then always answers "maybe", which costs a lookup, never a lost flow.
 */
const SATURATED = 255;

/** Removed flows kept for reuse. */
const POOL_SIZE = 1024;

/** Bucket array size bounds: about two buckets per flow the table may hold. */
const MIN_BUCKET_BITS = 10;
const MAX_BUCKET_BITS = 22;

export class FlowTable {
  private readonly buckets: Array<Flow | undefined>;
  private readonly mask: number;
  /**
   * Starts with one flow, not empty: an empty array literal has SMI elements, and the first
   * flow pushed would change its map under code already optimised for it (a measured deopt of
   * create and newFlow on every run).
   */
  private readonly pool: Flow[] = [new Flow()];
  /**
   * Flows per quick-key bucket: a zero means "certainly absent" without hashing the tuple or
   * a Map lookup. Most TCP segments (server-to-client bulk data) belong to no tracked flow.
   */
  private readonly present = new Uint8Array(1 << FILTER_BITS);
  private head: Flow | undefined; // least recently used
  private tail: Flow | undefined;
  size = 0;
  /** Bytes held by flows in the table (see FLOW_BYTES). */
  bytes = 0;
  evictions = 0;
  timeouts = 0;

  constructor(
    readonly capacity: number,
    /** Most bytes the flows may hold together. */
    readonly budget: number,
    private readonly idleMicros: number,
    /** Called for a flow that leaves the table by eviction or timeout (not by remove()). */
    private readonly onDrop: (f: Flow, why: 'evicted' | 'timeout') => void,
  ) {
    let bits = MIN_BUCKET_BITS;
    while (bits < MAX_BUCKET_BITS && 1 << bits < 2 * capacity) bits++;
    this.mask = (1 << bits) - 1;
    this.buckets = new Array<Flow | undefined>(1 << bits).fill(undefined);
  }

  /**
   * Hash of the 4-tuple at the given offsets and the zone; `len` is 4 or 16. A signed 32-bit
   * value (only its low bits pick a bucket): it stays a small integer, never a boxed double.
   */
  static hashOf(b: Uint8Array, so: number, dOff: number, len: number, sport: number, dport: number, zone: number): number {
    let h = Math.imul((sport * 65536 + dport) ^ zone, 0x9e3779b1);
    for (let i = 0; i < len; i += 4) {
      h = Math.imul(h ^ u32be(b, so + i), 0x85ebca6b);
      h = Math.imul(h ^ u32be(b, dOff + i), 0xc2b2ae35);
    }
    return h ^ (h >>> 16);
  }

  /**
   * A few operations on the ports and the addresses' last bytes: the bucket of the presence
   * filter. Computed for every segment, so it must stay far cheaper than `hashOf`.
   */
  static quickKey(b: Uint8Array, so: number, dOff: number, len: number, sport: number, dport: number, zone: number): number {
    const x = ((sport << 16) | dport) ^ ((b[so + len - 1]! << 8) | b[dOff + len - 1]!) ^ (b[so + len - 2]! << 24) ^ zone;
    return Math.imul(x, 0x9e3779b1) >>> (32 - FILTER_BITS);
  }

  /** False means the flow is certainly not in the table. */
  mayContain(qk: number): boolean {
    return this.present[qk] !== 0;
  }

  find(hash: number, b: Uint8Array, so: number, dOff: number, af: 4 | 6, sport: number, dport: number, zone: number): Flow | undefined {
    for (let f = this.buckets[hash & this.mask]; f !== undefined; f = f.chain) {
      if (f.sport !== sport || f.dport !== dport || f.af !== af || f.zone !== zone) continue;
      if (f.s0 !== u32be(b, so) || f.d0 !== u32be(b, dOff)) continue;
      if (af === 6) {
        if (f.s1 !== u32be(b, so + 4) || f.s2 !== u32be(b, so + 8) || f.s3 !== u32be(b, so + 12)) continue;
        if (f.d1 !== u32be(b, dOff + 4) || f.d2 !== u32be(b, dOff + 8) || f.d3 !== u32be(b, dOff + 12)) continue;
      }
      return f;
    }
    return undefined;
  }

  create(hash: number, qk: number, b: Uint8Array, so: number, dOff: number, af: 4 | 6, sport: number, dport: number, zone: number, now: number): Flow {
    while ((this.size >= this.capacity || this.bytes + FLOW_BYTES > this.budget) && this.head !== undefined) this.evictHead();
    // Reuse a flow that left the table earlier (its last reader, onDrop or the caller that
    // removed it, is done with it by the time the next flow is created): SYN floods and
    // short connections would otherwise churn the garbage collector.
    let f = this.pool.pop();
    if (f === undefined) f = new Flow();
    else f.reset();
    f.hash = hash;
    f.qk = qk;
    f.af = af;
    f.s0 = u32be(b, so);
    f.d0 = u32be(b, dOff);
    if (af === 6) {
      f.s1 = u32be(b, so + 4);
      f.s2 = u32be(b, so + 8);
      f.s3 = u32be(b, so + 12);
      f.d1 = u32be(b, dOff + 4);
      f.d2 = u32be(b, dOff + 8);
      f.d3 = u32be(b, dOff + 12);
    }
    f.sport = sport;
    f.dport = dport;
    f.zone = zone;
    f.lastMicros = now;
    const i = hash & this.mask;
    f.chain = this.buckets[i];
    f.inTable = true;
    this.buckets[i] = f;
    const n = this.present[qk]!;
    if (n < SATURATED) this.present[qk] = n + 1;
    this.append(f);
    this.size++;
    this.bytes += f.bytes;
    return f;
  }

  /** A flow's buffers grew or shrank by `delta` bytes; past the budget, the least recently used other flows go. */
  charge(f: Flow, delta: number): void {
    f.bytes += delta;
    if (!f.inTable) return;
    this.bytes += delta;
    while (this.bytes > this.budget && this.head !== undefined && this.head !== f) this.evictHead();
  }

  private evictHead(): void {
    const old = this.head!;
    this.remove(old);
    this.evictions++;
    this.onDrop(old, 'evicted');
  }

  /** Marks a flow as used now (moves it to the most-recent end). */
  touch(f: Flow, now: number): void {
    f.lastMicros = now;
    if (this.tail === f) return;
    this.unlink(f);
    this.append(f);
  }

  remove(f: Flow): void {
    if (!f.inTable) return;
    f.inTable = false;
    const n = this.present[f.qk]!;
    if (n < SATURATED) this.present[f.qk] = n - 1;
    const i = f.hash & this.mask;
    const h = this.buckets[i];
    if (h === f) {
      this.buckets[i] = f.chain;
    } else {
      for (let p = h; p !== undefined; p = p.chain) {
        if (p.chain === f) {
          p.chain = f.chain;
          break;
        }
      }
    }
    f.chain = undefined;
    this.unlink(f);
    this.size--;
    this.bytes -= f.bytes;
    if (this.pool.length < POOL_SIZE) this.pool.push(f);
  }

  /** Drops flows idle for longer than the timeout, oldest first. */
  expire(now: number): void {
    while (this.head !== undefined && now - this.head.lastMicros > this.idleMicros) {
      const f = this.head;
      this.remove(f);
      this.timeouts++;
      this.onDrop(f, 'timeout');
    }
  }

  /** Every flow still in the table (end of input). */
  drain(fn: (f: Flow) => void): void {
    while (this.head !== undefined) {
      const f = this.head;
      this.remove(f);
      fn(f);
    }
  }

  private append(f: Flow): void {
    f.prev = this.tail;
    f.next = undefined;
    if (this.tail) this.tail.next = f;
    else this.head = f;
    this.tail = f;
  }

  private unlink(f: Flow): void {
    if (f.prev) f.prev.next = f.next;
    else this.head = f.next;
    if (f.next) f.next.prev = f.prev;
    else this.tail = f.prev;
    f.prev = undefined;
    f.next = undefined;
  }
}
