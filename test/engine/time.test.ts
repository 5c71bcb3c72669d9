import { describe, expect, test } from 'vitest';
import type { AlertDecision } from '../../src/analyze/alerts.js';
import type { Observation } from '../../src/capture/observation.js';
import { newRawFrame } from '../../src/capture/read/frame.js';
import { fromMicros } from '../../src/common/time.js';
import { loadConfig } from '../../src/config/load.js';
import { Engine, engineLimits, TIME_AHEAD, TIME_BEHIND, type EngineLimits, type EngineOptions } from '../../src/engine/engine.js';
import { policyFrom } from '../../src/engine/policy.js';
import { NAME_IDLE } from '../../src/capture/unrecovered.js';
import { dnsQuery, eth, ETH_IPV4, ipv4, IPPROTO_UDP, udp } from '../helpers/packets.js';
import { clientInitialDatagrams, fakeClientHello } from '../helpers/quic.js';

/**
 * The engine's side of time discipline (engine/clock.ts decides what a stamp is): names of a
 * frame whose stamp is out of step wait for the next frame; a spike's names are judged at
 * network time and counted under time/..., a real step's at their own time; the end of input,
 * or (wall mode) a second without frames, accepts a held frame as a step.
 */
const config = loadConfig();
const policy = policyFrom(config);
const S = 1_000_000;
const YEAR = 365 * 86_400;
/** 2024-10-01T00:00:00Z, after the cutoff. */
const T0 = 1_727_740_800;
const UPDATE = 's01.upd.kaspersky.com';
const KSN = 'ksn-url-geo.kaspersky-labs.com';
const ACTIVATION = 'activation-v2.kaspersky.com';

function dnsFrame(name: string, src = '198.18.0.5'): Uint8Array {
  return eth({ type: ETH_IPV4 }, ipv4({ src, dst: '198.19.0.53', proto: IPPROTO_UDP }, udp({ sport: 40_000, dport: 53 }, dnsQuery(name))));
}

function engine(over: Partial<EngineOptions> = {}, limits: Partial<EngineLimits> = {}) {
  const alerts: AlertDecision[] = [];
  const seen: Observation[] = [];
  const e = new Engine(policy, {
    mode: 'analyze',
    ageing: 'packet',
    limits: { ...engineLimits(config), ...limits },
    onAlert: (a) => alerts.push(a),
    onObservation: (o) => seen.push(o),
    ...over,
  });
  const f = newRawFrame();
  let n = 0;
  const feed = (name: string, sec: number, nsec = 0, src?: string, frame?: Uint8Array): void => {
    const data = frame ?? dnsFrame(name, src);
    f.buf = data;
    f.off = 0;
    f.caplen = f.origlen = data.length;
    f.linktype = 1;
    f.frame = ++n;
    f.time = { sec, nsec, digits: 9 };
    e.ingest(f);
  };
  /** Each alert as [name, judged at (s after T0), its time as output]. */
  const judged = (): Array<[string, number, string]> =>
    alerts.map((a) => [a.obs.name, (a.at - T0 * S) / S, `${a.time.sec}.${a.time.nsec}`]);
  return { e, alerts, seen, feed, judged };
}

const own = (sec: number): string => `${sec}.0`;

describe('a frame with a wild stamp waits for the next one', () => {
  test.for([
    { name: 'a year ahead', bad: T0 + YEAR, issue: TIME_AHEAD },
    { name: 'a year behind', bad: T0 - YEAR, issue: TIME_BEHIND },
  ])('$name: its name is judged at network time when the next frame shows it was a spike, and counted', ({ bad, issue }) => {
    const { e, feed, judged } = engine();
    feed(UPDATE, T0);
    feed(KSN, bad);
    expect(judged()).toEqual([[UPDATE, 0, own(T0)]]); // held: not judged yet
    feed(ACTIVATION, T0 + 2);
    // The held name is judged at network time as the next frame moved it (T0 + 2), not at its stamp.
    expect(judged()).toEqual([
      [UPDATE, 0, own(T0)],
      [KSN, 2, own(T0 + 2)],
      [ACTIVATION, 2, own(T0 + 2)],
    ]);
    expect([e.decoder.issues.get(issue), e.decoder.issues.get(issue === TIME_AHEAD ? TIME_BEHIND : TIME_AHEAD)]).toEqual([1, 0]);
    expect(e.errors.analysis).toBe(0);
    e.finish();
    expect(judged()).toHaveLength(3);
  });

  test('a real step of the capture clock: the held name is judged at its own time, and nothing is counted under time/', () => {
    const { e, feed, judged, alerts } = engine();
    feed(UPDATE, T0);
    feed(KSN, T0 + 3600);
    feed(ACTIVATION, T0 + 3601);
    expect(judged()).toEqual([
      [UPDATE, 0, own(T0)],
      [KSN, 3600, own(T0 + 3600)],
      [ACTIVATION, 3601, own(T0 + 3601)],
    ]);
    expect([e.decoder.issues.get(TIME_AHEAD), e.decoder.issues.get(TIME_BEHIND), e.clock.stepsForward]).toEqual([0, 0, 1]);
    // Judged at its own time, the alert keeps the observation's own stamp (nanosecond digits).
    expect(alerts[1]!.time).toEqual({ sec: T0 + 3600, nsec: 0, digits: 9 });
  });

  test('two spikes in one run: each held frame is judged once, and nothing else', () => {
    const { e, feed, judged } = engine();
    feed(UPDATE, T0);
    feed(KSN, T0 + YEAR);
    feed('example.org', T0 + 1);
    feed(ACTIVATION, T0 - YEAR);
    feed('example.org', T0 + 2);
    e.finish();
    expect(judged()).toEqual([
      [UPDATE, 0, own(T0)],
      [KSN, 1, `${T0 + 1}.0`],
      [ACTIVATION, 2, `${T0 + 2}.0`],
    ]);
    expect([e.decoder.issues.get(TIME_AHEAD), e.decoder.issues.get(TIME_BEHIND), e.errors.analysis]).toEqual([1, 1, 0]);
  });

  test('a held frame with no successor is accepted as a step at the end of input', () => {
    const { e, feed, judged, alerts } = engine();
    feed(UPDATE, T0);
    feed(KSN, T0 + YEAR);
    expect(judged()).toHaveLength(1);
    e.finish();
    expect(judged()).toEqual([
      [UPDATE, 0, own(T0)],
      [KSN, YEAR, own(T0 + YEAR)],
    ]);
    e.finish(); // nothing held any more: nothing judged twice
    expect(judged()).toHaveLength(2);
    expect([e.decoder.issues.get(TIME_AHEAD), alerts[1]!.time.digits]).toEqual([0, 9]);
  });

  test('a spike whose frame carried no name is still counted', () => {
    const { e, feed } = engine();
    feed('example.org', T0);
    feed('example.org', T0 + YEAR);
    feed('example.org', T0 + 1);
    expect(e.decoder.issues.get(TIME_AHEAD)).toBe(1);
  });

  test('the stamp goes to the clock to the microsecond (seconds and nanoseconds)', () => {
    const { e, feed } = engine();
    feed('example.org', T0, 500_000_999);
    expect(e.clock.now).toBe(T0 * S + 500_000);
  });
});

describe('names mode', () => {
  test('every observation is handed on at once, whatever the clock holds; a reload changes nothing there', () => {
    const { e, feed, seen } = engine({ mode: 'names' });
    e.setSource('a.pcap');
    feed(UPDATE, T0);
    feed('example.org', T0 + YEAR);
    expect(seen.map((o) => [o.name, o.tsMicros, o.source])).toEqual([
      [UPDATE, T0 * S, 'a.pcap'],
      ['example.org', (T0 + YEAR) * S, 'a.pcap'],
    ]);
    e.reload(policyFrom(config));
    feed('example.net', T0 + 1);
    e.finish();
    expect(seen.map((o) => o.name)).toEqual([UPDATE, 'example.org', 'example.net']);
    expect([e.analyzer, e.errors.output, e.errors.analysis]).toEqual([undefined, 0, 0]);
  });

  test('an exception in the observation hook is an output error; the run goes on', () => {
    let calls = 0;
    const { e, feed } = engine({
      mode: 'names',
      onObservation: () => {
        calls++;
        throw new Error('stdout closed');
      },
    });
    feed(UPDATE, T0);
    feed(KSN, T0 + 1);
    expect([calls, e.errors.output, e.errors.first?.where, e.errors.first?.error.message]).toEqual([2, 2, 'output', 'stdout closed']);
  });

  test('without hooks nothing is counted as an error', () => {
    const names = new Engine(policy, { mode: 'names', ageing: 'packet', limits: engineLimits(config) });
    const analyze = new Engine(policy, { mode: 'analyze', ageing: 'packet', limits: engineLimits(config) });
    const f = newRawFrame();
    for (const e of [names, analyze]) {
      const data = dnsFrame(UPDATE);
      Object.assign(f, { buf: data, off: 0, caplen: data.length, origlen: data.length, linktype: 1, frame: 1, time: { sec: T0, nsec: 0, digits: 6 } });
      e.ingest(f);
      e.finish();
      expect([e.errors.output, e.errors.analysis]).toEqual([0, 0]);
    }
    expect(analyze.analyzer!.alertsRaised).toBe(1);
  });
});

describe('the client table follows the limits', () => {
  test('maxClients bounds the analyzer', () => {
    const { e, feed } = engine({}, { maxClients: 1 });
    feed(UPDATE, T0, 0, '198.18.0.1');
    feed(UPDATE, T0 + 1, 0, '198.18.0.2');
    expect([e.analyzer!.clients.size, e.analyzer!.clients.evictions]).toEqual([1, 1]);
  });
});

describe('ageing', () => {
  test('packet mode: tick() does nothing; ageing time is the clock`s', () => {
    const { e, feed } = engine();
    feed(UPDATE, T0);
    feed(UPDATE, T0 + 5);
    e.tick(performance.now() + 1e9);
    expect(e.ageMicros).toBe(5 * S);
    expect(e.analyzer!.clients.size).toBe(1);
  });

  test('wall mode: ageing time starts at 0 when the engine is made and follows tick(), never going back', () => {
    const start = performance.now();
    const { e } = engine({ ageing: 'wall' });
    e.tick(start + 2000);
    const age = e.ageMicros;
    expect(age).toBeGreaterThan(1.5 * S);
    expect(age).toBeLessThanOrEqual(2 * S + (performance.now() - start) * 1000);
    e.tick(start); // the wall clock went back: ageing time does not
    expect(e.ageMicros).toBe(age);
  });

  test('wall mode: idle clients leave on tick() once client_idle is set', () => {
    const start = performance.now();
    const { e, feed } = engine({ ageing: 'wall' }, { clientIdleMicros: 60 * S });
    feed(UPDATE, T0);
    e.tick(start + 30_000);
    expect(e.analyzer!.clients.size).toBe(1);
    e.tick(start + 120_000);
    expect([e.analyzer!.clients.size, e.analyzer!.clients.expired]).toEqual([0, 1]);
    const names = engine({ ageing: 'wall', mode: 'names' }, { clientIdleMicros: 60 * S }); // no clients to expire
    names.feed(UPDATE, T0);
    expect(() => names.e.tick(start + 120_000)).not.toThrow();
    const never = engine({ ageing: 'wall' }); // client_idle 0: clients never expire
    never.feed(UPDATE, T0);
    never.e.tick(start + 1e9);
    expect(never.e.analyzer!.clients.size).toBe(1);
  });

  test('wall mode: a held frame is accepted (judged at its own time) after a second of ticks without frames, not before', () => {
    const { e, feed, judged, alerts } = engine({ ageing: 'wall' });
    feed(UPDATE, T0);
    feed(KSN, T0 + YEAR);
    // A whole number of ms: with a fraction, (t + 1000) - t can come out at 999.99999999 (doubles).
    const afterFrame = Math.ceil(performance.now());
    e.tick(afterFrame); // the tick that sees the frames
    e.tick(afterFrame + 999);
    expect(judged()).toHaveLength(1);
    e.tick(afterFrame + 1000);
    expect(judged()).toEqual([
      [UPDATE, 0, own(T0)],
      [KSN, YEAR, own(T0 + YEAR)],
    ]);
    e.tick(afterFrame + 5000); // released once
    expect(judged()).toHaveLength(2);
    expect([e.decoder.issues.get(TIME_AHEAD), alerts[1]!.time.digits]).toEqual([0, 9]);
    feed(ACTIVATION, T0 + YEAR + 1); // in step with the accepted time
    expect(judged()[2]).toEqual([ACTIVATION, YEAR + 1, own(T0 + YEAR + 1)]);
  });
});

describe('idle sweeps across a backward step of the capture clock', () => {
  test('packet mode: after an older file follows a newer one, state still idles out on the new times', () => {
    const { e, feed } = engine();
    const initial = clientInitialDatagrams(fakeClientHello({ sni: UPDATE, size: 1800 }), { dcid: Uint8Array.of(7, 7, 7, 7, 1, 2, 3, 4), packets: 2 })[0]!;
    const quic = eth({ type: ETH_IPV4 }, ipv4({ src: '198.18.0.6', dst: '198.19.0.1', proto: IPPROTO_UDP }, udp({ sport: 50_000, dport: 443 }, initial)));
    feed('example.org', T0);
    feed('', T0 + 1, 0, undefined, quic); // a QUIC handshake waiting for its second Initial
    const back = T0 - 30 * 86_400; // the next file is a month older
    for (let s = 0; s <= 20; s++) feed('example.org', back + s);
    expect(e.clock.stepsBackward).toBe(1);
    // Ageing went on across the step (never back): the handshake timed out after 10 s of it.
    expect(e.decoder.issues.get(NAME_IDLE)).toBe(1);
    expect(e.ageMicros).toBe(1 * S + 20 * S);
  });
});

describe('judged times reach the analyzer', () => {
  test("a spike's name is output at network time, with the capture's precision dropped to microseconds", () => {
    const { feed, alerts } = engine();
    feed(UPDATE, T0, 123_456_789);
    feed(KSN, T0 + YEAR, 5);
    feed(ACTIVATION, T0 + 1, 7_000);
    const ksn = alerts.find((a) => a.obs.name === KSN)!;
    expect(ksn.time).toEqual(fromMicros(T0 * S + 1_000_007));
    expect(ksn.obs.time).toEqual({ sec: T0 + YEAR, nsec: 5, digits: 9 }); // the observation keeps its own stamp
  });
});
