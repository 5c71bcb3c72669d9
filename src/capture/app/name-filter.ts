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
  private readonly byHash = new Map<number, Uint8Array[]>();
  private readonly anyRoot: boolean;

  /** Without `roots`, `mayWant` passes every name (only `wants` decides). */
  constructor(
    readonly wants: (kind: ObservationKind, name: string, cnameTarget: string | undefined) => boolean,
    roots: readonly string[] | undefined,
  ) {
    this.anyRoot = roots === undefined;
    for (const r of roots ?? []) {
      const bytes = Uint8Array.from(r, (c) => c.charCodeAt(0) & 0xff);
      const h = fnv(bytes, 0, bytes.length);
      const list = this.byHash.get(h);
      if (list === undefined) this.byHash.set(h, [bytes]);
      else list.push(bytes);
    }
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
    const list = this.byHash.get(fnv(b, from, n));
    if (list === undefined) return false;
    for (const r of list) {
      if (r.length !== n - from) continue;
      let same = true;
      for (let i = 0; i < r.length && same; i++) same = r[i] === b[from + i];
      if (same) return true;
    }
    return false;
  }
}

/** FNV-1a over b[from, to): the same hash the matcher computes over a string's char codes. */
function fnv(b: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}
