import type { ObservationKind } from '../observation.js';

/**
 * The name filter: which decoded names deserve an Observation. `kasmon names` has none (every
 * name is printed); `replay` and `monitor` want only names a rule matches, and skip building
 * observations (addresses, JA4, the ClientHello's lists) for the rest, which are still decoded
 * and counted. The engine builds the filter from its policy (the matcher's `match` and its
 * roots) and swaps it on reload. Plain data and a callback in, no analyze import.
 *
 * Two tests:
 * - `wants(kind, name, cnameTarget)`: the real decision, on the name's string;
 * - `mayWant(b, n)`: a byte-level test of a lower-cased dotted name a decoder has in a scratch
 *   buffer, before any string is built: the name's root (its last two labels, or the whole
 *   name when it has fewer) must equal one of the roots exactly. A DNS name outside them cannot
 *   match, so it is counted but never turned into a string, hashed or looked up. `wants` must
 *   reject every name `mayWant` rejects (`mayWant` may only pass more). Roots and names are
 *   ASCII and lower case here (the caller skips it for names with other bytes).
 */
export class NameFilter {
  /**
   * The roots' bytes back to back in one buffer (root k is bytes[starts[k], starts[k + 1])),
   * and by hash the index of a root, or a list of them when hashes collide: one buffer, not a
   * typed array per root (100,000 roots took a third of a second to build that way).
   */
  private readonly bytes: Uint8Array;
  private readonly starts: Int32Array;
  private readonly byHash = new Map<number, number | number[]>();
  private readonly anyRoot: boolean;

  /** Without `roots`, `mayWant` passes every name (only `wants` decides). */
  constructor(
    readonly wants: (kind: ObservationKind, name: string, cnameTarget: string | undefined) => boolean,
    roots: readonly string[] | undefined,
  ) {
    this.anyRoot = roots === undefined;
    const list = roots ?? [];
    let total = 0;
    for (const r of list) total += r.length;
    this.bytes = new Uint8Array(total);
    this.starts = new Int32Array(list.length + 1);
    let at = 0;
    list.forEach((r, k) => {
      this.starts[k] = at;
      for (let i = 0; i < r.length; i++) this.bytes[at + i] = r.charCodeAt(i) & 0xff;
      at += r.length;
      const h = fnv(this.bytes, at - r.length, at);
      const known = this.byHash.get(h);
      if (known === undefined) this.byHash.set(h, k);
      else if (typeof known === 'number') this.byHash.set(h, [known, k]);
      else known.push(k);
    });
    this.starts[list.length] = at;
  }

  /** False when the name in b[0, n) certainly has none of the roots (so `wants` would reject it). */
  mayWant(b: Uint8Array, n: number): boolean {
    if (this.anyRoot) return true;
    let last = -1;
    let second = -1;
    for (let i = n - 1; i >= 0; i--) {
      if (b[i] !== 0x2e) continue;
      if (last < 0) {
        last = i;
        if (last === 0) break;
      } else {
        second = i;
        break;
      }
    }
    const from = last <= 0 || second < 0 ? 0 : second + 1;
    const hit = this.byHash.get(fnv(b, from, n));
    if (hit === undefined) return false;
    if (typeof hit === 'number') return this.same(hit, b, from, n);
    for (const k of hit) if (this.same(k, b, from, n)) return true;
    return false;
  }

  /** Root k equals b[from, n). */
  private same(k: number, b: Uint8Array, from: number, n: number): boolean {
    const start = this.starts[k]!;
    if (this.starts[k + 1]! - start !== n - from) return false;
    for (let i = 0; i < n - from; i++) if (this.bytes[start + i] !== b[from + i]) return false;
    return true;
  }
}

/** FNV-1a over b[from, to): the same hash the matcher computes over a string's char codes. */
function fnv(b: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}
