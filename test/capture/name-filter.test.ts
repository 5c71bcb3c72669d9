import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Matcher } from '../../src/analyze/hostnames.js';
import { decodeDns, type DnsSink } from '../../src/capture/app/dns.js';
import { NameFilter } from '../../src/capture/app/name-filter.js';
import { loadConfig } from '../../src/config/load.js';

/**
 * replay hands the DNS decoder the matcher's roots: names outside them are counted without a
 * string being built. Whatever the message, the names reported and the names counted as not
 * wanted must be exactly what the unfiltered decoder with the same `wants` gives.
 */
const matcher = new Matcher(loadConfig().endpoints);
const accept = (_kind: string, name: string, cname: string | undefined): boolean =>
  matcher.match(name) !== undefined || (cname !== undefined && matcher.match(cname) !== undefined);
/** The filter replay uses (wants + the rules' roots), and the same decision without the byte-level pre-filter. */
const filter = new NameFilter(accept, matcher.rootNames());
const noRoots = new NameFilter(accept, undefined);

function run(msg: Uint8Array, withRoots: boolean): { seen: string[]; skipped: Record<string, number>; issue: unknown } {
  const seen: string[] = [];
  const skipped: Record<string, number> = { dns_query: 0, dns_answer: 0 };
  const sink: DnsSink = {
    query: (n, t) => seen.push(`Q ${n} ${t}`),
    answer: (n, t, d) => seen.push(`R ${n} ${t} ${d}`),
    nameFilter: withRoots ? filter : noRoots,
    filtered: (kind) => void skipped[kind]!++,
  };
  return { seen, skipped, issue: decodeDns(msg, sink) };
}

const kasperskyish = fc.constantFrom(
  's01.upd.kaspersky.com',
  'DNL-07.GEO.kaspersky.com.',
  'ksn-file-geo.kaspersky-labs.com',
  'activation-v2.kaspersky.com',
  'kaspersky.com',
  'www.kaspersky.ru',
  'x.kaspersky.co.uk',
  'ultraav.com',
);
const foreign = fc.oneof(
  fc.constantFrom('example.com', 'notkaspersky.com', 'kaspersky.com.evil.net', 'co.uk', 'bbc.co.uk', 'com', 'a'),
  fc.array(fc.stringMatching(/^[a-z0-9-]{1,10}$/), { minLength: 1, maxLength: 4 }).map((l) => l.join('.')),
);
const name = fc.oneof(kasperskyish, foreign);
const answer = fc.oneof(
  fc.record({ type: fc.constant('A' as const), name, data: fc.constant('198.18.0.1') }),
  fc.record({ type: fc.constant('AAAA' as const), name, data: fc.constant('fd00::1') }),
  fc.record({ type: fc.constant('CNAME' as const), name, data: name }),
);

describe('DNS decoding with the name-root filter (replay)', () => {
  test('reports and counts exactly what the unfiltered decoder does (random messages)', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(name, { minLength: 1, maxLength: 3 }), fc.array(answer, { maxLength: 8 }), (response, qs, answers) => {
        const msg = dnsPacket.encode({
          type: response ? 'response' : 'query',
          id: 1,
          flags: response ? dnsPacket.RECURSION_DESIRED : 0,
          questions: qs.map((n) => ({ name: n, type: 'A' as const })),
          answers: answers as dnsPacket.Answer[],
        });
        expect(run(msg, true)).toStrictEqual(run(msg, false));
      }),
      { numRuns: 2000 },
    );
  });

  test('compressed names: owners pointing at a rejected question, CNAME targets pointing into it', () => {
    const u16 = (v: number): number[] => [v >> 8, v & 0xff];
    const labels = (...ls: string[]): number[] => [...ls.flatMap((l) => [l.length, ...Buffer.from(l, 'latin1')]), 0];
    const rr = (owner: number[], type: number, rdata: number[]): number[] => [...owner, ...u16(type), ...u16(1), 0, 0, 0, 60, ...u16(rdata.length), ...rdata];
    const q = [...labels('cdn', 'example', 'com'), ...u16(1), ...u16(1)];
    // Question cdn.example.com (rejected by the filter). Answer 1: c00c CNAME
    // s01.upd.kaspersky.com (the owner must be read in full after all); answer 2: c00c A
    // (rejected again, from the cache); answer 3: a pointer to the CNAME target, A.
    const target = labels('s01', 'upd', 'kaspersky', 'com');
    const a1 = rr([0xc0, 12], 5, target);
    const targetOff = 12 + q.length + 2 + 10;
    const a2 = rr([0xc0, 12], 1, [198, 18, 0, 9]);
    const a3 = rr([0xc0 | (targetOff >> 8), targetOff & 0xff], 1, [198, 18, 0, 10]);
    const msg = Uint8Array.from([...u16(7), ...u16(0x8180), ...u16(1), ...u16(3), 0, 0, 0, 0, ...q, ...a1, ...a2, ...a3]);
    const filtered = run(msg, true);
    expect(filtered).toStrictEqual(run(msg, false));
    expect(filtered.seen).toStrictEqual(['R cdn.example.com CNAME s01.upd.kaspersky.com', 'R s01.upd.kaspersky.com A 198.18.0.10']);
    expect(filtered.skipped).toStrictEqual({ dns_query: 0, dns_answer: 1 });
  });
});

describe('NameFilter.mayWant', () => {
  const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
  test.for([
    { name: 's01.upd.kaspersky.com', want: true },
    { name: 'kaspersky.com', want: true },
    { name: 'a.b.c.kaspersky-labs.com', want: true },
    { name: 'x.kaspersky.co.uk', want: true }, // root co.uk: the matcher decides the rest
    { name: 'notkaspersky.com', want: false },
    { name: 'kaspersky.com.evil.net', want: false },
    { name: 'com', want: false },
    { name: '', want: false },
    { name: '.kaspersky.com', want: true }, // same last two labels; the matcher rejects the leading dot
  ])('$name -> $want', ({ name, want }) => {
    expect(filter.mayWant(bytes(name), name.length)).toBe(want);
  });

  test('never rejects a name the matcher matches (random names around the roots)', () => {
    const labelArb = fc.stringMatching(/^[a-z0-9-]{1,8}$/);
    const root = fc.constantFrom(...matcher.rootNames());
    fc.assert(
      fc.property(fc.array(labelArb, { maxLength: 3 }), fc.oneof(root, labelArb), (pre, r) => {
        const n = [...pre, r].join('.');
        if (matcher.match(n) !== undefined) expect(filter.mayWant(bytes(n), n.length)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
