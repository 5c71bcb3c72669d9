import { isIP } from 'node:net';

/** Networks (CIDR) and addresses as 32-bit words: the configured Kaspersky ranges, --client. */

/** A network: its bits as 32-bit words (1 for IPv4, 4 for IPv6) and the prefix length. */
export interface Cidr {
  readonly v6: boolean;
  readonly words: Uint32Array;
  readonly prefix: number;
}

/** The 32-bit words of an address in text form (undefined: not an address). */
export function addressWords(text: string): Uint32Array | undefined {
  const fam = isIP(text);
  if (fam === 4) {
    const p = text.split('.').map(Number);
    return Uint32Array.of((((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0));
  }
  if (fam !== 6) return undefined;
  let s = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4 !== null) {
    const w = addressWords(v4[1]!)![0]!;
    s = s.slice(0, v4.index) + `${(w >>> 16).toString(16)}:${(w & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head === '' ? [] : head!.split(':');
  const t = tail === undefined ? [] : tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint32Array(4);
  for (let i = 0; i < 8; i++) out[i >> 1]! |= (parseInt(groups[i] ?? '0', 16) & 0xffff) << ((i & 1) === 0 ? 16 : 0);
  return out;
}

/** `a.b.c.d/n` or `v6/n` → the range, or a message saying what is wrong. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  if (slash < 0) return 'expected ADDRESS/PREFIX, like 77.74.176.0/21 or 2a03:2480::/32';
  const addr = text.slice(0, slash);
  const prefix = Number(text.slice(slash + 1));
  const fam = isIP(addr);
  if (fam === 0) return `"${addr}" is not an IPv4 or IPv6 address`;
  const max = fam === 4 ? 32 : 128;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || text.slice(slash + 1).trim() === '') return `prefix must be 0..${max}`;
  const words = addressWords(addr)!;
  // Host bits must be zero: 77.74.177.0/21 is a typo for 77.74.176.0/21, or of the prefix.
  for (let i = 0; i < words.length; i++) {
    const bits = Math.max(0, Math.min(32, prefix - 32 * i));
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((words[i]! & ~mask) >>> 0 !== 0) return `host bits are set after /${prefix}; the network is written with them zero`;
  }
  return { words, prefix, v6: fam === 6 };
}

/** Whether the address `w` (addressWords) lies in the network `r` (parseCidr; same family). */
export function inRange(r: Cidr, w: Uint32Array): boolean {
  for (let i = 0; i < r.words.length; i++) {
    const bits = Math.max(0, Math.min(32, r.prefix - 32 * i));
    if (bits === 0) return true;
    const mask = (0xffffffff << (32 - bits)) >>> 0;
    if (((w[i]! & mask) >>> 0) !== r.words[i]) return false;
  }
  return true;
}

/**
 * A list of networks, asked about one address at a time (--client). Answers are kept per
 * address text: the clients a report is about are few next to the observations that name them.
 */
export class CidrList {
  private readonly nets: Cidr[];
  private readonly seen = new Map<string, boolean>();

  /** `cidrs` must have passed parseCidr. */
  constructor(cidrs: readonly Cidr[]) {
    this.nets = [...cidrs];
  }

  has(address: string): boolean {
    let yes = this.seen.get(address);
    if (yes !== undefined) return yes;
    const w = addressWords(address);
    yes = w !== undefined && this.nets.some((n) => n.v6 === (w.length === 4) && inRange(n, w));
    if (this.seen.size >= 65_536) this.seen.clear(); // a bound, not a cache policy: reached only by a capture of very many clients
    this.seen.set(address, yes);
    return yes;
  }
}
