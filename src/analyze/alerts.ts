import type { Observation } from '../capture/observation.js';
import type { PacketTime } from '../common/time.js';
import type { CategoryState } from './clients.js';
import type { EvidenceKind } from './evidence.js';
import type { Finding } from './findings.js';
import type { RuleMatch } from './hostnames.js';
import type { Category, Severity } from './rules.js';

/**
 * Alert decisions, like Zeek notices: one alert when a client first contacts a category at
 * or after the cutoff (identifier = client × category), then at most one more per
 * suppression window while it goes on, carrying how many contacts were folded into it.
 *
 * The window is measured on judged packet time *in either direction* from the last alert: a
 * contact less than the window before or after it is folded, one further away alerts. So a
 * packet stamped a year ahead (or behind) cannot mute the alerts that follow it, and
 * replaying captures out of order still alerts once per window of recorded time.
 */
export interface AlertDecision {
  client: string;
  category: Category;
  severity: Severity;
  match: RuleMatch;
  obs: Observation;
  /** The name the contact counts for: the observation's, or the Kaspersky name an attributed connection's address stands for. */
  name: string;
  /** How the contact was seen (an observation kind, or an attribution). */
  evidence: EvidenceKind;
  /** The time the contact was judged at (µs; its own time unless its stamp was out of step). */
  at: number;
  time: PacketTime;
  /** Contacts folded since the previous alert for this client × category. */
  suppressed: number;
  /** Post-cutoff contacts for this client × category so far, this one included. */
  countAfter: number;
  /** 1 for the first alert of this client × category (or × finding), then 2, 3 ... */
  sequence: number;
  /** Set when a finding raised the alert (a signature-update fetch, a resolver bypass), not a contact alone. */
  finding?: Finding;
}

/**
 * Whether a post-cutoff contact judged at `at` raises an alert for its category (true, and the
 * state is updated), or is folded into the previous one (false, counted in `folded`).
 */
export function shouldAlert(s: CategoryState, at: number, suppressMicros: number): boolean {
  if (s.sequence > 0 && Math.abs(at - s.lastAlertMicros) < suppressMicros) {
    s.folded++;
    return false;
  }
  s.lastAlertMicros = at;
  s.sequence++;
  return true;
}
