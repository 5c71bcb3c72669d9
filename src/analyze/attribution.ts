import { addressWords, inRange, parseCidr, type Cidr } from '../common/cidr.js';
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

interface Range extends Cidr {
  readonly match: RuleMatch;
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
