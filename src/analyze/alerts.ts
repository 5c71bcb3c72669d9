import type { Observation } from '../capture/observation.js';
import { LruMap } from '../common/lru.js';
import type { RuleMatch } from './hostnames.js';
import { CATEGORIES, type Category, type Severity } from './rules.js';

/**
 * Alert decisions, like Zeek notices: one alert when a client first contacts a category at
 * or after the cutoff (identifier = client|category), then at most one more per
 * suppression window (packet time) while it goes on, carrying how many contacts were
 * folded into it.
 */
export interface AlertDecision {
  client: string;
  category: Category;
  severity: Severity;
  match: RuleMatch;
  obs: Observation;
  /** Contacts folded since the previous alert for this client × category. */
  suppressed: number;
  /** Post-cutoff contacts for this client × category so far, this one included. */
  countAfter: number;
  /** 1 for the first alert of this client × category, then 2, 3 ... */
  sequence: number;
}

interface AlertState {
  lastAlertMicros: number;
  folded: number;
  countAfter: number;
  sequence: number;
}

/** Clients whose alert state is kept (each entry holds every category); LRU beyond that. */
export const MAX_ALERT_CLIENTS = 100_000;

export class AlertDecider {
  /**
   * Per client, one slot per category (CATEGORIES order): the client string is the one the
   * decoder already formatted and hashed, so no `client|category` key is built per match.
   */
  private readonly state: LruMap<string, Array<AlertState | undefined>>;
  /** Post-cutoff contacts folded into a later alert (or never repeated). */
  suppressedTotal = 0;

  constructor(
    private readonly suppressMicros: number,
    maxClients = MAX_ALERT_CLIENTS,
  ) {
    this.state = new LruMap(maxClients);
  }

  get evictions(): number {
    return this.state.evictions;
  }

  /** Called for every post-cutoff match; returns an alert to send, or undefined (suppressed). */
  decide(client: string, m: RuleMatch, o: Observation): AlertDecision | undefined {
    let slots = this.state.get(client);
    if (slots === undefined) {
      slots = new Array<AlertState | undefined>(CATEGORIES.length).fill(undefined);
      this.state.set(client, slots);
    }
    const i = CATEGORIES.indexOf(m.category);
    const s = slots[i];
    if (s === undefined) {
      slots[i] = { lastAlertMicros: o.tsMicros, folded: 0, countAfter: 1, sequence: 1 };
      return { client, category: m.category, severity: m.severity, match: m, obs: o, suppressed: 0, countAfter: 1, sequence: 1 };
    }
    s.countAfter++;
    if (o.tsMicros - s.lastAlertMicros < this.suppressMicros) {
      s.folded++;
      this.suppressedTotal++;
      return undefined;
    }
    const suppressed = s.folded;
    s.folded = 0;
    s.lastAlertMicros = o.tsMicros;
    s.sequence++;
    return {
      client,
      category: m.category,
      severity: m.severity,
      match: m,
      obs: o,
      suppressed,
      countAfter: s.countAfter,
      sequence: s.sequence,
    };
  }
}
