/**
 * A byte-level test of a hostname's last two labels against a set of "roots", run on the
 * lower-cased dotted name a decoder has in a scratch buffer, before any string is built.
 * `replay` hands the decoder the roots of every rule (the matcher's own pre-filter, see
 * src/analyze/hostnames.ts): a DNS name outside them cannot match, so it is counted but never
 * turned into a string, hashed or looked up. Plain data in (root strings), no analyze import.
 *
 * The root of a name is its last two labels, or the whole name when it has fewer; a name's
 * root must equal one of the roots exactly. Roots and names are ASCII and lower case here
 * (the caller skips the filter for names with other bytes).
 */
export class NameRootFilter {
  private readonly byHash = new Map<number, Uint8Array[]>();

  constructor(roots: readonly string[]) {
    for (const r of roots) {
      const bytes = Uint8Array.from(r, (c) => c.charCodeAt(0) & 0xff);
      const h = fnv(bytes, 0, bytes.length);
      const list = this.byHash.get(h);
      if (list === undefined) this.byHash.set(h, [bytes]);
      else list.push(bytes);
    }
  }

  /** False when the name in b[0, n) certainly has none of the roots. */
  mayMatch(b: Uint8Array, n: number): boolean {
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
