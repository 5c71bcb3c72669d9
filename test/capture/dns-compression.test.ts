import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeDns, DNS_ANSWERS_IN_QUERY, type DnsSink } from '../../src/capture/app/dns.js';
import { NameFilter } from '../../src/capture/app/name-filter.js';
import { lowerAscii, PRESENTATION_NAME, toDnsPacketForm } from '../helpers/dns-names.js';

/**
 * Compressed names (RFC 1035 §4.1.4), which dns-packet decodes but never writes: messages built
 * here with names that end in pointers to earlier names (or to the middle of one), odd label
 * bytes (upper case, '_', '@', '[', bytes >= 0x80), and CNAME targets that point back into
 * the message. The hot-path decoder (with its per-message name cache) must report exactly the
 * names dns-packet decodes, and the name filter must change only which names are counted as
 * filtered. The hot path gives names in RFC 1035 §5.1 presentation format (odd bytes as \DDD,
 * a dot or backslash in a label as \. or \\), dns-packet its labels as UTF-8 with nothing
 * escaped: each name must be canonical presentation format and, read back, dns-packet's.
 */
const LABELS = ['a', 'B', 'kaspersky', 'com', 'upd', 's01', '_x', '@', '[', 'Z'];
const ODD = [[0x80], [0x7f], [0xc3, 0xa9], [0x41, 0x5a, 0x5b, 0x60], [0x61, 0x2e], [0x2e, 0x62], [0xc3, 0xa9, 0x2e]];

interface Piece {
  labels: number[];
  /** Index of an earlier name start to point at, or -1 to end with the root. */
  ptr: number;
}
const piece = fc.record({ labels: fc.array(fc.nat(LABELS.length + ODD.length - 1), { maxLength: 3 }), ptr: fc.integer({ min: -1, max: 20 }) });
const record = fc.record({ type: fc.constantFrom(1, 28, 5, 16), owner: piece, target: piece, addr: fc.nat(255) });
const message = fc.record({
  response: fc.boolean(),
  questions: fc.array(piece, { minLength: 1, maxLength: 3 }),
  answers: fc.array(record, { maxLength: 6 }),
});

const labelBytes = (i: number): number[] => (i < LABELS.length ? [...Buffer.from(LABELS[i]!, 'latin1')] : ODD[i - LABELS.length]!);

/** Writes the message; names point only backward, at offsets where an earlier name or label starts. */
type Message = typeof message extends fc.Arbitrary<infer T> ? T : never;
function build(m: Message): Uint8Array {
  const out: number[] = [0x12, 0x34, m.response ? 0x81 : 0x01, m.response ? 0x80 : 0x00, 0, m.questions.length, 0, m.answers.length, 0, 0, 0, 0];
  const starts: number[] = [];
  const name = (p: Piece): number[] => {
    const bytes: number[] = [];
    const here: number[] = [];
    for (const l of p.labels) {
      here.push(out.length + bytes.length);
      const lb = labelBytes(l);
      bytes.push(lb.length, ...lb);
    }
    if (p.ptr >= 0 && starts.length > 0) {
      const to = starts[p.ptr % starts.length]!;
      bytes.push(0xc0 | (to >> 8), to & 0xff);
    } else bytes.push(0);
    starts.push(...here);
    return bytes;
  };
  for (const q of m.questions) out.push(...name(q), 0, 1, 0, 1);
  for (const a of m.answers) {
    out.push(...name(a.owner));
    out.push(0, a.type, 0, 1, 0, 0, 0, 60);
    const lenAt = out.length;
    out.push(0, 0);
    if (a.type === 1) out.push(198, 18, 0, a.addr);
    else if (a.type === 28) out.push(0xfd, ...new Array<number>(14).fill(0), a.addr);
    else if (a.type === 5) out.push(...name(a.target));
    else out.push(2, 0x68, 0x69);
    const rdlen = out.length - lenAt - 2;
    out[lenAt] = rdlen >> 8;
    out[lenAt + 1] = rdlen & 0xff;
  }
  return Uint8Array.from(out);
}

const norm = lowerAscii;

/** `names`: each name as the hot path gives it; in `seen`, read back to dns-packet's form. */
function collect(msg: Uint8Array, filter?: NameFilter): { seen: string[]; names: string[]; filtered: number; issue: unknown } {
  const seen: string[] = [];
  const names: string[] = [];
  let filtered = 0;
  const view = (n: string): string => {
    names.push(n);
    return toDnsPacketForm(n);
  };
  const sink: DnsSink = {
    query: (n) => seen.push(`Q ${view(n)}`),
    answer: (n, t, d) => seen.push(`R ${view(n)} ${t} ${t === 'CNAME' ? view(d) : d}`),
    nameFilter: filter,
    filtered: () => void filtered++,
  };
  const issue = decodeDns(msg, sink);
  return { seen, names, filtered, issue };
}

describe('compressed names: the hot path agrees with dns-packet', () => {
  test('random messages whose names point back at earlier names', () => {
    let checked = 0;
    fc.assert(
      fc.property(message, (m) => {
        const msg = build(m);
        const ref = dnsPacket.decode(Buffer.from(msg));
        const response = ref.type === 'response';
        const want: string[] = [];
        if (!response) for (const q of ref.questions ?? []) want.push(`Q ${norm(q.name)}`);
        for (const a of response ? (ref.answers ?? []) : []) {
          if (a.type === 'A' || a.type === 'AAAA') want.push(`R ${norm(a.name)} ${a.type} ${String(a.data).replace(/^fd00:0:0:0:0:0:0:/, 'fd00::')}`);
          if (a.type === 'CNAME') want.push(`R ${norm(a.name)} CNAME ${norm(a.data)}`);
        }
        const got = collect(msg);
        // A query's answer records are counted, not reported (DESIGN.md: answers from responses only).
        expect(got.issue).toBe(response || m.answers.length === 0 ? undefined : DNS_ANSWERS_IN_QUERY);
        for (const n of got.names) expect(n).toMatch(PRESENTATION_NAME);
        expect(got.seen).toEqual(want);
        checked++;
      }),
      { numRuns: 1500 },
    );
    expect(checked).toBe(1500);
  });

  test('the name filter changes only what is counted as filtered', () => {
    const roots = ['kaspersky.com', 'upd.s01', 'com', 'a'];
    const wants = (_k: string, n: string, t: string | undefined): boolean => /kaspersky\.com$|^upd\.s01$/.test(n) || (t !== undefined && /kaspersky\.com$/.test(t));
    const withRoots = new NameFilter(wants, roots);
    const without = new NameFilter(wants, undefined);
    fc.assert(
      fc.property(message, (m) => {
        const msg = build(m);
        const all = collect(msg);
        const a = collect(msg, withRoots);
        const b = collect(msg, without);
        expect(a).toEqual(b);
        expect(a.seen.length + a.filtered).toBe(all.seen.length);
        for (const s of a.seen) expect(all.seen).toContain(s);
      }),
      { numRuns: 1500 },
    );
  });
});
