import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import { DnsAnswerCache } from '../../src/analyze/attribution.js';
import { ClientTable } from '../../src/analyze/clients.js';
import { Matcher } from '../../src/analyze/hostnames.js';
import { DEFAULT_DECODER_LIMITS } from '../../src/capture/decoder.js';
import type { Observation } from '../../src/capture/observation.js';
import { loadConfig } from '../../src/config/load.js';
import { eth, ETH_IPV4, ipv4, ipv4Fragments, IPPROTO_TCP, IPPROTO_UDP, LINKTYPE, TCP_ACK, TCP_PSH, TCP_SYN, tcp, udp } from '../helpers/packets.js';
import { frameFeeder } from '../helpers/pcap.js';
import { clientInitialDatagrams, fakeClientHello } from '../helpers/quic.js';
import { clientHello } from '../helpers/tls.js';

/**
 * The byte budgets (limits.memory.*) are only as good as each table's accounting: every table
 * charges its entries at constants (CLIENT_BYTES, FLOW_BYTES, CONN_BYTES, TRAIN_BYTES ...)
 * plus what they hold. These tests fill each table with a realistic shape of entry and compare
 * the accounted bytes with what the heap (and the buffers outside it) really grew by. An
 * accounting that undercounts by more than 15% would let a table outgrow its budget, and the
 * documented worst case (README "Limits") would be a lie; one that overcounts by more than 50%
 * wastes the budget. Measured on Node 20, x64.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function used(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Bytes the heap grew by while `fill` ran (what it built must stay reachable from the returned
 * value). The fill runs three times (a fresh `fill` each, every result kept alive to the end, so
 * one attempt's garbage is not another's saving) and the median growth counts: the heap also
 * holds the test runner's own objects, and one of them released during an attempt (seen once in
 * CI: 3 MB freed while 30,000 cache entries were added, growth measured at a sixth of the truth)
 * must not decide the test.
 */
function measure<T>(fill: (() => T) | (() => T)[]): { kept: T; grew: number } {
  const all = Array.isArray(fill) ? fill : [fill, fill, fill];
  const kept: T[] = [];
  const grown: number[] = [];
  for (const one of all) {
    const before = used();
    kept.push(one());
    grown.push(used() - before);
  }
  grown.sort((a, b) => a - b);
  return { kept: kept[0]!, grew: grown[Math.floor(grown.length / 2)]! };
}

function expectHonest(accounted: number, grew: number): void {
  const ratio = accounted / grew;
  expect(ratio, `accounted ${accounted} B for ${grew} B of real growth`).toBeGreaterThan(0.85);
  expect(ratio, `accounted ${accounted} B for ${grew} B of real growth`).toBeLessThan(1.5);
}

const match = new Matcher(loadConfig().endpoints).match('s01.upd.kaspersky.com')!;

describe('client table accounting', () => {
  test.for([
    { shape: 'many clients with one name', clients: 20_000, names: 1 },
    { shape: 'clients with 50 names each', clients: 2_000, names: 50 },
    { shape: 'clients at the 256-name cap, with destinations and JA4s', clients: 600, names: 256 },
  ])('$shape: accounted bytes match the heap within -15% / +50%', ({ clients, names }) => {
    const time = { sec: 1_727_740_800, nsec: 0, digits: 6 };
    const { kept, grew } = measure(() => {
      const t = new ClientTable({ bytes: 1e12 });
      for (let c = 0; c < clients; c++) {
        const ip = `198.${18 + (c >> 16)}.${(c >> 8) & 255}.${c & 255}`;
        for (let n = 0; n < names; n++) {
          const o: Observation = {
            kind: 'tls_sni',
            name: `s${n}.c${c}.upd.kaspersky.com`,
            time,
            tsMicros: 0,
            frame: 1,
            src: ip,
            dst: `198.19.${n & 255}.1`,
            sport: 40_000,
            dport: 443,
            transport: 'tcp',
            ...(n < 4 ? { ja4: `t13d1516h2_8daaf6152771_0271${n}d6af862` } : {}),
          };
          t.record(ip, o, match, n, time, true, false, 0, 2);
        }
      }
      return t;
    });
    expect(kept.size).toBe(clients);
    expectHonest(kept.bytes, grew);
  });
});

describe('DNS-answer cache accounting', () => {
  test.for([
    { shape: 'IPv4 addresses of a few names', n: 50_000, key: (i: number) => `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` },
    { shape: 'IPv6 addresses', n: 30_000, key: (i: number) => `fd00:1234:5678::${i.toString(16)}:1` },
    { shape: 'CNAME targets (aliases)', n: 30_000, key: (i: number) => `edge-${i}.cdn.example.net`, alias: true },
  ])('$shape: accounted bytes match the heap within -15% / +50%', ({ n, key, alias }) => {
    // Keys are built outside the measurement only as far as the observation already holds them:
    // the cache's own key strings (the alias gets a new one with its trailing dot) are its cost.
    const keys = Array.from({ length: n }, (_, i) => key(i));
    const names = ['s01.upd.kaspersky.com', 'dnl-03.geo.kaspersky.com', 'ksn-url-geo.kaspersky-labs.com'];
    const { kept, grew } = measure(() => {
      const c = new DnsAnswerCache({ bytes: 1e12, maxTtlSeconds: 86_400 });
      for (let i = 0; i < n; i++) {
        if (alias) c.noteAlias(keys[i]!, names[i % 3]!, match, i, 300);
        else c.noteAddress(keys[i]!, names[i % 3]!, match, i, 300);
      }
      return c;
    });
    expect(kept.size).toBe(n);
    // Address keys are the observation's own strings (shared), but are charged anyway: a cache
    // entry outlives its observation, so the key is then the cache's to keep.
    expectHonest(kept.bytes, grew + (alias ? 0 : keys.reduce((b, k) => b + 24 + ((k.length + 7) & ~7), 0)));
  });
});

/** Native (malloc) bytes of one AES-ECB cipher context; see the QUIC test. */
const NATIVE_ECB_CONTEXT_BYTES = 1_350;

const HELLO = clientHello({ sni: 'ksn-url-geo.kaspersky-labs.com' });

describe('decoder table accounting', () => {
  test('TCP: 40,000 flows each holding the first 100 bytes of a ClientHello', () => {
    const N = 40_000;
    const limits = { ...DEFAULT_DECODER_LIMITS, maxFlows: 1_000_000, flowBytes: 1e12 };
    // Frames are built first, outside the measurement.
    const frames: Uint8Array[] = [];
    for (let i = 0; i < N; i++) {
      const src = `198.18.${i >> 8}.${i & 255}`;
      frames.push(eth({ type: ETH_IPV4 }, ipv4({ src, dst: '198.19.0.1', proto: IPPROTO_TCP }, tcp({ sport: 40_000, dport: 443, seq: 1, flags: TCP_SYN }, new Uint8Array(0)))));
      frames.push(eth({ type: ETH_IPV4 }, ipv4({ src, dst: '198.19.0.1', proto: IPPROTO_TCP }, tcp({ sport: 40_000, dport: 443, seq: 2, flags: TCP_PSH | TCP_ACK }, HELLO.subarray(0, 100)))));
    }
    // The decoder's fixed tables (bucket array, presence filter) are built outside the measurement.
    const feeders = [0, 1, 2].map(() => frameFeeder({ limits }));
    const { kept, grew } = measure(
      feeders.map((f) => () => {
        for (const d of frames) f.feed(d, LINKTYPE.ETHERNET);
        return f.decoder;
      }),
    );
    expect(kept.pending().flows).toBe(N);
    expectHonest(kept.memory().tcp_flows, grew);
  });

  test('IP fragments: 5,000 trains each waiting with one 1,000-byte fragment', () => {
    const N = 5_000;
    const frames: Uint8Array[] = [];
    for (let i = 0; i < N; i++) {
      const [first] = ipv4Fragments({ src: `198.18.${i >> 8}.${i & 255}`, dst: '198.19.0.53', proto: IPPROTO_UDP, id: i }, udp({ sport: 5000, dport: 53 }, new Uint8Array(1600)), 1000);
      frames.push(eth({ type: ETH_IPV4 }, first!));
    }
    const feeders = [0, 1, 2].map(() => frameFeeder({}));
    const { kept, grew } = measure(
      feeders.map((f) => () => {
        for (const d of frames) f.feed(d, LINKTYPE.ETHERNET);
        return f.decoder;
      }),
    );
    expect(kept.pending().fragmentTrains).toBe(N);
    expectHonest(kept.memory().ip_fragments, grew);
  });

  test('QUIC: 2,000 handshakes each holding the first of two Initial packets', () => {
    const N = 2_000;
    const limits = { ...DEFAULT_DECODER_LIMITS, quicBytes: 1e12 };
    const hello = fakeClientHello({ sni: 'dnl-01.geo.kaspersky.com', size: 1800 });
    const frames: Uint8Array[] = [];
    for (let i = 0; i < N; i++) {
      const dcid = Uint8Array.of(0x10, 0x20, i >> 8, i & 255, 1, 2, 3, 4);
      const [first] = clientInitialDatagrams(hello, { dcid, packets: 2 });
      frames.push(eth({ type: ETH_IPV4 }, ipv4({ src: `198.18.${i >> 8}.${i & 255}`, dst: '198.19.0.1', proto: IPPROTO_UDP }, udp({ sport: 50_000, dport: 443 }, first!))));
    }
    const feeders = [0, 1, 2].map(() => frameFeeder({ limits }));
    const { kept, grew } = measure(
      feeders.map((f) => () => {
        for (const d of frames) f.feed(d, LINKTYPE.ETHERNET);
        return f.decoder;
      }),
    );
    expect(kept.pending().quicConnections).toBe(N);
    // Each connection's header-protection cipher is an OpenSSL context outside the JS heap, so
    // the heap cannot see it: 1,357-1,388 B each by RSS (20,000 aes-128-ecb contexts kept alive,
    // Node 20 x64). CONN_BYTES charges it, so it is added to the growth here.
    expectHonest(kept.memory().quic, grew + N * NATIVE_ECB_CONTEXT_BYTES);
  });
});
