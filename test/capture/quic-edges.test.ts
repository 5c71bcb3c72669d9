/**
 * QUIC Initial assembler at its edges (issue 9, mutation testing): the version kinds by their
 * bytes, the probe and the datagram walk at each bound (CIDs of exactly 20 bytes, a Length of
 * exactly the sample's 20, a Retry, packets coalesced after an unusable one), the frame parser
 * on every frame cut short at the end of a packet, the salt guessing's limits, connections
 * that share a 5-tuple, packet numbers decoded against the largest one seen, the CRYPTO limits
 * to the byte, and the byte budget.
 */
import { describe, expect, test } from 'vitest';
import { isIssue, IssueCounter, type DecodeIssue } from '../../src/capture/issues.js';
import {
  BUFFER_OVERHEAD,
  CONN_BYTES,
  looksLikeQuicInitial,
  MAX_CRYPTO_FRAGMENTS,
  MAX_GUESSED_VERSIONS,
  MAX_GUESS_TRIES,
  QuicInitialAssembler,
  QUIC_BAD_FRAME,
  QUIC_BAD_HEADER,
  QUIC_CRYPTO_TOO_LONG,
  QUIC_DECRYPT_FAILED,
  QUIC_EVICTED,
  QUIC_NOT_CLIENT_HELLO,
  QUIC_PACKET_TOO_SHORT,
  QUIC_SERVER_INITIAL,
  QUIC_TIMEOUT,
  QUIC_TOO_MANY_FRAGMENTS,
  QUIC_TRUNCATED_HEADER,
  QUIC_UNSUPPORTED_VERSION,
  QUIC_VERSION_GREASE,
  RANGE_BYTES,
  unsupportedVersionIssue,
} from '../../src/capture/app/quic.js';
import { QuicVersion } from '../../src/capture/app/quic-crypto.js';
import { parseClientHello } from '../../src/capture/app/tls.js';
import { NAME_EVICTED, NAME_INCOMPLETE } from '../../src/capture/unrecovered.js';
import { clientInitialDatagrams, concat, fakeClientHello, frames, hex, longPacket, sealInitial, splitCrypto, toHex, type InitialSpec } from '../helpers/quic.js';

const DCID = hex('0011223344556677');
const TUPLE = '198.18.0.10|53727|198.19.0.5|443';
const HELLO = fakeClientHello({ sni: 'ksn.kaspersky.com' });
const BIG = fakeClientHello({ sni: 'dnl-01.geo.kaspersky.com', size: 1800 });

type Result = Uint8Array | DecodeIssue | undefined;

/** SNI of what the assembler returned, or the issue's key. */
function outcome(r: Result): string | undefined {
  if (r === undefined) return undefined;
  if (isIssue(r)) return r.key;
  const h = parseClientHello(r);
  return isIssue(h) ? h.key : h.sni;
}

/** One client Initial carrying `payload` (no padding unless minSize is given). */
function seal(payload: Uint8Array, spec: Partial<InitialSpec> = {}): Uint8Array {
  return sealInitial({ dcid: DCID, ...spec }, payload);
}

/** A whole ClientHello for `sni` in one padded client Initial of `version` (sealed as `like`). */
function helloInitial(version: number, sni: string, o: Partial<InitialSpec> = {}): Uint8Array {
  return sealInitial({ version, dcid: DCID, minSize: 1200, ...o }, frames.crypto(0, fakeClientHello({ sni })));
}

function be32(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

describe('the kind of an unopened version, by its bytes', () => {
  test.for([
    { v: 0x51303030, want: 'unsupported_version_gquic' }, // Q000
    { v: 0x51393939, want: 'unsupported_version_gquic' }, // Q999
    { v: 0x54303339, want: 'unsupported_version_gquic' }, // T039
    { v: 0x512f3030, want: 'unsupported_version' }, // '/' just below '0'
    { v: 0x513a3030, want: 'unsupported_version' }, // ':' just above '9'
    { v: 0x51302f30, want: 'unsupported_version' },
    { v: 0x5130303a, want: 'unsupported_version' },
    { v: 0x51474f31, want: 'unsupported_version' }, // 'QGO1'
    { v: 0x52303030, want: 'unsupported_version' }, // 'R000'
    { v: 0xde303031, want: 'unsupported_version' },
    { v: 0xdead3031, want: 'unsupported_version' },
    { v: 0xdeadbe31, want: 'unsupported_version' },
  ])('0x$v.toString(16) -> $want', ({ v, want }) => {
    expect(unsupportedVersionIssue(v).reason).toBe(want);
  });
});

describe('the content probe at its bounds', () => {
  test('a version kasmon does not know, shaped like a client Initial (v1 or v2 type bits, 1200 bytes), is worth a try', () => {
    expect(looksLikeQuicInitial(helloInitial(0x12345678, 'a.kaspersky.com', { like: QuicVersion.V1 }))).toBe(true);
    expect(looksLikeQuicInitial(helloInitial(0x709a50c4, 'a.kaspersky.com', { like: QuicVersion.V2 }))).toBe(true);
  });

  test('a Version Negotiation packet padded to an Initial\'s size is not one', () => {
    const vn = concat(hex('c0 00000000 08'), DCID, hex('08'), DCID, hex('00 44b0'), new Uint8Array(1200));
    expect(looksLikeQuicInitial(vn.subarray(0, 1200))).toBe(false);
  });

  test('connection IDs of exactly 20 bytes are allowed (RFC 9000 §17.2), in the probe and the assembler', () => {
    const cid20 = new Uint8Array(20).fill(0x42);
    for (const d of [helloInitial(QuicVersion.V1, 'dcid.kaspersky.com', { dcid: cid20 }), helloInitial(QuicVersion.V1, 'scid.kaspersky.com', { scid: cid20 })]) {
      expect(looksLikeQuicInitial(d)).toBe(true);
    }
    expect(outcome(new QuicInitialAssembler().onDatagram(helloInitial(QuicVersion.V1, 'dcid.kaspersky.com', { dcid: cid20 }), TUPLE, 1))).toBe('dcid.kaspersky.com');
    expect(outcome(new QuicInitialAssembler().onDatagram(helloInitial(QuicVersion.V1, 'scid.kaspersky.com', { scid: cid20 }), TUPLE, 1))).toBe('scid.kaspersky.com');
    const cid21 = new Uint8Array(21).fill(0x42);
    expect(new QuicInitialAssembler().onDatagram(helloInitial(QuicVersion.V1, 'x.kaspersky.com', { scid: cid21 }), TUPLE, 1)).toBe(QUIC_BAD_HEADER);
  });

  test('a token that runs past the datagram is not an Initial, whatever follows it', () => {
    // Token Length 256, then bytes that would read as a Length of 48 if the token were skipped wrongly
    const d = concat(hex('c0 00000001 00 00 4100 4030'), new Uint8Array(100));
    expect(looksLikeQuicInitial(d)).toBe(false);
  });

  test('a Length of exactly 20 (packet number + sample) is an Initial, not packet_too_short', () => {
    const d = seal(new Uint8Array(0)); // 4-byte packet number, empty payload, 16-byte tag
    expect(d.length).toBe(1 + 4 + 1 + 8 + 1 + 1 + 2 + 20);
    expect(looksLikeQuicInitial(d)).toBe(true);
    expect(new QuicInitialAssembler().onDatagram(d, TUPLE, 1)).toBeUndefined();
  });
});

describe('the walk over a datagram', () => {
  test('bytes left after a packet too few for a long header are a truncated header', () => {
    const zeroRtt = longPacket('zero_rtt', QuicVersion.V1, DCID, new Uint8Array(40));
    expect(new QuicInitialAssembler().onDatagram(concat(zeroRtt, hex('c00000')), TUPLE, 1)).toBe(QUIC_TRUNCATED_HEADER);
  });

  test('Version Negotiation is never parsed, however short', () => {
    expect(new QuicInitialAssembler().onDatagram(hex('80 00000000 00'), TUPLE, 1)).toBeUndefined();
  });

  test('a Retry ends the walk (it has no Length), and one cut in its header is truncated', () => {
    // after the SCID: bytes that would read as Length 1, one byte, then a whole Initial
    const retry = concat(hex('f0 00000001 00 00 01 ff'), helloInitial(QuicVersion.V1, 'after-retry.kaspersky.com'));
    expect(new QuicInitialAssembler().onDatagram(retry, TUPLE, 1)).toBeUndefined();
    expect(new QuicInitialAssembler().onDatagram(hex('f0 00000001 04 aabbccdd'), TUPLE, 1)).toBe(QUIC_TRUNCATED_HEADER);
  });

  test('0-RTT and Handshake packets alone report nothing (only Initials are opened)', () => {
    for (const type of ['zero_rtt', 'handshake'] as const) {
      expect(new QuicInitialAssembler().onDatagram(longPacket(type, QuicVersion.V1, DCID, new Uint8Array(900).fill(7)), TUPLE, 1)).toBeUndefined();
    }
  });

  test('a 0-RTT or Handshake packet cut short by the datagram ends the walk quietly (only a cut Initial is counted)', () => {
    for (const type of ['zero_rtt', 'handshake'] as const) {
      const cut = longPacket(type, QuicVersion.V1, DCID, new Uint8Array(900).fill(7)).subarray(0, 500);
      expect(new QuicInitialAssembler().onDatagram(cut, TUPLE, 1)).toBeUndefined();
    }
  });

  test('an Initial after an unusable one in the same datagram still gives its ClientHello', () => {
    const tooShort = concat(hex('c0 00000001 08'), DCID, hex('00 00 0a'), new Uint8Array(10));
    const ackOnly = seal(frames.ack(0));
    const hello = seal(frames.crypto(0, HELLO), { pn: 1 });
    expect(new QuicInitialAssembler().onDatagram(tooShort, TUPLE, 1)).toBe(QUIC_PACKET_TOO_SHORT);
    expect(outcome(new QuicInitialAssembler().onDatagram(concat(tooShort, hello), TUPLE, 1))).toBe('ksn.kaspersky.com');
    expect(outcome(new QuicInitialAssembler().onDatagram(concat(ackOnly, hello), TUPLE, 1))).toBe('ksn.kaspersky.com');
  });
});

describe('frames cut short or ending the packet', () => {
  test.for([
    { name: 'PING as the last byte', payload: frames.ping(), want: undefined },
    { name: 'HANDSHAKE_DONE', payload: hex('1e01'), want: undefined },
    { name: 'ACK with ranges up to the last byte', payload: frames.ack(10, 0, [[1, 1]]), want: undefined },
    { name: 'ACK_ECN with its three counts', payload: frames.ack(5, 0, [], [7, 8, 9]), want: undefined },
    { name: 'ACK_ECN with two counts', payload: hex('03 05 00 00 00 01 01'), want: QUIC_BAD_FRAME },
    { name: 'ACK cut in a range', payload: hex('02 05 00 02 00 01 01 01'), want: QUIC_BAD_FRAME },
    { name: 'CRYPTO type only', payload: hex('06'), want: QUIC_BAD_FRAME },
    { name: 'CRYPTO without its Length', payload: hex('06 00'), want: QUIC_BAD_FRAME },
    { name: 'CRYPTO data past the end (what follows parses as PINGs)', payload: hex('06 00 05 01 01'), want: QUIC_BAD_FRAME },
    { name: 'NEW_TOKEN type only', payload: hex('07'), want: QUIC_BAD_FRAME },
    { name: 'NEW_TOKEN past the end', payload: hex('07 05 01'), want: QUIC_BAD_FRAME },
    { name: 'CONNECTION_CLOSE (transport)', payload: frames.connectionClose(0x0a, 'bye'), want: undefined },
    { name: 'CONNECTION_CLOSE (application)', payload: hex('1d 00 02 6869'), want: undefined },
    { name: 'CONNECTION_CLOSE without its error code', payload: hex('1c'), want: QUIC_BAD_FRAME },
    { name: 'CONNECTION_CLOSE without its frame type', payload: hex('1c 00'), want: QUIC_BAD_FRAME },
    { name: 'application CONNECTION_CLOSE without its reason length', payload: hex('1d 00'), want: QUIC_BAD_FRAME },
    { name: 'CONNECTION_CLOSE reason past the end (what follows parses as a PING)', payload: hex('1d 00 05 01'), want: QUIC_BAD_FRAME },
  ])('$name', ({ payload, want }) => {
    const asm = new QuicInitialAssembler();
    expect(asm.onDatagram(seal(payload), TUPLE, 1)).toBe(want);
    expect(asm.pendingCount).toBe(0);
  });

  test('HANDSHAKE_DONE before a CRYPTO frame does not end the packet', () => {
    expect(outcome(new QuicInitialAssembler().onDatagram(seal(concat(hex('1e'), frames.crypto(0, HELLO))), TUPLE, 1))).toBe('ksn.kaspersky.com');
  });

  test('an empty CRYPTO frame creates no state', () => {
    const asm = new QuicInitialAssembler();
    expect(asm.onDatagram(seal(frames.crypto(100, new Uint8Array(0)), { minSize: 1200 }), TUPLE, 1)).toBeUndefined();
    expect(asm.pendingCount).toBe(0);
  });
});

describe('guessing the salt of an unknown version: its limits', () => {
  /** A v1 Initial whose version bytes were changed: authenticated header, so no salt opens it. */
  function unopenable(version: number): Uint8Array {
    const d = helloInitial(QuicVersion.V1, 'x.kaspersky.com');
    d.set(be32(version), 1);
    return d;
  }
  const V = 0x12345678;
  const valid = (version = V, o: Partial<InitialSpec> = {}): Uint8Array => helloInitial(version, 'guessed.kaspersky.com', { like: QuicVersion.V1, ...o });

  test('a built-in version is known without guessing', () => {
    const asm = new QuicInitialAssembler();
    expect(asm.knows(QuicVersion.V1)).toBe(true);
    expect(asm.knows(QuicVersion.DRAFT_29)).toBe(true);
    expect(asm.knows(V)).toBe(false);
  });

  test('a failed try does not give a version up; MAX_GUESS_TRIES - 1 of them neither', () => {
    const one = new QuicInitialAssembler();
    expect(one.onDatagram(unopenable(V), TUPLE, 1)).toBe(QUIC_UNSUPPORTED_VERSION);
    expect(outcome(one.onDatagram(valid(), TUPLE, 2))).toBe('guessed.kaspersky.com');
    const almost = new QuicInitialAssembler();
    for (let i = 0; i < MAX_GUESS_TRIES - 1; i++) expect(almost.onDatagram(unopenable(V), TUPLE, i)).toBe(QUIC_UNSUPPORTED_VERSION);
    expect(outcome(almost.onDatagram(valid(), TUPLE, 100))).toBe('guessed.kaspersky.com');
  });

  test('after MAX_GUESS_TRIES failed tries the version is given up on: even a good Initial stays closed', () => {
    const asm = new QuicInitialAssembler();
    for (let i = 0; i < MAX_GUESS_TRIES; i++) expect(asm.onDatagram(unopenable(V), TUPLE, i)).toBe(QUIC_UNSUPPORTED_VERSION);
    expect(asm.onDatagram(valid(), TUPLE, 100)).toBe(QUIC_UNSUPPORTED_VERSION);
    expect(asm.knows(V)).toBe(false);
  });

  test('at most MAX_GUESSED_VERSIONS versions are tried; one already being tried still is', () => {
    const asm = new QuicInitialAssembler();
    const first = 0x12340000;
    for (let i = 0; i < MAX_GUESSED_VERSIONS; i++) expect(asm.onDatagram(unopenable(first + i), TUPLE, i)).toBe(QUIC_UNSUPPORTED_VERSION);
    expect(asm.onDatagram(valid(first + MAX_GUESSED_VERSIONS), TUPLE, 100)).toBe(QUIC_UNSUPPORTED_VERSION);
    expect(outcome(asm.onDatagram(valid(first + 5), TUPLE, 101))).toBe('guessed.kaspersky.com');
  });

  test('a greased version is never opened, even when a known salt would fit', () => {
    expect(new QuicInitialAssembler().onDatagram(valid(0x1a2a3a4a), TUPLE, 1)).toBe(QUIC_VERSION_GREASE);
  });

  test('only a v1-shaped header is guessed: CIDs up to 20 bytes', () => {
    const cid20 = new Uint8Array(20).fill(1);
    const cid21 = new Uint8Array(21).fill(1);
    expect(outcome(new QuicInitialAssembler().onDatagram(valid(V, { dcid: cid20 }), TUPLE, 1))).toBe('guessed.kaspersky.com');
    expect(outcome(new QuicInitialAssembler().onDatagram(valid(V, { scid: cid20 }), TUPLE, 1))).toBe('guessed.kaspersky.com');
    for (const spec of [{ dcid: cid21 }, { scid: cid21 }]) {
      const asm = new QuicInitialAssembler();
      expect(asm.onDatagram(valid(V, spec), TUPLE, 1)).toBe(QUIC_UNSUPPORTED_VERSION);
      expect(asm.knows(V)).toBe(false);
    }
  });

  test('an unknown version is guessed past a token (the Length follows it)', () => {
    const asm = new QuicInitialAssembler();
    expect(outcome(asm.onDatagram(valid(V, { token: hex('0102030405060708090a') }), TUPLE, 1))).toBe('guessed.kaspersky.com');
  });

  test('an unknown version is tried at a Length of exactly 20 (packet number + sample), and learned from it', () => {
    const asm = new QuicInitialAssembler();
    const d = seal(new Uint8Array(0), { version: V, like: QuicVersion.V1 }); // 4-byte packet number, 16-byte tag
    expect(asm.onDatagram(d, TUPLE, 1)).toBeUndefined();
    expect(asm.knows(V)).toBe(true);
  });

  test('a salt is tried only with its own packet-type layout', () => {
    // v1's salt and labels, but the Initial type bits of v2 (0b01, a 0-RTT in v1's layout)
    const asm = new QuicInitialAssembler();
    expect(asm.onDatagram(valid(V, { typeBits: 1 }), TUPLE, 1)).toBe(QUIC_UNSUPPORTED_VERSION);
    expect(asm.knows(V)).toBe(false);
  });

  test('an unknown version coalesced after a known one is opened at its own offset', () => {
    const ackOnly = seal(frames.ack(0));
    expect(outcome(new QuicInitialAssembler().onDatagram(concat(ackOnly, valid()), TUPLE, 1))).toBe('guessed.kaspersky.com');
  });
});

describe('connections', () => {
  test('two handshakes interleaved on one 5-tuple are each joined with their own keys', () => {
    const a = fakeClientHello({ sni: 'a.kaspersky.com', size: 1800 });
    const b = fakeClientHello({ sni: 'b.kaspersky.com', size: 1800, random: new Uint8Array(32).fill(2) });
    const da = clientInitialDatagrams(a, { dcid: hex('a1a1a1a1a1a1a1a1'), packets: 2 });
    const db = clientInitialDatagrams(b, { dcid: hex('b2b2b2b2b2b2b2b2'), packets: 2 });
    const asm = new QuicInitialAssembler();
    const results = [da[0], db[0], da[1], db[1]].map((d, i) => outcome(asm.onDatagram(d ?? new Uint8Array(), TUPLE, i)));
    expect(results).toEqual([undefined, undefined, 'a.kaspersky.com', 'b.kaspersky.com']);
  });

  test('a given-up connection stays quiet: damaged packets and packets to the server-chosen CID alike', () => {
    const asm = new QuicInitialAssembler();
    const serverHello = fakeClientHello({ msgType: 2 });
    expect(asm.onDatagram(seal(frames.crypto(0, serverHello), { minSize: 1200 }), TUPLE, 1)).toBe(QUIC_NOT_CLIENT_HELLO);
    const damaged = seal(frames.crypto(0, serverHello), { pn: 1, minSize: 1200 });
    damaged[600] = (damaged[600] ?? 0) ^ 1;
    expect(asm.onDatagram(damaged, TUPLE, 2)).toBeUndefined();
    const moved = seal(frames.crypto(0, serverHello), { dcid: hex('5e5e5e5e'), keyDcid: DCID, pn: 2, minSize: 1200 });
    expect(asm.onDatagram(moved, TUPLE, 3)).toBeUndefined();
  });

  test('packet numbers are decoded against the largest seen so far (RFC 9000 Appendix A.3)', () => {
    const pieces = splitCrypto(BIG, 4);
    const pkt = (i: number, pn: number, pnLength: 1 | 4): Uint8Array => {
      const p = pieces[i];
      if (p === undefined) throw new Error('no piece');
      return seal(frames.crypto(p.offset, p.data), { pn, pnLength, minSize: 1200 });
    };
    // in order: 0, 200, then 300 sent as one byte (0x2c), decoded near 200
    const inOrder = new QuicInitialAssembler();
    expect([pkt(0, 0, 4), pkt(1, 200, 4), pkt(2, 300, 1), pkt(3, 301, 1)].map((d, i) => outcome(inOrder.onDatagram(d, TUPLE, i)))).toEqual([
      undefined,
      undefined,
      undefined,
      'dnl-01.geo.kaspersky.com',
    ]);
    // a late packet (200 after 300) does not lower the largest: 400 as one byte decodes near 300
    const late = new QuicInitialAssembler();
    expect([pkt(0, 0, 4), pkt(1, 300, 4), pkt(2, 200, 4), pkt(3, 400, 1)].map((d, i) => outcome(late.onDatagram(d, TUPLE, i)))).toEqual([
      undefined,
      undefined,
      undefined,
      'dnl-01.geo.kaspersky.com',
    ]);
  });

  test('after Version Negotiation, a ClientHello the first attempt never completed is reported', () => {
    const asm = new QuicInitialAssembler();
    const [half] = clientInitialDatagrams(BIG, { dcid: DCID, packets: 2, version: QuicVersion.DRAFT_28 });
    expect(asm.onDatagram(half ?? new Uint8Array(), TUPLE, 1)).toBeUndefined();
    const again = clientInitialDatagrams(BIG, { dcid: DCID, packets: 2, version: QuicVersion.DRAFT_27 });
    expect(again.map((d, i) => outcome(asm.onDatagram(d, TUPLE, 2 + i)))).toEqual([undefined, 'dnl-01.geo.kaspersky.com']);
  });

  test("a client's original keys follow it to a new DCID only within its version, even where two versions share a salt", () => {
    // drafts 27 and 28 derive the same Initial keys from one DCID (one salt, one label set)
    const [head, tail] = splitCrypto(BIG, 2);
    if (head === undefined || tail === undefined) throw new Error('no pieces');
    const switched = (version: number): Uint8Array =>
      seal(frames.crypto(tail.offset, tail.data), { version, dcid: hex('5e5e5e5e'), keyDcid: DCID, pn: 1, minSize: 1200 });
    const first = (): QuicInitialAssembler => {
      const asm = new QuicInitialAssembler();
      expect(asm.onDatagram(seal(frames.crypto(head.offset, head.data), { version: QuicVersion.DRAFT_27, minSize: 1200 }), TUPLE, 1)).toBeUndefined();
      return asm;
    };
    expect(outcome(first().onDatagram(switched(QuicVersion.DRAFT_27), TUPLE, 2))).toBe('dnl-01.geo.kaspersky.com');
    expect(first().onDatagram(switched(QuicVersion.DRAFT_28), TUPLE, 2)).toBe(QUIC_DECRYPT_FAILED);
  });

  test("the server's Initial is recognised on a 5-tuple with a zone, and only in the same zone", () => {
    const asm = new QuicInitialAssembler();
    const clientScid = hex('e5ec6b26');
    expect(outcome(asm.onDatagram(helloInitial(QuicVersion.V1, 'zone.kaspersky.com', { scid: clientScid }), '10.0.0.1|5000|10.0.0.2|443|vlan7', 1))).toBe(
      'zone.kaspersky.com',
    );
    const serverInitial = sealInitial(
      { dcid: clientScid, keyDcid: DCID, scid: hex('c15d62c7'), side: 'server', minSize: 1200 },
      concat(frames.ack(0), frames.crypto(0, fakeClientHello({ msgType: 2 }))),
    );
    expect(asm.onDatagram(serverInitial, '10.0.0.2|443|10.0.0.1|5000|vlan7', 2)).toBe(QUIC_SERVER_INITIAL);
    expect(asm.onDatagram(serverInitial, '10.0.0.2|443|10.0.0.1|5000|vlan8', 3)).toBe(QUIC_DECRYPT_FAILED);
  });

  test('an older connection on a 5-tuple going idle does not forget the newer one', () => {
    const asm = new QuicInitialAssembler({ pendingTimeoutMicros: 10_000_000 });
    const clientScid = hex('e5ec6b26');
    asm.onDatagram(helloInitial(QuicVersion.V1, 'old.kaspersky.com', { dcid: hex('0101010101010101'), scid: clientScid }), TUPLE, 0);
    asm.onDatagram(helloInitial(QuicVersion.V1, 'new.kaspersky.com', { dcid: DCID, scid: clientScid }), TUPLE, 6_000_000);
    expect(asm.expire(10_500_000)).toBe(0);
    expect(asm.pendingCount).toBe(1);
    const serverInitial = sealInitial({ dcid: clientScid, keyDcid: DCID, side: 'server', minSize: 1200 }, frames.ack(0));
    expect(asm.onDatagram(serverInitial, '198.19.0.5|443|198.18.0.10|53727', 10_600_000)).toBe(QUIC_SERVER_INITIAL);
  });

  test('the idle timeout runs from a connection\'s last packet', () => {
    const asm = new QuicInitialAssembler({ pendingTimeoutMicros: 10_000_000 });
    const d = clientInitialDatagrams(BIG, { dcid: DCID, packets: 3 });
    expect(asm.onDatagram(d[0] ?? new Uint8Array(), TUPLE, 0)).toBeUndefined();
    expect(asm.onDatagram(d[1] ?? new Uint8Array(), TUPLE, 8_000_000)).toBeUndefined();
    expect(outcome(asm.onDatagram(d[2] ?? new Uint8Array(), TUPLE, 12_000_000))).toBe('dnl-01.geo.kaspersky.com');
    expect(asm.timeouts).toBe(0);
  });

  test('timeouts count incomplete ClientHellos only: a contiguous first part is one, a given-up connection is not', () => {
    const issues = new IssueCounter();
    const asm = new QuicInitialAssembler({ pendingTimeoutMicros: 1_000_000, issues });
    const [firstHalf] = clientInitialDatagrams(BIG, { dcid: DCID, packets: 2, fragments: 2 }); // bytes [0, 900): one range
    expect(asm.onDatagram(firstHalf ?? new Uint8Array(), TUPLE, 0)).toBeUndefined();
    expect(asm.onDatagram(seal(frames.crypto(0, fakeClientHello({ msgType: 2 })), { dcid: hex('0202020202020202'), minSize: 1200 }), TUPLE, 0)).toBe(
      QUIC_NOT_CLIENT_HELLO,
    );
    expect(asm.pendingCount).toBe(2);
    expect(asm.expire(2_000_000)).toBe(1);
    expect([asm.timeouts, issues.get(QUIC_TIMEOUT), asm.pendingCount]).toEqual([1, 1, 0]);
  });

  test('without an issue counter, timeouts, evictions and finish() are still counted on the assembler', () => {
    const asm = new QuicInitialAssembler({ maxPending: 1, pendingTimeoutMicros: 1_000_000 });
    const a = clientInitialDatagrams(BIG, { dcid: hex('0a0a0a0a0a0a0a0a'), packets: 2 });
    const b = clientInitialDatagrams(BIG, { dcid: hex('0b0b0b0b0b0b0b0b'), packets: 2 });
    asm.onDatagram(a[0] ?? new Uint8Array(), TUPLE, 0);
    asm.onDatagram(b[0] ?? new Uint8Array(), '198.18.0.11|1|198.19.0.5|443', 1);
    expect(asm.evictions).toBe(1);
    expect(asm.expire(5_000_000)).toBe(1);
    expect(asm.timeouts).toBe(1);
    asm.onDatagram(a[0] ?? new Uint8Array(), TUPLE, 6_000_000);
    asm.finish();
    expect(asm.pendingCount).toBe(0);
  });

  test('an evicted connection counts as a name not recovered only while its ClientHello is incomplete', () => {
    const other = '198.18.0.11|1|198.19.0.5|443';
    const evictFirst = (first: Uint8Array): IssueCounter => {
      const issues = new IssueCounter();
      const asm = new QuicInitialAssembler({ maxPending: 1, issues });
      asm.onDatagram(first, TUPLE, 1);
      asm.onDatagram(helloInitial(QuicVersion.V1, 'next.kaspersky.com', { dcid: hex('0d0d0d0d0d0d0d0d') }), other, 2);
      expect([asm.evictions, issues.get(QUIC_EVICTED)]).toEqual([1, 1]);
      return issues;
    };
    expect(evictFirst(helloInitial(QuicVersion.V1, 'done.kaspersky.com')).get(NAME_EVICTED)).toBe(0);
    expect(evictFirst(clientInitialDatagrams(BIG, { dcid: DCID, packets: 2 })[0] ?? new Uint8Array()).get(NAME_EVICTED)).toBe(1);
  });

  test('finish() counts the incomplete ClientHellos, not the finished ones', () => {
    const issues = new IssueCounter();
    const asm = new QuicInitialAssembler({ issues });
    asm.onDatagram(helloInitial(QuicVersion.V1, 'done.kaspersky.com'), TUPLE, 1);
    asm.onDatagram(clientInitialDatagrams(BIG, { dcid: hex('0c0c0c0c0c0c0c0c'), packets: 2 })[0] ?? new Uint8Array(), '198.18.0.11|1|198.19.0.5|443', 2);
    asm.finish();
    expect(issues.get(NAME_INCOMPLETE)).toBe(1);
  });
});

describe('CRYPTO reassembly to the byte', () => {
  test('a ClientHello exactly maxCryptoBytes long is returned', () => {
    const asm = new QuicInitialAssembler({ maxCryptoBytes: BIG.length });
    const d = clientInitialDatagrams(BIG, { dcid: DCID, packets: 2 });
    expect(d.map((x, i) => outcome(asm.onDatagram(x, TUPLE, i)))).toEqual([undefined, 'dnl-01.geo.kaspersky.com']);
    const over = new QuicInitialAssembler({ maxCryptoBytes: BIG.length - 1 });
    expect(d.map((x, i) => over.onDatagram(x, TUPLE, i))).toEqual([QUIC_CRYPTO_TOO_LONG, undefined]);
  });

  test('a handshake header that alone says the message is too long is judged on its 4 bytes', () => {
    expect(new QuicInitialAssembler().onDatagram(seal(frames.crypto(0, hex('01 00ffff')), { minSize: 1200 }), TUPLE, 1)).toBe(QUIC_CRYPTO_TOO_LONG);
  });

  test(`${MAX_CRYPTO_FRAGMENTS} disjoint ranges are held, arriving last first; one more is too many`, () => {
    const hello = fakeClientHello({ size: 2 * MAX_CRYPTO_FRAGMENTS + 100 });
    const one = (i: number): Uint8Array => frames.crypto(2 * i, hello.subarray(2 * i, 2 * i + 1)); // ranges [2i, 2i+1), i >= 1
    const asm = new QuicInitialAssembler();
    const held = Array.from({ length: MAX_CRYPTO_FRAGMENTS }, (_, i) => one(MAX_CRYPTO_FRAGMENTS - i));
    expect(asm.onDatagram(seal(concat(...held)), TUPLE, 1)).toBeUndefined();
    expect(asm.onDatagram(seal(one(MAX_CRYPTO_FRAGMENTS + 1), { pn: 1 }), TUPLE, 2)).toBe(QUIC_TOO_MANY_FRAGMENTS);
  });

  test('first copy wins for held bytes in the middle of a longer range', () => {
    const forged = new Uint8Array(BIG.length).fill(0xee);
    const asm = new QuicInitialAssembler();
    const p1 = seal(frames.crypto(300, BIG.subarray(300, 400)), { minSize: 1200 });
    const p2 = seal(frames.crypto(100, concat(BIG.subarray(100, 300), forged.subarray(300, 400), BIG.subarray(400, 600))), { pn: 1, minSize: 1200 });
    const p3 = seal(concat(frames.crypto(0, BIG.subarray(0, 100)), frames.crypto(600, BIG.subarray(600, 1100))), { pn: 2 });
    const p4 = seal(frames.crypto(1100, BIG.subarray(1100)), { pn: 3, minSize: 1200 });
    const results = [p1, p2, p3, p4].map((d, i) => asm.onDatagram(d, TUPLE, i));
    expect(results.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(toHex(results[3] as Uint8Array)).toBe(toHex(BIG));
  });

  test('a second ClientHello (after HelloRetryRequest) is returned only when whole, with the first one\'s tail in the same packet', () => {
    const ch1 = fakeClientHello({ sni: 'ds.kaspersky.com', size: 600 });
    const ch2 = fakeClientHello({ sni: 'ds.kaspersky.com', size: 1000 });
    const stream = concat(ch1, ch2);
    const asm = new QuicInitialAssembler();
    // ch1's head; then ch1's tail with ch2's head; then ch2's tail
    const p1 = seal(frames.crypto(0, stream.subarray(0, 500)), { minSize: 1200 });
    const p2 = seal(frames.crypto(500, stream.subarray(500, 900)), { pn: 1, minSize: 1200 });
    const p3 = seal(frames.crypto(900, stream.subarray(900)), { pn: 2, minSize: 1200 });
    expect(asm.onDatagram(p1, TUPLE, 1)).toBeUndefined();
    expect(toHex(asm.onDatagram(p2, TUPLE, 2) as Uint8Array)).toBe(toHex(ch1));
    expect(toHex(asm.onDatagram(p3, TUPLE, 3) as Uint8Array)).toBe(toHex(ch2));
  });

  test('a second ClientHello is not taken while only its start is held, however long the first one was', () => {
    const ch1 = fakeClientHello({ sni: 'ds.kaspersky.com', size: 600 });
    const ch2 = fakeClientHello({ sni: 'ds.kaspersky.com', size: 1000 });
    const stream = concat(ch1, ch2);
    const asm = new QuicInitialAssembler();
    const part = (from: number, to: number, pn: number): Uint8Array => seal(frames.crypto(from, stream.subarray(from, to)), { pn, minSize: 1200 });
    expect(toHex(asm.onDatagram(part(0, 900, 0), TUPLE, 1) as Uint8Array)).toBe(toHex(ch1));
    expect(asm.onDatagram(part(900, 1200, 1), TUPLE, 2)).toBeUndefined(); // 600 of ch2's 1000 bytes
    expect(toHex(asm.onDatagram(part(1200, 1600, 2), TUPLE, 3) as Uint8Array)).toBe(toHex(ch2));
  });

  test('a handshake header is judged once its 4 bytes are there, not on 2 of them', () => {
    const asm = new QuicInitialAssembler();
    expect(asm.onDatagram(seal(frames.crypto(0, hex('0101')), { minSize: 1200 }), TUPLE, 1)).toBeUndefined();
    expect(asm.pendingCount).toBe(1);
    expect(asm.onDatagram(seal(frames.crypto(2, hex('0000')), { pn: 1, minSize: 1200 }), TUPLE, 2)).toBe(QUIC_CRYPTO_TOO_LONG); // 0x010000 bytes
  });

  test('a minimal ClientHello resent after a Retry is reported once; a message too short for a random is never taken for a resend', () => {
    const minimal = concat(hex('01 000022 0303'), new Uint8Array(32).fill(0x5a)); // 4 + 34 bytes: version and random only
    const asm = new QuicInitialAssembler();
    expect(toHex(asm.onDatagram(seal(frames.crypto(0, minimal), { minSize: 1200 }), TUPLE, 1) as Uint8Array)).toBe(toHex(minimal));
    expect(asm.onDatagram(seal(frames.crypto(0, minimal), { dcid: hex('2e9a32ed45c9066a'), minSize: 1200 }), TUPLE, 2)).toBeUndefined();

    const tiny = hex('01 000010 0303 0102030405060708090a0b0c0d0e'); // 4 + 16 bytes
    const asm2 = new QuicInitialAssembler();
    expect(toHex(asm2.onDatagram(seal(frames.crypto(0, tiny), { minSize: 1200 }), TUPLE, 1) as Uint8Array)).toBe(toHex(tiny));
    expect(toHex(asm2.onDatagram(seal(frames.crypto(0, tiny), { dcid: hex('2e9a32ed45c9066a'), minSize: 1200 }), TUPLE, 2) as Uint8Array)).toBe(toHex(tiny));
  });
});

describe('byte accounting and the budget', () => {
  test('a connection is charged CONN_BYTES, its buffer (the bytes up to the highest offset, rounded up) and each range', () => {
    const asm = new QuicInitialAssembler();
    const d = clientInitialDatagrams(BIG, { dcid: DCID, packets: 2, fragments: 4 }); // packet 0: ranges [0,450) and [900,1350)
    asm.onDatagram(d[0] ?? new Uint8Array(), TUPLE, 1);
    const buffer = asm.bytes - CONN_BYTES - BUFFER_OVERHEAD - 2 * RANGE_BYTES;
    expect(buffer).toBeGreaterThanOrEqual(1350);
    expect(buffer).toBeLessThan(1350 + 256);
    // complete: the buffer is released, one merged range is left
    asm.onDatagram(d[1] ?? new Uint8Array(), TUPLE, 2);
    expect(asm.bytes).toBe(CONN_BYTES + RANGE_BYTES);
    // a retransmission of what was returned allocates nothing, up to its last byte
    asm.onDatagram(d[0] ?? new Uint8Array(), TUPLE, 3);
    expect(asm.bytes).toBe(CONN_BYTES + RANGE_BYTES);
    expect(asm.onDatagram(d[1] ?? new Uint8Array(), TUPLE, 4)).toBeUndefined();
    expect(asm.bytes).toBe(CONN_BYTES + RANGE_BYTES);
  });

  test('the buffer grows with what arrives, never to more than twice the message', () => {
    const asm = new QuicInitialAssembler();
    const d = clientInitialDatagrams(BIG, { dcid: DCID, packets: 3, fragments: 3 });
    for (const [i, x] of [d[2], d[1]].entries()) {
      asm.onDatagram(x ?? new Uint8Array(), TUPLE, i);
      expect(asm.bytes).toBeLessThan(CONN_BYTES + 2 * BIG.length);
    }
  });

  test('the buffer is sized to what arrived, rounded up to 256 bytes, grows only past its end, and then at least doubles', () => {
    const asm = new QuicInitialAssembler();
    const held = (buffer: number, ranges = 1): number => CONN_BYTES + buffer + BUFFER_OVERHEAD + ranges * RANGE_BYTES;
    const part = (from: number, to: number, pn: number): Uint8Array => seal(frames.crypto(from, BIG.subarray(from, to)), { pn, minSize: 1200 });
    asm.onDatagram(part(0, 300, 0), TUPLE, 1);
    expect(asm.bytes).toBe(held(512));
    asm.onDatagram(part(300, 512, 1), TUPLE, 2); // ends exactly where the buffer does
    expect(asm.bytes).toBe(held(512));
    asm.onDatagram(part(512, 600, 2), TUPLE, 3); // 768 would hold it; twice 512 is more
    expect(asm.bytes).toBe(held(1024));
    asm.onDatagram(part(1500, 1600, 3), TUPLE, 4); // 1792 would hold it: doubled again
    expect(asm.bytes).toBe(held(2048, 2));
    asm.onDatagram(seal(frames.crypto(5000, new Uint8Array(100).fill(7)), { pn: 4, minSize: 1200 }), TUPLE, 5); // past twice: to what arrived, rounded up
    expect(asm.bytes).toBe(held(5120, 3));
  });

  test('a budget smaller than one connection still reassembles it (the connection never evicts itself)', () => {
    const asm = new QuicInitialAssembler({ budgetBytes: 1000 });
    const d = clientInitialDatagrams(BIG, { dcid: DCID, packets: 2 });
    expect(d.map((x, i) => outcome(asm.onDatagram(x, TUPLE, i)))).toEqual([undefined, 'dnl-01.geo.kaspersky.com']);
    expect(asm.evictions).toBe(0);
  });

  test('new connections evict the oldest to stay within the budget, before they hold anything', () => {
    // connections given up at once (a CRYPTO frame past the cap) hold CONN_BYTES each
    const far = (i: number): Uint8Array => seal(frames.crypto(20_000, new Uint8Array(10)), { dcid: Uint8Array.of(i, i, i, i, i, i, i, i), minSize: 1200 });
    const full = new QuicInitialAssembler({ budgetBytes: 2 * CONN_BYTES });
    for (let i = 1; i <= 3; i++) expect(full.onDatagram(far(i), `198.18.0.${i}|1|198.19.0.5|443`, i)).toBe(QUIC_CRYPTO_TOO_LONG);
    expect([full.evictions, full.pendingCount, full.bytes]).toEqual([1, 2, 2 * CONN_BYTES]);
    const exact = new QuicInitialAssembler({ budgetBytes: 3 * CONN_BYTES });
    for (let i = 1; i <= 3; i++) exact.onDatagram(far(i), `198.18.0.${i}|1|198.19.0.5|443`, i);
    expect([exact.evictions, exact.bytes]).toEqual([0, 3 * CONN_BYTES]);
  });

  test('one CRYPTO frame that outgrows the budget evicts two connections at once', () => {
    const issues = new IssueCounter();
    // three finished connections (CONN_BYTES + one range each), then a frame at [4000, 5000): a 5120-byte buffer
    const asm = new QuicInitialAssembler({ budgetBytes: 13_000, issues });
    for (let i = 1; i <= 3; i++) asm.onDatagram(helloInitial(QuicVersion.V1, `s${i}.kaspersky.com`, { dcid: Uint8Array.of(i, i, i, i, i, i, i, i) }), `198.18.0.${i}|1|198.19.0.5|443`, i);
    expect([asm.evictions, asm.bytes]).toEqual([0, 3 * (CONN_BYTES + RANGE_BYTES)]);
    const huge = fakeClientHello({ sni: 'big.kaspersky.com', size: 5000 });
    expect(asm.onDatagram(seal(frames.crypto(4000, huge.subarray(4000)), { minSize: 1200 }), TUPLE, 10)).toBeUndefined();
    expect([asm.evictions, issues.get(QUIC_EVICTED), asm.pendingCount]).toEqual([2, 2, 2]);
    expect(asm.bytes).toBe(2 * CONN_BYTES + 2 * RANGE_BYTES + 5120 + BUFFER_OVERHEAD);
  });

  test('a connection whose buffer grows evicts as many others as needed, and the budget may be met exactly', () => {
    const small = (i: number): Uint8Array => helloInitial(QuicVersion.V1, `s${i}.kaspersky.com`, { dcid: Uint8Array.of(i, i, i, i, i, i, i, i) });
    const huge = fakeClientHello({ sni: 'big.kaspersky.com', size: 5000 });
    const [last] = clientInitialDatagrams(huge, { dcid: DCID, packets: 5, fragments: 5 }).reverse(); // bytes [4000, 5000)
    const run = (budgetBytes: number): QuicInitialAssembler => {
      const issues = new IssueCounter();
      const asm = new QuicInitialAssembler({ budgetBytes, issues });
      for (let i = 1; i <= 3; i++) asm.onDatagram(small(i), `198.18.0.${i}|1|198.19.0.5|443`, i);
      asm.onDatagram(last ?? new Uint8Array(), TUPLE, 10);
      expect(issues.get(QUIC_EVICTED)).toBe(asm.evictions);
      expect(issues.get(NAME_EVICTED)).toBe(0); // the evicted ones had returned their ClientHellos
      return asm;
    };
    const peak = run(1e9).bytes; // three finished connections and the growing one
    expect(run(peak).evictions).toBe(0);
    const tight = run(peak - 1);
    expect(tight.evictions).toBe(1);
    const small2 = run(peak - 2 * (CONN_BYTES + RANGE_BYTES) + 1);
    expect(small2.evictions).toBe(2);
    expect(small2.bytes).toBeLessThanOrEqual(peak - 2 * (CONN_BYTES + RANGE_BYTES) + 1);
  });
});
