/**
 * A bounded map with (approximately) least-recently-used eviction, on a plain Map whose
 * insertion order is the recency order. Bounded two ways: a number of entries, and a byte
 * budget over the costs its owner declares (each entry's cost comes from `costOf`; an owner
 * that grows an entry in place reports the growth with `charge`, then calls `enforce`).
 *
 * Re-inserting on every access would cost a delete and a set per packet, so an entry is
 * refreshed only once it has drifted into the older half of the map (the classic "second
 * half" approximation), and only while the map is under pressure (more than half full, by
 * count or by bytes): below that nothing can be evicted before every entry gets another chance
 * to be refreshed, and with many clients taking turns every access would otherwise drift
 * (measured: three Map operations per match instead of one). Entries in active use are never
 * evicted, and a hot entry costs one Map lookup. Evictions are counted, as every bounded table
 * in kasmon must.
 */
interface Slot<V> {
  value: V;
  tick: number;
}

export interface LruOptions<K, V> {
  /** Most entries held. */
  readonly capacity: number;
  /** Most bytes held, by `costOf` (default: no byte bound). */
  readonly budget?: number;
  /** An entry's bytes as its owner accounts them; read when it is added and when it leaves. */
  readonly costOf?: (value: V) => number;
  /** Told of every entry evicted to make room (not of `delete`). */
  readonly onEvict?: (key: K, value: V) => void;
}

export class LruMap<K, V> {
  private readonly map = new Map<K, Slot<V>>();
  private tick = 0;
  readonly capacity: number;
  readonly budget: number;
  private readonly costOf: ((value: V) => number) | undefined;
  private readonly onEvict: ((key: K, value: V) => void) | undefined;
  /** Bytes held, by the owner's accounting. */
  bytes = 0;
  evictions = 0;
  /** `capacity >>> 1` and `budget / 2`, worked out once: `get` compares with them on every hit. */
  private readonly halfCapacity: number;
  private readonly halfBudget: number;

  constructor(opts: LruOptions<K, V>) {
    if (!(opts.capacity >= 1)) throw new RangeError('LruMap capacity must be >= 1');
    this.capacity = opts.capacity;
    this.budget = opts.budget ?? Infinity;
    this.costOf = opts.costOf;
    this.onEvict = opts.onEvict;
    this.halfCapacity = this.capacity >>> 1;
    this.halfBudget = this.budget / 2;
  }

  get size(): number {
    return this.map.size;
  }

  /** Returns the value and marks it recently used. */
  get(key: K): V | undefined {
    const s = this.map.get(key);
    if (s === undefined) return undefined;
    this.refresh(key, s);
    return s.value;
  }

  /** A hit: counts as a use, and moves the entry to the recent end once it has drifted into the older half under pressure. */
  private refresh(key: K, s: Slot<V>): void {
    const now = ++this.tick;
    const size = this.map.size;
    if ((size > this.halfCapacity || this.bytes > this.halfBudget) && now - s.tick > size >>> 1) {
      this.map.delete(key);
      this.map.set(key, s);
      s.tick = now;
    }
  }

  /**
   * `get(key)`, then when `update(value)` returns true, `set(key, value)` with the value updated
   * in place (its cost must not change): the same recency and bounds as that pair, with one
   * lookup. `update` is called with undefined when the key is absent; then nothing changes.
   */
  touchUpdate(key: K, update: (value: V) => boolean): V | undefined {
    const s = this.map.get(key);
    if (s === undefined) return undefined;
    this.refresh(key, s);
    if (!update(s.value)) return s.value;
    this.map.delete(key);
    this.map.set(key, s);
    s.tick = ++this.tick;
    this.enforce(key);
    return s.value;
  }

  /** Adds or replaces an entry as the most recently used, then evicts down to the bounds (never this entry). */
  set(key: K, value: V): void {
    const s = this.map.get(key);
    if (s !== undefined) {
      if (this.costOf) this.bytes += this.costOf(value) - this.costOf(s.value);
      s.value = value;
      this.map.delete(key);
      this.map.set(key, s);
      s.tick = ++this.tick;
    } else {
      if (this.costOf) this.bytes += this.costOf(value);
      this.map.set(key, { value, tick: ++this.tick });
    }
    this.enforce(key);
  }

  /** The owner grew (or shrank) an entry in place by `delta` bytes. */
  charge(delta: number): void {
    this.bytes += delta;
  }

  /** Evicts least recently used entries until both bounds hold again, sparing `keep` (the entry in use). */
  enforce(keep?: K): void {
    while (this.map.size > this.capacity || this.bytes > this.budget) {
      const oldest = this.map.entries().next();
      if (oldest.done) return;
      const [k, s] = oldest.value;
      if (k === keep) {
        // The entry in use is the oldest: it alone is over the budget. Keep it; the next
        // entry added pushes it out.
        if (this.map.size === 1) return;
        this.map.delete(k);
        this.map.set(k, s);
        continue;
      }
      this.map.delete(k);
      if (this.costOf) this.bytes -= this.costOf(s.value);
      this.evictions++;
      this.onEvict?.(k, s.value);
    }
  }

  delete(key: K): boolean {
    const s = this.map.get(key);
    if (s === undefined) return false;
    this.map.delete(key);
    if (this.costOf) this.bytes -= this.costOf(s.value);
    return true;
  }

  *values(): IterableIterator<V> {
    for (const s of this.map.values()) yield s.value;
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [k, s] of this.map) yield [k, s.value];
  }
}
