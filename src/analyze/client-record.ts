import type { PacketTime } from '../common/time.js';
import { CategoryState, ClientState, NameState, MAX_DESTINATIONS, MAX_JA4_PER_CLIENT, MAX_NAMES_PER_CLIENT, MAX_SAMPLES } from './clients.js';
import { FINDINGS } from './findings.js';
import { CATEGORIES, SEVERITIES, type Category } from './rules.js';

/**
 * A client's state as plain JSON, for checkpoints: everything the analyzer keeps about it,
 * alert state included, so a restarted sensor neither forgets a client nor re-raises its
 * alerts. `fromRecord` checks every field (a checkpoint is a file on disk: it may be old,
 * truncated or edited) and returns undefined for a record it cannot trust.
 */
export const RECORD_VERSION = 2;

type Time = [sec: number, nsec: number, digits: number];

export interface ClientRecord {
  client: string;
  appliance: boolean;
  first: Time;
  firstUs: number;
  last: Time;
  lastUs: number;
  before: number;
  after: number;
  evidence: number;
  sev: number;
  sevAfter: number;
  ja4: string[];
  dnsFallback: string[];
  ech: boolean;
  alerts: number;
  /** Wall-clock ms of the last contact (idle expiry continues across a restart). */
  wall: number;
  /** By category name: [before, after, firstAfter, firstAfterUs, lastAfter, lastAfterUs, lastAlertUs, folded, sequence]. */
  cats: Record<string, [number, number, Time | null, number | null, Time | null, number | null, number | null, number, number]>;
  /** [name, category, rule, before, after, destAddrs, destPorts, addresses, evidence bits] */
  names: Array<[string, string, string, number, number, string[], number[], string[], number?]>;
  /** Version 2: by finding name, like `cats`. */
  findings?: ClientRecord['cats'];
  updatePaths?: string[];
  resolverBypass?: string[];
}

const t = (p: PacketTime): Time => [p.sec, p.nsec, p.digits];
const num = (v: number): number | null => (Number.isFinite(v) ? v : null);

function catsOf(states: ReadonlyArray<CategoryState | undefined>, names: readonly string[]): ClientRecord['cats'] {
  const cats: ClientRecord['cats'] = {};
  states.forEach((s, i) => {
    if (s === undefined) return;
    cats[names[i]!] = [
      s.before,
      s.after,
      s.firstAfter ? t(s.firstAfter) : null,
      num(s.firstAfterMicros),
      s.lastAfter ? t(s.lastAfter) : null,
      num(s.lastAfterMicros),
      num(s.lastAlertMicros),
      s.folded,
      s.sequence,
    ];
  });
  return cats;
}

export function toRecord(c: ClientState, wallMs: number): ClientRecord {
  const cats = catsOf(c.categories, CATEGORIES);
  return {
    client: c.client,
    appliance: c.appliance,
    first: t(c.firstSeen),
    firstUs: c.firstSeenMicros,
    last: t(c.lastSeen),
    lastUs: c.lastSeenMicros,
    before: c.before,
    after: c.after,
    evidence: c.evidenceBits,
    sev: c.severityRank,
    sevAfter: c.severityAfterRank,
    ja4: [...c.ja4],
    dnsFallback: [...c.publicDnsFallback],
    ech: c.echSeen,
    alerts: c.alerts,
    wall: wallMs,
    cats,
    names: [...c.names].map(([name, n]) => [name, n.category, n.rule, n.before, n.after, n.destAddrs ?? [], n.destPorts ?? [], n.addresses ?? [], n.evidenceBits]),
    findings: catsOf(c.findings, FINDINGS),
    updatePaths: [...c.updatePaths],
    resolverBypass: [...c.resolverBypass],
  };
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): v is number => isNum(v) && Number.isInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';
const isTime = (v: unknown): v is Time => Array.isArray(v) && v.length === 3 && v.every(isNum);
const time = (v: Time): PacketTime => ({ sec: v[0], nsec: v[1], digits: v[2] });
const strings = (v: unknown, max: number): v is string[] => Array.isArray(v) && v.length <= max && v.every(isStr);

/**
 * The client a record describes, with `touched` set from its wall-clock age, or undefined
 * when the record is not one this version wrote.
 */
export function fromRecord(r: unknown, wallNowMs: number, ageNow: number, version = RECORD_VERSION): ClientState | undefined {
  if (typeof r !== 'object' || r === null) return undefined;
  const x = r as Partial<ClientRecord>;
  if (!isStr(x.client) || typeof x.appliance !== 'boolean' || !isTime(x.first) || !isTime(x.last) || !isNum(x.firstUs) || !isNum(x.lastUs)) return undefined;
  if (!isCount(x.before) || !isCount(x.after) || !isCount(x.evidence) || !isCount(x.alerts) || !isNum(x.wall)) return undefined;
  if (!isCount(x.sev) || x.sev >= SEVERITIES.length || !isNum(x.sevAfter) || x.sevAfter < -1 || x.sevAfter >= SEVERITIES.length) return undefined;
  // Version 1 ranked high as 0: 'critical' came in above it.
  if (version === 1) [x.sev, x.sevAfter] = [x.sev + 1, x.sevAfter < 0 ? -1 : x.sevAfter + 1];
  if (!strings(x.ja4, MAX_JA4_PER_CLIENT) || !strings(x.dnsFallback, 16) || typeof x.ech !== 'boolean') return undefined;
  if (typeof x.cats !== 'object' || x.cats === null || !Array.isArray(x.names) || x.names.length > MAX_NAMES_PER_CLIENT) return undefined;
  const c = new ClientState(x.client, x.appliance, time(x.first), x.firstUs, SEVERITIES[x.sev]!, ageNow - Math.max(0, wallNowMs - x.wall) * 1000);
  c.lastSeen = time(x.last);
  c.lastSeenMicros = x.lastUs;
  c.before = x.before;
  c.after = x.after;
  c.evidenceBits = x.evidence;
  c.severityAfterRank = x.sevAfter;
  c.ja4.push(...x.ja4);
  c.publicDnsFallback.push(...x.dnsFallback);
  c.echSeen = x.ech;
  c.alerts = x.alerts;
  if (!restoreCats(x.cats, CATEGORIES, c.categories)) return undefined;
  if (x.findings !== undefined && (typeof x.findings !== 'object' || x.findings === null || !restoreCats(x.findings, FINDINGS, c.findings))) return undefined;
  if (x.updatePaths !== undefined) {
    if (!strings(x.updatePaths, MAX_SAMPLES)) return undefined;
    c.updatePaths.push(...x.updatePaths);
  }
  if (x.resolverBypass !== undefined) {
    if (!strings(x.resolverBypass, 16)) return undefined;
    c.resolverBypass.push(...x.resolverBypass);
  }
  for (const n of x.names) {
    if (!Array.isArray(n) || n.length < 8 || n.length > 9) return undefined;
    const [name, category, rule, before, after, addrs, ports, addresses, bits] = n;
    if (!isStr(name) || !CATEGORIES.includes(category as Category) || !isStr(rule) || !isCount(before) || !isCount(after)) return undefined;
    if (!strings(addrs, MAX_DESTINATIONS) || !Array.isArray(ports) || ports.length !== addrs.length || !ports.every(isCount) || !strings(addresses, MAX_DESTINATIONS)) return undefined;
    if (bits !== undefined && !isCount(bits)) return undefined;
    const s = new NameState(category as Category, rule);
    s.before = before;
    s.after = after;
    s.evidenceBits = bits ?? 0;
    if (addrs.length > 0) [s.destAddrs, s.destPorts] = [addrs, ports];
    if (addresses.length > 0) s.addresses = addresses;
    c.names.set(name, s);
  }
  return c;
}

function restoreCats(cats: Record<string, unknown>, names: readonly string[], into: Array<CategoryState | undefined>): boolean {
  for (const [name, v] of Object.entries(cats)) {
    const i = names.indexOf(name);
    if (i < 0 || !Array.isArray(v) || v.length !== 9) return false;
    const [before, after, fa, faUs, la, laUs, alertUs, folded, sequence] = v as unknown[];
    if (!isCount(before) || !isCount(after) || !isCount(folded) || !isCount(sequence)) return false;
    const s = new CategoryState();
    s.before = before;
    s.after = after;
    if (isTime(fa) && isNum(faUs)) [s.firstAfter, s.firstAfterMicros] = [time(fa), faUs];
    if (isTime(la) && isNum(laUs)) [s.lastAfter, s.lastAfterMicros] = [time(la), laUs];
    if (isNum(alertUs)) s.lastAlertMicros = alertUs;
    s.folded = folded;
    s.sequence = sequence;
    into[i] = s;
  }
  return true;
}
