import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DECODER_BUG } from '../../src/capture/decoder.js';
import { NAME_INCOMPLETE } from '../../src/capture/unrecovered.js';
import {
  decodeDns,
  DNS_BAD_ANSWER,
  DNS_BAD_QUESTION,
  DNS_TCP_LENGTH,
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
  ipv6,
  LINKTYPE,
  patch,
  TCP_ACK,
  TCP_PSH,
  TCP_SYN,
  tcp,
  u16,
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

  test('DNS on a configured port, and not on 53 when 53 is not configured', async () => {
    const frames = [udpFrame(dnsQuery('custom.test'), false, { client: 40000, server: 5300 }), udpFrame(dnsQuery('default.test'))];
    const { observations } = await decodeMessages(frames, { dnsPorts: [5300] });
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
  test.for<{ name: string; msg: () => Uint8Array; want: string[]; issue: DecodeIssue }>([
    { name: 'header cut to 11 bytes', msg: () => dnsQuery('a.test').subarray(0, 11), want: [], issue: DNS_TRUNCATED_HEADER },
    { name: 'empty UDP payload', msg: () => new Uint8Array(0), want: [], issue: DNS_TRUNCATED_HEADER },
    { name: 'pointer to itself (a loop)', msg: () => rawMessage({}, question(Uint8Array.of(0xc0, 12))), want: [], issue: DNS_BAD_QUESTION },
    { name: 'two pointers pointing at each other', msg: () => rawMessage({}, question(Uint8Array.of(0xc0, 14, 0xc0, 12))), want: [], issue: DNS_BAD_QUESTION },
    { name: 'pointer past the end', msg: () => rawMessage({}, question(Uint8Array.of(0xc1, 0x00))), want: [], issue: DNS_BAD_QUESTION },
    { name: 'reserved label type 0x40 (bad label)', msg: () => rawMessage({}, question(Uint8Array.of(0x41, 0x61, 0))), want: [], issue: DNS_BAD_QUESTION },
    { name: 'label longer than the message', msg: () => rawMessage({}, Uint8Array.of(20, 0x61, 0x62)), want: [], issue: DNS_BAD_QUESTION },
    { name: 'name without its QTYPE/QCLASS', msg: () => rawMessage({}, labels('a', 'test')), want: [], issue: DNS_BAD_QUESTION },
    { name: 'name longer than 255 octets', msg: () => rawMessage({}, question(labels('a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(63)))), want: [], issue: DNS_BAD_QUESTION },
    { name: 'QDCOUNT 3 with one question: the first is reported', msg: () => rawMessage({ qd: 3 }, question(labels('first', 'test'))), want: ['first.test'], issue: DNS_BAD_QUESTION },
    {
      name: 'a good answer then a damaged one: the first is reported',
      msg: () => {
        const good = dnsResponse('a.test', [{ type: 'A', name: 'a.test', data: '198.18.1.1' }]);
        return concat(patch(good, 6, u16(2)), Uint8Array.of(0xc0, 12, 0, 1)); // ANCOUNT 2, second record cut after its type
      },
      want: ['a.test'],
      issue: DNS_BAD_ANSWER,
    },
  ])('$name', async ({ msg, want, issue }) => {
    const isResponse = issue === DNS_BAD_ANSWER;
    const { observations, decoder } = await decodeMessages([udpFrame(msg(), isResponse)]);
    expect(observations.map((o) => o.name)).toEqual(want);
    expect(decoder.issues.rows()).toEqual([{ layer: issue.layer, kind: issue.kind, reason: issue.reason, count: 1 }]);
    expect(decoder.issues.get(DECODER_BUG)).toBe(0);
  });

  test('decodeDns on its own: every prefix of a response returns an issue or reports a prefix of the records', () => {
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

  test('random bytes and mutated messages never throw, and names stay within 253 characters', () => {
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
        for (const n of names) expect(n.length).toBeLessThanOrEqual(MAX_NAME_LEN);
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
