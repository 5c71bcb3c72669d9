import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeDns, DNS_ANSWERS_IN_QUERY, typeName, type DnsSink } from '../../src/capture/app/dns.js';
import { lowerAscii, PRESENTATION_NAME, toDnsPacketForm } from '../helpers/dns-names.js';

/**
 * dns-packet is the reference: the hot-path decoder in src/capture/app/dns.ts must agree with it
 * on every message dns-packet can encode (names with compression, mixed record types), and
 * must never throw on what dns-packet rejects.
 */
const label = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,14}$/);
const name = fc.array(label, { minLength: 1, maxLength: 5 }).map((l) => l.join('.'));
const v4 = fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `198.18.${a}.${b}`);
const v6 = fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([a, b]) => `fd00::${a.toString(16)}:${b.toString(16)}`);
const answer = fc.oneof(
  fc.record({ type: fc.constant('A' as const), name, data: v4 }),
  fc.record({ type: fc.constant('AAAA' as const), name, data: v6 }),
  fc.record({ type: fc.constant('CNAME' as const), name, data: name }),
  fc.record({ type: fc.constant('TXT' as const), name, data: fc.string({ maxLength: 20 }) }),
  fc.record({ type: fc.constant('MX' as const), name, data: fc.record({ preference: fc.nat(100), exchange: name }) }),
);
const message = fc.record({
  response: fc.boolean(),
  questions: fc.array(fc.record({ name, type: fc.constantFrom('A', 'AAAA', 'MX', 'TXT') as fc.Arbitrary<'A'> }), { minLength: 1, maxLength: 3 }),
  answers: fc.array(answer, { maxLength: 8 }),
});

type Seen = string[];
/**
 * Compared by value, on mutated messages: names read back from presentation format to
 * dns-packet's form (UTF-8 labels, nothing escaped, '.' for the root), query types left out
 * (dns-packet knows mnemonics, AFSDB, KX ..., the hot path writes as TYPEnnn, RFC 3597) and
 * IPv6 addresses in one canonical text (dns-packet does not shorten the longest run of zeros).
 */
const v6Value = (a: string): string => new URL(`http://[${a}]`).hostname;

/** What the hot path reports: `Q name type` and `R name type data`; `names`: each name as given. */
function collect(msg: Uint8Array, byValue = false): { seen: Seen; names: string[]; issue: unknown } {
  const seen: Seen = [];
  const names: string[] = [];
  const view = (n: string): string => {
    names.push(n);
    return byValue ? toDnsPacketForm(n) : n;
  };
  const sink: DnsSink = {
    query: (n, t) => seen.push(byValue ? `Q ${view(n)}` : `Q ${view(n)} ${t}`),
    answer: (n, t, d) => seen.push(`R ${view(n)} ${t} ${t === 'CNAME' ? view(d) : byValue && t === 'AAAA' ? v6Value(d) : d}`),
    nameFilter: undefined,
    filtered: () => {},
  };
  return { seen, names, issue: decodeDns(msg, sink) };
}

/**
 * What the hot path must report for a message as dns-packet decodes it: questions of a query,
 * A/AAAA/CNAME answers of a response (DESIGN.md: QR=1); names with ASCII lower-cased.
 */
function expected(ref: ReturnType<typeof dnsPacket.decode>, byValue = false): Seen {
  const want: Seen = [];
  const response = ref.type === 'response';
  if (!response) for (const q of ref.questions ?? []) want.push(byValue ? `Q ${lowerAscii(q.name)}` : `Q ${lowerAscii(q.name)} ${q.type}`);
  for (const a of response ? (ref.answers ?? []) : []) {
    if (a.type === 'A') want.push(`R ${lowerAscii(a.name)} A ${a.data}`);
    if (a.type === 'AAAA') want.push(`R ${lowerAscii(a.name)} AAAA ${byValue ? v6Value(a.data) : a.data}`);
    if (a.type === 'CNAME') want.push(`R ${lowerAscii(a.name)} CNAME ${lowerAscii(a.data)}`);
  }
  return want;
}

interface Codec {
  decode: ((buf: Buffer, offset: number) => unknown) & { bytes: number };
}
/** dns-packet's name and record decoders (exported, not in its type declarations). */
const { name: wireName, answer: wireAnswer } = dnsPacket as unknown as { name: Codec; answer: Codec };

/**
 * Does dns-packet read each answer record to the end its RDLENGTH gives (RFC 1035 §4.1.3)? It
 * reads A, AAAA, MX, TXT ... by their own layout instead, so where a mutated RDLENGTH says
 * otherwise, it goes on at another offset than the hot path (which follows RDLENGTH) and reads
 * other records: it is then no reference for what follows.
 */
function dnsPacketFollowsRdlength(buf: Buffer): boolean {
  let off = 12;
  for (let i = buf.readUInt16BE(4); i > 0; i--) {
    wireName.decode(buf, off);
    off += wireName.decode.bytes + 4;
  }
  for (let i = buf.readUInt16BE(6); i > 0; i--) {
    wireName.decode(buf, off);
    const framed = wireName.decode.bytes + 10 + buf.readUInt16BE(off + wireName.decode.bytes + 8);
    wireAnswer.decode(buf, off);
    if (wireAnswer.decode.bytes !== framed) return false;
    off += framed;
  }
  return true;
}

describe('hot-path DNS decoder agrees with dns-packet', () => {
  test('on random encodable messages', () => {
    fc.assert(
      fc.property(message, (m) => {
        const buf = dnsPacket.encode({
          type: m.response ? 'response' : 'query',
          id: 7,
          flags: m.response ? dnsPacket.RECURSION_DESIRED : 0,
          questions: m.questions,
          answers: m.answers as dnsPacket.Answer[],
        });
        const want = expected(dnsPacket.decode(buf));
        const got = collect(buf);
        // A query's answer records are counted, not reported (DESIGN.md: answers from responses only).
        expect(got.issue).toBe(m.response || m.answers.length === 0 ? undefined : DNS_ANSWERS_IN_QUERY);
        expect(got.seen).toEqual(want);
      }),
      { numRuns: 1500 },
    );
  });

  // Mutated bytes make names with any byte in them: the hot path gives those in presentation
  // format (RFC 1035 §5.1: \DDD, \. and \\), dns-packet as UTF-8 with nothing escaped. Each name
  // must be in canonical presentation format and, read back, be the one dns-packet decodes.
  test('on mutated messages: never throws, every name is in presentation format, and when dns-packet still decodes one, reports the names it decodes (a prefix of them with an issue)', () => {
    let compared = 0;
    fc.assert(
      fc.property(message, fc.array(fc.tuple(fc.nat(600), fc.nat(255)), { minLength: 1, maxLength: 6 }), (m, muts) => {
        const buf = Buffer.from(dnsPacket.encode({ type: 'query', id: 1, questions: m.questions, answers: m.answers as dnsPacket.Answer[] }));
        for (const [i, v] of muts) if (i < buf.length) buf[i] = v;
        const got = collect(buf, true);
        for (const s of got.seen) expect(s.length).toBeLessThan(600);
        for (const n of got.names) expect(n).toMatch(PRESENTATION_NAME);
        let ref: ReturnType<typeof dnsPacket.decode>;
        try {
          ref = dnsPacket.decode(buf);
        } catch {
          return; // dns-packet rejects it: the hot path may still report what came before the damage
        }
        if (!dnsPacketFollowsRdlength(buf)) return;
        compared++;
        const want = expected(ref, true);
        if (got.issue === undefined) expect(got.seen).toEqual(want);
        else expect(got.seen).toEqual(want.slice(0, got.seen.length));
      }),
      { numRuns: 1500 },
    );
    expect(compared).toBeGreaterThan(1000); // most mutated messages still decode
  });

  test('on compressed names (RFC 1035 §4.1.4), which dns-packet decodes but never encodes', () => {
    // question s01.upd.kaspersky.com at 12; answer 1: owner ptr→12, CNAME "eu" + ptr→16 (upd...);
    // answer 2: owner ptr to the CNAME target, A 198.18.0.9
    const q = Buffer.from('\x03s01\x03upd\x09kaspersky\x03com\x00\x00\x01\x00\x01', 'latin1');
    const hdr = Buffer.from([0, 7, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0]);
    const a1 = Buffer.from([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 5, 2, 0x65, 0x75, 0xc0, 16]);
    const a1Target = 12 + q.length + 12; // offset of "eu" in the message
    const a2 = Buffer.from([0xc0, a1Target, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 9]);
    const msg = Buffer.concat([hdr, q, a1, a2]);
    const ref = dnsPacket.decode(msg);
    expect(ref.answers?.map((a) => [a.name, a.type, (a as { data?: unknown }).data])).toEqual([
      ['s01.upd.kaspersky.com', 'CNAME', 'eu.upd.kaspersky.com'],
      ['eu.upd.kaspersky.com', 'A', '198.18.0.9'],
    ]);
    expect(collect(msg).seen).toEqual(['R s01.upd.kaspersky.com CNAME eu.upd.kaspersky.com', 'R eu.upd.kaspersky.com A 198.18.0.9']);
    // A pointer to itself is refused by both (a loop). (A forward pointer, which dns-packet
    // refuses, we follow as resolvers and tshark do: dns.test.ts.)
    const loop = Buffer.concat([hdr.subarray(0, 4), Buffer.from([0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    expect(() => dnsPacket.decode(loop)).toThrow();
    expect(collect(loop)).toEqual({ seen: [], names: [], issue: expect.objectContaining({ reason: 'question' }) });
  });

  test('type names', () => {
    expect([1, 28, 5, 65, 64, 255, 4242].map(typeName)).toEqual(['A', 'AAAA', 'CNAME', 'HTTPS', 'SVCB', 'ANY', 'TYPE4242']);
  });
});
