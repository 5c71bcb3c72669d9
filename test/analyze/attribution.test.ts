import { describe, expect, test } from 'vitest';
import { Analyzer } from '../../src/analyze/analyzer.js';
import type { AlertDecision } from '../../src/analyze/alerts.js';
import { DnsAnswerCache, KasperskyNetworks } from '../../src/analyze/attribution.js';
import { addressWords, parseCidr } from '../../src/common/cidr.js';
import { UpdatePaths } from '../../src/analyze/findings.js';
import { Matcher } from '../../src/analyze/hostnames.js';
import { DEFAULT_CUTOFF_MICROS } from '../../src/analyze/phases.js';
import type { AnalysisPolicy } from '../../src/analyze/policy.js';
import type { Observation } from '../../src/capture/observation.js';
import { loadConfig } from '../../src/config/load.js';

const config = loadConfig();
const CUT = DEFAULT_CUTOFF_MICROS;
const S = 1_000_000;
const AFTER = CUT + 3600 * S;
const CLIENT = '198.18.0.11';
const RESOLVER = '198.18.0.1';

function o(kind: Observation['kind'], name: string, t: number, extra: Partial<Observation> = {}): Observation {
  const sec = Math.floor(t / S);
  const dnsAnswer = kind === 'dns_answer';
  return {
    kind,
    name,
    time: { sec, nsec: (t - sec * S) * 1000, digits: 6 },
    tsMicros: t,
    frame: 1,
    src: dnsAnswer ? RESOLVER : CLIENT,
    dst: dnsAnswer ? CLIENT : kind === 'dns_query' ? RESOLVER : '198.19.1.7',
    sport: dnsAnswer ? 53 : 40_000,
    dport: dnsAnswer ? 40_000 : kind === 'dns_query' ? 53 : 443,
    transport: 'tcp',
    ...extra,
  };
}
const answer = (name: string, rrtype: 'A' | 'AAAA' | 'CNAME', data: string, t: number, ttl = 300): Observation => o('dns_answer', name, t, { rrtype, data, ttl });
const conn = (dst: string, t: number, why: Observation['conn'] = 'no_sni', extra: Partial<Observation> = {}): Observation =>
  o('ip_connection', dst, t, { dst, conn: why, ...extra });

function analyzer(over: Partial<AnalysisPolicy> = {}, dnsBytes = 16 << 20): { a: Analyzer; alerts: AlertDecision[] } {
  const alerts: AlertDecision[] = [];
  const a = new Analyzer(
    {
      matcher: new Matcher(config.endpoints),
      cutoffMicros: CUT,
      suppressMicros: 3600 * S,
      minAlertSeverity: 'medium',
      publicDnsFallback: new Set(['223.6.6.6']),
      appliances: new Set(),
      internalResolvers: new Set(),
      updatePaths: new UpdatePaths(config.updatePaths),
      kasperskyNetworks: new KasperskyNetworks([]),
      ...over,
    },
    { bytes: 64 << 20, maxClients: 1000, dnsAnswers: { bytes: dnsBytes, maxTtlSeconds: 86_400 } },
    { onAlert: (d) => alerts.push(d) },
  );
  return { a, alerts };
}

describe('attribution through remembered DNS answers', () => {
  test('a connection without SNI to an address answered for a Kaspersky name counts for that name (resolved_ip)', () => {
    const { a, alerts } = analyzer();
    a.onObservation(answer('s07.upd.kaspersky.com', 'A', '198.19.1.7', AFTER));
    a.onObservation(conn('198.19.1.7', AFTER + S));
    const c = a.clients.get(CLIENT)!;
    expect(c.evidence).toEqual(['dns_answer', 'resolved_ip']);
    const n = c.names.get('s07.upd.kaspersky.com')!;
    expect([n.before, n.after, n.destinations]).toEqual([0, 2, ['198.19.1.7:443']]);
    expect(a.attributedByDns).toBe(1);
    expect(a.connections).toEqual([1, 0, 0, 0, 0]);
    // one alert for update (the answer), the attributed connection folded into it
    expect(alerts.map((x) => [x.evidence, x.name])).toEqual([['dns_answer', 's07.upd.kaspersky.com']]);
    expect(a.matches().find((m) => m.kind === 'resolved_ip')).toMatchObject({ category: 'update', phase: 'after', count: 1 });
  });

  test('the TTL is honoured: after it runs out the address attributes nothing, and the expiry is counted', () => {
    const { a } = analyzer();
    a.onObservation(answer('s07.upd.kaspersky.com', 'A', '198.19.1.7', AFTER, 60));
    a.onObservation(conn('198.19.1.7', AFTER + 60 * S)); // at the TTL's edge: still attributed
    a.onObservation(conn('198.19.1.7', AFTER + 61 * S));
    expect(a.attributedByDns).toBe(1);
    expect(a.dns.expired).toBe(1);
    expect(a.connections[0]).toBe(2);
  });

  test('an address nobody resolved for a Kaspersky name attributes nothing', () => {
    const { a } = analyzer();
    a.onObservation(conn('198.19.1.7', AFTER));
    expect(a.clients.size).toBe(0);
    expect(a.connections[0]).toBe(1);
  });

  test('a Kaspersky name whose CNAME chain leaves for a CDN: the CDN name\'s addresses stand for the Kaspersky name', () => {
    const { a } = analyzer();
    a.onObservation(answer('downloads.upd.kaspersky.com', 'CNAME', 'upd-geo.kaspersky-labs.com', AFTER));
    a.onObservation(answer('upd-geo.kaspersky-labs.com', 'CNAME', 'upd-eu.cdn.example.net', AFTER));
    a.onObservation(answer('upd-eu.cdn.example.net', 'A', '198.19.1.5', AFTER));
    a.onObservation(conn('198.19.1.5', AFTER + S, 'ech'));
    const c = a.clients.get(CLIENT)!;
    const n = c.names.get('downloads.upd.kaspersky.com')!;
    expect(n.addresses).toEqual(['198.19.1.5']);
    expect(n.destinations).toEqual(['198.19.1.5:443']);
    expect(c.names.has('upd-eu.cdn.example.net')).toBe(false);
    expect(a.connections[1]).toBe(1); // ech
  });

  test('a corporate alias whose chain reaches a Kaspersky name matches, and its addresses attribute to the Kaspersky name', () => {
    const { a } = analyzer();
    a.onObservation(answer('av-updates.corp.example', 'CNAME', 'dnl-03.geo.kaspersky.com', AFTER));
    a.onObservation(answer('dnl-03.geo.kaspersky.com', 'A', '198.19.1.3', AFTER));
    a.onObservation(conn('198.19.1.3', AFTER + S, 'ip_literal', { http_path: '/bases/av/kdb/i386/kdb-i386-0607g.xml.klz', dport: 80 }));
    const c = a.clients.get(CLIENT)!;
    expect(c.names.get('av-updates.corp.example')).toMatchObject({ category: 'update', rule: 'upd-dnl-geo' });
    expect(c.names.get('dnl-03.geo.kaspersky.com')!.evidenceBits).not.toBe(0);
    // HTTP to the IP literal pulling bases: attributed, and a signature-update finding
    expect(c.updatePaths).toEqual(['dnl-03.geo.kaspersky.com/bases/av/kdb/i386/kdb-i386-0607g.xml.klz']);
  });

  test('a chain spread over several responses is followed through the alias entries', () => {
    const { a } = analyzer();
    a.onObservation(answer('s01.upd.kaspersky.com', 'CNAME', 'edge.cdn.example.net', AFTER));
    a.onObservation(answer('edge.cdn.example.net', 'AAAA', 'fd00::1:7', AFTER + 5 * S));
    a.onObservation(conn('fd00::1:7', AFTER + 6 * S, 'quic_undecryptable'));
    expect(a.clients.get(CLIENT)!.names.get('s01.upd.kaspersky.com')!.destinations).toEqual(['[fd00::1:7]:443']);
  });

  test('bounded by bytes: the least recently used entries are evicted and counted', () => {
    const cache = new DnsAnswerCache({ bytes: 1 << 20, maxTtlSeconds: 86_400 });
    const m = new Matcher(config.endpoints).match('s01.upd.kaspersky.com')!;
    for (let i = 0; i < 20_000; i++) cache.noteAddress(`198.19.${i >> 8}.${i & 255}`, 's01.upd.kaspersky.com', m, 0, 300);
    expect(cache.bytes).toBeLessThanOrEqual(1 << 20);
    expect(cache.evictions).toBe(20_000 - cache.size);
    expect(cache.address('198.19.78.31', 1)).toBeDefined(); // the newest stays
    expect(cache.address('198.19.0.0', 1)).toBeUndefined();
  });
});

describe('configured Kaspersky ranges', () => {
  const nets = new KasperskyNetworks([
    { cidr: '77.74.176.0/21', source: 'G8', category: 'other', severity: 'low' },
    { cidr: '2a03:2480::/32', source: 'G8', category: 'ksn', severity: 'medium' },
  ]);
  test.for([
    ['77.74.176.1', 'net:77.74.176.0/21'],
    ['77.74.183.255', 'net:77.74.176.0/21'],
    ['77.74.184.0', undefined],
    ['2a03:2480:8037::1', 'net:2a03:2480::/32'],
    ['2a03:2481::1', undefined],
    ['::ffff:77.74.176.1', undefined],
  ] as const)('%s → %s', ([ip, id]) => {
    expect(nets.match(ip)?.id).toBe(id);
  });

  test('a nameless connection into a range counts with evidence kaspersky_network, confidence C; a DNS answer wins', () => {
    const { a, alerts } = analyzer({ kasperskyNetworks: nets, minAlertSeverity: 'low' });
    a.onObservation(conn('77.74.177.10', AFTER));
    const c = a.clients.get(CLIENT)!;
    expect(c.evidence).toEqual(['kaspersky_network']);
    expect(alerts[0]).toMatchObject({ evidence: 'kaspersky_network', severity: 'low', match: { confidence: 'C', pattern: '77.74.176.0/21' } });
    a.onObservation(answer('s03.upd.kaspersky.com', 'A', '77.74.177.10', AFTER + S));
    a.onObservation(conn('77.74.177.10', AFTER + 2 * S));
    expect(a.attributedByNetwork).toBe(1);
    expect(a.attributedByDns).toBe(1);
  });

  test.for([
    ['77.74.177.0/21', /host bits/],
    ['77.74.176.0', /ADDRESS\/PREFIX/],
    ['77.74.176.0/33', /prefix must be 0..32/],
    ['kaspersky.com/8', /not an IPv4 or IPv6/],
  ] as const)('bad range %s is refused', ([text, why]) => {
    expect(parseCidr(text)).toMatch(why);
  });

  test('address words', () => {
    expect([...addressWords('2a03:2480::1')!]).toEqual([0x2a032480, 0, 0, 1]);
    expect([...addressWords('::ffff:1.2.3.4')!]).toEqual([0, 0, 0xffff, 0x01020304]);
  });
});

describe('findings', () => {
  test('an HTTP request for signature bases after the cutoff is a critical finding with its own alert; before it, only counted', () => {
    const { a, alerts } = analyzer();
    a.onObservation(o('http_host', 'dnl-05.geo.kaspersky.com', CUT - S, { http_path: '/diffs/bases/av/kdb/i386/base001.dif', dport: 80 }));
    a.onObservation(o('http_host', 'dnl-05.geo.kaspersky.com', AFTER, { http_path: '/index/u0607g.xml', dport: 80 }));
    a.onObservation(o('http_host', 'dnl-05.geo.kaspersky.com', AFTER + S, { http_path: '/favicon.ico', dport: 80 }));
    const c = a.clients.get(CLIENT)!;
    expect(c.severityAfter).toBe('critical');
    expect(alerts.map((x) => [x.finding ?? 'contact', x.severity])).toEqual([
      ['contact', 'high'],
      ['signature_update', 'critical'],
    ]);
    expect(a.findingCounts.slice(0, 2)).toEqual([1, 1]);
    expect(c.updatePaths).toEqual(['dnl-05.geo.kaspersky.com/diffs/bases/av/kdb/i386/base001.dif', 'dnl-05.geo.kaspersky.com/index/u0607g.xml']);
  });

  test.for([
    ['/bases/av/kdb/i386/kdb-i386-0607g.xml', true],
    ['/diffs/bases/av/emu/i386/emu.dif', true],
    ['/index/u0607g.xml', true],
    ['/index/u1313g.xml', true],
    ['/updatable/2018/bases/av.srm', true],
    ['/some/where/file.KLZ', true],
    ['/activationservice/activationservice.svc', false],
    ['/index/news.xml', false],
    ['/', false],
  ] as const)('update path %s → %s', ([path, want]) => {
    expect(new UpdatePaths(config.updatePaths).classify(path) !== undefined).toBe(want);
  });

  test('resolver bypass: a Kaspersky name asked of a resolver that is not internal, per client with the address; the resolvers\' own upstream queries are not', () => {
    const { a, alerts } = analyzer({ internalResolvers: new Set([RESOLVER]) });
    a.onObservation(o('dns_query', 's07.upd.kaspersky.com', AFTER)); // to the internal resolver
    a.onObservation(o('dns_query', 's07.upd.kaspersky.com', AFTER + S, { dst: '203.0.113.53' }));
    a.onObservation(o('dns_query', 's07.upd.kaspersky.com', AFTER + 2 * S, { dst: '223.6.6.6' }));
    a.onObservation(o('dns_query', 's07.upd.kaspersky.com', AFTER + 3 * S, { src: RESOLVER, dst: '9.9.9.9' }));
    const c = a.clients.get(CLIENT)!;
    expect(c.resolverBypass).toEqual(['203.0.113.53', '223.6.6.6']);
    expect(c.publicDnsFallback).toEqual(['223.6.6.6']);
    expect(a.clients.get(RESOLVER)!.resolverBypass).toEqual([]);
    expect(alerts.filter((x) => x.finding === 'resolver_bypass').map((x) => [x.client, x.obs.dst, x.severity])).toEqual([[CLIENT, '203.0.113.53', 'high']]);
  });

  test('without internal resolvers configured nothing is a bypass', () => {
    const { a } = analyzer();
    a.onObservation(o('dns_query', 's07.upd.kaspersky.com', AFTER, { dst: '203.0.113.53' }));
    expect(a.clients.get(CLIENT)!.resolverBypass).toEqual([]);
  });
});

describe('timeline', () => {
  test('matches per hour by category', () => {
    const { a } = analyzer();
    a.onObservation(o('tls_sni', 's07.upd.kaspersky.com', AFTER));
    a.onObservation(o('tls_sni', 'ksn-url-geo.kaspersky-labs.com', AFTER + 10 * S));
    a.onObservation(o('tls_sni', 's07.upd.kaspersky.com', AFTER + 3600 * S));
    expect(a.timeline.rows().map(([h, c]) => [h, c[0], c[1]])).toEqual([
      [(AFTER / S) - ((AFTER / S) % 3600), 1, 1],
      [(AFTER / S) - ((AFTER / S) % 3600) + 3600, 1, 0],
    ]);
  });
});
