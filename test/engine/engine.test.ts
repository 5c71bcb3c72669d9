import { describe, expect, test } from 'vitest';
import type { AlertDecision } from '../../src/analyze/alerts.js';
import { DEFAULT_DECODER_LIMITS } from '../../src/capture/decoder.js';
import type { Observation } from '../../src/capture/observation.js';
import { newRawFrame } from '../../src/capture/read/frame.js';
import { NAME_EVICTED, NAME_IDLE, NAME_INCOMPLETE } from '../../src/capture/unrecovered.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { Engine, engineLimits, type EngineOptions } from '../../src/engine/engine.js';
import { policyFrom, type Policy } from '../../src/engine/policy.js';
import { dnsQuery, eth, ETH_IPV4, ipv4, IPPROTO_UDP, udp } from '../helpers/packets.js';
import { clientInitialDatagrams, fakeClientHello } from '../helpers/quic.js';

const config = loadConfig();
/** 2024-10-01T00:00:00Z, after the cutoff. */
const T0 = 1_727_740_800;

function dnsFrame(name: string, opts: { src?: string; dport?: number } = {}): Uint8Array {
  return eth({ type: ETH_IPV4 }, ipv4({ src: opts.src ?? '198.18.0.5', dst: '198.19.0.53', proto: IPPROTO_UDP }, udp({ sport: 40_000, dport: opts.dport ?? 53 }, dnsQuery(name))));
}

function quicFrame(datagram: Uint8Array, src = '198.18.0.6'): Uint8Array {
  return eth({ type: ETH_IPV4 }, ipv4({ src, dst: '198.19.0.1', proto: IPPROTO_UDP }, udp({ sport: 50_000, dport: 443 }, datagram)));
}

/** An engine fed frames at given packet times; collects alerts and (names mode) observations. */
function engine(policy: Policy, over: Partial<EngineOptions> = {}) {
  const alerts: AlertDecision[] = [];
  const seen: Observation[] = [];
  const e = new Engine(policy, {
    mode: 'analyze',
    ageing: 'packet',
    limits: engineLimits(config),
    onAlert: (a) => alerts.push(a),
    onObservation: (o) => seen.push(o),
    ...over,
  });
  const f = newRawFrame();
  let n = 0;
  const feed = (data: Uint8Array, sec: number): void => {
    f.buf = data;
    f.off = 0;
    f.caplen = f.origlen = data.length;
    f.linktype = 1;
    f.frame = ++n;
    f.time = { sec: Math.floor(sec), nsec: Math.round((sec % 1) * 1e9), digits: 6 };
    e.ingest(f);
  };
  return { e, alerts, seen, feed };
}

describe('errors are errors, not decode issues', () => {
  test('an exception in analysis is counted with the first one kept; the run goes on and later names are still analysed', () => {
    const base = policyFrom(config);
    const throwing: Policy = {
      ...base,
      matcher: Object.assign(Object.create(Object.getPrototypeOf(base.matcher) as object) as typeof base.matcher, base.matcher, {
        match: (name: string) => {
          if (name === 's13.upd.kaspersky.com') throw new Error('boom');
          return base.matcher.match(name);
        },
      }),
    };
    const { e, alerts, feed } = engine(throwing);
    feed(dnsFrame('s13.upd.kaspersky.com'), T0);
    feed(dnsFrame('s01.upd.kaspersky.com'), T0 + 1);
    e.finish();
    expect(e.errors.analysis).toBe(1);
    expect(e.errors.first?.where).toBe('analysis');
    expect(e.errors.first?.error.message).toBe('boom');
    expect(e.decoder.issues.rows().filter((r) => r.layer === 'decoder')).toEqual([]);
    expect(alerts.map((a) => a.obs.name)).toEqual(['s01.upd.kaspersky.com']);
  });

  test('an exception in the alert hook (a sink) is an output error; analysis goes on', () => {
    const { e, feed } = engine(policyFrom(config), {
      onAlert: () => {
        throw new Error('disk full');
      },
    });
    feed(dnsFrame('s01.upd.kaspersky.com'), T0);
    feed(dnsFrame('ksn-url-geo.kaspersky-labs.com'), T0 + 1);
    expect(e.errors.output).toBe(2);
    expect(e.errors.first?.where).toBe('output');
    expect(e.analyzer!.alertsRaised).toBe(2);
    expect(e.decoder.issues.rows().filter((r) => r.layer === 'decoder')).toEqual([]);
  });
});

describe('reload swaps the whole policy between chunks', () => {
  const extra = parseConfig(
    `endpoints:
  update:
    - { id: corp-mirror, pattern: mirror.corp.example, severity: high, confidence: A }
dns:
  ports: [53, 5353]
`,
    'reload.yaml',
  );

  test('a name only the new rules match is decoded into an observation and alerted after reload (the name filter follows)', () => {
    const { e, alerts, feed } = engine(policyFrom(config));
    feed(dnsFrame('mirror.corp.example'), T0);
    expect(e.decoder.stats.observations.dns_query).toBe(1); // decoded, filtered out: no rule matched
    expect(e.analyzer!.observations).toBe(0);
    e.reload(policyFrom(extra));
    expect(e.policy.rulesHash).not.toBe(policyFrom(config).rulesHash);
    feed(dnsFrame('mirror.corp.example'), T0 + 1);
    expect(alerts.map((a) => [a.obs.name, a.match.id])).toEqual([['mirror.corp.example', 'corp-mirror']]);
  });

  test('DNS ports follow the new config; client state stays', () => {
    const { e, feed } = engine(policyFrom(config));
    feed(dnsFrame('s01.upd.kaspersky.com'), T0);
    feed(dnsFrame('s02.upd.kaspersky.com', { dport: 5353 }), T0 + 1); // not DNS yet
    e.reload(policyFrom(extra));
    feed(dnsFrame('s03.upd.kaspersky.com', { dport: 5353 }), T0 + 2);
    const [c] = [...e.analyzer!.clients.clients()];
    expect([...c!.names.keys()]).toEqual(['s01.upd.kaspersky.com', 's03.upd.kaspersky.com']);
  });
});

describe('QUIC handshakes that never complete are counted under name/*', () => {
  const hello = fakeClientHello({ sni: 'dnl-01.geo.kaspersky.com', size: 1800 });
  const firstOf = (i: number): Uint8Array => clientInitialDatagrams(hello, { dcid: Uint8Array.of(9, 9, i, 1, 2, 3, 4, 5), packets: 2 })[0]!;

  test('still waiting at the end of input: incomplete_at_end', () => {
    const { e, feed } = engine(policyFrom(config));
    feed(quicFrame(firstOf(1)), T0);
    e.finish();
    expect(e.decoder.issues.get(NAME_INCOMPLETE)).toBe(1);
  });

  test('idle past the QUIC timeout while other traffic goes on: idle_timeout', () => {
    const { e, feed } = engine(policyFrom(config));
    feed(quicFrame(firstOf(1)), T0);
    for (let s = 1; s <= 20; s++) feed(dnsFrame('example.org'), T0 + s);
    expect(e.decoder.issues.get(NAME_IDLE)).toBe(1);
    e.finish();
    expect(e.decoder.issues.get(NAME_INCOMPLETE)).toBe(0);
  });

  test('evicted to keep the QUIC budget: flow_evicted', () => {
    const { e, feed } = engine(policyFrom(config), { limits: { ...engineLimits(config), quicBytes: 64 * 1024 } });
    for (let i = 0; i < 40; i++) feed(quicFrame(firstOf(i), `198.18.1.${i}`), T0 + i / 100);
    expect(e.decoder.memory().quic).toBeLessThanOrEqual(64 * 1024);
    expect(e.decoder.issues.get(NAME_EVICTED)).toBeGreaterThan(0);
    expect(e.decoder.evictions()['quic_connections']).toBe(e.decoder.issues.get(NAME_EVICTED));
  });
});

describe('ageing', () => {
  test("wall mode: tick() drives the decoder's idle timeouts, whatever the packets' stamps say", () => {
    const limits = { ...engineLimits(config), ...DEFAULT_DECODER_LIMITS };
    const { e, feed } = engine(policyFrom(config), { ageing: 'wall', limits });
    const start = performance.now();
    e.tick(start);
    feed(quicFrame(clientInitialDatagrams(fakeClientHello({ sni: 'x.kaspersky.com', size: 1800 }), { dcid: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), packets: 2 })[0]!), T0);
    // Packets a day later do not age anything in wall mode ...
    feed(dnsFrame('example.org'), T0 + 86_400);
    feed(dnsFrame('example.org'), T0 + 86_401);
    expect(e.decoder.pending().quicConnections).toBe(1);
    // ... eleven seconds of wall time do (the QUIC idle timeout is 10 s).
    e.tick(start + 11_000);
    expect(e.decoder.pending().quicConnections).toBe(0);
    expect(e.decoder.issues.get(NAME_IDLE)).toBe(1);
  });
});
