import { describe, expect, test } from 'vitest';
import { Analyzer, clientOf } from '../../src/analyze/analyzer.js';
import type { AlertDecision } from '../../src/analyze/alerts.js';
import type { AnalysisPolicy } from '../../src/analyze/policy.js';
import { KasperskyNetworks } from '../../src/analyze/attribution.js';
import { UpdatePaths } from '../../src/analyze/findings.js';
import { Matcher } from '../../src/analyze/hostnames.js';
import { DEFAULT_CUTOFF_MICROS, phaseOf } from '../../src/analyze/phases.js';
import type { Observation, ObservationKind } from '../../src/capture/observation.js';
import { loadConfig } from '../../src/config/load.js';
import { observation, S } from '../helpers/analysis.js';

const config = loadConfig();
const CUT = DEFAULT_CUTOFF_MICROS;

const obs = (kind: ObservationKind, name: string, tsMicros: number, src = '198.18.0.11', extra: Partial<Observation> = {}): Observation => observation(kind, name, tsMicros, src, extra);

function analyzer(
  over: Partial<AnalysisPolicy> = {},
  limits: { bytes?: number; maxClients?: number } = {},
): { a: Analyzer; alerts: AlertDecision[] } {
  const alerts: AlertDecision[] = [];
  const a = new Analyzer(
    {
      matcher: new Matcher(config.endpoints),
      cutoffMicros: CUT,
      suppressMicros: 3600 * S,
      minAlertSeverity: 'medium',
      publicDnsFallback: new Set(['223.6.6.6']),
      appliances: new Set(['198.18.9.9']),
      internalResolvers: new Set<string>(),
      updatePaths: new UpdatePaths(config.updatePaths),
      kasperskyNetworks: new KasperskyNetworks([]),
      ...over,
    },
    { bytes: limits.bytes ?? 64 << 20, maxClients: limits.maxClients ?? 1000, dnsAnswers: { bytes: 16 << 20, maxTtlSeconds: 86_400 } },
    { onAlert: (d) => alerts.push(d) },
  );
  return { a, alerts };
}

const clientsOf = (a: Analyzer) => [...a.clients.clients()];

describe('cutoff phases (packet time)', () => {
  test.for([
    { t: CUT - 1, want: 'before' },
    { t: CUT, want: 'after' },
    { t: CUT + 1, want: 'after' },
  ])('$t → $want', ({ t, want }) => {
    expect(phaseOf(t, CUT)).toBe(want);
  });
  test('the default cutoff is 12:00 AM EDT, 29 September 2024', () => {
    expect(new Date(CUT / 1000).toISOString()).toBe('2024-09-29T04:00:00.000Z');
    expect(config.cutoff.micros).toBe(CUT);
  });
});

describe('clients', () => {
  test('the client is the asker of a query, the receiver of an answer, the initiator otherwise', () => {
    expect(clientOf(obs('dns_query', 'x', 0, '198.18.0.5'))).toBe('198.18.0.5');
    expect(clientOf({ ...obs('dns_answer', 'x', 0, '198.19.0.1'), dst: '198.18.0.5' })).toBe('198.18.0.5');
    expect(clientOf(obs('tls_sni', 'x', 0, '198.18.0.5'))).toBe('198.18.0.5');
  });

  test('before/after counts, categories, names, evidence and first/last seen', () => {
    const { a } = analyzer();
    a.onObservation(obs('dns_query', 's01.upd.kaspersky.com', CUT - 10 * S));
    a.onObservation(obs('tls_sni', 's01.upd.kaspersky.com', CUT - 9 * S, undefined, { ja4: 't13d1516h2_8daaf6152771_02713d6af862' }));
    a.onObservation(obs('tls_sni', 'ksn-url-geo.kaspersky-labs.com', CUT + 5 * S));
    a.onObservation(obs('dns_query', 'example.org', CUT + 6 * S)); // no match: not counted
    const [c] = clientsOf(a);
    expect(c).toMatchObject({ client: '198.18.0.11', before: 2, after: 1, firstSeenMicros: CUT - 10 * S, lastSeenMicros: CUT + 5 * S, severityAfter: 'high' });
    expect(c!.categories.map((x, i) => (x === undefined ? undefined : i)).filter((i) => i !== undefined)).toEqual([0, 1]); // update, ksn
    expect(c!.evidence).toEqual(['dns_query', 'tls_sni']);
    expect([...c!.ja4]).toEqual(['t13d1516h2_8daaf6152771_02713d6af862']);
    expect(a.observations).toBe(4);
  });

  test('label boundaries: notkaspersky.com never reaches the tracker', () => {
    const { a } = analyzer();
    a.onObservation(obs('dns_query', 'notkaspersky.com', CUT + S));
    a.onObservation(obs('tls_sni', 'kaspersky.com.evil.example', CUT + S));
    expect(a.clients.size).toBe(0);
  });

  test('a CNAME answer whose target is Kaspersky counts for the receiver', () => {
    const { a } = analyzer();
    a.onObservation({ ...obs('dns_answer', 'updates.example.net', CUT + S, '198.19.0.1'), dst: '198.18.0.7', rrtype: 'CNAME', data: 'dnl-04.geo.kaspersky.com' });
    expect(clientsOf(a).map((c) => c.client)).toEqual(['198.18.0.7']);
  });

  test('Kaspersky names sent straight to a public fallback resolver are flagged', () => {
    const { a } = analyzer();
    a.onObservation({ ...obs('dns_query', 'downloads.upd.kaspersky.com', CUT + S), dst: '223.6.6.6' });
    expect(clientsOf(a)[0]!.publicDnsFallback).toEqual(['223.6.6.6']);
  });

  test('the tracker is bounded: the least recently seen client is evicted and counted', () => {
    const { a } = analyzer({}, { maxClients: 3 });
    for (let i = 1; i <= 5; i++) a.onObservation(obs('dns_query', 's02.upd.kaspersky.com', CUT + i * S, `198.18.1.${i}`));
    expect(a.clients.size).toBe(3);
    expect(a.clients.evictions).toBe(2);
    expect(clientsOf(a).map((c) => c.client)).toEqual(['198.18.1.3', '198.18.1.4', '198.18.1.5']);
  });
});

describe('alerts', () => {
  test('alert state lives and dies with its client: an evicted client is alerted afresh, and the eviction is counted', () => {
    const { a, alerts } = analyzer({}, { maxClients: 2 });
    const at = (client: string, name: string, t: number) => a.onObservation(obs('tls_sni', name, CUT + t * S, client));
    at('198.18.0.1', 's01.upd.kaspersky.com', 0);
    at('198.18.0.1', 'ksn-url-geo.kaspersky-labs.com', 1); // same client, other category: its own alert
    at('198.18.0.1', 's01.upd.kaspersky.com', 2); // suppressed
    at('198.18.0.2', 's01.upd.kaspersky.com', 3);
    expect(a.clients.evictions).toBe(0);
    at('198.18.0.3', 's01.upd.kaspersky.com', 4); // third client: the least recent one goes, with its alert state
    expect(a.clients.evictions).toBe(1);
    at('198.18.0.1', 's01.upd.kaspersky.com', 5); // forgotten, so alerted afresh
    at('198.18.0.3', 's01.upd.kaspersky.com', 6); // still known: suppressed
    expect(alerts.map((d) => [d.client, d.category, d.sequence])).toEqual([
      ['198.18.0.1', 'update', 1],
      ['198.18.0.1', 'ksn', 1],
      ['198.18.0.2', 'update', 1],
      ['198.18.0.3', 'update', 1],
      ['198.18.0.1', 'update', 1],
    ]);
  });

  test('one alert per client x category at its first post-cutoff contact; nothing before the cutoff', () => {
    const { a, alerts } = analyzer();
    a.onObservation(obs('dns_query', 's01.upd.kaspersky.com', CUT - S));
    a.onObservation(obs('dns_query', 's01.upd.kaspersky.com', CUT));
    a.onObservation(obs('tls_sni', 's02.upd.kaspersky.com', CUT + S));
    a.onObservation(obs('tls_sni', 'activation-v2.kaspersky.com', CUT + 2 * S));
    a.onObservation(obs('tls_sni', 's02.upd.kaspersky.com', CUT + 3 * S, '198.18.0.12'));
    expect(alerts.map((d) => [d.client, d.category, d.obs.tsMicros - CUT, d.sequence])).toEqual([
      ['198.18.0.11', 'update', 0, 1],
      ['198.18.0.11', 'activation', 2 * S, 1],
      ['198.18.0.12', 'update', 3 * S, 1],
    ]);
  });

  test('repeats within the suppression window are folded, then one more alert carries the count', () => {
    const { a, alerts } = analyzer({ suppressMicros: 60 * S });
    for (let i = 0; i < 10; i++) a.onObservation(obs('tls_sni', 's03.upd.kaspersky.com', CUT + i * S));
    a.onObservation(obs('tls_sni', 's03.upd.kaspersky.com', CUT + 61 * S));
    expect(alerts.map((d) => [d.sequence, d.suppressed, d.countAfter])).toEqual([
      [1, 0, 1],
      [2, 9, 11],
    ]);
    expect(a.alertsSuppressed).toBe(9);
  });

  test('below min severity: counted and reported, not alerted', () => {
    const { a, alerts } = analyzer();
    a.onObservation(obs('tls_sni', 'www.kaspersky.com', CUT + S)); // portals: low
    expect(alerts).toEqual([]);
    expect(clientsOf(a)[0]).toMatchObject({ after: 1, severityAfter: 'low' });
    const low = analyzer({ minAlertSeverity: 'low' });
    low.a.onObservation(obs('tls_sni', 'www.kaspersky.com', CUT + S));
    expect(low.alerts).toHaveLength(1);
  });

  test('configured appliances are tracked but never alerted', () => {
    const { a, alerts } = analyzer();
    a.onObservation(obs('http_host', 'dnl-01.geo.kaspersky.com', CUT + S, '198.18.9.9'));
    expect(alerts).toEqual([]);
    expect(clientsOf(a)[0]).toMatchObject({ client: '198.18.9.9', appliance: true, after: 1 });
  });
});
