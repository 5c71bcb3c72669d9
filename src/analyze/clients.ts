import { OBSERVATION_KINDS, type Observation, type ObservationKind } from '../capture/observation.js';
import { LruMap } from '../common/lru.js';
import type { RuleMatch } from './hostnames.js';
import type { Phase } from './phases.js';
import type { Category, Severity } from './rules.js';
import { SEVERITIES } from './rules.js';

/** What kasmon knows about one client that contacted a Kaspersky endpoint. */
export interface ClientState {
  client: string;
  firstSeenMicros: number;
  lastSeenMicros: number;
  /** ISO strings of the first/last observation, with the capture's precision. */
  firstSeen: Observation['time'];
  lastSeen: Observation['time'];
  before: number;
  after: number;
  /** matched name → counts and rule */
  names: Map<string, { category: Category; rule: string; before: number; after: number }>;
  categories: Map<Category, { before: number; after: number; firstAfterMicros: number | undefined }>;
  evidence: Set<ObservationKind>;
  /** Highest severity matched at or after the cutoff (undefined: nothing after). */
  severityAfter: Severity | undefined;
  severity: Severity;
  ja4: Set<string>;
  /** A Kaspersky name was sent straight to a public resolver (the documented DNS fallback). */
  publicDnsFallback: Set<string>;
  /** A ClientHello to a Kaspersky name carried ECH: the real name may be another. */
  echSeen: boolean;
  appliance: boolean;
  alerts: number;
  /** Bits of OBSERVATION_KINDS already in `evidence` (the Set is what reports read). */
  evidenceBits: number;
  /** The fingerprint added to `ja4` last: a client repeats its own, so most adds are skipped. */
  lastJa4: string | undefined;
}

/** At most this many distinct names / fingerprints are kept per client. */
export const MAX_NAMES_PER_CLIENT = 256;
export const MAX_JA4_PER_CLIENT = 32;

function higher(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b;
}

/** Per-client state, LRU-bounded; evictions are counted and reported. */
export class ClientTracker {
  private readonly lru: LruMap<string, ClientState>;
  /** Names not recorded because a client hit MAX_NAMES_PER_CLIENT. */
  namesDropped = 0;
  /**
   * The client of the previous call: observations come in runs per client (a response's
   * answers, a connection's names), and a run needs no map lookup. Safe because entries
   * leave the map only when a new client is set, which replaces this.
   */
  private lastClient: string | undefined;
  private lastState: ClientState | undefined;
  /** The name entry of the previous call (undefined entry: the name was dropped at the cap). */
  private lastNameState: ClientState | undefined;
  private lastName: string | undefined;
  private lastNameEntry: { category: Category; rule: string; before: number; after: number } | undefined;
  /** Likewise the category entry. */
  private lastCategoryState: ClientState | undefined;
  private lastCategory: Category | undefined;
  private lastCategoryEntry: { before: number; after: number; firstAfterMicros: number | undefined } | undefined;

  constructor(maxClients: number) {
    this.lru = new LruMap(maxClients);
  }

  get evictions(): number {
    return this.lru.evictions;
  }

  get size(): number {
    return this.lru.size;
  }

  clients(): ClientState[] {
    return [...this.lru.values()];
  }

  record(client: string, o: Observation, m: RuleMatch, phase: Phase, appliance: boolean): ClientState {
    let c = client === this.lastClient ? this.lastState : this.lru.get(client);
    if (c === undefined) {
      c = {
        client,
        firstSeenMicros: o.tsMicros,
        lastSeenMicros: o.tsMicros,
        firstSeen: o.time,
        lastSeen: o.time,
        before: 0,
        after: 0,
        names: new Map(),
        categories: new Map(),
        evidence: new Set(),
        severityAfter: undefined,
        severity: m.severity,
        ja4: new Set(),
        publicDnsFallback: new Set(),
        echSeen: false,
        appliance,
        alerts: 0,
        evidenceBits: 0,
        lastJa4: undefined,
      };
      this.lru.set(client, c);
    }
    this.lastClient = client;
    this.lastState = c;
    if (o.tsMicros < c.firstSeenMicros) {
      c.firstSeenMicros = o.tsMicros;
      c.firstSeen = o.time;
    }
    if (o.tsMicros >= c.lastSeenMicros) {
      c.lastSeenMicros = o.tsMicros;
      c.lastSeen = o.time;
    }
    // Named increments, not c[phase]++: a keyed access by a string variable is a megamorphic
    // lookup on the hot path.
    const after = phase === 'after';
    if (after) c.after++;
    else c.before++;
    c.severity = higher(c.severity, m.severity);
    if (after) c.severityAfter = c.severityAfter === undefined ? m.severity : higher(c.severityAfter, m.severity);
    const bit = 1 << OBSERVATION_KINDS.indexOf(o.kind);
    if ((c.evidenceBits & bit) === 0) {
      c.evidenceBits |= bit;
      c.evidence.add(o.kind);
    }
    const matchedName = o.name;
    // Runs of observations name the same thing (a query, then its answers): reuse the entry.
    let n = c === this.lastNameState && matchedName === this.lastName ? this.lastNameEntry : c.names.get(matchedName);
    if (n === undefined && c.names.size < MAX_NAMES_PER_CLIENT) {
      n = { category: m.category, rule: m.id, before: 0, after: 0 };
      c.names.set(matchedName, n);
    } else if (n === undefined) this.namesDropped++;
    this.lastNameState = c;
    this.lastName = matchedName;
    this.lastNameEntry = n;
    if (n !== undefined) {
      if (after) n.after++;
      else n.before++;
    }
    let cat = c === this.lastCategoryState && m.category === this.lastCategory ? this.lastCategoryEntry : c.categories.get(m.category);
    if (cat === undefined) {
      cat = { before: 0, after: 0, firstAfterMicros: undefined };
      c.categories.set(m.category, cat);
    }
    this.lastCategoryState = c;
    this.lastCategory = m.category;
    this.lastCategoryEntry = cat;
    if (after) cat.after++;
    else cat.before++;
    if (after && (cat.firstAfterMicros === undefined || o.tsMicros < cat.firstAfterMicros)) {
      cat.firstAfterMicros = o.tsMicros;
    }
    if (o.ja4 !== undefined && o.ja4 !== c.lastJa4 && c.ja4.size < MAX_JA4_PER_CLIENT) {
      c.ja4.add(o.ja4);
      c.lastJa4 = o.ja4;
    }
    if (o.ech) c.echSeen = true;
    return c;
  }
}
