import dnsPacket from 'dns-packet';
import { describe, expect, test } from 'vitest';
import { DECODER_BUG } from '../../src/capture/decoder.js';
import { TUNNEL_TRUNCATED } from '../../src/capture/packet/tunnels.js';
import { TCP_TRUNCATED } from '../../src/capture/tcp/streams.js';
import { Decoder } from '../../src/capture/decoder.js';
import { decodeDns } from '../../src/capture/app/dns.js';
import { splitTimestamp } from '../../src/capture/read/pcapng.js';
import { readCapture } from '../../src/capture/read/source.js';
import { isoTime } from '../../src/common/time.js';
import {
  concat, dnsQuery, dnsTcp, eth, ETH_IPV4, geneve, gtpu, httpGet, IPPROTO_TCP, IPPROTO_UDP, ipv4, LINKTYPE,
  PDU_SESSION_CONTAINER, TCP_SYN, tcp, u16, udp, vxlan,
} from '../helpers/packets.js';
import { decodeAll, packetTimeDriver, pcapFile, pcapngFile, readFrames, T0, writeTemp } from '../helpers/pcap.js';
import { clientHello } from '../helpers/tls.js';

/** Bugs found in review of the capture layer; each test failed before its fix. */
const C = '198.18.0.10';
const S = '198.19.0.53';
const seg = (payload: Uint8Array, seq: number, dport: number, flags?: number): Uint8Array =>
  eth({ type: ETH_IPV4 }, ipv4({ src: C, dst: S, proto: IPPROTO_TCP }, tcp({ sport: 40001, dport, seq, ...(flags === undefined ? {} : { flags }) }, payload)));
const run = (frames: Uint8Array[], opts = {}) => decodeAll(pcapFile(frames.map((data) => ({ data })), { linktype: LINKTYPE.ETHERNET }), opts);
const names = (obs: { frame: number; name: string }[]): string[] => obs.map((o) => `${o.frame}:${o.name}`);

describe('TCP', () => {
  test('a DNS-over-TCP message split over two segments, no SYN in the capture', async () => {
    const s = dnsTcp(dnsQuery('split.test'));
    const { observations, decoder } = await run([seg(s.subarray(0, 9), 1000, 53), seg(s.subarray(9), 1009, 53)]);
    expect(names(observations)).toEqual(['2:split.test']);
    expect(decoder.issues.total()).toBe(0);
  });
  test('an HTTP request split over two segments, no SYN in the capture', async () => {
    const r = httpGet('dnl-01.geo.kaspersky.com', '/');
    const { observations } = await run([seg(r.subarray(0, 20), 1, 80), seg(r.subarray(20), 21, 80)]);
    expect(names(observations)).toEqual(['2:dnl-01.geo.kaspersky.com']);
  });
  test.for([1, 2])('a ClientHello whose first segment is %i byte(s) (DPI-evasion split)', async (k) => {
    const h = clientHello({ sni: 'ksn-a.kaspersky-labs.com' });
    const { observations } = await run([seg(new Uint8Array(0), 999, 443, TCP_SYN), seg(h.subarray(0, k), 1000, 443), seg(h.subarray(k), 1000 + k, 443)]);
    expect(names(observations)).toEqual(['3:ksn-a.kaspersky-labs.com']);
  });
  test.for([1, 2, 3])('an HTTP request whose first segment is %i byte(s)', async (k) => {
    const r = httpGet('dnl-01.geo.kaspersky.com', '/');
    const { observations } = await run([seg(new Uint8Array(0), 999, 80, TCP_SYN), seg(r.subarray(0, k), 1000, 80), seg(r.subarray(k), 1000 + k, 80)]);
    expect(names(observations)).toEqual(['3:dnl-01.geo.kaspersky.com']);
  });
  test.for([1, 2, 3])('a second pipelined request split %i byte(s) into its method', async (k) => {
    const first = httpGet('one.test', '/1');
    const s = concat(first, httpGet('two.test', '/2'));
    const cut = first.length + k;
    const { observations } = await run([seg(new Uint8Array(0), 999, 80, TCP_SYN), seg(s.subarray(0, cut), 1000, 80), seg(s.subarray(cut), 1000 + cut, 80)]);
    expect(names(observations)).toEqual(['2:one.test', '3:two.test']);
  });
});

const outerUdp = (dport: number, pl: Uint8Array): Uint8Array =>
  eth({ type: ETH_IPV4 }, ipv4({ src: '198.18.200.1', dst: '198.18.200.2', proto: IPPROTO_UDP }, udp({ sport: 49152, dport }, pl)));
const inner = (): Uint8Array => ipv4({ src: C, dst: S, proto: IPPROTO_UDP }, udp({ sport: 40000, dport: 53 }, dnsQuery('a.test')));
const O = 14 + 20 + 8;

describe('headers cut by the snap length are counted as truncated', () => {
  test.for([
    { name: 'VXLAN header', frame: () => outerUdp(4789, vxlan(1, eth({ type: ETH_IPV4 }, inner()))), at: O + 5, issue: TUNNEL_TRUNCATED },
    { name: 'VXLAN inner Ethernet header', frame: () => outerUdp(4789, vxlan(1, eth({ type: ETH_IPV4 }, inner()))), at: O + 8 + 10, issue: TUNNEL_TRUNCATED },
    { name: 'GTP-U header', frame: () => outerUdp(2152, gtpu(1, inner())), at: O + 5, issue: TUNNEL_TRUNCATED },
    { name: 'GTP-U optional fields', frame: () => outerUdp(2152, gtpu(1, inner(), { seq: 1 })), at: O + 10, issue: TUNNEL_TRUNCATED },
    { name: 'GTP-U extension header', frame: () => outerUdp(2152, gtpu(1, inner(), { extensions: [PDU_SESSION_CONTAINER] })), at: O + 13, issue: TUNNEL_TRUNCATED },
    { name: 'GENEVE base header', frame: () => outerUdp(6081, geneve({ vni: 1 }, eth({ type: ETH_IPV4 }, inner()))), at: O + 5, issue: TUNNEL_TRUNCATED },
    {
      name: 'TCP options',
      frame: () => eth({ type: ETH_IPV4 }, ipv4({ src: C, dst: S, proto: IPPROTO_TCP }, tcp({ sport: 1, dport: 80, options: new Uint8Array(12).fill(1) }, httpGet('a.test')))),
      at: 14 + 20 + 24,
      issue: TCP_TRUNCATED,
    },
  ])('$name', async ({ frame, at, issue }) => {
    const f = frame();
    const { decoder } = await decodeAll(pcapFile([{ data: f.subarray(0, at), origLen: f.length }], { linktype: LINKTYPE.ETHERNET }));
    expect(decoder.issues.rows()).toEqual([{ layer: issue.layer, kind: 'truncated', reason: issue.reason, count: 1 }]);
  });
});

describe('DNS', () => {
  test('a QR=0 message carrying answer records yields no dns_answer (DESIGN.md: QR=1 only)', async () => {
    const msg = dnsPacket.encode({
      type: 'query',
      id: 1,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: 'a.test' }],
      answers: [{ type: 'A', name: 's01.upd.kaspersky.com', ttl: 60, data: '198.18.66.66' }],
    });
    const { observations } = await run([eth({ type: ETH_IPV4 }, ipv4({ src: C, dst: S, proto: IPPROTO_UDP }, udp({ sport: 40000, dport: 53 }, msg)))]);
    expect(observations.map((o) => o.kind)).toEqual(['dns_query']);
  });
  test('mDNS is decoded when 5353 is configured as a DNS port', async () => {
    const msg = dnsPacket.encode({ type: 'query', id: 0, questions: [{ type: 'A', name: 'printer.local' }] });
    const f = eth({ type: ETH_IPV4 }, ipv4({ src: C, dst: '198.19.0.251', proto: IPPROTO_UDP }, udp({ sport: 5353, dport: 5353 }, msg)));
    expect((await run([f], { dnsPorts: [53, 5353] })).observations.map((o) => o.name)).toEqual(['printer.local']);
    expect((await run([f])).observations).toEqual([]);
  });
  test('label "x.é" after "abc" is "abc.x\\.\\195\\169" (RFC 1035 §5.1 presentation format, issue 14)', () => {
    // dns-packet gives "abc.x.é", which reads as three labels; the escaped form keeps the
    // label's dot and its UTF-8 bytes visible, as tshark and dig show them.
    const label = Uint8Array.of(0x78, 0x2e, 0xc3, 0xa9);
    const msg = concat(u16(1), u16(0x0100), u16(1), u16(0), u16(0), u16(0), Uint8Array.of(3, 0x61, 0x62, 0x63, label.length), label, Uint8Array.of(0), u16(1), u16(1));
    const got: string[] = [];
    decodeDns(msg, { query: (n) => got.push(n), answer: () => {}, nameFilter: undefined, filtered: () => {} });
    expect(dnsPacket.decode(Buffer.from(msg)).questions![0]!.name).toBe('abc.x.é');
    expect(got).toEqual(['abc.x\\.\\195\\169']);
  });
});

describe('time', () => {
  test('a negative if_tsoffset is subtracted (signed 64-bit)', async () => {
    const { frames } = await readFrames(pcapngFile([{ interfaces: [{ linktype: 101, tsoffset: -3600 }], packets: [{ iface: 0, data: inner(), ts: { sec: T0, nsec: 0 } }] }]), 'pcapng');
    expect(frames.map((f) => f.time.sec)).toEqual([T0 - 3600]);
  });
  test.for([
    { sec: 18_446_744_073_709, want: /^\+\d{6}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/ },
    { sec: 253_402_300_800, want: /^\+010000-01-01T00:00:00\.000000Z$/ },
  ])('isoTime($sec) does not throw and keeps its seconds', ({ sec, want }) => {
    expect(isoTime({ sec, nsec: 0, digits: 6 })).toMatch(want);
  });
  test('an out-of-range packet time still yields its observation', async () => {
    const bytes = pcapngFile([{ interfaces: [{ linktype: 101 }], packets: [{ iface: 0, data: inner(), ts: 0xffff_ffff_ffff_ffffn }] }]);
    const printed: string[] = [];
    const d = new Decoder((o) => printed.push(isoTime(o.time)));
    await readCapture(writeTemp(bytes, 'pcapng'), packetTimeDriver(d));
    expect(d.issues.get(DECODER_BUG)).toBe(0);
    expect(printed).toHaveLength(1);
  });
  test('splitTimestamp with if_tsresol 10 (100 ps units) is exact', () => {
    const units = (135_218_247n << 32n) + 1_232_430_618n;
    const out = { sec: 0, nsec: 0 };
    splitTimestamp(135_218_247, 1_232_430_618, 1e10, out);
    expect(out).toEqual({ sec: Number(units / 10_000_000_000n), nsec: Number(((units % 10_000_000_000n) * 1_000_000_000n) / 10_000_000_000n) });
  });
});
