import { describe, expect, test } from 'vitest';
import { Matcher } from '../../src/analyze/hostnames.js';
import { NameFilter } from '../../src/capture/app/name-filter.js';
import type { Observation } from '../../src/capture/observation.js';
import { decodeJudged, encodeJudged, type Judged } from '../../src/cli/replay-wire.js';
import { loadConfig } from '../../src/config/load.js';
import { dnsQuery, dnsResponse, eth, ETH_IPV4, ETH_IPV6, ipv4, ipv6, IPPROTO_TCP, IPPROTO_UDP, LINKTYPE, TCP_ACK, TCP_PSH, TCP_SYN, tcp, udp, vxlan } from '../helpers/packets.js';
import { frameFeeder } from '../helpers/pcap.js';
import { clientHello } from '../helpers/tls.js';

/**
 * `replay -j` moves judged observations from its workers to the main thread as rows of JSON
 * (src/cli/replay-wire.ts). What arrives must be what was sent, field for field, and in the
 * analysis shape: every field present, in the decoder's order. A field added to Observation
 * and forgotten in the codec would be lost under -j only; the key check below catches it.
 */
const matcher = new Matcher(loadConfig().endpoints);
const nameFilter = new NameFilter((_k, name, cname) => matcher.match(name) !== undefined || (cname !== undefined && matcher.match(cname) !== undefined), matcher.rootNames());

/** Observations of every kind from the real decoder in analysis mode (the shape workers send). */
function analysisObservations(): Observation[] {
  const f = frameFeeder({ nameFilter });
  const c = '198.18.0.10';
  const r = '198.18.0.53';
  f.feed(eth({ type: ETH_IPV4 }, ipv4({ src: c, dst: r, proto: IPPROTO_UDP }, udp({ sport: 40_000, dport: 53 }, dnsQuery('s01.upd.kaspersky.com', 'AAAA')))), LINKTYPE.ETHERNET);
  f.feed(
    eth({ type: ETH_IPV4 }, ipv4({ src: r, dst: c, proto: IPPROTO_UDP }, udp({ sport: 53, dport: 40_000 }, dnsResponse('dnl-01.geo.kaspersky.com', [{ type: 'CNAME', name: 'dnl-01.geo.kaspersky.com', data: 'edge.cdn.example.net' }, { type: 'A', name: 'edge.cdn.example.net', data: '198.19.0.7', ttl: 42 }])))),
    LINKTYPE.ETHERNET,
  );
  // TLS with ALPN, inside VXLAN with a VLAN tag on the inner frame: tunnel and vlan set.
  const inner = (p: Uint8Array, seq: number, flags: number): Uint8Array =>
    eth({ type: ETH_IPV6, vlan: [7] }, ipv6({ src: 'fd00::10', dst: 'fd00::443', next: IPPROTO_TCP }, tcp({ sport: 50_000, dport: 443, seq, flags }, p)));
  const outer = (frame: Uint8Array): Uint8Array => eth({ type: ETH_IPV4 }, ipv4({ src: '198.18.9.1', dst: '198.18.9.2', proto: IPPROTO_UDP }, udp({ sport: 4789, dport: 4789 }, vxlan(42, frame))));
  f.feed(outer(inner(new Uint8Array(0), 1, TCP_SYN)), LINKTYPE.ETHERNET);
  f.feed(outer(inner(clientHello({ sni: 'ksn-url-geo.kaspersky-labs.com', alpn: ['h2', 'http/1.1'] }), 2, TCP_PSH | TCP_ACK)), LINKTYPE.ETHERNET);
  return f.observations;
}

describe('replay -j wire format', () => {
  const sent = analysisObservations();
  const judged: Judged[] = sent.map((o, i) => [o, o.tsMicros + i, { sec: o.time.sec + i, nsec: 999_999_999 - i, digits: 9 }]);

  test('the decoder gave observations of several kinds with optional fields set and unset', () => {
    expect(new Set(sent.map((o) => o.kind))).toEqual(new Set(['dns_query', 'dns_answer', 'tls_sni']));
    expect(sent.some((o) => o.tunnel !== undefined && o.vlan === 7 && o.alpn?.length === 2 && o.ja4 !== undefined)).toBe(true);
    expect(sent.some((o) => o.rrtype === 'A' && o.ttl === 42)).toBe(true);
  });

  test('every observation and its judged time arrive as sent, with the same keys in the same order', () => {
    const got = decodeJudged(encodeJudged(judged));
    expect(got).toHaveLength(judged.length);
    for (let i = 0; i < judged.length; i++) {
      const [o, at, time] = judged[i]!;
      const [go, gat, gtime] = got[i]!;
      expect(Object.keys(go)).toEqual(Object.keys(o));
      expect(go).toEqual(o);
      expect(gat).toBe(at);
      expect(gtime).toEqual(time);
    }
  });

  test('strings with quotes, backslashes, \\DDD escapes and non-ASCII survive; large microsecond counts stay exact', () => {
    const o = { ...sent[0]!, name: 'a"b\\c.\\001x.kaspersky.com', src: 'fd00::1', http_path: '/bases/ü?"', tsMicros: 2 ** 52 + 1 };
    const [[back]] = decodeJudged(encodeJudged([[o, 2 ** 53 - 1, o.time]])).map((j) => [j[0]]) as [[Observation]];
    expect(back).toEqual(o);
  });

  test('an empty batch', () => {
    expect(decodeJudged(encodeJudged([]))).toEqual([]);
  });
});
