/**
 * TCP as captures in the wild show it (issue 14): data in the SYN (TCP Fast Open), segments
 * retransmitted or captured twice, ports reused by a new connection, equal 5-tuples on
 * different VLANs or in different tunnels, a PROXY protocol header before the client's bytes,
 * and HTTP framing that spans segments (chunked bodies, headers past the window).
 */
import { describe, expect, test } from 'vitest';
import { HTTP_HEADERS_EXCEED_WINDOW, MAX_HEADER_BYTES } from '../../src/capture/app/http.js';
import { proxyHeaderLength, PROXY_NEED_MORE } from '../../src/capture/app/proxy.js';
import type { Decoder } from '../../src/capture/decoder.js';
import { NAME_LIMIT } from '../../src/capture/unrecovered.js';
import type { Observation } from '../../src/capture/observation.js';
import {
  ascii,
  concat,
  eth,
  ETH_IPV4,
  httpGet,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipv4,
  LINKTYPE,
  tcp,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_SYN,
  udp,
  vxlan,
} from '../helpers/packets.js';
import { decodeAll, pcapFile, T0 } from '../helpers/pcap.js';
import { clientHello } from '../helpers/tls.js';

const CLIENT = '198.18.0.10';
const SERVER = '198.18.1.1';
const ISN = 0x5000;

interface Seg {
  seq: number;
  flags?: number;
  dport?: number;
  sport?: number;
  vlan?: number;
}

function seg(o: Seg, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const ip = ipv4({ src: CLIENT, dst: SERVER, proto: IPPROTO_TCP }, tcp({ sport: o.sport ?? 50_000, dport: o.dport ?? 443, seq: o.seq >>> 0, flags: o.flags ?? TCP_PSH | TCP_ACK }, payload));
  return eth(o.vlan === undefined ? { type: ETH_IPV4 } : { type: ETH_IPV4, vlan: [o.vlan] }, ip);
}

async function decode(frames: Uint8Array[]): Promise<{ observations: Observation[]; decoder: Decoder; names: string[] }> {
  const { observations, decoder } = await decodeAll(pcapFile(frames.map((data, i) => ({ data, ts: { sec: T0, nsec: i * 1_000_000 } })), { linktype: LINKTYPE.ETHERNET }));
  return { observations, decoder, names: observations.map((o) => `${o.frame} ${o.name}`) };
}

const HELLO = clientHello({ sni: 'tfo.kaspersky.com' });
const GET = httpGet('dnl-01.geo.kaspersky.com', '/index.xml');

describe('TCP Fast Open: data in the SYN (RFC 7413)', () => {
  test('a ClientHello in the SYN is read there; its retransmission after the SYN-ACK is not reported again (suricata tcp-fastopen-10)', async () => {
    const { names, decoder } = await decode([seg({ seq: ISN, flags: TCP_SYN }, HELLO), seg({ seq: ISN + 1 }, HELLO), seg({ seq: ISN + 1 }, HELLO)]);
    expect(names).toEqual(['1 tfo.kaspersky.com']);
    expect(decoder.issues.total()).toBe(0);
  });

  test('a request begun in the SYN and finished in the next segment (suricata tcp-fastopen-07)', async () => {
    const { names } = await decode([seg({ seq: ISN, flags: TCP_SYN, dport: 80 }, GET.subarray(0, 20)), seg({ seq: ISN + 21, dport: 80 }, GET.subarray(20))]);
    expect(names).toEqual(['2 dnl-01.geo.kaspersky.com']);
  });

  test('the SYN retransmitted with its data: once', async () => {
    const { names } = await decode([seg({ seq: ISN, flags: TCP_SYN }, HELLO), seg({ seq: ISN, flags: TCP_SYN }, HELLO)]);
    expect(names).toEqual(['1 tfo.kaspersky.com']);
  });
});

describe('retransmitted and duplicated segments are read once (tshark does not dissect a retransmission again)', () => {
  test.for([
    { name: 'to 443', dport: 443, payload: HELLO, want: 'tfo.kaspersky.com' },
    { name: 'to an unusual port (8008), no SYN seen', dport: 8008, payload: GET, want: 'dnl-01.geo.kaspersky.com' },
  ])('a segment captured twice: $name', async ({ dport, payload, want }) => {
    const { names } = await decode([seg({ seq: ISN + 1, dport }, payload), seg({ seq: ISN + 1, dport }, payload)]);
    expect(names).toEqual([`1 ${want}`]);
  });

  test('a retransmission holding the old request and a new one: the new one only', async () => {
    const next = httpGet('second.kaspersky.com', '/2');
    const { names } = await decode([seg({ seq: ISN, flags: TCP_SYN, dport: 80 }), seg({ seq: ISN + 1, dport: 80 }, GET), seg({ seq: ISN + 1, dport: 80 }, concat(GET, next))]);
    expect(names).toEqual(['2 dnl-01.geo.kaspersky.com', '3 second.kaspersky.com']);
  });

  test('a retransmission after the FIN is read again: the flow is forgotten at the FIN (README: known differences)', async () => {
    const { names } = await decode([
      seg({ seq: ISN, flags: TCP_SYN, dport: 80 }),
      seg({ seq: ISN + 1, dport: 80 }, GET),
      seg({ seq: ISN + 1 + GET.length, flags: TCP_FIN | TCP_ACK, dport: 80 }),
      seg({ seq: ISN + 1, dport: 80 }, GET),
    ]);
    expect(names).toEqual(['2 dnl-01.geo.kaspersky.com', '4 dnl-01.geo.kaspersky.com']);
  });

  test('a new connection reusing the ports (another ISN, even one "behind" the old stream): read', async () => {
    const again = httpGet('again.kaspersky.com', '/');
    const { names } = await decode([
      seg({ seq: ISN, flags: TCP_SYN, dport: 80 }),
      seg({ seq: ISN + 1, dport: 80 }, GET),
      seg({ seq: ISN - 5000, flags: TCP_SYN, dport: 80 }),
      seg({ seq: ISN - 4999, dport: 80 }, again),
    ]);
    expect(names).toEqual(['2 dnl-01.geo.kaspersky.com', '4 again.kaspersky.com']);
  });
});

describe('equal 5-tuples on different VLANs or in different tunnels are different connections (zeek vlan-collisions, vxlan-overlapping)', () => {
  test('one request on each of two VLANs and untagged: three; a duplicate on the same VLAN: not a fourth', async () => {
    const { names } = await decode([
      seg({ seq: ISN + 1, dport: 80, vlan: 10 }, GET),
      seg({ seq: ISN + 1, dport: 80, vlan: 20 }, GET),
      seg({ seq: ISN + 1, dport: 80 }, GET),
      seg({ seq: ISN + 1, dport: 80, vlan: 20 }, GET),
    ]);
    expect(names).toEqual(['1 dnl-01.geo.kaspersky.com', '2 dnl-01.geo.kaspersky.com', '3 dnl-01.geo.kaspersky.com']);
  });

  test('the same inner connection in VXLAN 4711 and 4242: two', async () => {
    const inner = seg({ seq: ISN + 1, dport: 80 }, GET);
    const outer = (vni: number): Uint8Array => eth({ type: ETH_IPV4 }, ipv4({ src: '198.18.9.1', dst: '198.18.9.2', proto: IPPROTO_UDP }, udp({ sport: 40_000, dport: 4789 }, vxlan(vni, inner))));
    const { names } = await decode([outer(4711), outer(4242), outer(4711)]);
    expect(names).toEqual(['1 dnl-01.geo.kaspersky.com', '2 dnl-01.geo.kaspersky.com']);
  });
});

describe('PROXY protocol before the client bytes (HAProxy; ndpi haproxy)', () => {
  const v1 = ascii('PROXY TCP4 11.111.11.111 222.222.222.22 52176 443\r\n');
  const v2 = concat(Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c), new Uint8Array(12).fill(7));

  test.for([
    { name: 'v1, then a ClientHello in the same segment', frames: () => [seg({ seq: ISN + 1 }, concat(v1, HELLO))], want: ['1 tfo.kaspersky.com'] },
    { name: 'v2, then an HTTP request', frames: () => [seg({ seq: ISN + 1, dport: 80 }, concat(v2, GET))], want: ['1 dnl-01.geo.kaspersky.com'] },
    { name: 'v1 alone in the first segment after the SYN', frames: () => [seg({ seq: ISN, flags: TCP_SYN }), seg({ seq: ISN + 1 }, v1), seg({ seq: ISN + 1 + v1.length }, HELLO)], want: ['3 tfo.kaspersky.com'] },
    { name: 'v1 alone, no SYN seen', frames: () => [seg({ seq: ISN + 1 }, v1), seg({ seq: ISN + 1 + v1.length }, HELLO)], want: ['2 tfo.kaspersky.com'] },
    { name: 'v1 split over two segments', frames: () => [seg({ seq: ISN + 1 }, v1.subarray(0, 9)), seg({ seq: ISN + 10 }, concat(v1.subarray(9), HELLO))], want: ['2 tfo.kaspersky.com'] },
  ])('$name', async ({ frames, want }) => {
    const { names, decoder } = await decode(frames());
    expect(names).toEqual(want);
    expect(decoder.issues.total()).toBe(0);
  });

  test('header lengths: complete, not one, and a start waiting for more', () => {
    expect(proxyHeaderLength(v1, 0, v1.length)).toBe(v1.length);
    expect(proxyHeaderLength(v2, 0, v2.length)).toBe(v2.length);
    expect(proxyHeaderLength(v1, 0, 3)).toBe(PROXY_NEED_MORE);
    expect(proxyHeaderLength(v2, 0, 14)).toBe(PROXY_NEED_MORE);
    expect(proxyHeaderLength(ascii('POST / HTTP/1.1\r\n'), 0, 17)).toBe(0);
    expect(proxyHeaderLength(ascii(`PROXY ${'x'.repeat(200)}`), 0, 206)).toBe(0);
  });
});

describe('HTTP framing across segments', () => {
  test('a chunked upload over several segments, then the next request on the connection', async () => {
    const head = ascii('POST /up HTTP/1.1\r\nHost: a.kaspersky.com\r\nTransfer-Encoding: chunked\r\n\r\n');
    const body = concat(ascii('800\r\n'), new Uint8Array(0x800).fill(0x41), ascii('\r\n10;x=y\r\n'), new Uint8Array(16).fill(0x42), ascii('\r\n0\r\n\r\n'));
    const next = httpGet('b.kaspersky.com', '/next');
    const stream = concat(head, body, next);
    const cuts = [0, head.length + 3, head.length + 900, head.length + 0x800 + 7, head.length + body.length - 3, stream.length];
    const frames = [seg({ seq: ISN, flags: TCP_SYN, dport: 80 })];
    for (let i = 0; i + 1 < cuts.length; i++) frames.push(seg({ seq: ISN + 1 + cuts[i]!, dport: 80 }, stream.subarray(cuts[i], cuts[i + 1])));
    const { names, decoder } = await decode(frames);
    expect(names).toEqual(['2 a.kaspersky.com', '6 b.kaspersky.com']);
    expect(decoder.issues.total()).toBe(0);
  });

  test('headers past the window: the Host read early is reported, the reason counted (suricata bug-8224)', async () => {
    const stream = concat(ascii('GET /index.html HTTP/1.1\r\nHost: early.kaspersky.com\r\n'), ascii(`X-Large-Header: ${'x'.repeat(2 * MAX_HEADER_BYTES)}\r\n\r\n`));
    const frames = [seg({ seq: ISN, flags: TCP_SYN, dport: 80 })];
    for (let o = 0; o < stream.length; o += 1448) frames.push(seg({ seq: ISN + 1 + o, dport: 80 }, stream.subarray(o, o + 1448)));
    const { names, decoder } = await decode(frames);
    expect(names.map((n) => n.split(' ')[1])).toEqual(['early.kaspersky.com']);
    expect(decoder.issues.get(HTTP_HEADERS_EXCEED_WINDOW)).toBe(1);
    expect(decoder.issues.get(NAME_LIMIT)).toBe(0);
  });

  test('headers past the window with the Host after it: counted as a name lost to the limit', async () => {
    const stream = concat(ascii('GET / HTTP/1.1\r\n'), ascii(`X-Large-Header: ${'x'.repeat(2 * MAX_HEADER_BYTES)}\r\n`), ascii('Host: late.kaspersky.com\r\n\r\n'));
    const frames = [seg({ seq: ISN, flags: TCP_SYN, dport: 80 })];
    for (let o = 0; o < stream.length; o += 1448) frames.push(seg({ seq: ISN + 1 + o, dport: 80 }, stream.subarray(o, o + 1448)));
    const { names, decoder } = await decode(frames);
    expect(names).toEqual([]);
    expect(decoder.issues.get(HTTP_HEADERS_EXCEED_WINDOW)).toBe(1);
    expect(decoder.issues.get(NAME_LIMIT)).toBe(1);
  });
});
