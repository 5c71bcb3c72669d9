import { describe, expect, test } from 'vitest';
import { EVIDENCE_INDEX } from '../../src/analyze/evidence.js';
import { clientBytes, ClientTable, MAX_DESTINATIONS, MAX_JA4_PER_CLIENT, MAX_NAMES_PER_CLIENT, type ClientState } from '../../src/analyze/clients.js';
import { Matcher, type RuleMatch } from '../../src/analyze/hostnames.js';
import type { Observation, ObservationKind } from '../../src/capture/observation.js';
import { fromMicros } from '../../src/common/time.js';
import { loadConfig } from '../../src/config/load.js';

const S = 1_000_000;
/** 2024-10-01T00:00:00Z. */
const T = 1_727_740_800 * S;
const CLIENT = '198.18.0.11';

const matcher = new Matcher(loadConfig().endpoints);
const rule = (name: string): RuleMatch => matcher.match(name)!;
const UPDATE = rule('s01.upd.kaspersky.com'); // update, high
const KSN = rule('ksn-url-geo.kaspersky-labs.com'); // ksn, high
const PORTAL = rule('www.kaspersky.com'); // portals, low

function obs(kind: ObservationKind, name: string, extra: Partial<Observation> = {}): Observation {
  return {
    kind,
    name,
    time: fromMicros(T),
    tsMicros: T,
    frame: 1,
    src: CLIENT,
    dst: '198.19.0.1',
    sport: 40_000,
    dport: kind === 'dns_query' || kind === 'dns_answer' ? 53 : 443,
    transport: kind === 'tls_sni' || kind === 'http_host' ? 'tcp' : 'udp',
    ...extra,
  };
}

/** One contact of CLIENT at `at` (after the cutoff unless `after` says otherwise), ageing time `age`. */
function contact(t: ClientTable, o: Observation, m: RuleMatch, at = T, opts: { after?: boolean; age?: number; client?: string } = {}): ClientState {
  return t.record(opts.client ?? CLIENT, o, m, at, fromMicros(at), opts.after ?? true, false, opts.age ?? 0, EVIDENCE_INDEX[o.kind as ObservationKind]);
}

const big = (): ClientTable => new ClientTable({ bytes: 1 << 30 });

describe('the per-client name cap (MAX_NAMES_PER_CLIENT)', () => {
  test(`${MAX_NAMES_PER_CLIENT} distinct names are kept; the next one is counted as dropped, contacts to kept names still count`, () => {
    const t = big();
    const name = (i: number): string => `n${i}.upd.kaspersky.com`;
    for (let i = 0; i < MAX_NAMES_PER_CLIENT; i++) contact(t, obs('dns_query', name(i)), UPDATE);
    const c = t.get(CLIENT)!;
    expect([c.names.size, t.namesDropped]).toEqual([MAX_NAMES_PER_CLIENT, 0]);
    contact(t, obs('dns_query', name(MAX_NAMES_PER_CLIENT)), UPDATE);
    expect([c.names.size, t.namesDropped, c.names.has(name(MAX_NAMES_PER_CLIENT))]).toEqual([MAX_NAMES_PER_CLIENT, 1, false]);
    // A kept name goes on counting; the dropped one is dropped again; the client counts every contact.
    contact(t, obs('tls_sni', name(0)), UPDATE);
    contact(t, obs('dns_query', name(MAX_NAMES_PER_CLIENT)), UPDATE);
    expect([c.names.get(name(0))!.after, t.namesDropped, c.after]).toEqual([2, 2, MAX_NAMES_PER_CLIENT + 3]);
    expect(c.bytes).toBe(clientBytes(c));
  });
});

describe('what a contact records', () => {
  test('names with their rule and category, before/after counts per client, category and name', () => {
    const t = big();
    contact(t, obs('dns_query', 's01.upd.kaspersky.com'), UPDATE, T - 5 * S, { after: false });
    contact(t, obs('tls_sni', 's01.upd.kaspersky.com'), UPDATE, T + S);
    contact(t, obs('tls_sni', 'ksn-url-geo.kaspersky-labs.com'), KSN, T + 2 * S);
    const c = t.get(CLIENT)!;
    expect([c.before, c.after]).toEqual([1, 2]);
    expect([...c.names].map(([n, s]) => [n, s.category, s.rule, s.before, s.after])).toEqual([
      ['s01.upd.kaspersky.com', 'update', 'upd-snn', 1, 1],
      ['ksn-url-geo.kaspersky-labs.com', 'ksn', 'ksn-geo', 0, 1],
    ]);
    expect([c.categories[UPDATE.categoryIndex]!.before, c.categories[UPDATE.categoryIndex]!.after, c.categories[KSN.categoryIndex]!.after]).toEqual([1, 1, 1]);
    expect(c.evidence).toEqual(['dns_query', 'tls_sni']);
  });

  test('first and last seen follow the judged time, whatever order contacts arrive in', () => {
    const t = big();
    const times = [T + 10 * S, T + 2 * S, T + 30 * S, T + 30 * S, T + 20 * S];
    times.forEach((at, i) => contact(t, obs('dns_query', 's01.upd.kaspersky.com', { frame: i + 1 }), UPDATE, at));
    const c = t.get(CLIENT)!;
    expect([c.firstSeenMicros, c.lastSeenMicros]).toEqual([T + 2 * S, T + 30 * S]);
    expect([c.firstSeen, c.lastSeen]).toEqual([fromMicros(T + 2 * S), fromMicros(T + 30 * S)]);
    const cat = c.categories[UPDATE.categoryIndex]!;
    expect([cat.firstAfterMicros, cat.lastAfterMicros, cat.after]).toEqual([T + 2 * S, T + 30 * S, 5]);
  });

  test('first/last contact after the cutoff across categories: the earliest first, the latest last', () => {
    const t = big();
    contact(t, obs('dns_query', 's01.upd.kaspersky.com'), UPDATE, T + 5 * S);
    contact(t, obs('dns_query', 'ksn-url-geo.kaspersky-labs.com'), KSN, T + S);
    contact(t, obs('dns_query', 'ksn-url-geo.kaspersky-labs.com'), KSN, T + 3 * S);
    contact(t, obs('dns_query', 'www.kaspersky.com'), PORTAL, T - S, { after: false });
    const c = t.get(CLIENT)!;
    expect([c.firstAfter, c.lastAfter]).toEqual([fromMicros(T + S), fromMicros(T + 5 * S)]);
    contact(t, obs('dns_query', 'ksn-url-geo.kaspersky-labs.com'), KSN, T + 9 * S); // now the latest is not the first category's
    expect(c.lastAfter).toEqual(fromMicros(T + 9 * S));
  });

  test('a category with contacts only before the cutoff takes no part in first/last after it', () => {
    const t = big();
    const c = contact(t, obs('dns_query', 's01.upd.kaspersky.com'), UPDATE, T - 9 * S, { after: false }); // update: first category
    contact(t, obs('dns_query', 'ksn-url-geo.kaspersky-labs.com'), KSN, T + 2 * S);
    expect([c.firstAfter, c.lastAfter]).toEqual([fromMicros(T + 2 * S), fromMicros(T + 2 * S)]);
  });

  test('a client seen only before the cutoff has no first/last contact after it', () => {
    const t = big();
    const c = contact(t, obs('dns_query', 's01.upd.kaspersky.com'), UPDATE, T, { after: false });
    expect([c.firstAfter, c.lastAfter, c.severityAfter]).toEqual([undefined, undefined, undefined]);
  });

  test('severity: the most severe match overall, and after the cutoff', () => {
    const t = big();
    const c = contact(t, obs('dns_query', 'www.kaspersky.com'), PORTAL, T, { after: false });
    expect([c.severity, c.severityAfter]).toEqual(['low', undefined]);
    contact(t, obs('dns_query', 'www.kaspersky.com'), PORTAL, T + S);
    expect([c.severity, c.severityAfter]).toEqual(['low', 'low']);
    contact(t, obs('dns_query', 's01.upd.kaspersky.com'), UPDATE, T + 2 * S, { after: false });
    expect([c.severity, c.severityAfter]).toEqual(['high', 'low']);
    contact(t, obs('dns_query', 's01.upd.kaspersky.com'), UPDATE, T + 3 * S);
    contact(t, obs('dns_query', 'www.kaspersky.com'), PORTAL, T + 4 * S);
    expect([c.severity, c.severityAfter]).toEqual(['high', 'high']);
  });

  test(`destinations of TLS/HTTP/QUIC contacts per name, each ip:port once, at most ${MAX_DESTINATIONS}`, () => {
    const t = big();
    const n = 's01.upd.kaspersky.com';
    contact(t, obs('tls_sni', n, { dst: '198.19.0.1', dport: 443 }), UPDATE);
    contact(t, obs('http_host', n, { dst: '198.19.0.1', dport: 80 }), UPDATE);
    contact(t, obs('quic_sni', n, { dst: 'fd00::1', dport: 443 }), UPDATE);
    contact(t, obs('tls_sni', n, { dst: '198.19.0.1', dport: 443 }), UPDATE); // again: not added
    contact(t, obs('dns_query', n, { dst: '198.19.0.53', dport: 53 }), UPDATE); // a resolver is not a destination
    const c = t.get(CLIENT)!;
    expect(c.names.get(n)!.destinations).toEqual(['198.19.0.1:443', '198.19.0.1:80', '[fd00::1]:443']);
    for (let i = 2; i < 20; i++) contact(t, obs('tls_sni', n, { dst: `198.19.0.${i}` }), UPDATE);
    expect(c.names.get(n)!.destinations).toHaveLength(MAX_DESTINATIONS);
    expect(c.bytes).toBe(clientBytes(c));
  });

  test(`addresses from A/AAAA answers per name, each once, at most ${MAX_DESTINATIONS}; a CNAME's target is not an address`, () => {
    const t = big();
    const n = 's01.upd.kaspersky.com';
    const answer = (rrtype: string, data: string): Observation => obs('dns_answer', n, { rrtype, data, src: '198.19.0.53', dst: CLIENT });
    contact(t, answer('CNAME', 's01.geo.kaspersky.com'), UPDATE);
    const c = t.get(CLIENT)!;
    expect(c.names.get(n)!.addresses).toBeUndefined();
    contact(t, answer('A', '198.18.7.7'), UPDATE);
    contact(t, answer('AAAA', 'fd00::77'), UPDATE);
    contact(t, answer('A', '198.18.7.7'), UPDATE);
    expect(c.names.get(n)!.addresses).toEqual(['198.18.7.7', 'fd00::77']);
    expect(c.names.get(n)!.destinations).toEqual([]);
    for (let i = 0; i < 20; i++) contact(t, answer('A', `198.18.8.${i}`), UPDATE);
    expect(c.names.get(n)!.addresses).toHaveLength(MAX_DESTINATIONS);
    expect(c.bytes).toBe(clientBytes(c));
  });

  test(`JA4 fingerprints: each once, at most ${MAX_JA4_PER_CLIENT}; ECH is remembered`, () => {
    const t = big();
    const ja4 = (i: number): string => `t13d1516h2_8daaf6152771_${String(i).padStart(12, '0')}`;
    const c = contact(t, obs('tls_sni', 's01.upd.kaspersky.com', { ja4: ja4(0) }), UPDATE);
    contact(t, obs('tls_sni', 's01.upd.kaspersky.com', { ja4: ja4(0) }), UPDATE);
    expect([...c.ja4]).toEqual([ja4(0)]);
    expect(c.echSeen).toBe(false);
    for (let i = 1; i < 50; i++) contact(t, obs('quic_sni', 's01.upd.kaspersky.com', { ja4: ja4(i), ech: i === 7 }), UPDATE);
    expect([...c.ja4]).toEqual(Array.from({ length: MAX_JA4_PER_CLIENT }, (_, i) => ja4(i)));
    expect(c.echSeen).toBe(true);
    expect(c.bytes).toBe(clientBytes(c));
  });

  test('public DNS fallback resolvers: each once, accounted', () => {
    const t = big();
    const c = contact(t, obs('dns_query', 's01.upd.kaspersky.com', { dst: '223.6.6.6' }), UPDATE);
    const [table, client] = [t.bytes, c.bytes];
    t.publicDnsFallback(c, '223.6.6.6');
    t.publicDnsFallback(c, '223.6.6.6');
    t.publicDnsFallback(c, '185.228.168.168');
    expect(c.publicDnsFallback).toEqual(['223.6.6.6', '185.228.168.168']);
    expect(c.bytes).toBe(clientBytes(c));
    expect(c.bytes).toBeGreaterThan(client);
    expect(t.bytes - table).toBe(c.bytes - client);
  });
});

describe('accounting and bounds', () => {
  test('the running byte count of every client equals a count from scratch, and the table holds their sum', () => {
    const t = big();
    const names = ['s01.upd.kaspersky.com', 'ksn-url-geo.kaspersky-labs.com', 'www.kaspersky.com'];
    const rules = [UPDATE, KSN, PORTAL];
    for (let i = 0; i < 60; i++) {
      const client = `198.18.1.${i % 7}`;
      const kind = (['dns_query', 'dns_answer', 'tls_sni', 'http_host', 'quic_sni'] as const)[i % 5]!;
      const o = obs(kind, names[i % 3]!, { src: client, dst: `198.19.0.${i % 11}`, ...(kind === 'dns_answer' ? { rrtype: 'A', data: `198.18.9.${i}`, dst: client } : {}), ...(i % 4 === 0 ? { ja4: `j${i}` } : {}) });
      contact(t, o, rules[i % 3]!, T + i * S, { client });
    }
    const clients = [...t.clients()];
    expect(clients).toHaveLength(7);
    for (const c of clients) expect(c.bytes, c.client).toBe(clientBytes(c));
    expect(t.bytes).toBe(clients.reduce((a, c) => a + c.bytes, 0));
  });

  test('past the byte budget the least recent clients leave, counted; the client being recorded stays', () => {
    const one = contact(big(), obs('dns_query', 's01.upd.kaspersky.com', { src: '198.18.2.0' }), UPDATE, T, { client: '198.18.2.0' }).bytes;
    const t = new ClientTable({ bytes: 3 * one });
    for (let i = 0; i < 5; i++) contact(t, obs('dns_query', 's01.upd.kaspersky.com', { src: `198.18.2.${i}` }), UPDATE, T + i * S, { client: `198.18.2.${i}` });
    expect([t.size, t.evictions]).toEqual([3, 2]);
    expect([...t.clients()].map((c) => c.client)).toEqual(['198.18.2.2', '198.18.2.3', '198.18.2.4']);
    expect(t.bytes).toBeLessThanOrEqual(3 * one);
    // One client growing past the whole budget is still the one kept.
    for (let i = 0; i < 40; i++) contact(t, obs('dns_query', `x${i}.upd.kaspersky.com`, { src: '198.18.2.4' }), UPDATE, T + 10 * S, { client: '198.18.2.4' });
    expect([...t.clients()].map((c) => c.client)).toEqual(['198.18.2.4']);
    expect(t.get('198.18.2.4')!.names.size).toBe(41);
  });

  test('idle expiry: a client untouched for longer than the idle time leaves (counted); exactly the idle time stays', () => {
    const t = big();
    contact(t, obs('dns_query', 's01.upd.kaspersky.com', { src: 'b' }), UPDATE, T, { client: 'b', age: 200 });
    contact(t, obs('dns_query', 's01.upd.kaspersky.com', { src: 'a' }), UPDATE, T, { client: 'a', age: 100 });
    expect(t.expireIdle(300, 100)).toBe(1);
    expect([[...t.clients()].map((c) => c.client), t.expired]).toEqual([['b'], 1]);
    expect(t.expireIdle(300, 100)).toBe(0);
    expect(t.expired).toBe(1);
    // 'a' (the client of the last contact) comes back as a new client, not through a stale shortcut.
    const again = contact(t, obs('dns_query', 's01.upd.kaspersky.com', { src: 'a' }), UPDATE, T + S, { client: 'a', age: 301 });
    expect([again.after, again.names.get('s01.upd.kaspersky.com')!.after, again.firstSeenMicros, t.size]).toEqual([1, 1, T + S, 2]);
    expect(t.get('a')).toBe(again);
    const b = contact(t, obs('dns_query', 's02.upd.kaspersky.com', { src: 'b' }), UPDATE, T + S, { client: 'b', age: 302 });
    expect([b.after, b.names.size, b.touched]).toEqual([2, 2, 302]);
  });

  test('a restored client that evicts the client of the last contact: that client comes back as a new one', () => {
    const t = new ClientTable({ bytes: 1 << 30, maxClients: 1 });
    contact(t, obs('dns_query', 's01.upd.kaspersky.com'), UPDATE);
    const other = contact(big(), obs('dns_query', 's01.upd.kaspersky.com', { src: '198.18.5.5' }), UPDATE, T, { client: '198.18.5.5' });
    t.restore(other);
    expect([[...t.clients()].map((c) => c.client), t.evictions]).toEqual([['198.18.5.5'], 1]);
    const back = contact(t, obs('dns_query', 's01.upd.kaspersky.com'), UPDATE, T + S);
    expect([back.after, back.names.get('s01.upd.kaspersky.com')!.after, t.get(CLIENT)]).toEqual([1, 1, back]);
  });

  test('restore accounts a client from scratch', () => {
    const src = big();
    const c = contact(src, obs('tls_sni', 's01.upd.kaspersky.com', { ja4: 'j' }), UPDATE);
    contact(src, obs('tls_sni', 'ksn-url-geo.kaspersky-labs.com'), KSN);
    const want = c.bytes;
    c.bytes = 0;
    const t = big();
    t.restore(c);
    expect([c.bytes, t.bytes]).toEqual([want, want]);
  });
});
