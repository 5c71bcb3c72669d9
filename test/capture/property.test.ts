import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DECODER_BUG, Decoder } from '../../src/capture/decoder.js';
import type { Observation } from '../../src/capture/observation.js';
import { readCapture } from '../../src/capture/read/source.js';
import { KasmonError } from '../../src/errors.js';
import {
  concat,
  dnsQuery,
  dnsResponse,
  dnsTcp,
  eth,
  ETH_IPV4,
  ETH_IPV6,
  ETH_TEB,
  gre,
  gtpu,
  httpGet,
  IPPROTO_GRE,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipv4,
  ipv6,
  LINKTYPE,
  nullLink,
  sll,
  sll2,
  tcp,
  udp,
  vxlan,
} from '../helpers/packets.js';
import { frameFeeder, packetTimeDriver, pcapFile, pcapHeader, pcapngFile, writeTemp } from '../helpers/pcap.js';
import { clientInitialDatagrams, hex } from '../helpers/quic.js';
import { clientHello, handshakeMessage } from '../helpers/tls.js';

/**
 * Properties of the whole capture path: whatever the bytes, Decoder.onFrame never throws and
 * never trips its internal-error guard (DECODER_BUG counts exceptions it caught), keeps
 * working afterwards, and never reports a name that was not in the packet; readCapture either
 * reads a file or raises a KasmonError.
 */

const C4 = '198.18.0.10';
const S4 = '198.19.0.53';
const NAME = 's01.upd.kaspersky.com';

const udp4 = (dport: number, payload: Uint8Array, sport = 40000): Uint8Array => ipv4({ src: C4, dst: S4, proto: IPPROTO_UDP }, udp({ sport, dport }, payload));
const tcp4 = (dport: number, payload: Uint8Array): Uint8Array => ipv4({ src: C4, dst: S4, proto: IPPROTO_TCP }, tcp({ sport: 40001, dport }, payload));
const dns4 = (): Uint8Array => udp4(53, dnsQuery(NAME));
const dns6 = (): Uint8Array => ipv6({ src: 'fd00::10', dst: 'fd00::53', next: IPPROTO_UDP }, udp({ sport: 40000, dport: 53 }, dnsQuery(NAME)));

/** A valid DNS-query frame for each link type, to show the decoder still works after garbage. */
const VALID: ReadonlyArray<{ linktype: number; frame: () => Uint8Array }> = [
  { linktype: LINKTYPE.NULL, frame: () => nullLink(2, true, dns4()) },
  { linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_IPV4 }, dns4()) },
  { linktype: LINKTYPE.RAW_12, frame: dns4 },
  { linktype: LINKTYPE.RAW_OPENBSD, frame: dns6 },
  { linktype: LINKTYPE.RAW, frame: dns6 },
  { linktype: LINKTYPE.LOOP, frame: () => nullLink(2, false, dns4()) },
  { linktype: LINKTYPE.LINUX_SLL, frame: () => sll({ protocol: ETH_IPV4 }, dns4()) },
  { linktype: LINKTYPE.IPV4, frame: dns4 },
  { linktype: LINKTYPE.IPV6, frame: dns6 },
  { linktype: LINKTYPE.LINUX_SLL2, frame: () => sll2({ protocol: ETH_IPV6 }, dns6()) },
];

function noInternalErrors(d: Decoder): void {
  expect(d.issues.get(DECODER_BUG)).toBe(0);
}

describe('Decoder.onFrame on arbitrary bytes', () => {
  const linktypes = [...VALID.map((v) => v.linktype), LINKTYPE.IEEE802_11, 147, 0xffff];

  test('random bytes under every link type: no throw, no internal error, and the next valid frame still decodes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.array(fc.tuple(fc.constantFrom(...linktypes), fc.uint8Array({ maxLength: 300 })), { minLength: 1, maxLength: 8 }), (valid, garbage) => {
        const feeder = frameFeeder();
        for (const [lt, bytes] of garbage) feeder.feed(bytes, lt);
        const before = feeder.observations.length;
        feeder.feed(valid.frame(), valid.linktype);
        const added = feeder.observations.slice(before);
        expect(added.map((o) => [o.kind, o.name, o.frame])).toEqual([['dns_query', NAME, garbage.length + 1]]);
        feeder.decoder.finish();
        noInternalErrors(feeder.decoder);
      }),
      { numRuns: 1500 },
    );
  });

  /** Valid headers down to a transport, then random bytes: reaches the application decoders. */
  const carriers: ReadonlyArray<{ name: string; wrap: (tail: Uint8Array) => Uint8Array }> = [
    { name: 'UDP/53', wrap: (t) => eth({ type: ETH_IPV4 }, udp4(53, t)) },
    { name: 'UDP/53 response', wrap: (t) => eth({ type: ETH_IPV4 }, ipv4({ src: S4, dst: C4, proto: IPPROTO_UDP }, udp({ sport: 53, dport: 40000 }, t))) },
    { name: 'TCP/53', wrap: (t) => eth({ type: ETH_IPV4 }, tcp4(53, t)) },
    { name: 'TCP/80', wrap: (t) => eth({ type: ETH_IPV4 }, tcp4(80, t)) },
    { name: 'TCP/443', wrap: (t) => eth({ type: ETH_IPV4 }, tcp4(443, t)) },
    { name: 'UDP/443', wrap: (t) => eth({ type: ETH_IPV4 }, udp4(443, t)) },
    { name: 'UDP/4789', wrap: (t) => eth({ type: ETH_IPV4 }, udp4(4789, t)) },
    { name: 'UDP/6081', wrap: (t) => eth({ type: ETH_IPV4 }, udp4(6081, t)) },
    { name: 'UDP/2152', wrap: (t) => eth({ type: ETH_IPV4 }, udp4(2152, t)) },
    { name: 'GRE', wrap: (t) => eth({ type: ETH_IPV4 }, ipv4({ src: C4, dst: S4, proto: IPPROTO_GRE }, t)) },
    { name: 'IPv6 next header chain', wrap: (t) => concat(eth({ type: ETH_IPV6 }, new Uint8Array(0)), Uint8Array.of(0x60, 0, 0, 0, 0, t.length, t[0] ?? 0, 64), new Uint8Array(32).fill(0xfd), t) },
  ];
  /** Prefixes that steer random tails into the interesting branches. */
  const tails = fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    fc.uint8Array({ maxLength: 400 }).map((t) => concat(Uint8Array.of(0x16, 0x03, 0x01), t)), // TLS record
    fc.uint8Array({ maxLength: 400 }).map((t) => concat(Uint8Array.of(0x16, 0x03, 0x01, 0x01, 0x00, 0x01), t)), // TLS ClientHello
    fc.uint8Array({ maxLength: 400 }).map((t) => concat(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: '), t)),
    fc.uint8Array({ maxLength: 400 }).map((t) => concat(Uint8Array.of(0xc3, 0, 0, 0, 1), t)), // QUIC v1 long header
    fc.uint8Array({ maxLength: 400 }).map((t) => concat(Uint8Array.of(0x08, 0, 0, 0, 0, 0, 1, 0), t)), // VXLAN
    fc.uint8Array({ maxLength: 400 }).map((t) => concat(Uint8Array.of(0x34, 0xff), t)), // GTP-U G-PDU with E
  );

  test('valid headers and a random payload: no internal error, names are normalised', () => {
    fc.assert(
      fc.property(fc.constantFrom(...carriers), fc.array(tails, { minLength: 1, maxLength: 4 }), (carrier, payloads) => {
        const feeder = frameFeeder();
        for (const p of payloads) feeder.feed(carrier.wrap(p), LINKTYPE.ETHERNET);
        feeder.decoder.finish();
        noInternalErrors(feeder.decoder);
        for (const o of feeder.observations) {
          expect(o.name.length).toBeLessThanOrEqual(253);
          expect(o.name).toBe(o.name.toLowerCase());
          expect(o.name.endsWith('.')).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('valid frames with random bytes overwritten: no internal error', () => {
    const frames = PREFIX_CASES.map((c) => c.frame());
    fc.assert(
      fc.property(
        fc.nat(frames.length - 1),
        fc.array(fc.tuple(fc.nat(4000), fc.nat(255)), { minLength: 1, maxLength: 8 }),
        (which, edits) => {
          const f = frames[which]!.slice();
          for (const [i, v] of edits) f[i % f.length] = v;
          const feeder = frameFeeder();
          feeder.feed(f, LINKTYPE.ETHERNET);
          feeder.decoder.finish();
          noInternalErrors(feeder.decoder);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

/**
 * Valid frames and the observations they yield (as frame 1 of a frameFeeder). Every prefix of
 * one must give either none of them or some of them, exactly; never another name.
 */
interface PrefixCase {
  name: string;
  frame: () => Uint8Array;
  /** kind:name of every observation the whole frame yields, in order. */
  want: string[];
}

const QUIC_DCID = hex('8394c8f03e515708');
const PREFIX_CASES: readonly PrefixCase[] = [
  { name: 'DNS query over UDP', frame: () => eth({ type: ETH_IPV4 }, dns4()), want: [`dns_query:${NAME}`] },
  { name: 'DNS query over UDP/IPv6', frame: () => eth({ type: ETH_IPV6 }, dns6()), want: [`dns_query:${NAME}`] },
  {
    name: 'DNS response with a CNAME chain',
    frame: () =>
      eth(
        { type: ETH_IPV4 },
        ipv4(
          { src: S4, dst: C4, proto: IPPROTO_UDP },
          udp(
            { sport: 53, dport: 40000 },
            dnsResponse(NAME, [
              { type: 'CNAME', name: NAME, data: 's01.geo.kaspersky.com' },
              { type: 'A', name: 's01.geo.kaspersky.com', data: '198.18.9.9' },
            ]),
          ),
        ),
      ),
    want: [`dns_answer:${NAME}`, 'dns_answer:s01.geo.kaspersky.com'],
  },
  { name: 'two DNS queries over TCP', frame: () => eth({ type: ETH_IPV4 }, tcp4(53, dnsTcp(dnsQuery(NAME), dnsQuery('ksn-a.kaspersky-labs.com')))), want: [`dns_query:${NAME}`, 'dns_query:ksn-a.kaspersky-labs.com'] },
  { name: 'TLS ClientHello', frame: () => eth({ type: ETH_IPV4 }, tcp4(443, clientHello({ sni: 'ksn-a.kaspersky-labs.com', alpn: ['h2'] }))), want: ['tls_sni:ksn-a.kaspersky-labs.com'] },
  { name: 'HTTP GET', frame: () => eth({ type: ETH_IPV4 }, tcp4(80, httpGet('dnl-01.geo.kaspersky.com', '/index.xml'))), want: ['http_host:dnl-01.geo.kaspersky.com'] },
  {
    name: 'DNS query in VXLAN',
    frame: () => eth({ type: ETH_IPV4 }, ipv4({ src: '198.18.200.1', dst: '198.18.200.2', proto: IPPROTO_UDP }, udp({ sport: 49152, dport: 4789 }, vxlan(42, eth({ type: ETH_IPV4 }, dns4()))))),
    want: [`dns_query:${NAME}`],
  },
  {
    name: 'TLS ClientHello in VXLAN',
    frame: () => eth({ type: ETH_IPV4 }, ipv4({ src: '198.18.200.1', dst: '198.18.200.2', proto: IPPROTO_UDP }, udp({ sport: 49152, dport: 4789 }, vxlan(42, eth({ type: ETH_IPV4 }, tcp4(443, clientHello({ sni: 'a.kaspersky.com' }))))))),
    want: ['tls_sni:a.kaspersky.com'],
  },
  {
    name: 'HTTP in GRE TEB in GTP-U',
    frame: () =>
      eth(
        { type: ETH_IPV4 },
        udp4(2152, gtpu(7, ipv4({ src: '198.18.201.1', dst: '198.18.201.2', proto: IPPROTO_GRE }, gre({ proto: ETH_TEB, key: 5 }, eth({ type: ETH_IPV4 }, tcp4(80, httpGet('b.kaspersky.com', '/'))))))),
      ),
    want: ['http_host:b.kaspersky.com'],
  },
  {
    name: 'QUIC Initial',
    frame: () => eth({ type: ETH_IPV4 }, udp4(443, clientInitialDatagrams(handshakeMessage({ sni: 'quic.kaspersky.com', alpn: ['h3'] }), { dcid: QUIC_DCID })[0]!)),
    want: ['quic_sni:quic.kaspersky.com'],
  },
];

describe('every prefix of a valid frame', () => {
  test.for(PREFIX_CASES)('$name', ({ frame, want }) => {
    const full = frame();
    const whole = frameFeeder();
    whole.feed(full, LINKTYPE.ETHERNET);
    expect(whole.observations.map((o) => `${o.kind}:${o.name}`)).toEqual(want);
    const reference = whole.observations;

    for (const snaplen of [false, true]) {
      for (let k = 0; k < full.length; k++) {
        const feeder = frameFeeder();
        // As a shorter frame (lengths in the headers claim more), or as a snaplen-cut record.
        feeder.feed(full.slice(0, k), LINKTYPE.ETHERNET, snaplen ? full.length : undefined);
        feeder.decoder.finish();
        noInternalErrors(feeder.decoder);
        // Only observations the whole frame gives, each exactly, in the same order.
        const got = feeder.observations;
        expect(got.length, `prefix ${k}`).toBeLessThanOrEqual(reference.length);
        got.forEach((o: Observation, i) => expect(o, `prefix ${k}`).toStrictEqual(reference[i]));
      }
    }
  });
});

describe('readCapture on arbitrary files', () => {
  async function readOrKasmonError(bytes: Uint8Array): Promise<void> {
    const path = writeTemp(bytes, 'bin');
    const decoder = new Decoder(() => {});
    try {
      const r = await readCapture(path, packetTimeDriver(decoder));
      expect(r.frames).toBe(decoder.stats.frames);
    } catch (e) {
      if (!(e instanceof KasmonError)) throw e;
      expect(['ERR_INPUT_NOT_CAPTURE', 'ERR_INPUT_DAMAGED']).toContain(e.code);
    }
    decoder.finish();
    noInternalErrors(decoder);
  }

  const dnsFrame = eth({ type: ETH_IPV4 }, dns4());
  const validPcap = pcapFile([{ data: dnsFrame }, { data: dnsFrame }], { linktype: LINKTYPE.ETHERNET });
  const validPcapng = pcapngFile([{ interfaces: [{ linktype: LINKTYPE.ETHERNET }, { linktype: LINKTYPE.RAW, tsresol: 9 }], packets: [{ iface: 0, data: dnsFrame }, { iface: 1, data: dns4() }] }]);
  const mutate = (base: Uint8Array) =>
    fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 6 }).map((edits) => {
      const b = base.slice();
      for (const [i, v] of edits) b[i] = v;
      return b;
    });

  test.for([
    { name: 'random bytes', arb: fc.uint8Array({ maxLength: 400 }) },
    { name: 'a pcap header then random records', arb: fc.tuple(fc.boolean(), fc.boolean(), fc.uint8Array({ maxLength: 400 })).map(([be, ns, t]) => concat(pcapHeader({ linktype: LINKTYPE.ETHERNET, bigEndian: be, nanos: ns }), t)) },
    { name: 'a pcapng magic then random bytes', arb: fc.uint8Array({ maxLength: 400 }).map((t) => concat(Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a), t)) },
    { name: 'a gzip magic then random bytes', arb: fc.uint8Array({ maxLength: 400 }).map((t) => concat(Uint8Array.of(0x1f, 0x8b, 0x08, 0x00), t)) },
    { name: 'gzip of random bytes', arb: fc.uint8Array({ maxLength: 400 }).map((t) => new Uint8Array(gzipSync(t))) },
    { name: 'a valid pcap with bytes overwritten', arb: mutate(validPcap) },
    { name: 'a valid pcapng with bytes overwritten', arb: mutate(validPcapng) },
    { name: 'a valid pcap cut anywhere', arb: fc.nat(validPcap.length).map((k) => validPcap.slice(0, k)) },
    { name: 'a valid pcapng cut anywhere', arb: fc.nat(validPcapng.length).map((k) => validPcapng.slice(0, k)) },
  ])('$name: a result or a KasmonError, nothing else', async ({ arb }) => {
    await fc.assert(fc.asyncProperty(arb, readOrKasmonError), { numRuns: 150 });
  });
});
