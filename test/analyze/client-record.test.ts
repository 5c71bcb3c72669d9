import { SEVERITIES } from '../../src/analyze/rules.js';
import { describe, expect, test } from 'vitest';
import { EVIDENCE_INDEX } from '../../src/analyze/evidence.js';
import { fromRecord, toRecord, type ClientRecord } from '../../src/analyze/client-record.js';
import { ClientTable, MAX_DESTINATIONS, MAX_JA4_PER_CLIENT, MAX_NAMES_PER_CLIENT, type ClientState } from '../../src/analyze/clients.js';
import { Matcher, type RuleMatch } from '../../src/analyze/hostnames.js';
import type { Observation, ObservationKind } from '../../src/capture/observation.js';
import { fromMicros } from '../../src/common/time.js';
import { loadConfig } from '../../src/config/load.js';

const S = 1_000_000;
const T = 1_727_740_800 * S;
const CLIENT = '198.18.0.11';
const WALL = Date.UTC(2024, 9, 2);
const matcher = new Matcher(loadConfig().endpoints);
const rule = (name: string): RuleMatch => matcher.match(name)!;

function obs(kind: ObservationKind, name: string, extra: Partial<Observation> = {}): Observation {
  return { kind, name, time: fromMicros(T), tsMicros: T, frame: 1, src: CLIENT, dst: '198.19.0.1', sport: 40_000, dport: 443, transport: 'tcp', ...extra };
}

/** A client with something in every field a record carries. */
function richClient(): ClientState {
  const t = new ClientTable({ bytes: 1 << 30 });
  const rec = (o: Observation, at: number, after: boolean): ClientState => t.record(CLIENT, o, rule(o.name), at, fromMicros(at), after, false, 5 * S, EVIDENCE_INDEX[o.kind as ObservationKind]);
  rec(obs('dns_query', 'www.kaspersky.com', { dst: '223.6.6.6', dport: 53 }), T - 60 * S, false);
  rec(obs('dns_answer', 's01.upd.kaspersky.com', { rrtype: 'A', data: '198.18.7.7', src: '198.19.0.53', dst: CLIENT }), T + S, true);
  rec(obs('tls_sni', 's01.upd.kaspersky.com', { ja4: 't13d1516h2_8daaf6152771_02713d6af862', ech: true }), T + 2 * S, true);
  const c = rec(obs('quic_sni', 'ksn-url-geo.kaspersky-labs.com', { dst: 'fd00::1' }), T + 3 * S, true);
  t.publicDnsFallback(c, '223.6.6.6');
  const cat = c.categories[rule('s01.upd.kaspersky.com').categoryIndex]!;
  [cat.lastAlertMicros, cat.sequence, cat.folded] = [T + S, 1, 1];
  c.alerts = 1;
  return c;
}

/** Everything a ClientState holds that a record must carry, as plain data. */
function view(c: ClientState): unknown {
  return {
    client: c.client,
    appliance: c.appliance,
    seen: [c.firstSeen, c.firstSeenMicros, c.lastSeen, c.lastSeenMicros],
    counts: [c.before, c.after, c.evidenceBits, c.severityRank, c.severityAfterRank, c.alerts],
    lists: [[...c.ja4], [...c.publicDnsFallback], c.echSeen],
    categories: c.categories.map((s) => (s === undefined ? null : { ...s })),
    names: [...c.names].map(([n, s]) => [n, s.category, s.rule, s.before, s.after, s.destAddrs, s.destPorts, s.addresses]),
  };
}

/** The record as it comes back from a checkpoint file. */
const viaJson = (r: ClientRecord): unknown => JSON.parse(JSON.stringify(r)) as unknown;

describe('client records (checkpoints)', () => {
  test('a client survives toRecord, JSON and fromRecord whole, alert state included', () => {
    const c = richClient();
    const back = fromRecord(viaJson(toRecord(c, WALL)), WALL, 0);
    expect(back).toBeDefined();
    expect(view(back!)).toEqual(view(c));
  });

  test('a client seen only before the cutoff, with no alert: the missing times stay missing', () => {
    const t = new ClientTable({ bytes: 1 << 30 });
    const c = t.record(CLIENT, obs('dns_query', 'www.kaspersky.com'), rule('www.kaspersky.com'), T, fromMicros(T), false, true, 0, EVIDENCE_INDEX.dns_query);
    const r = toRecord(c, WALL);
    expect(Object.values(r.cats)[0]).toEqual([1, 0, null, null, null, null, null, 0, 0]);
    const back = fromRecord(viaJson(r), WALL, 0)!;
    expect(view(back)).toEqual(view(c));
    expect(back.appliance).toBe(true);
  });

  test('idle time carries over: touched is ageing time now less the wall time since the last contact', () => {
    const c = richClient();
    const back = fromRecord(viaJson(toRecord(c, WALL - 30_000)), WALL, 100 * S)!;
    expect(back.touched).toBe(100 * S - 30 * S);
    // A record from the future (a clock set back) is not idle at all.
    expect(fromRecord(viaJson(toRecord(c, WALL + 30_000)), WALL, 100 * S)!.touched).toBe(100 * S);
  });

  const good = (): ClientRecord => viaJson(toRecord(richClient(), WALL)) as ClientRecord;
  const cat = (r: ClientRecord): ClientRecord['cats'][string] => r.cats['update']!;
  const name0 = (r: ClientRecord): ClientRecord['names'][number] => r.names[0]!;
  test.for<{ name: string; spoil: (r: ClientRecord) => unknown }>([
    { name: 'not an object', spoil: () => 'x' },
    { name: 'null', spoil: () => null },
    { name: 'client not a string', spoil: (r) => ({ ...r, client: 7 }) },
    { name: 'appliance not a boolean', spoil: (r) => ({ ...r, appliance: 'no' }) },
    { name: 'first not a time', spoil: (r) => ({ ...r, first: [1, 2] }) },
    { name: 'last with a non-number', spoil: (r) => ({ ...r, last: [1, 'x', 6] }) },
    { name: 'firstUs missing', spoil: (r) => ({ ...r, firstUs: undefined }) },
    { name: 'lastUs not finite', spoil: (r) => ({ ...r, lastUs: null }) },
    { name: 'a negative count', spoil: (r) => ({ ...r, before: -1 }) },
    { name: 'a fractional count', spoil: (r) => ({ ...r, after: 1.5 }) },
    { name: 'evidence missing', spoil: (r) => ({ ...r, evidence: undefined }) },
    { name: 'alerts not a number', spoil: (r) => ({ ...r, alerts: '1' }) },
    { name: 'wall missing', spoil: (r) => ({ ...r, wall: undefined }) },
    { name: 'severity rank out of range', spoil: (r) => ({ ...r, sev: SEVERITIES.length }) },
    { name: 'severity-after rank below -1', spoil: (r) => ({ ...r, sevAfter: -2 }) },
    { name: 'severity-after rank out of range', spoil: (r) => ({ ...r, sevAfter: SEVERITIES.length }) },
    { name: 'severity-after rank not a number', spoil: (r) => ({ ...r, sevAfter: 'high' }) },
    { name: `more than ${MAX_JA4_PER_CLIENT} JA4s`, spoil: (r) => ({ ...r, ja4: Array<string>(MAX_JA4_PER_CLIENT + 1).fill('j') }) },
    { name: 'a JA4 not a string', spoil: (r) => ({ ...r, ja4: [1] }) },
    { name: 'dnsFallback not a list', spoil: (r) => ({ ...r, dnsFallback: '223.6.6.6' }) },
    { name: 'ech not a boolean', spoil: (r) => ({ ...r, ech: 1 }) },
    { name: 'cats missing', spoil: (r) => ({ ...r, cats: null }) },
    { name: 'names not a list', spoil: (r) => ({ ...r, names: {} }) },
    { name: `more than ${MAX_NAMES_PER_CLIENT} names`, spoil: (r) => ({ ...r, names: Array(MAX_NAMES_PER_CLIENT + 1).fill(name0(r)) }) },
    { name: 'an unknown category', spoil: (r) => ({ ...r, cats: { ...r.cats, nonsense: cat(r) } }) },
    { name: 'a category of 8 fields', spoil: (r) => ({ ...r, cats: { update: cat(r).slice(0, 8) } }) },
    { name: 'a category with a negative count', spoil: (r) => ({ ...r, cats: { update: [-1, ...cat(r).slice(1)] } }) },
    { name: 'a category with a bad after count', spoil: (r) => ({ ...r, cats: { update: [cat(r)[0], 'x', ...cat(r).slice(2)] } }) },
    { name: 'a category with a bad folded count', spoil: (r) => ({ ...r, cats: { update: [...cat(r).slice(0, 7), -1, cat(r)[8]] } }) },
    { name: 'a category with a bad sequence', spoil: (r) => ({ ...r, cats: { update: [...cat(r).slice(0, 8), 0.5] } }) },
    { name: 'a name of 7 fields', spoil: (r) => ({ ...r, names: [name0(r).slice(0, 7)] }) },
    { name: 'a name not a list', spoil: (r) => ({ ...r, names: ['x'] }) },
    { name: 'a name with an unknown category', spoil: (r) => ({ ...r, names: [[name0(r)[0], 'nonsense', ...name0(r).slice(2)]] }) },
    { name: 'a name that is not a string', spoil: (r) => ({ ...r, names: [[1, ...name0(r).slice(1)]] }) },
    { name: 'a name whose rule is not a string', spoil: (r) => ({ ...r, names: [[...name0(r).slice(0, 2), 3, ...name0(r).slice(3)]] }) },
    { name: 'a name with a bad before count', spoil: (r) => ({ ...r, names: [[...name0(r).slice(0, 3), -1, ...name0(r).slice(4)]] }) },
    { name: 'a name with a bad after count', spoil: (r) => ({ ...r, names: [[...name0(r).slice(0, 4), null, ...name0(r).slice(5)]] }) },
    { name: 'destination ports not matching the addresses', spoil: (r) => ({ ...r, names: [[...name0(r).slice(0, 5), ['198.19.0.1'], [], name0(r)[7]]] }) },
    { name: 'destination ports not a list', spoil: (r) => ({ ...r, names: [[...name0(r).slice(0, 5), [], 'x', name0(r)[7]]] }) },
    { name: 'a destination port that is not a count', spoil: (r) => ({ ...r, names: [[...name0(r).slice(0, 5), ['198.19.0.1'], [-443], name0(r)[7]]] }) },
    { name: `more than ${MAX_DESTINATIONS} destinations`, spoil: (r) => ({ ...r, names: [[...name0(r).slice(0, 5), Array<string>(9).fill('a'), Array<number>(9).fill(1), name0(r)[7]]] }) },
    { name: `more than ${MAX_DESTINATIONS} addresses`, spoil: (r) => ({ ...r, names: [[...name0(r).slice(0, 7), Array<string>(9).fill('a')]] }) },
  ])('a record with $name is refused', ({ spoil }) => {
    const r = good();
    expect(fromRecord(r, WALL, 0)).toBeDefined(); // the unspoiled record is accepted
    expect(fromRecord(spoil(r), WALL, 0)).toBeUndefined();
  });
});
