import type { AlertDecision } from '../../src/analyze/alerts.js';
import { Analyzer } from '../../src/analyze/analyzer.js';
import type { ClientState } from '../../src/analyze/clients.js';
import type { Observation, ObservationKind } from '../../src/capture/observation.js';
import type { Config } from '../../src/config/load.js';
import { policyFrom } from '../../src/engine/policy.js';

/** A real analyzer under a config's policy, and the alerts it raised with their client state. */
export const S = 1_000_000;
/** 2024-10-01T00:00:00Z in µs: after the cutoff. */
export const T0 = 1_727_740_800 * S;

export function observation(kind: ObservationKind, name: string, tsMicros: number, src: string, extra: Partial<Observation> = {}): Observation {
  const sec = Math.floor(tsMicros / S);
  return {
    kind,
    name,
    time: { sec, nsec: (tsMicros - sec * S) * 1000, digits: 6 },
    tsMicros,
    frame: 1,
    src,
    dst: '198.19.0.1',
    sport: 40000,
    dport: kind === 'dns_query' ? 53 : 443,
    transport: kind === 'dns_query' || kind === 'quic_sni' ? 'udp' : 'tcp',
    ...extra,
  };
}

export interface Analysis {
  readonly analyzer: Analyzer;
  readonly alerts: Array<{ a: AlertDecision; c: ClientState }>;
  /** Network time: the latest observation's time. */
  now: number;
  /** A contact; returns the alert it raised, if any. */
  see(kind: ObservationKind, name: string, tsMicros: number, src: string): { a: AlertDecision; c: ClientState } | undefined;
}

export function analysis(config: Config): Analysis {
  const alerts: Array<{ a: AlertDecision; c: ClientState }> = [];
  const analyzer = new Analyzer(policyFrom(config), { bytes: 64 << 20, maxClients: 1000, dnsAnswers: { bytes: 16 << 20, maxTtlSeconds: 86_400 } }, { onAlert: (a, c) => alerts.push({ a, c }) });
  const r: Analysis = {
    analyzer,
    alerts,
    now: Number.NaN,
    see(kind, name, ts, src) {
      const before = alerts.length;
      analyzer.onObservation(observation(kind, name, ts, src));
      if (!(ts <= r.now)) r.now = ts;
      return alerts.length > before ? alerts[alerts.length - 1] : undefined;
    },
  };
  return r;
}
