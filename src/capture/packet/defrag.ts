import { defineIssue, type DecodeIssue } from '../issues.js';

/**
 * IP reassembly for IPv4 (RFC 791 §3.2, RFC 815) and IPv6 (RFC 8200 §4.5), bounded by a
 * table of trains (LRU), a global byte budget and a timeout on packet time. Policy:
 * - an exact duplicate fragment is ignored (retransmission);
 * - any other overlap drops the whole datagram: RFC 5722 requires it for IPv6, and for IPv4
 *   it is the choice that cannot be used to show kasmon different bytes than the host saw;
 * - a datagram larger than 65535 bytes, or a fragment past that, is invalid and dropped.
 * Only trains that complete are decoded; every drop and eviction is counted.
 */
export const MAX_TRAINS = 8192;
/** Bytes held in all pending trains together (their fragments and bookkeeping). */
export const MAX_FRAG_BYTES = 32 * 1024 * 1024;
/** A train's bookkeeping (object, key string, Map entry), and a fragment's besides its bytes (object, buffer). */
export const TRAIN_BYTES = 400;
export const PIECE_OVERHEAD = 400;
/** Seconds a train may wait for its missing fragments (RFC 8200 §4.5 uses 60). */
export const FRAG_TIMEOUT_SECONDS = 60;
const MAX_DATAGRAM = 65_535;
const MAX_PIECES = 256;

export const FRAG_OVERLAP = defineIssue('ipfrag', 'invalid', 'overlap');
export const FRAG_TOO_BIG = defineIssue('ipfrag', 'invalid', 'too_big');
export const FRAG_TOO_MANY = defineIssue('ipfrag', 'skipped', 'too_many_fragments');
export const FRAG_EVICTED = defineIssue('ipfrag', 'skipped', 'evicted');
export const FRAG_TIMEOUT = defineIssue('ipfrag', 'skipped', 'timeout');
/** The input ended while the train still waited for fragments (its datagram, and any name in it, is lost). */
export const FRAG_AT_END = defineIssue('ipfrag', 'truncated', 'incomplete_at_end');
export const FRAG_BUDGET = defineIssue('ipfrag', 'skipped', 'byte_budget');
export const FRAG_INCONSISTENT = defineIssue('ipfrag', 'invalid', 'inconsistent_length');

interface Piece {
  off: number;
  data: Uint8Array;
}

interface Train {
  key: string;
  pieces: Piece[];
  /** Payload bytes received (completion: equals `total`). */
  bytes: number;
  /** Bytes accounted against the budget: TRAIN_BYTES + every piece with its overhead. */
  cost: number;
  /** Payload length once the last fragment (MF=0) arrived, else -1. */
  total: number;
  /** Upper-layer protocol (IPv4 header / IPv6 fragment header of the first fragment). */
  proto: number;
  firstMicros: number;
  dead: boolean;
}

export class Defragmenter {
  private readonly trains = new Map<string, Train>();
  /** Bytes accounted for all trains (see TRAIN_BYTES). */
  bytes = 0;
  evictions = 0;
  timeouts = 0;

  constructor(
    /** Told of every drop, eviction and timeout, once each. */
    private readonly onIssue: (i: DecodeIssue) => void,
    private readonly maxTrains = MAX_TRAINS,
    private readonly maxBytes = MAX_FRAG_BYTES,
    private readonly timeoutMicros = FRAG_TIMEOUT_SECONDS * 1_000_000,
  ) {}

  get pending(): number {
    return this.trains.size;
  }

  /**
   * Adds a fragment; `data` is its payload (copied here: it outlives the frame). Returns the
   * reassembled payload and its protocol when the train completes. `maxPayload` is what the
   * datagram may hold after its header (65535 minus the IPv4 header; 65535 for IPv6).
   */
  add(
    key: string,
    offset: number,
    more: boolean,
    proto: number,
    data: Uint8Array,
    nowMicros: number,
    maxPayload = MAX_DATAGRAM,
  ): { payload: Uint8Array; proto: number } | undefined {
    this.expire(nowMicros);
    const end = offset + data.length;
    if (end > maxPayload) {
      this.onIssue(FRAG_TOO_BIG);
      this.drop(key);
      return undefined;
    }
    let t = this.trains.get(key);
    if (t === undefined) {
      if (this.trains.size >= this.maxTrains) this.evictOldest(FRAG_EVICTED);
      t = { key, pieces: [], bytes: 0, cost: TRAIN_BYTES, total: -1, proto: -1, firstMicros: nowMicros, dead: false };
      this.trains.set(key, t);
      this.bytes += TRAIN_BYTES;
    }
    if (t.dead) return undefined;
    if (!more) {
      if ((t.total >= 0 && t.total !== end) || t.pieces.some((p) => p.off + p.data.length > end)) {
        return this.kill(t, FRAG_INCONSISTENT);
      }
      t.total = end;
    } else if (t.total >= 0 && end > t.total) {
      return this.kill(t, FRAG_INCONSISTENT);
    }
    if (offset === 0) t.proto = proto;
    for (const p of t.pieces) {
      const pEnd = p.off + p.data.length;
      if (offset < pEnd && p.off < end) {
        if (p.off === offset && pEnd === end && sameBytes(p.data, data)) return undefined; // duplicate
        return this.kill(t, FRAG_OVERLAP);
      }
    }
    if (t.pieces.length >= MAX_PIECES) return this.kill(t, FRAG_TOO_MANY);
    const cost = data.length + PIECE_OVERHEAD;
    while (this.bytes + cost > this.maxBytes) {
      const oldest = this.trains.values().next().value;
      if (oldest === undefined || oldest === t) return this.kill(t, FRAG_BUDGET);
      this.evictOldest(FRAG_BUDGET);
    }
    t.pieces.push({ off: offset, data: data.slice() }); // copy: outlives frame
    t.bytes += data.length;
    t.cost += cost;
    this.bytes += cost;
    if (t.total < 0 || t.proto < 0 || t.bytes !== t.total) return undefined;
    // Non-overlapping pieces summing to the total cover it exactly.
    const out = new Uint8Array(t.total);
    for (const p of t.pieces) out.set(p.data, p.off);
    this.remove(t);
    return { payload: out, proto: t.proto };
  }

  private kill(t: Train, issue: DecodeIssue): undefined {
    this.onIssue(issue);
    // Keep a tombstone so the train's later fragments are dropped too, not started afresh.
    this.bytes -= t.cost - TRAIN_BYTES;
    t.pieces = [];
    t.bytes = 0;
    t.cost = TRAIN_BYTES;
    t.dead = true;
    return undefined;
  }

  private drop(key: string): void {
    const t = this.trains.get(key);
    if (t) this.remove(t);
  }

  private remove(t: Train): void {
    this.trains.delete(t.key);
    this.bytes -= t.cost;
  }

  private evictOldest(issue: DecodeIssue): void {
    const first = this.trains.values().next();
    if (first.done) return;
    this.remove(first.value);
    if (!first.value.dead) {
      this.evictions++;
      this.onIssue(issue);
    }
  }

  /** End of input: every train still waiting is dropped and counted, as a timeout would have. */
  finish(): void {
    for (const t of this.trains.values()) {
      this.remove(t);
      if (!t.dead) this.onIssue(FRAG_AT_END);
    }
  }

  /** Drops trains older than the timeout (Map order is arrival order). */
  expire(nowMicros: number): void {
    for (const t of this.trains.values()) {
      if (nowMicros - t.firstMicros < this.timeoutMicros) break;
      this.remove(t);
      if (!t.dead) {
        this.timeouts++;
        this.onIssue(FRAG_TIMEOUT);
      }
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
