import type { Decoder } from '../capture/decoder.js';
import type { ObservationKind } from '../capture/observation.js';
import type { NetworkClock } from './clock.js';

/**
 * What decoding one or more inputs came to, as plain data: frames and bytes, names by kind,
 * every decode issue, the coverage counters, evictions by table, clock steps. Reports read
 * these, not a live decoder, because a replay decodes each input with a decoder of its own (in
 * this thread or in a worker, `replay -j`, or on another machine, `names --matched`) and adds
 * the totals up: a sum does not depend on the order the inputs finished in, so every way of
 * running gives the same report. It survives JSON and structured cloning unchanged.
 */
export interface IssueRow {
  layer: string;
  kind: 'truncated' | 'invalid' | 'skipped';
  reason: string;
  count: number;
}

export interface DecodeTotals {
  frames: number;
  bytes: number;
  observations: Record<ObservationKind, number>;
  /** By `layer/kind/reason`. */
  issues: Record<string, IssueRow>;
  coverage: {
    /** Frames not decoded, by the key of the issue that stopped them. */
    undecoded: Record<string, IssueRow>;
    /** By link type number (as text: JSON keys). */
    unsupportedLinktypes: Record<string, number>;
    cutFrames: number;
    snaplen: number;
    quicKnown: number;
  };
  evictions: Record<string, number>;
  clock: { stepsForward: number; stepsBackward: number };
}

export function emptyTotals(): DecodeTotals {
  return {
    frames: 0,
    bytes: 0,
    observations: { dns_query: 0, dns_answer: 0, tls_sni: 0, http_host: 0, quic_sni: 0 },
    issues: {},
    coverage: { undecoded: {}, unsupportedLinktypes: {}, cutFrames: 0, snaplen: 0, quicKnown: 0 },
    evictions: {},
    clock: { stepsForward: 0, stepsBackward: 0 },
  };
}

/** A decoder's and its clock's counters now. */
export function totalsOf(d: Decoder, clock: NetworkClock): DecodeTotals {
  const t = emptyTotals();
  t.frames = d.stats.frames;
  t.bytes = d.stats.bytes;
  t.observations = { ...d.stats.observations };
  for (const r of d.issues.rows()) t.issues[`${r.layer}/${r.kind}/${r.reason}`] = { ...r };
  const c = d.coverage;
  for (const [i, n] of c.undecoded) t.coverage.undecoded[i.key] = { layer: i.layer, kind: i.kind, reason: i.reason, count: n };
  for (const [lt, n] of c.unsupportedLinktypes) t.coverage.unsupportedLinktypes[String(lt)] = n;
  t.coverage.cutFrames = c.cutFrames;
  t.coverage.snaplen = c.snaplen;
  t.coverage.quicKnown = c.quicKnown;
  t.evictions = { ...d.evictions() };
  t.clock = { stepsForward: clock.stepsForward, stepsBackward: clock.stepsBackward };
  return t;
}

const addRows = (into: Record<string, IssueRow>, from: Record<string, IssueRow>): void => {
  for (const [k, r] of Object.entries(from)) {
    const had = into[k];
    if (had === undefined) into[k] = { ...r };
    else had.count += r.count;
  }
};

const addCounts = <K extends string>(into: Record<K, number>, from: Record<K, number>): void => {
  for (const [k, n] of Object.entries(from) as Array<[K, number]>) into[k] = (into[k] ?? 0) + n;
};

/** Adds `b` into `a` (and returns `a`). */
export function addTotals(a: DecodeTotals, b: DecodeTotals): DecodeTotals {
  a.frames += b.frames;
  a.bytes += b.bytes;
  addCounts(a.observations, b.observations);
  addRows(a.issues, b.issues);
  addRows(a.coverage.undecoded, b.coverage.undecoded);
  addCounts(a.coverage.unsupportedLinktypes, b.coverage.unsupportedLinktypes);
  a.coverage.cutFrames += b.coverage.cutFrames;
  a.coverage.snaplen = Math.max(a.coverage.snaplen, b.coverage.snaplen);
  a.coverage.quicKnown += b.coverage.quicKnown;
  addCounts(a.evictions, b.evictions);
  a.clock.stepsForward += b.clock.stepsForward;
  a.clock.stepsBackward += b.clock.stepsBackward;
  return a;
}

/** Decode issues in report order (layer, then reason, then kind). */
export function issueRows(t: DecodeTotals): IssueRow[] {
  const key = (r: IssueRow): string => `${r.layer}\u0000${r.reason}\u0000${r.kind}`;
  return Object.values(t.issues)
    .map((r) => ({ ...r }))
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function issueCount(t: DecodeTotals, key: string): number {
  return t.issues[key]?.count ?? 0;
}
