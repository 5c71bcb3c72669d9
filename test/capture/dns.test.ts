import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DECODER_BUG } from '../../src/capture/decoder.js';
import { NAME_INCOMPLETE, NAME_SNAPLEN } from '../../src/capture/unrecovered.js';
import { IPV4_FRAGMENT_CUT } from '../../src/capture/packet/ip.js';
import {
  decodeDns,
  DNS_BAD_ANSWER,
  DNS_BAD_NAME,
  DNS_BAD_QUESTION,
  DNS_TCP_LENGTH,
  DNS_TRUNCATED,
  DNS_TRUNCATED_HEADER,
  MAX_NAME_LEN,
  type DnsSink,
} from '../../src/capture/app/dns.js';
import type { DecodeIssue } from '../../src/capture/issues.js';
import type { Observation } from '../../src/capture/observation.js';
import {
  concat,
  dnsQuery,
  dnsResponse,
  dnsTcp,
  eth,
  ETH_IPV4,
  ETH_IPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipv4,
  ipv4Fragments,
  ipv6,
  LINKTYPE,
  patch,
  TCP_ACK,
  TCP_PSH,
  TCP_SYN,
  tcp,
  u16,
  u32,
  udp,
} from '../helpers/packets.js';
import { decodeAll, pcapFile, T0 } from '../helpers/pcap.js';

const CLIENT = '198.18.0.10';
const RESOLVER = '198.19.0.53';

/** DNS message in UDP over IPv4 over Ethernet; `toClient` swaps direction (a response). */
function udpFrame(msg: Uint8Array, toClient = false, ports = { client: 40000, server: 53 }): Uint8Array {
  const [src, dst, sport, dport] = toClient ? [RESOLVER, CLIENT, ports.server, ports.client] : [CLIENT, RESOLVER, ports.client, ports.server];
  return eth({ type: ETH_IPV4 }, ipv4({ src, dst, proto: IPPROTO_UDP }, udp({ sport, dport }, msg)));
}

function tcpFrame(payload: Uint8Array, seq = 1000): Uint8Array {
  return eth({ type: ETH_IPV4 }, ipv4({ src: CLIENT, dst: RESOLVER, proto: IPPROTO_TCP }, tcp({ sport: 40001, dport: 53, seq, flags: TCP_PSH | TCP_ACK }, payload)));
}

async function decodeMessages(frames: readonly Uint8Array[], opts: Parameters<typeof decodeAll>[1] = {}) {
  return decodeAll(pcapFile(frames.map((data) => ({ data })), { linktype: LINKTYPE.ETHERNET }), opts);
}

const base = {
  time: { sec: T0, nsec: 0, digits: 6 },
  tsMicros: T0 * 1_000_000,
  frame: 1,
  transport: 'udp' as const,
};
const query = (name: string, qtype = 'A'): Observation => ({ ...base, kind: 'dns_query', name, qtype, src: CLIENT, dst: RESOLVER, sport: 40000, dport: 53 });
const answer = (name: string, rrtype: string, data: string): Observation => ({
  ...base,
  kind: 'dns_answer',
  name,
  rrtype,
  data,
  ttl: expect.any(Number) as unknown as number,
  src: RESOLVER,
  dst: CLIENT,
  sport: 53,
  dport: 40000,
});

/** The DNS header (RFC 1035 §4.1.1) with the given counts, then raw section bytes. */
function rawMessage(o: { qr?: boolean; qd?: number; an?: number }, sections: Uint8Array): Uint8Array {
  return concat(u16(0x1234), u16(o.qr === true ? 0x8180 : 0x0100), u16(o.qd ?? 1), u16(o.an ?? 0), u16(0), u16(0), sections);
}
/** A question: name (raw bytes), QTYPE A, QCLASS IN. */
const question = (name: Uint8Array): Uint8Array => concat(name, u16(1), u16(1));
const labels = (...ls: string[]): Uint8Array => concat(...ls.map((l) => concat(Uint8Array.of(l.length), new TextEncoder().encode(l))), Uint8Array.of(0));

describe('DNS queries', () => {
  test.for<{ name: string; msg: () => Uint8Array; want: Observation[] }>([
    { name: 'one A question', msg: () => dnsQuery('s01.upd.kaspersky.com'), want: [query('s01.upd.kaspersky.com')] },
    {
      name: 'several questions, one observation each, in order',
      msg: () => dnsQuery(['s01.upd.kaspersky.com', 'ksn-a.kaspersky-labs.com', 'dnl-02.geo.kaspersky.com'], 'AAAA'),
      want: [query('s01.upd.kaspersky.com', 'AAAA'), query('ksn-a.kaspersky-labs.com', 'AAAA'), query('dnl-02.geo.kaspersky.com', 'AAAA')],
    },
    { name: 'upper case and a trailing dot are normalised', msg: () => dnsQuery('S01.UPD.Kaspersky.COM.'), want: [query('s01.upd.kaspersky.com')] },
    { name: 'root query: name ""', msg: () => dnsQuery('.', 'NS'), want: [query('', 'NS')] },
    { name: 'qtype TXT', msg: () => dnsQuery('a.test', 'TXT'), want: [query('a.test', 'TXT')] },
    { name: 'qtype SRV', msg: () => dnsQuery('_ldap._tcp.a.test', 'SRV'), want: [query('_ldap._tcp.a.test', 'SRV')] },
    { name: 'qtype PTR', msg: () => dnsQuery('10.0.18.198.in-addr.arpa', 'PTR'), want: [query('10.0.18.198.in-addr.arpa', 'PTR')] },
    { name: 'qtype HTTPS (65, RFC 9460)', msg: () => dnsQuery('ksn-a.kaspersky-labs.com', typeNumber(65)), want: [query('ksn-a.kaspersky-labs.com', 'HTTPS')] },
    { name: 'qtype SVCB (64, RFC 9460)', msg: () => dnsQuery('_dns.resolver.arpa', typeNumber(64)), want: [query('_dns.resolver.arpa', 'SVCB')] },
    { name: 'an unassigned qtype is named TYPEnnn (RFC 3597 §5)', msg: () => dnsQuery('a.test', typeNumber(65280)), want: [query('a.test', 'TYPE65280')] },
    {
      name: 'a 253-character name (the longest, RFC 1035 §2.3.4)',
      msg: () => dnsQuery(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`),
      want: [query(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`)],
    },
    {
      name: 'compression pointer in a later question',
      msg: () => rawMessage({ qd: 2 }, concat(question(labels('upd', 'kaspersky', 'com')), question(concat(Uint8Array.of(3), new TextEncoder().encode('s01'), Uint8Array.of(0xc0, 12))))),
      want: [query('upd.kaspersky.com'), query('s01.upd.kaspersky.com')],
    },
  ])('$name', async ({ msg, want }) => {
    const { observations, decoder } = await decodeMessages([udpFrame(msg())]);
    expect(observations).toStrictEqual(want);
    expect(decoder.issues.total()).toBe(0);
  });

  test('IPv6 transport: addresses in RFC 5952 form', async () => {
    const frame = eth({ type: ETH_IPV6 }, ipv6({ src: 'fd00:0:0:0:0:0:0:10', dst: 'fd00::53', next: IPPROTO_UDP }, udp({ sport: 40000, dport: 53 }, dnsQuery('a.test'))));
    const { observations } = await decodeMessages([frame]);
    expect(observations.map((o) => [o.src, o.dst])).toEqual([['fd00::10', 'fd00::53']]);
  });

  test('DNS on a configured port, and not on 53 when 53 is not configured (heuristic off)', async () => {
    const frames = [udpFrame(dnsQuery('custom.test'), false, { client: 40000, server: 5300 }), udpFrame(dnsQuery('default.test'))];
    const { observations } = await decodeMessages(frames, { dnsPorts: [5300], dnsHeuristic: false });
    expect(observations.map((o) => [o.name, o.dport])).toEqual([['custom.test', 5300]]);
  });

  test('a query from port 53 (server to server) is still a query', async () => {
    const { observations } = await decodeMessages([udpFrame(dnsQuery('a.test'), false, { client: 53, server: 53 })]);
    expect(observations.map((o) => [o.kind, o.sport, o.dport])).toEqual([['dns_query', 53, 53]]);
  });
});

describe('DNS answers', () => {
  test('CNAME chain, A and AAAA: every record, in order; the echoed question is not a query', async () => {
    const msg = dnsResponse('S01.upd.kaspersky.com', [
      { type: 'CNAME', name: 'S01.upd.kaspersky.com', data: 'S01.Geo.kaspersky.COM' },
      { type: 'CNAME', name: 's01.geo.kaspersky.com', data: 'edge.cdn.test.' },
      { type: 'A', name: 'edge.cdn.test', data: '198.18.7.7' },
      { type: 'A', name: 'edge.cdn.test', data: '198.18.7.8' },
      { type: 'AAAA', name: 'edge.cdn.test', data: 'fd00:0:0:0:0:0:0:77' },
    ]);
    const { observations, decoder } = await decodeMessages([udpFrame(msg, true)]);
    expect(observations).toStrictEqual([
      answer('s01.upd.kaspersky.com', 'CNAME', 's01.geo.kaspersky.com'),
      answer('s01.geo.kaspersky.com', 'CNAME', 'edge.cdn.test'),
      answer('edge.cdn.test', 'A', '198.18.7.7'),
      answer('edge.cdn.test', 'A', '198.18.7.8'),
      answer('edge.cdn.test', 'AAAA', 'fd00::77'),
    ]);
    expect(decoder.issues.total()).toBe(0);
  });

  test.for([
    { name: 'IPv4-mapped AAAA keeps the dotted quad (RFC 5952 §5)', data: '::ffff:198.18.0.1', want: '::ffff:198.18.0.1' },
    { name: 'AAAA with leading zeros and the longest zero run', data: 'fd00:0:0:1:0:0:0:1', want: 'fd00:0:0:1::1' },
    { name: 'AAAA, first of two equal zero runs', data: 'fd00:0:0:1:2:0:0:3', want: 'fd00::1:2:0:0:3' },
  ])('AAAA data in RFC 5952 form: $name', async ({ data, want }) => {
    const { observations } = await decodeMessages([udpFrame(dnsResponse('a.test', [{ type: 'AAAA', name: 'a.test', data }]), true)]);
    expect(observations).toStrictEqual([answer('a.test', 'AAAA', want)]);
  });

  test.for<{ name: string; answers: dnsPacket.Answer[]; want: Observation[] }>([
    { name: 'MX only', answers: [{ type: 'MX', name: 'a.test', data: { preference: 10, exchange: 'mx.a.test' } }], want: [] },
    { name: 'TXT only', answers: [{ type: 'TXT', name: 'a.test', data: 'v=spf1 -all' }], want: [] },
    { name: 'NS only', answers: [{ type: 'NS', name: 'a.test', data: 'ns1.a.test' }], want: [] },
    { name: 'SRV only', answers: [{ type: 'SRV', name: '_x._tcp.a.test', data: { priority: 1, weight: 1, port: 443, target: 't.a.test' } }], want: [] },
    {
      name: 'TXT then A: only the A',
      answers: [
        { type: 'TXT', name: 'a.test', data: 'hello' },
        { type: 'A', name: 'a.test', data: '198.18.1.1' },
      ],
      want: [answer('a.test', 'A', '198.18.1.1')],
    },
  ])('other record types are ignored: $name', async ({ answers, want }) => {
    const { observations, decoder } = await decodeMessages([udpFrame(dnsResponse('a.test', answers), true)]);
    expect(observations).toStrictEqual(want);
    expect(decoder.issues.total()).toBe(0);
  });

  test('a response with no answers (NXDOMAIN) yields nothing', async () => {
    const msg = dnsPacket.encode({ type: 'response', id: 1, flags: 3, questions: [{ type: 'A', name: 'gone.test' }] });
    const { observations, decoder } = await decodeMessages([udpFrame(msg, true)]);
    expect(observations).toEqual([]);
    expect(decoder.issues.total()).toBe(0);
  });
});

describe('compressed answer names (the per-message name cache)', () => {
  /** An answer record: raw owner name, then TYPE, CLASS IN, TTL, RDLENGTH, RDATA. */
  const rr = (owner: Uint8Array, type: number, rdata: Uint8Array): Uint8Array => concat(owner, u16(type), u16(1), u16(0), u16(60), u16(rdata.length), rdata);
  const ptr = (off: number): Uint8Array => Uint8Array.of(0xc0 | (off >> 8), off & 0xff);

  test('answers pointing at the question, then a CNAME target pointing into the first answer', async () => {
    // question "a.test" at 12; answer 1: c00c CNAME "edge" + pointer to 12 ("edge.a.test");
    // answer 2: pointer to that target, A.
    const q = question(labels('a', 'test'));
    const cnameTarget = concat(Uint8Array.of(4), new TextEncoder().encode('edge'), ptr(12));
    const first = rr(ptr(12), 5, cnameTarget);
    const targetOff = 12 + q.length + 2 + 10;
    const second = rr(ptr(targetOff), 1, Uint8Array.of(198, 18, 2, 2));
    const msg = rawMessage({ qr: true, an: 2 }, concat(q, first, second));
    const { observations, decoder } = await decodeMessages([udpFrame(msg, true)]);
    expect(observations).toStrictEqual([answer('a.test', 'CNAME', 'edge.a.test'), answer('edge.a.test', 'A', '198.18.2.2')]);
    expect(decoder.issues.total()).toBe(0);
  });

  test('the cache is per message: the same pointer in the next message reads that message', async () => {
    const one = rawMessage({ qr: true, an: 1 }, concat(question(labels('one', 'test')), rr(ptr(12), 1, Uint8Array.of(198, 18, 0, 1))));
    const two = rawMessage({ qr: true, an: 1 }, concat(question(labels('two', 'test')), rr(ptr(12), 1, Uint8Array.of(198, 18, 0, 2))));
    const { observations } = await decodeMessages([udpFrame(one, true), udpFrame(two, true)]);
    expect(observations.map((o) => `${o.name} ${o.data}`)).toStrictEqual(['one.test 198.18.0.1', 'two.test 198.18.0.2']);
  });

  test('an answer owner pointing at itself is still rejected, cache or not', async () => {
    // The answer's owner points at itself: not a cached name, and no loop is followed.
    const q = question(labels('a', 'test'));
    const self = 12 + q.length;
    const msg = rawMessage({ qr: true, an: 1 }, concat(q, rr(ptr(self), 1, Uint8Array.of(198, 18, 0, 1))));
    const { observations, decoder } = await decodeMessages([udpFrame(msg, true)]);
    expect(observations).toStrictEqual([]);
    expect(decoder.issues.get(DNS_BAD_ANSWER)).toBe(1);
  });
});

describe('DNS over TCP', () => {
  const tcpBase = { ...base, transport: 'tcp' as const, src: CLIENT, dst: RESOLVER, sport: 40001, dport: 53 };

  test('two messages in one segment: both reported', async () => {
    const { observations, decoder } = await decodeMessages([tcpFrame(dnsTcp(dnsQuery('one.test'), dnsQuery('two.test', 'AAAA', 2)))]);
    expect(observations).toStrictEqual([
      { ...tcpBase, kind: 'dns_query', name: 'one.test', qtype: 'A' },
      { ...tcpBase, kind: 'dns_query', name: 'two.test', qtype: 'AAAA' },
    ]);
    expect(decoder.issues.total()).toBe(0);
  });

  test('a message split over two segments after the SYN is put back together', async () => {
    const stream = dnsTcp(dnsQuery('split.test'));
    const [a, b] = [stream.subarray(0, 9), stream.subarray(9)];
    const syn = eth({ type: ETH_IPV4 }, ipv4({ src: CLIENT, dst: RESOLVER, proto: IPPROTO_TCP }, tcp({ sport: 40001, dport: 53, seq: 999, ack: 0, flags: TCP_SYN }, new Uint8Array(0))));
    const { observations, decoder } = await decodeMessages([syn, tcpFrame(a, 1000), tcpFrame(b, 1000 + a.length)]);
    expect(observations).toStrictEqual([
      { ...tcpBase, kind: 'dns_query', name: 'split.test', qtype: 'A', frame: 3, time: { sec: T0 + 2, nsec: 0, digits: 6 }, tsMicros: (T0 + 2) * 1_000_000 },
    ]);
    expect(decoder.issues.total()).toBe(0);
  });

  test('a message whose rest never arrives: counted at the end of input', async () => {
    const stream = dnsTcp(dnsQuery('lost.test'));
    const { observations, decoder } = await decodeMessages([tcpFrame(stream.subarray(0, 10))]);
    expect(observations).toEqual([]);
    expect(decoder.issues.get(NAME_INCOMPLETE)).toBe(1);
  });

  test('a zero length prefix is counted as invalid', async () => {
    const { observations, decoder } = await decodeMessages([tcpFrame(concat(u16(0), dnsQuery('x.test')))]);
    expect(observations).toEqual([]);
    expect(decoder.issues.get(DNS_TCP_LENGTH)).toBe(1);
  });
});

describe('malformed DNS is counted, never thrown', () => {
  test.for<{ name: string; msg: () => Uint8Array; want: string[]; issue: DecodeIssue; response?: boolean }>([
    { name: 'header cut to 11 bytes', msg: () => dnsQuery('a.test').subarray(0, 11), want: [], issue: DNS_TRUNCATED_HEADER },
    { name: 'empty UDP payload', msg: () => new Uint8Array(0), want: [], issue: DNS_TRUNCATED_HEADER },
    { name: 'pointer to itself (a loop)', msg: () => rawMessage({}, question(Uint8Array.of(0xc0, 12))), want: [], issue: DNS_BAD_QUESTION },
    { name: 'two pointers pointing at each other', msg: () => rawMessage({}, question(Uint8Array.of(0xc0, 14, 0xc0, 12))), want: [], issue: DNS_BAD_QUESTION },
    { name: 'pointer past the end', msg: () => rawMessage({}, question(Uint8Array.of(0xc1, 0x00))), want: [], issue: DNS_BAD_QUESTION },
    { name: 'reserved label type 0x40 (bad label)', msg: () => rawMessage({}, question(Uint8Array.of(0x41, 0x61, 0))), want: [], issue: DNS_BAD_QUESTION },
    { name: 'label longer than the message', msg: () => rawMessage({}, Uint8Array.of(20, 0x61, 0x62)), want: [], issue: DNS_TRUNCATED },
    { name: 'name without its QTYPE/QCLASS', msg: () => rawMessage({}, labels('a', 'test')), want: [], issue: DNS_TRUNCATED },
    { name: 'name longer than 255 octets', msg: () => rawMessage({}, question(labels('a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(63)))), want: [], issue: DNS_BAD_QUESTION },
    { name: 'QDCOUNT 3 with one question: the first is reported', msg: () => rawMessage({ qd: 3 }, question(labels('first', 'test'))), want: ['first.test'], issue: DNS_TRUNCATED },
    {
      name: 'a good answer then one cut after its type: the first is reported',
      msg: () => {
        const good = dnsResponse('a.test', [{ type: 'A', name: 'a.test', data: '198.18.1.1' }]);
        return concat(patch(good, 6, u16(2)), Uint8Array.of(0xc0, 12, 0, 1)); // ANCOUNT 2, second record cut after its type
      },
      want: ['a.test'],
      issue: DNS_TRUNCATED,
      response: true,
    },
    {
      name: 'an answer whose owner loops, between two good ones: both good ones are reported',
      msg: () => {
        const q = question(labels('a', 'test'));
        const loopAt = 12 + q.length + 16;
        const rrA = (owner: Uint8Array, ip: number): Uint8Array => concat(owner, u16(1), u16(1), u32(60), u16(4), Uint8Array.of(198, 18, 1, ip));
        return rawMessage({ qr: true, an: 3 }, concat(q, rrA(Uint8Array.of(0xc0, 12), 1), rrA(Uint8Array.of(0xc0, loopAt & 0xff), 2), rrA(Uint8Array.of(0xc0, 12), 3)));
      },
      want: ['a.test', 'a.test'],
      issue: DNS_BAD_ANSWER,
      response: true,
    },
    {
      name: 'a question name longer than 255 octets, then a good question (tshark: <Name too long>)',
      msg: () => rawMessage({ qd: 2 }, concat(question(labels('a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(63))), question(labels('next', 'test')))),
      want: ['next.test'],
      issue: DNS_BAD_QUESTION,
    },
    {
      name: 'a CNAME whose target is too long, then an A record: the A is reported',
      msg: () => {
        const long = labels('a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(63));
        const q = question(labels('www', 'test'));
        return rawMessage(
          { qr: true, an: 2 },
          concat(q, Uint8Array.of(0xc0, 12), u16(5), u16(1), u32(0), u16(long.length), long, Uint8Array.of(0xc0, 12), u16(1), u16(1), u32(0), u16(4), Uint8Array.of(198, 18, 6, 6)),
        );
      },
      want: ['www.test'],
      issue: DNS_BAD_NAME,
      response: true,
    },
    { name: 'an extended label type (0x40) ends the message: its length is unknown', msg: () => rawMessage({ qd: 2 }, concat(question(Uint8Array.of(0x41, 0x61, 0)), question(labels('x', 'test')))), want: [], issue: DNS_BAD_QUESTION },
  ])('$name', async ({ msg, want, issue, response }) => {
    const isResponse = issue === DNS_BAD_ANSWER || response === true;
    const { observations, decoder } = await decodeMessages([udpFrame(msg(), isResponse)]);
    expect(observations.map((o) => o.name)).toEqual(want);
    expect(decoder.issues.rows()).toEqual([{ layer: issue.layer, kind: issue.kind, reason: issue.reason, count: 1 }]);
    expect(decoder.issues.get(DECODER_BUG)).toBe(0);
  });

  test('decodeDns on its own: every proper prefix of a response returns an issue, and what it reported is a prefix of the records', () => {
    const msg = dnsResponse('s01.upd.kaspersky.com', [
      { type: 'CNAME', name: 's01.upd.kaspersky.com', data: 's01.geo.kaspersky.com' },
      { type: 'A', name: 's01.geo.kaspersky.com', data: '198.18.9.9' },
    ]);
    const all: string[] = [];
    decodeDns(msg, sinkInto(all));
    expect(all).toEqual(['answer s01.upd.kaspersky.com CNAME s01.geo.kaspersky.com', 'answer s01.geo.kaspersky.com A 198.18.9.9']);
    for (let k = 0; k < msg.length; k++) {
      const got: string[] = [];
      const issue = decodeDns(msg.subarray(0, k), sinkInto(got));
      expect(issue).toBeDefined();
      expect(all.slice(0, got.length)).toEqual(got);
    }
  });

  test('MAX_NAME_LEN is the RFC 1035 text limit', () => {
    expect(MAX_NAME_LEN).toBe(253);
  });
});

describe('DNS as it is found in the wild (issue 14)', () => {
  const ptr = (off: number): Uint8Array => Uint8Array.of(0xc0 | (off >> 8), off & 0xff);

  test('a question whose name points forward, at the next question (suricata-verify dns-forward-pointer)', async () => {
    // Two questions: the first is only a pointer to the second's name at offset 18.
    const msg = rawMessage({ qd: 2 }, concat(question(ptr(18)), question(labels('codemonkey', 'net'))));
    const { observations, decoder } = await decodeMessages([udpFrame(msg)]);
    expect(observations.map((o) => o.name)).toEqual(['codemonkey.net', 'codemonkey.net']);
    expect(decoder.issues.total()).toBe(0);
  });

  test('two names pointing at each other are a loop, counted; the next question is read', async () => {
    // question 1 at 12: pointer to 18; question 2 at 18: pointer to 12; question 3 is fine.
    const msg = rawMessage({ qd: 3 }, concat(question(ptr(18)), question(ptr(12)), question(labels('ok', 'test'))));
    const { observations, decoder } = await decodeMessages([udpFrame(msg)]);
    expect(observations.map((o) => o.name)).toEqual(['ok.test']);
    expect(decoder.issues.get(DNS_BAD_QUESTION)).toBe(1);
  });

  test.for<{ name: string; label: number[]; want: string }>([
    { name: 'control bytes', label: [0x61, 0x04, 0x05, 0x62], want: 'a\\004\\005b.test' },
    { name: 'bytes above 0x7e, upper case around them', label: [0x41, 0xc3, 0xbc, 0x7f, 0x42], want: 'a\\195\\188\\127b.test' },
    { name: 'a dot inside a label is not a label boundary', label: [...'kaspersky.com'].map((c) => c.charCodeAt(0)), want: 'kaspersky\\.com.test' },
    { name: 'a backslash and a space', label: [0x61, 0x5c, 0x20, 0x62], want: 'a\\\\\\032b.test' },
    { name: 'NUL', label: [0x00, 0x61], want: '\\000a.test' },
  ])('presentation format (RFC 1035 §5.1): $name', async ({ label, want }) => {
    const name = concat(Uint8Array.of(label.length), Uint8Array.from(label), labels('test'));
    const { observations } = await decodeMessages([udpFrame(rawMessage({}, question(name)))]);
    expect(observations.map((o) => o.name)).toEqual([want]);
  });

  test('escaped names in answers and CNAME targets too', () => {
    const q = question(concat(Uint8Array.of(3, 0x61, 0x01, 0x62), labels('test')));
    const target = concat(Uint8Array.of(2, 0x41, 0x2e), ptr(12));
    const msg = rawMessage({ qr: true, an: 1 }, concat(q, ptr(12), u16(5), u16(1), u32(0), u16(target.length), target));
    const got: string[] = [];
    expect(decodeDns(msg, sinkInto(got))).toBeUndefined();
    expect(got).toEqual(['answer a\\001b.test CNAME a\\..a\\001b.test']);
  });

  test('a response cut by the snap length: the records that fit are reported, the loss counted as truncated', async () => {
    const msg = dnsResponse('big.test', [
      { type: 'A', name: 'big.test', data: '198.18.1.1' },
      { type: 'A', name: 'big.test', data: '198.18.1.2' },
      { type: 'A', name: 'big.test', data: '198.18.1.3' },
    ]);
    const frame = udpFrame(msg, true);
    const { observations, decoder } = await decodeAll(pcapFile([{ data: frame.subarray(0, frame.length - 10), origLen: frame.length }], { linktype: LINKTYPE.ETHERNET }));
    expect(observations.map((o) => o.data)).toEqual(['198.18.1.1', '198.18.1.2']);
    expect(decoder.issues.rows()).toEqual([
      { layer: 'dns', kind: 'truncated', reason: 'records', count: 1 },
      { layer: 'name', kind: 'truncated', reason: 'capture_truncated', count: 1 },
    ]);
  });

  test('the first IP fragment of a response, cut by the snap length: its records are read (ndpi badpackets)', async () => {
    const answers = Array.from({ length: 20 }, (_, i) => ({ type: 'A' as const, name: 'frag.test', data: `198.18.2.${i}` }));
    const msg = dnsResponse('frag.test', answers);
    const frags = ipv4Fragments({ src: RESOLVER, dst: CLIENT, proto: IPPROTO_UDP }, udp({ sport: 53, dport: 40000 }, msg), 200);
    const first = eth({ type: ETH_IPV4 }, frags[0]!);
    // 200 captured bytes: Ethernet, IPv4 and UDP headers (42), the DNS header and question (27), five 25-byte answers.
    const { observations, decoder } = await decodeAll(pcapFile([{ data: first.subarray(0, 200), origLen: first.length }], { linktype: LINKTYPE.ETHERNET }));
    expect(observations.map((o) => `${o.kind} ${o.name} ${o.data}`)).toEqual(answers.slice(0, 5).map((a) => `dns_answer frag.test ${a.data}`));
    expect(decoder.issues.get(IPV4_FRAGMENT_CUT)).toBe(1);
    expect(decoder.issues.get(NAME_SNAPLEN)).toBe(1);
  });
});

describe('answer records in a query', () => {
  test('an inverse query (opcode 1) carries an answer: not an observation, counted (zeek dns-inverse-query)', async () => {
    const msg = concat(u16(0x1234), u16(0x0800), u16(0), u16(1), u16(0), u16(0), Uint8Array.of(0), u16(1), u16(1), u32(60), u16(4), Uint8Array.of(4, 3, 2, 1));
    const { observations, decoder } = await decodeMessages([udpFrame(msg)]);
    expect(observations).toEqual([]);
    expect(decoder.issues.rows()).toEqual([{ layer: 'dns', kind: 'skipped', reason: 'answers_in_query', count: 1 }]);
  });
});

describe('DNS found by content on other UDP ports (dns.heuristic)', () => {
  const on = (msg: Uint8Array, ports: { client: number; server: number }, response = false) => udpFrame(msg, response, ports);

  test.for<{ name: string; frame: () => Uint8Array; want: string[] }>([
    { name: 'a query to UDP 443 (DNSCrypt certificate, Avast SecureDNS)', frame: () => on(dnsQuery('2.dnscrypt-cert.example.test', 'TXT'), { client: 38388, server: 443 }), want: ['2.dnscrypt-cert.example.test'] },
    { name: 'a query padded with trailing bytes', frame: () => on(concat(dnsQuery('padded.test', 'TXT'), new Uint8Array(400)), { client: 38388, server: 443 }), want: ['padded.test'] },
    { name: 'a response on 8053', frame: () => on(dnsResponse('alt.test', [{ type: 'A', name: 'alt.test', data: '198.18.3.3' }]), { client: 50000, server: 8053 }, true), want: ['alt.test'] },
    { name: 'a query between two high ports', frame: () => on(dnsQuery('localhost'), { client: 12345, server: 32021 }), want: ['localhost'] },
  ])('decoded: $name', async ({ frame, want }) => {
    const { observations, decoder } = await decodeMessages([frame()]);
    expect(observations.map((o) => o.name)).toEqual(want);
    expect(decoder.issues.total()).toBe(0);
    const off = await decodeMessages([frame()], { dnsHeuristic: false });
    expect(off.observations).toEqual([]);
  });

  test.for<{ name: string; frame: () => Uint8Array }>([
    { name: 'mDNS on 5353 (tshark: another protocol; configure the port to read it)', frame: () => on(dnsQuery('printer.local'), { client: 5353, server: 5353 }) },
    { name: 'LLMNR on 5355', frame: () => on(dnsQuery('host'), { client: 50000, server: 5355 }) },
    { name: 'NetBIOS name service on 137', frame: () => on(dnsQuery('WORKGROUP'), { client: 137, server: 137 }) },
    { name: 'a header alone', frame: () => on(dnsQuery('x.test').subarray(0, 12), { client: 40000, server: 9999 }) },
    { name: 'opcode UPDATE', frame: () => on(patch(dnsQuery('x.test'), 2, [0x28]), { client: 40000, server: 9999 }) },
    { name: 'a query with an answer record', frame: () => on(patch(dnsQuery('x.test'), 6, u16(1)), { client: 40000, server: 9999 }) },
    { name: 'two questions', frame: () => on(dnsQuery(['x.test', 'y.test']), { client: 40000, server: 9999 }) },
    { name: 'a compressed question name', frame: () => on(rawMessage({}, question(Uint8Array.of(0xc0, 12))), { client: 40000, server: 9999 }) },
    { name: 'class 0x1234', frame: () => on(concat(rawMessage({}, labels('x', 'test')), u16(1), u16(0x1234)), { client: 40000, server: 9999 }) },
    { name: 'random bytes', frame: () => on(Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff), { client: 40000, server: 9999 }) },
  ])('left alone: $name', async ({ frame }) => {
    const { observations, decoder } = await decodeMessages([frame()]);
    expect(observations).toEqual([]);
    expect(decoder.issues.total()).toBe(0);
  });
});

/** A record type by number (dns-packet accepts `UNKNOWN_<n>` for types it has no name for). */
function typeNumber(n: number): dnsPacket.RecordType {
  return `UNKNOWN_${n}` as dnsPacket.RecordType;
}

describe('decodeDns properties', () => {
  const label = fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/);
  const name = fc.array(label, { minLength: 1, maxLength: 8 }).map((ls) => ls.join('.'));
  const ipv4Arb = fc.tuple(fc.constantFrom(18, 19), fc.nat(255), fc.nat(255)).map(([b, c, d]) => `198.${b}.${c}.${d}`);
  const ipv6Arb = fc.array(fc.nat(0xffff), { minLength: 7, maxLength: 7 }).map((g) => ['fd00', ...g.map((x) => x.toString(16))].join(':'));
  const record = fc.oneof(
    fc.record({ type: fc.constant('A' as const), name, data: ipv4Arb }),
    fc.record({ type: fc.constant('AAAA' as const), name, data: ipv6Arb }),
    fc.record({ type: fc.constant('CNAME' as const), name, data: name }),
    fc.record({ type: fc.constant('TXT' as const), name, data: label }),
  );

  test('queries built by dns-packet: every question, lower-cased, in order', () => {
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 5 }), (names) => {
        const got: string[] = [];
        expect(decodeDns(dnsQuery(names), sinkInto(got))).toBeUndefined();
        expect(got).toEqual(names.map((n) => `query ${n.toLowerCase()} A`));
      }),
    );
  });

  test('responses built by dns-packet: the A/AAAA/CNAME records as dns-packet decodes them, normalised', () => {
    fc.assert(
      fc.property(name, fc.array(record, { maxLength: 6 }), (q, answers) => {
        const msg = dnsResponse(q, answers as dnsPacket.Answer[]);
        const ref = dnsPacket
          .decode(Buffer.from(msg))
          .answers!.filter((a) => a.type === 'A' || a.type === 'AAAA' || a.type === 'CNAME')
          .map((a) => {
            const data = (a as { data: unknown }).data as string;
            const norm = a.type === 'CNAME' ? data.toLowerCase() : a.type === 'AAAA' ? canonical6(data) : data;
            return `answer ${a.name.toLowerCase()} ${a.type} ${norm}`;
          });
        const got: string[] = [];
        expect(decodeDns(msg, sinkInto(got))).toBeUndefined();
        expect(got).toEqual(ref);
      }),
    );
  });

  test('random bytes and mutated messages never throw, and names stay within 253 characters (escapes counted as one)', () => {
    const valid = dnsResponse('s01.upd.kaspersky.com', [
      { type: 'CNAME', name: 's01.upd.kaspersky.com', data: 's01.geo.kaspersky.com' },
      { type: 'A', name: 's01.geo.kaspersky.com', data: '198.18.9.9' },
    ]);
    const mutated = fc
      .array(fc.tuple(fc.nat(valid.length - 1), fc.nat(255)), { minLength: 1, maxLength: 6 })
      .map((edits) => {
        const m = valid.slice();
        for (const [i, v] of edits) m[i] = v;
        return m;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), (msg) => {
        const names: string[] = [];
        decodeDns(msg, {
          query: (n) => names.push(n),
          answer: (n, _t, d) => names.push(n, d),
          nameFilter: undefined,
          filtered: () => {},
        });
        for (const n of names) expect(n.replace(/\\(\d{3}|.)/g, 'x').length).toBeLessThanOrEqual(MAX_NAME_LEN);
      }),
      { numRuns: 3000 },
    );
  });
});

/** RFC 5952 text of an fd00::/8 address: the WHATWG URL serializer compresses the same way (it has no IPv4-mapped form; these never are). */
function canonical6(a: string): string {
  return new URL(`http://[${a}]/`).hostname.slice(1, -1);
}

function sinkInto(out: string[]): DnsSink {
  return {
    query: (name, qtype) => out.push(`query ${name} ${qtype}`),
    answer: (name, rrtype, data) => out.push(`answer ${name} ${rrtype} ${data}`),
    nameFilter: undefined,
    filtered: () => {},
  };
}
