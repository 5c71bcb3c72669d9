/**
 * A bounded map with (approximately) least-recently-used eviction, on a plain Map whose
 * insertion order is the recency order. Re-inserting on every access would cost a delete
 * and a set per packet, so an entry is refreshed only once it has drifted into the older
 * half of the map (the classic "second half" approximation), and only while the map is more
 * than half full: below that nothing can be evicted before every entry gets another chance
 * to be refreshed, and with many clients taking turns every access would otherwise drift
 * (measured: three Map operations per match instead of one). Entries in active use are never
 * evicted, and a hot entry costs one Map lookup. Evictions are counted, as every bounded
 * table in kasmon must.
 */
interface Slot<V> {
  value: V;
  tick: number;
}

export class LruMap<K, V> {
  private readonly map = new Map<K, Slot<V>>();
  private tick = 0;
  evictions = 0;

  constructor(
    readonly capacity: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {
    if (!(capacity >= 1)) throw new RangeError('LruMap capacity must be >= 1');
  }

  get size(): number {
    return this.map.size;
  }

  /** Returns the value and marks it recently used. */
  get(key: K): V | undefined {
    const s = this.map.get(key);
    if (s === undefined) return undefined;
    const now = ++this.tick;
    if (this.map.size > this.capacity >>> 1 && now - s.tick > this.map.size >>> 1) {
      this.map.delete(key);
      this.map.set(key, s);
      s.tick = now;
    }
    return s.value;
  }

  set(key: K, value: V): void {
    const s = this.map.get(key);
    if (s !== undefined) {
      s.value = value;
      this.get(key);
      return;
    }
    if (this.map.size >= this.capacity) {
      const oldest = this.map.entries().next();
      if (!oldest.done) {
        const [k, v] = oldest.value;
        this.map.delete(k);
        this.evictions++;
        this.onEvict?.(k, v.value);
      }
    }
    this.map.set(key, { value, tick: ++this.tick });
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  *values(): IterableIterator<V> {
    for (const s of this.map.values()) yield s.value;
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [k, s] of this.map) yield [k, s.value];
  }
}
