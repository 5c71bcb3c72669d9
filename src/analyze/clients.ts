import type { Observation } from '../capture/observation.js';
import { LruMap } from '../common/lru.js';
import type { PacketTime } from '../common/time.js';
import { evidenceOf, type EvidenceKind } from './evidence.js';
import { FINDING_SEVERITY, FINDINGS } from './findings.js';
import type { RuleMatch } from './hostnames.js';
import { CATEGORIES, SEVERITIES, type Category, type Severity } from './rules.js';

/**
 * Per-client state: what kasmon knows about each client that contacted a Kaspersky endpoint,
 * including its alert state (one slot per category), so alert history lives and dies with its
 * client. The table is bounded by a byte budget (limits.memory.clients) and a count; the least
 * recently seen client is evicted first, and evictions are counted. Every entry's bytes are
 * accounted as it grows (see the *_BYTES constants, measured by test/memory/accounting.test.ts).
 *
 * Times: `at` is the time a contact is judged at (the packet's own time, or network time for
 * a packet whose stamp was out of step: engine/clock.ts), and `time` the same instant as a
 * PacketTime with the capture's precision, for output.
 */

/**
 * An empty list of strings that already holds objects (V8's elements kind): an empty literal
 * holds small integers until the first string goes in, and that first push deoptimised the
 * code that records contacts (once per run, after it had been optimised for the empty kind).
 */
function strings(): string[] {
  const a = [''];
  a.pop();
  return a;
}

/** One category of one client: counts, first/last contact after the cutoff, alert state. */
export class CategoryState {
  before = 0;
  after = 0;
  firstAfter: PacketTime | undefined = undefined;
  firstAfterMicros = Number.NaN;
  lastAfter: PacketTime | undefined = undefined;
  lastAfterMicros = Number.NaN;
  /** Judged time of the last alert raised (NaN: none yet). */
  lastAlertMicros = Number.NaN;
  /** Post-cutoff contacts folded since the last alert. */
  folded = 0;
  /** Alerts raised for this client × category: 1 for the first, then 2, 3 ... */
  sequence = 0;
}

/** One matched name of one client. */
export class NameState {
  before = 0;
  after = 0;
  /**
   * Where the client went for this name (TLS, HTTP and QUIC connections): server address and
   * port, in two parallel lists of at most MAX_DESTINATIONS (no string is built per contact).
   */
  destAddrs: string[] | undefined = undefined;
  destPorts: number[] | undefined = undefined;
  /** Addresses DNS answers gave for this name, at most MAX_DESTINATIONS. */
  addresses: string[] | undefined = undefined;
  /** Bits of EVIDENCE_KINDS this name was seen by. */
  evidenceBits = 0;
  constructor(
    readonly category: Category,
    readonly rule: string,
  ) {}

  /** `ip:port` (`[v6]:port`) of each destination. */
  get destinations(): string[] {
    const a = this.destAddrs ?? [];
    return a.map((ip, i) => (ip.includes(':') ? `[${ip}]:${this.destPorts![i]}` : `${ip}:${this.destPorts![i]}`));
  }
}

export class ClientState {
  firstSeen: PacketTime;
  firstSeenMicros: number;
  lastSeen: PacketTime;
  lastSeenMicros: number;
  before = 0;
  after = 0;
  readonly names = new Map<string, NameState>();
  /** By CATEGORIES index. */
  readonly categories: Array<CategoryState | undefined> = new Array<CategoryState | undefined>(CATEGORIES.length).fill(undefined);
  /** Bits of EVIDENCE_KINDS seen. */
  evidenceBits = 0;
  /** By FINDINGS index: counts, first/last after the cutoff, alert state (analyze/findings.ts). */
  readonly findings: Array<CategoryState | undefined> = new Array<CategoryState | undefined>(FINDINGS.length).fill(undefined);
  /** Update paths it requested from Kaspersky hosts (the first MAX_SAMPLES distinct ones). */
  readonly updatePaths: string[] = strings();
  /** Resolvers other than the internal ones it sent Kaspersky names to (dns.internal_resolvers). */
  readonly resolverBypass: string[] = strings();
  /** Index in SEVERITIES of the most severe match (0 = high). */
  severityRank: number;
  /** The same for matches at or after the cutoff (-1: none). */
  severityAfterRank = -1;
  /** JA4 fingerprints of its ClientHellos to Kaspersky names, at most MAX_JA4_PER_CLIENT. */
  readonly ja4: string[] = strings();
  /** A fingerprint known to be in `ja4` (the last one seen): a client repeats its own, so most hellos skip the scan. */
  lastJa4: string | undefined = undefined;
  /** Public resolvers it sent Kaspersky names to directly (the documented DNS fallback). */
  readonly publicDnsFallback: string[] = strings();
  /** A ClientHello to a Kaspersky name carried ECH: the real name may be another. */
  echSeen = false;
  alerts = 0;
  /** Bytes this entry is accounted at. */
  bytes = CLIENT_BYTES;
  /** Ageing time of the last contact (for idle expiry). */
  touched: number;

  constructor(
    readonly client: string,
    readonly appliance: boolean,
    time: PacketTime,
    at: number,
    severity: Severity,
    age: number,
  ) {
    this.firstSeen = time;
    this.lastSeen = time;
    this.firstSeenMicros = at;
    this.lastSeenMicros = at;
    this.severityRank = SEVERITIES.indexOf(severity);
    this.touched = age;
  }

  get severity(): Severity {
    return SEVERITIES[this.severityRank] ?? 'info';
  }

  get severityAfter(): Severity | undefined {
    return this.severityAfterRank < 0 ? undefined : SEVERITIES[this.severityAfterRank];
  }

  /** Evidence kinds in EVIDENCE_KINDS order. */
  get evidence(): EvidenceKind[] {
    return evidenceOf(this.evidenceBits);
  }

  get firstAfter(): PacketTime | undefined {
    return this.earliest((c) => c.firstAfterMicros, (c) => c.firstAfter, true);
  }

  get lastAfter(): PacketTime | undefined {
    return this.earliest((c) => c.lastAfterMicros, (c) => c.lastAfter, false);
  }

  private earliest(us: (c: CategoryState) => number, t: (c: CategoryState) => PacketTime | undefined, first: boolean): PacketTime | undefined {
    let best: CategoryState | undefined;
    for (const c of this.categories) {
      if (c === undefined || c.after === 0) continue;
      if (best === undefined || (first ? us(c) < us(best) : us(c) > us(best))) best = c;
    }
    return best === undefined ? undefined : t(best);
  }
}

// ─── memory accounting ───────────────────────────────────────────────────────────────────
// V8 heap bytes, measured on Node 20 x64 (test/memory/accounting.test.ts keeps them honest:
// it builds clients and compares the accounted bytes with the heap they really take).

/** A client with no names: the object, its Map and arrays, the category slot array, the LRU slot and Map entry, the key string. */
export const CLIENT_BYTES = 800;
/** A category's state (first use of a category by a client). */
export const CATEGORY_BYTES = 120;
/** A name entry: the NameState, its Map entry; plus the name's own string bytes. */
export const NAME_BYTES = 120;
/** A short string kept in a list (JA4, `ip:port`, an address): header, characters, array slot. */
export const STRING_BYTES = 24;

/** At most this many distinct names / fingerprints / destinations are kept per client. */
export const MAX_NAMES_PER_CLIENT = 256;
export const MAX_JA4_PER_CLIENT = 32;
export const MAX_DESTINATIONS = 8;
/** Update paths and bypassed resolvers kept per client (the counts go on). */
export const MAX_SAMPLES = 8;

const stringBytes = (s: string): number => STRING_BYTES + ((s.length + 7) & ~7);

/** The bytes a client is accounted at, counted from scratch (a restored client; tests check it equals the running count). */
export function clientBytes(c: ClientState): number {
  let b = CLIENT_BYTES + stringBytes(c.client);
  for (const cat of c.categories) if (cat !== undefined) b += CATEGORY_BYTES;
  for (const [name, n] of c.names) {
    b += NAME_BYTES + stringBytes(name);
    if (n.destAddrs !== undefined) {
      b += 2 * STRING_BYTES;
      for (const a of n.destAddrs) b += stringBytes(a) + 8;
    }
    if (n.addresses !== undefined) {
      b += STRING_BYTES;
      for (const a of n.addresses) b += stringBytes(a);
    }
  }
  for (const f of c.findings) if (f !== undefined) b += CATEGORY_BYTES;
  for (const j of c.ja4) b += stringBytes(j);
  for (const r of c.publicDnsFallback) b += stringBytes(r);
  for (const p of c.updatePaths) b += stringBytes(p);
  for (const r of c.resolverBypass) b += stringBytes(r);
  return b;
}

export interface ClientLimits {
  /** Byte budget of the whole table (clients with their names, fingerprints and alert state). */
  readonly bytes: number;
  /** Most clients held, whatever their size. @default no bound beyond bytes */
  readonly maxClients?: number;
}

/** Per-client state, bounded in bytes; evictions and idle expiries are counted and reported. */
export class ClientTable {
  private readonly lru: LruMap<string, ClientState>;
  /** Names not recorded because a client reached MAX_NAMES_PER_CLIENT. */
  namesDropped = 0;
  /** Clients that left the table after being idle (expireIdle). */
  expired = 0;
  /**
   * The client of the previous call: observations come in runs per client (a response's
   * answers, a connection's names), and a run needs no map lookup. Safe because entries
   * leave the map only in `enforce` (which spares the client in use) and `expireIdle`, which
   * forgets this.
   */
  private lastClient: string | undefined;
  private lastState: ClientState | undefined;
  /** Likewise the name entry of the previous call (a query, then its answers). */
  private lastNameOwner: ClientState | undefined;
  private lastName: string | undefined;
  private lastNameState: NameState | undefined;

  constructor(limits: ClientLimits) {
    this.lru = new LruMap({
      capacity: limits.maxClients ?? Number.MAX_SAFE_INTEGER,
      budget: limits.bytes,
      costOf: (c) => c.bytes,
      onEvict: (k, c) => {
        if (k === this.lastClient) this.lastClient = undefined;
        if (c === this.lastNameOwner) this.lastNameOwner = undefined;
      },
    });
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

  get(client: string): ClientState | undefined {
    return this.lru.get(client);
  }

  clients(): IterableIterator<ClientState> {
    return this.lru.values();
  }

  /** Puts a client back as it was (a restored checkpoint); counts toward the bounds like any other. */
  restore(c: ClientState): void {
    c.bytes = clientBytes(c);
    this.lru.set(c.client, c);
  }

  /**
   * One contact: observation `o` matched `m`, judged at `at` (µs) = `time`, `after` the
   * cutoff or not, by a configured appliance or not, at ageing time `age`. `evidence` is its
   * EVIDENCE_KINDS index and `name` the name it counts for (the observation's own, or for an
   * attributed connection the Kaspersky name its address stands for).
   */
  record(
    client: string,
    o: Observation,
    m: RuleMatch,
    at: number,
    time: PacketTime,
    after: boolean,
    appliance: boolean,
    age: number,
    evidence: number,
    name: string = o.name,
  ): ClientState {
    // The rare steps (a new client, category or name, growth past the budget) are methods of
    // their own: out of line, they are not compiled into this hot one (or recompiled with it).
    let c = client === this.lastClient ? this.lastState : this.lru.get(client);
    if (c === undefined) c = this.newClient(client, appliance, time, at, m.severity, age);
    this.lastClient = client;
    this.lastState = c;
    const grownFrom = c.bytes;
    c.touched = age;
    if (at < c.firstSeenMicros) {
      c.firstSeenMicros = at;
      c.firstSeen = time;
    }
    if (at >= c.lastSeenMicros) {
      c.lastSeenMicros = at;
      c.lastSeen = time;
    }
    // The counts and the after-cutoff fields are written whichever side of the cutoff the
    // contact is on (the same value back when nothing changes): a capture that crosses the
    // cutoff then meets no store the optimised code has never seen, which would deoptimise it.
    const a = after ? 1 : 0;
    const rank = m.severityRank;
    if (rank < c.severityRank) c.severityRank = rank;
    c.after += a;
    c.before += 1 - a;
    const sar = c.severityAfterRank;
    c.severityAfterRank = (rank < sar || sar < 0) && after ? rank : sar;
    c.evidenceBits |= 1 << evidence;

    const cat = c.categories[m.categoryIndex] ?? this.category(c, m.categoryIndex);
    cat.after += a;
    cat.before += 1 - a;
    const first = !(at >= cat.firstAfterMicros) && after;
    cat.firstAfterMicros = first ? at : cat.firstAfterMicros;
    cat.firstAfter = first ? time : cat.firstAfter;
    const last = !(at <= cat.lastAfterMicros) && after;
    cat.lastAfterMicros = last ? at : cat.lastAfterMicros;
    cat.lastAfter = last ? time : cat.lastAfter;

    let n = c === this.lastNameOwner && name === this.lastName ? this.lastNameState : c.names.get(name);
    if (n === undefined) n = this.newName(c, name, m);
    this.lastNameOwner = c;
    this.lastName = name;
    this.lastNameState = n;
    if (n !== undefined) {
      n.after += a;
      n.before += 1 - a;
      n.evidenceBits |= 1 << evidence;
      if (o.kind === 'dns_answer') {
        if (o.rrtype !== 'CNAME' && o.data !== undefined) n.addresses = this.addTo(c, n.addresses, o.data);
      } else if (o.kind !== 'dns_query') {
        this.addDestination(c, n, o.dst, o.dport);
      }
    }
    const ja4 = o.ja4;
    if (ja4 !== undefined && ja4 !== c.lastJa4) {
      if (c.ja4.includes(ja4)) c.lastJa4 = ja4;
      else if (c.ja4.length < MAX_JA4_PER_CLIENT) {
        c.ja4.push(ja4);
        c.bytes += stringBytes(ja4);
        c.lastJa4 = ja4;
      }
    }
    if (o.ech) c.echSeen = true;
    if (c.bytes !== grownFrom) this.grew(c, grownFrom);
    return c;
  }

  private newClient(client: string, appliance: boolean, time: PacketTime, at: number, severity: Severity, age: number): ClientState {
    const c = new ClientState(client, appliance, time, at, severity, age);
    c.bytes += stringBytes(client);
    this.lru.set(client, c);
    return c;
  }

  /** A name the client had not shown yet; undefined (counted) once it holds MAX_NAMES_PER_CLIENT. */
  private newName(c: ClientState, name: string, m: RuleMatch): NameState | undefined {
    if (c.names.size >= MAX_NAMES_PER_CLIENT) {
      this.namesDropped++;
      return undefined;
    }
    const n = new NameState(m.category, m.id);
    c.names.set(name, n);
    c.bytes += NAME_BYTES + stringBytes(name);
    return n;
  }

  /** A client's entry grew since `from` bytes: the table accounts for it and evicts others if over budget. */
  private grew(c: ClientState, from: number): void {
    this.lru.charge(c.bytes - from);
    this.lru.enforce(c.client);
  }

  /** Notes a Kaspersky name sent straight to a public resolver. */
  publicDnsFallback(c: ClientState, resolver: string): void {
    this.addSample(c, c.publicDnsFallback, resolver, 16);
  }

  /**
   * One instance of a finding (FINDINGS index `f`) judged at `at`, with a sample (the update
   * path, the bypassed resolver) kept in its list; returns the finding's state for the alert
   * decision.
   */
  finding(c: ClientState, f: number, at: number, time: PacketTime, after: boolean, sample: string): CategoryState {
    // After the cutoff a finding is as severe as it says, whatever the name's own severity (a
    // critical update fetch from a medium host); before it, it was legal and ranks as the name.
    if (after) {
      const rank = SEVERITIES.indexOf(FINDING_SEVERITY[FINDINGS[f]!]);
      if (rank < c.severityRank) c.severityRank = rank;
      if (c.severityAfterRank < 0 || rank < c.severityAfterRank) c.severityAfterRank = rank;
    }
    let s = c.findings[f];
    let grown = 0;
    if (s === undefined) {
      s = new CategoryState();
      c.findings[f] = s;
      grown += CATEGORY_BYTES;
    }
    if (after) {
      s.after++;
      if (!(at >= s.firstAfterMicros)) [s.firstAfterMicros, s.firstAfter] = [at, time];
      if (!(at <= s.lastAfterMicros)) [s.lastAfterMicros, s.lastAfter] = [at, time];
    } else {
      s.before++;
    }
    c.bytes += grown;
    this.lru.charge(grown);
    this.addSample(c, FINDINGS[f] === 'signature_update' ? c.updatePaths : c.resolverBypass, sample, FINDINGS[f] === 'signature_update' ? MAX_SAMPLES : 16);
    this.lru.enforce(c.client);
    return s;
  }

  private addSample(c: ClientState, list: string[], v: string, max: number): void {
    if (list.length >= max || list.includes(v)) return;
    list.push(v);
    c.bytes += stringBytes(v);
    this.lru.charge(stringBytes(v));
  }

  /** Removes clients whose last contact is older than `idle` in ageing time; returns how many. */
  expireIdle(now: number, idle: number): number {
    let n = 0;
    for (const [k, c] of this.lru.entries()) {
      if (now - c.touched <= idle) continue;
      this.lru.delete(k);
      n++;
    }
    if (n > 0) {
      this.lastClient = undefined;
      this.lastState = undefined;
      this.lastNameOwner = undefined;
      this.expired += n;
    }
    return n;
  }

  private category(c: ClientState, i: number): CategoryState {
    let s = c.categories[i];
    if (s === undefined) {
      s = new CategoryState();
      c.categories[i] = s;
      c.bytes += CATEGORY_BYTES;
    }
    return s;
  }

  private addDestination(c: ClientState, n: NameState, addr: string, port: number): void {
    const addrs = n.destAddrs;
    if (addrs === undefined) {
      n.destAddrs = [addr];
      n.destPorts = [port];
      c.bytes += 2 * STRING_BYTES + stringBytes(addr) + 8;
      return;
    }
    const ports = n.destPorts!;
    for (let i = 0; i < addrs.length; i++) if (addrs[i] === addr && ports[i] === port) return;
    if (addrs.length >= MAX_DESTINATIONS) return;
    addrs.push(addr);
    ports.push(port);
    c.bytes += stringBytes(addr) + 8;
  }

  private addTo(c: ClientState, list: string[] | undefined, v: string): string[] | undefined {
    if (list === undefined) {
      c.bytes += stringBytes(v) + STRING_BYTES;
      return [v];
    }
    if (list.length >= MAX_DESTINATIONS || list.includes(v)) return list;
    list.push(v);
    c.bytes += stringBytes(v);
    return list;
  }
}
