import { u32be } from './bytes.js';

/** IP addresses as text, built only for packets that produced an observation. */

export function ipv4ToString(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

const groups = new Uint16Array(8);
/** Text being built: 8 groups of 4 hex digits and 7 colons fit in 39 bytes; `::ffff:` + a quad in 22. */
const text = Buffer.alloc(48);
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/** Writes `v` in lower-case hex without leading zeros at `p`; returns the next position. */
function putHex(v: number, p: number): number {
  if (v >= 0x1000) text[p++] = HEX_DIGITS[v >> 12]!;
  if (v >= 0x100) text[p++] = HEX_DIGITS[(v >> 8) & 0xf]!;
  if (v >= 0x10) text[p++] = HEX_DIGITS[(v >> 4) & 0xf]!;
  text[p++] = HEX_DIGITS[v & 0xf]!;
  return p;
}

/**
 * RFC 5952: lower-case hex, no leading zeros, the longest run (>= 2) of zero groups as `::`
 * (the first of equal runs). Written byte by byte into a scratch buffer and decoded once: no
 * arrays or intermediate strings.
 */
export function ipv6ToString(b: Uint8Array, o: number): string {
  for (let i = 0; i < 8; i++) groups[i] = (b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!;
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (best === 0 && bestLen === 5 && groups[5] === 0xffff) return `::ffff:${ipv4ToString(b, o + 12)}`;
  let p = 0;
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      text[p++] = 0x3a;
      text[p++] = 0x3a;
      i += bestLen - 1;
      continue;
    }
    if (p > 0 && text[p - 1] !== 0x3a) text[p++] = 0x3a;
    p = putHex(groups[i]!, p);
  }
  return text.toString('latin1', 0, p);
}

/**
 * Direct-mapped caches of formatted addresses: a network has few hosts and sends many
 * observations per host, so the text of an address is usually built already. Besides the
 * formatting it saves, handing out the same string object lets the analyzer's Map lookups
 * reuse the hash V8 keeps in the string. A slot holds one address; a collision just
 * overwrites it.
 */
const CACHE_BITS = 12;
const SLOTS = 1 << CACHE_BITS;
const v4Addr = new Float64Array(SLOTS).fill(-1);
const v4Text: string[] = new Array<string>(SLOTS).fill('');
const v6Words = new Uint32Array(SLOTS * 4);
const v6Used = new Uint8Array(SLOTS);
const v6Text: string[] = new Array<string>(SLOTS).fill('');

/** ipv4ToString through the cache. */
export function ipv4Text(b: Uint8Array, o: number): string {
  const a = u32be(b, o);
  const i = Math.imul(a, 0x9e3779b1) >>> (32 - CACHE_BITS);
  if (v4Addr[i] === a) return v4Text[i]!;
  const s = ipv4ToString(b, o);
  v4Addr[i] = a;
  v4Text[i] = s;
  return s;
}

/** ipv6ToString through the cache. */
export function ipv6Text(b: Uint8Array, o: number): string {
  const w0 = u32be(b, o);
  const w1 = u32be(b, o + 4);
  const w2 = u32be(b, o + 8);
  const w3 = u32be(b, o + 12);
  const h = w0 ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35) ^ Math.imul(w3, 0x27d4eb2f);
  const i = Math.imul(h, 0x9e3779b1) >>> (32 - CACHE_BITS);
  const k = i * 4;
  if (v6Used[i] === 1 && v6Words[k] === w0 && v6Words[k + 1] === w1 && v6Words[k + 2] === w2 && v6Words[k + 3] === w3) return v6Text[i]!;
  const s = ipv6ToString(b, o);
  v6Words[k] = w0;
  v6Words[k + 1] = w1;
  v6Words[k + 2] = w2;
  v6Words[k + 3] = w3;
  v6Used[i] = 1;
  v6Text[i] = s;
  return s;
}
