/** IP addresses as text, built only for packets that produced an observation. */

export function ipv4ToString(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952: lower-case hex, no leading zeros, the longest run (>= 2) of zero groups as `::`. */
export function ipv6ToString(b: Uint8Array, o: number): string {
  const g: number[] = new Array<number>(8);
  for (let i = 0; i < 8; i++) g[i] = (b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!;
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (best === 0 && bestLen === 5 && g[5] === 0xffff) return `::ffff:${ipv4ToString(b, o + 12)}`;
  const hex = (i: number): string => g[i]!.toString(16);
  if (best < 0) return g.map((_, i) => hex(i)).join(':');
  const head = g.slice(0, best).map((_, i) => hex(i));
  const tail = g.slice(best + bestLen).map((_, i) => hex(best + bestLen + i));
  return `${head.join(':')}::${tail.join(':')}`;
}
