import { describe, expect, test } from 'vitest';
import { Analyzer } from '../../src/analyze/analyzer.js';
import { Matcher } from '../../src/analyze/hostnames.js';
import { DEFAULT_CUTOFF_MICROS } from '../../src/analyze/phases.js';
import type { AnalysisPolicy } from '../../src/analyze/policy.js';
import { CATEGORIES, SEVERITIES } from '../../src/analyze/rules.js';
import type { Observation, ObservationKind } from '../../src/capture/observation.js';
import { fromMicros } from '../../src/common/time.js';
import { loadConfig } from '../../src/config/load.js';
import { policyFrom } from '../../src/engine/policy.js';

const CUT = DEFAULT_CUTOFF_MICROS;
const S = 1_000_000;
const policy: AnalysisPolicy = {
  ...policyFrom(loadConfig()),
  matcher: new Matcher(loadConfig().endpoints),
  cutoffMicros: CUT,
  suppressMicros: 3600 * S,
  minAlertSeverity: 'medium',
  publicDnsFallback: new Set(['223.6.6.6']),
  appliances: new Set(),
};

const LIMITS = { bytes: 1 << 30, dnsAnswers: { bytes: 16 << 20, maxTtlSeconds: 86_400 } };

function obs(kind: ObservationKind, name: string, at: number, extra: Partial<Observation> = {}): Observation {
  return { kind, name, time: fromMicros(at), tsMicros: at, frame: 1, src: '198.18.0.11', dst: '198.19.0.1', sport: 40_000, dport: 443, transport: 'tcp', ...extra };
}

describe('match counts (the report and metrics read them)', () => {
  test('by kind, category and phase, in category, kind, phase order; copies, not the live counters', () => {
    const a = new Analyzer(policy, LIMITS);
    a.onObservation(obs('tls_sni', 'ksn-url-geo.kaspersky-labs.com', CUT + S));
    a.onObservation(obs('dns_query', 's01.upd.kaspersky.com', CUT - S));
    a.onObservation(obs('dns_query', 's01.upd.kaspersky.com', CUT + S));
    a.onObservation(obs('dns_query', 's02.upd.kaspersky.com', CUT + 2 * S));
    a.onObservation(obs('quic_sni', 's01.upd.kaspersky.com', CUT + S));
    a.onObservation(obs('tls_sni', 's01.upd.kaspersky.com', CUT - 2 * S));
    a.onObservation(obs('dns_query', 'example.org', CUT + S)); // no rule: not counted
    const got = a.matches();
    expect(got).toEqual([
      { kind: 'tls_sni', category: 'ksn', phase: 'after', count: 1 },
      { kind: 'dns_query', category: 'update', phase: 'after', count: 2 },
      { kind: 'dns_query', category: 'update', phase: 'before', count: 1 },
      { kind: 'quic_sni', category: 'update', phase: 'after', count: 1 },
      { kind: 'tls_sni', category: 'update', phase: 'before', count: 1 },
    ]);
    got[0]!.count = 99;
    got.pop();
    expect(a.matches()).toHaveLength(5);
    expect(a.matches()[0]!.count).toBe(1);
    expect(a.observations).toBe(7);
  });

  test('no match, no counts', () => {
    const a = new Analyzer(policy, LIMITS);
    a.onObservation(obs('dns_query', 'example.org', CUT));
    expect([a.matches(), a.clients.size]).toEqual([[], 0]);
  });

  test('the latest judged time of a match, per category, whatever the order; NaN for categories never matched', () => {
    const a = new Analyzer(policy, LIMITS);
    a.onObservation(obs('dns_query', 's01.upd.kaspersky.com', CUT + 5 * S));
    a.onObservation(obs('dns_query', 's01.upd.kaspersky.com', CUT + 2 * S));
    a.onObservation(obs('dns_query', 'ksn-url-geo.kaspersky-labs.com', CUT - S));
    a.onObservation(obs('dns_query', 's01.upd.kaspersky.com', CUT + 9 * S), CUT + 7 * S); // judged at network time
    expect(a.lastMatchMicros).toHaveLength(CATEGORIES.length);
    const by = Object.fromEntries(CATEGORIES.map((c, i) => [c, a.lastMatchMicros[i]]));
    expect(by).toEqual({ update: CUT + 7 * S, ksn: CUT - S, activation: NaN, certificates: NaN, telemetry: NaN, portals: NaN, other: NaN, 'ultraav-migration': NaN });
  });
});

describe('which names count', () => {
  test('only a DNS answer of type CNAME falls back to its target', () => {
    const a = new Analyzer(policy, LIMITS);
    const target = 's01.upd.kaspersky.com';
    a.onObservation(obs('dns_answer', 'cdn.example.net', CUT, { rrtype: 'CNAME', data: target, dst: '198.18.0.1' }));
    a.onObservation(obs('dns_answer', 'cdn.example.net', CUT, { rrtype: 'A', data: target, dst: '198.18.0.2' }));
    a.onObservation(obs('dns_answer', 'cdn.example.net', CUT, { rrtype: 'CNAME', dst: '198.18.0.3' }));
    a.onObservation(obs('tls_sni', 'cdn.example.net', CUT, { rrtype: 'CNAME', data: target, src: '198.18.0.4' }));
    expect([...a.clients.clients()].map((c) => c.client)).toEqual(['198.18.0.1']);
    expect(a.matches()).toEqual([{ kind: 'dns_answer', category: 'update', phase: 'after', count: 1 }]);
  });

  test('a name sent straight to a public fallback resolver is flagged only for DNS queries', () => {
    const a = new Analyzer(policy, LIMITS);
    a.onObservation(obs('tls_sni', 's01.upd.kaspersky.com', CUT, { dst: '223.6.6.6' }));
    a.onObservation(obs('dns_query', 's01.upd.kaspersky.com', CUT, { dst: '8.8.4.4' }));
    expect(a.clients.get('198.18.0.11')!.publicDnsFallback).toEqual([]);
    a.onObservation(obs('dns_query', 's01.upd.kaspersky.com', CUT, { dst: '223.6.6.6' }));
    expect(a.clients.get('198.18.0.11')!.publicDnsFallback).toEqual(['223.6.6.6']);
  });
});

describe('alerts', () => {
  test("a client's alert count, the analyzer's raised and suppressed counts; no hook needed", () => {
    const a = new Analyzer(policy, LIMITS);
    for (const t of [0, 10, 20, 3600, 3610, 7200]) a.onObservation(obs('tls_sni', 's01.upd.kaspersky.com', CUT + t * S));
    a.onObservation(obs('tls_sni', 'ksn-url-geo.kaspersky-labs.com', CUT + 30 * S));
    expect([a.clients.get('198.18.0.11')!.alerts, a.alertsRaised, a.alertsSuppressed]).toEqual([4, 4, 3]);
    // By category × severity (index category * SEVERITIES.length + severity rank): update/high 3, ksn/high 1.
    const N = SEVERITIES.length;
    const counts = a.alertCounts.flatMap((n, i) => (n === 0 ? [] : [[CATEGORIES[Math.floor(i / N)], SEVERITIES[i % N], n]]));
    expect([a.alertCounts.length, counts]).toEqual([CATEGORIES.length * N, [['update', 'high', 3], ['ksn', 'high', 1]]]);
    const low = new Analyzer({ ...policy, minAlertSeverity: 'low' }, LIMITS);
    low.onObservation(obs('tls_sni', 'www.kaspersky.com', CUT)); // portals, low
    expect(low.alertCounts.flatMap((n, i) => (n === 0 ? [] : [[i, n]]))).toEqual([[CATEGORIES.indexOf('portals') * SEVERITIES.length + SEVERITIES.indexOf('low'), 1]]);
  });

  test('an alert carries the judged time and its output form, the folded count and the sequence', () => {
    const seen: Array<[number, number, number, number]> = [];
    const a = new Analyzer(policy, LIMITS, { onAlert: (d) => seen.push([d.at, d.time.sec, d.suppressed, d.sequence]) });
    a.onObservation(obs('tls_sni', 's01.upd.kaspersky.com', CUT));
    a.onObservation(obs('tls_sni', 's01.upd.kaspersky.com', CUT + S));
    a.onObservation(obs('tls_sni', 's01.upd.kaspersky.com', CUT + 99 * S), CUT + 3600 * S, fromMicros(CUT + 3600 * S));
    expect(seen).toEqual([
      [CUT, CUT / S, 0, 1],
      [CUT + 3600 * S, CUT / S + 3600, 1, 2],
    ]);
  });
});
