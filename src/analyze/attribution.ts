import { isIP } from 'node:net';
import { LruMap } from '../common/lru.js';
import type { RuleMatch } from './hostnames.js';
import { CATEGORIES, SEVERITIES, type Category, type Severity } from './rules.js';

/**
 * Attribution of connections that show no name (no SNI, ECH, HTTP to an IP literal, a SYN
 * whose hello never came, QUIC kasmon cannot decrypt) to the Kaspersky name they were for.
 *
 * 1. The DNS-answer cache: the addresses DNS answered for Kaspersky names, and the targets of
 *    CNAME chains that start at (or pass through) a Kaspersky name, each with the name it
 *    stands for and the rule that name matched, until its TTL runs out (packet time). A later
 *    connection to such an address is attributed to that name (evidence `resolved_ip`). Like
 *    every table it is bounded by a byte budget (`limits.memory.dns_answers`) and a count; the
 *    least recently used entries are evicted first and counted (`dns_answers`), and entries
 *    past their TTL are dropped when met and counted (`dns_answers_expired`).
 * 2. Configured Kaspersky address ranges (`attribution.kaspersky_networks`, each with its
 *    source), checked when the cache has nothing: evidence `kaspersky_network`, confidence C.
 *
 * CNAMEs count both ways. Forward, an answer `corp-alias CNAME kaspersky-name` matches on its
 * target (analyzer.ts), so a corporate alias whose chain reaches Kaspersky is a contact; the
 * chain's further targets stand for that Kaspersky name. Backward, a Kaspersky name whose chain
 * ends at a CDN name (`downloads.upd.kaspersky.com CNAME upd-eu.cdn.example.net`) gives the
 * CDN name's addresses to the Kaspersky name. The decoder hands the analyzer the address
 * records of a CNAME target it passed in the same message (capture/app/dns.ts); chains spread
 * over several responses are followed here too, through the alias entries.
 */
export interface Attribution {
  /** The Kaspersky name the address or alias stands for. */
  readonly name: string;
  readonly match: RuleMatch;
  /** Packet time (µs) past which the entry is stale (the answer's TTL). */
  readonly expires: number;
  /** Bytes the entry is accounted at (with its key). */
  readonly cost: number;
}

/** An answer without a TTL (an observation file from elsewhere) is kept this long. */
export const DEFAULT_TTL_SECONDS = 300;

// ─── memory accounting (test/memory/accounting.test.ts keeps it honest) ──────────────────
/** One entry: the Attribution, the LRU slot and Map entry; plus its key string. The name is shared with the observation. */
export const DNS_ENTRY_BYTES = 136;
const keyBytes = (k: string): number => 24 + ((k.length + 7) & ~7);

export interface DnsCacheLimits {
  /** Byte budget (limits.memory.dns_answers). */
  readonly bytes: number;
  /** Most entries held. @default no bound beyond bytes */
  readonly maxEntries?: number;
  /** The longest an answer is remembered, whatever its TTL says. */
  readonly maxTtlSeconds: number;
}

/** An entry as the cache keeps it: a later answer for the same key renews it in place. */
interface Entry {
  name: string;
  match: RuleMatch;
  expires: number;
  readonly cost: number;
}

export class DnsAnswerCache {
  private readonly lru: LruMap<string, Entry>;
  /** Entries met after their TTL ran out (dropped). */
  expired = 0;
  private readonly maxTtlMicros: number;
  /**
   * The last name turned into an alias key, and that key: the answers of one response name the
   * same owner in a row (its question, a CNAME target and that target's addresses), so most
   * lookups reuse the key instead of concatenating (and hashing) a new string.
   */
  private lastAlias = '';
  private lastAliasKey = '.';
  /** What `put` writes, for `renew` (one function for the cache's life: no closure per answer). */
  private putName = '';
  private putMatch: RuleMatch | undefined;
  private putExpires = 0;
  private readonly renew = (e: Entry): boolean => {
    // A later answer replaces an earlier one; an answer replayed out of order does not shorten a longer-lived entry for the same name.
    if (e.name === this.putName && e.expires >= this.putExpires) return false;
    e.name = this.putName;
    e.match = this.putMatch!;
    e.expires = this.putExpires;
    return true;
  };

  constructor(limits: DnsCacheLimits) {
    this.maxTtlMicros = limits.maxTtlSeconds * 1_000_000;
    this.lru = new LruMap<string, Entry>({ capacity: limits.maxEntries ?? Number.MAX_SAFE_INTEGER, budget: limits.bytes, costOf: (e) => e.cost });
  }

  get evictions(): number {
    return this.lru.evictions;
  }
  get size(): number {
    return this.lru.size;
  }
  get bytes(): number {
    return this.lru.bytes;
  }

  /** `address` (A/AAAA data) stands for `name` from `at` for `ttl` seconds. */
  noteAddress(address: string, name: string, match: RuleMatch, at: number, ttl: number | undefined): void {
    this.put(address, name, match, at, ttl);
  }

  /** The CNAME target `alias` stands for `name` (a chain's further links and addresses inherit it). */
  noteAlias(alias: string, name: string, match: RuleMatch, at: number, ttl: number | undefined): void {
    this.put(this.aliasKey(alias), name, match, at, ttl);
  }

  /** What the address stands for at `at`, if an answer still in its TTL gave it. */
  address(address: string, at: number): Attribution | undefined {
    return this.get(address, at);
  }

  /** What the alias (a CNAME target) stands for at `at`. */
  alias(name: string, at: number): Attribution | undefined {
    return this.lru.size === 0 ? undefined : this.get(this.aliasKey(name), at);
  }

  /** A trailing dot keeps alias keys apart from address keys (names carry none). */
  private aliasKey(name: string): string {
    if (name !== this.lastAlias) {
      this.lastAlias = name;
      this.lastAliasKey = name + '.';
    }
    return this.lastAliasKey;
  }

  private put(key: string, name: string, match: RuleMatch, at: number, ttl: number | undefined): void {
    const life = Math.min((ttl ?? DEFAULT_TTL_SECONDS) * 1_000_000, this.maxTtlMicros);
    this.putName = name;
    this.putMatch = match;
    this.putExpires = at + life;
    // An entry for the key is renewed in place (same key, same cost): one lookup, no new object.
    if (this.lru.touchUpdate(key, this.renew) !== undefined) return;
    this.lru.set(key, { name, match, expires: this.putExpires, cost: DNS_ENTRY_BYTES + keyBytes(key) });
  }

  private get(key: string, at: number): Attribution | undefined {
    const e = this.lru.get(key);
    if (e === undefined) return undefined;
    if (at <= e.expires) return e;
    this.lru.delete(key);
    this.expired++;
    return undefined;
  }
}

// ─── configured Kaspersky address ranges ─────────────────────────────────────────────────

/** A range from `attribution.kaspersky_networks`. */
export interface KasperskyNetwork {
  /** `77.74.176.0/21`, `2a03:2480::/32`. */
  readonly cidr: string;
  /** Where the range comes from (a source id or URL, and the date it was checked). */
  readonly source: string;
  readonly category: Category;
  readonly severity: Severity;
}

interface Range {
  readonly v6: boolean;
  /** The network's bits as 32-bit words (1 for IPv4, 4 for IPv6), and the prefix length. */
  readonly words: Uint32Array;
  readonly prefix: number;
  readonly match: RuleMatch;
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
export function parseCidr(text: string): { words: Uint32Array; prefix: number; v6: boolean } | string {
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

function inRange(r: Range, w: Uint32Array): boolean {
  for (let i = 0; i < r.words.length; i++) {
    const bits = Math.max(0, Math.min(32, r.prefix - 32 * i));
    if (bits === 0) return true;
    const mask = (0xffffffff << (32 - bits)) >>> 0;
    if (((w[i]! & mask) >>> 0) !== r.words[i]) return false;
  }
  return true;
}

/** The configured ranges, most specific first. Few (tens): a scan per nameless connection is cheap. */
export class KasperskyNetworks {
  private readonly ranges: Range[];

  constructor(nets: readonly KasperskyNetwork[]) {
    const ranges: Range[] = [];
    for (const n of nets) {
      const c = parseCidr(n.cidr);
      if (typeof c === 'string') continue; // the config reader rejected it already
      ranges.push({
        ...c,
        match: {
          id: `net:${n.cidr}`,
          pattern: n.cidr,
          category: n.category,
          severity: n.severity,
          confidence: 'C',
          categoryIndex: CATEGORIES.indexOf(n.category),
          severityRank: SEVERITIES.indexOf(n.severity),
        },
      });
    }
    this.ranges = ranges.sort((a, b) => b.prefix - a.prefix);
  }

  get size(): number {
    return this.ranges.length;
  }

  /** The rule match of the range `address` lies in, if any. */
  match(address: string): RuleMatch | undefined {
    if (this.ranges.length === 0) return undefined;
    const w = addressWords(address);
    if (w === undefined) return undefined;
    const v6 = w.length === 4;
    for (const r of this.ranges) if (r.v6 === v6 && inRange(r, w)) return r.match;
    return undefined;
  }
}
