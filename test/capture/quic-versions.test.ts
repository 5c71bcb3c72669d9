/**
 * QUIC versions in the wild (issue 14): every version tshark 4.0 opens (v1, v2, IETF drafts
 * 22-34, Facebook mvfst's draft-based ones), a version kasmon does not know opened by trying
 * the known salts (the AEAD tag tells which fits, so no false names), the versions that stay
 * closed counted by kind, and a ClientHello re-sent in another version after a Version
 * Negotiation reported once, as tshark does.
 */
import { describe, expect, test } from 'vitest';
import { isIssue, type DecodeIssue } from '../../src/capture/issues.js';
import {
  MAX_GUESS_TRIES,
  QuicInitialAssembler,
  QUIC_UNSUPPORTED_VERSION,
  QUIC_VERSION_DRAFT,
  QUIC_VERSION_GQUIC,
  QUIC_VERSION_GREASE,
  QUIC_VERSION_MVFST,
  unsupportedVersionIssue,
  looksLikeQuicInitial,
} from '../../src/capture/app/quic.js';
import { parseClientHello } from '../../src/capture/app/tls.js';
import { QuicVersion } from '../../src/capture/app/quic-crypto.js';
import { clientInitialDatagrams, concat, fakeClientHello, frames, hex, sealInitial } from '../helpers/quic.js';

const DCID = hex('0011223344556677');
const TUPLE = '198.18.0.10|53727|198.19.0.5|443';

/** SNI of what the assembler returned, or the issue's key. */
function outcome(r: Uint8Array | DecodeIssue | undefined): string | undefined {
  if (r === undefined) return undefined;
  if (isIssue(r)) return r.key;
  const h = parseClientHello(r);
  return isIssue(h) ? h.key : h.sni;
}

/** One client Initial of `version` (sealed as `like` when given) carrying a ClientHello for `sni`. */
function initial(version: number, sni: string, o: { like?: number; dcid?: Uint8Array } = {}): Uint8Array {
  const hello = fakeClientHello({ sni });
  return sealInitial({ version, dcid: o.dcid ?? DCID, minSize: 1200, ...(o.like !== undefined ? { like: o.like } : {}) }, frames.crypto(0, hello));
}

describe('versions tshark opens', () => {
  test.for([
    { name: 'draft-22', version: 0xff000016 },
    { name: 'draft-23 (ndpi quic-23)', version: 0xff000017 },
    { name: 'draft-24 (ndpi quic-24)', version: 0xff000018 },
    { name: 'draft-27', version: QuicVersion.DRAFT_27 },
    { name: 'draft-28 (ndpi quic-28)', version: QuicVersion.DRAFT_28 },
    { name: 'draft-34 (v1 salt)', version: QuicVersion.DRAFT_34 },
    { name: 'mvfst draft-22 (0xfaceb001)', version: QuicVersion.MVFST_22 },
    { name: 'mvfst draft-27 (0xfaceb002)', version: QuicVersion.MVFST_27 },
    { name: 'mvfst experimental (0xfaceb00e)', version: QuicVersion.MVFST_EXP },
  ])('$name', ({ version }) => {
    const d = initial(version, 'ksn.kaspersky.com');
    expect(looksLikeQuicInitial(d)).toBe(true);
    expect(outcome(new QuicInitialAssembler().onDatagram(d, TUPLE, 1))).toBe('ksn.kaspersky.com');
  });
});

describe('a version kasmon does not know: the known salts are tried', () => {
  test.for([
    { name: 'v1 salt and labels (a vendor version on v1)', version: 0x51474f31, like: QuicVersion.V1 },
    { name: 'draft-29 salt', version: 0xfaceb00f, like: QuicVersion.DRAFT_29 },
    { name: 'draft-23 salt', version: 0x12345678, like: 0xff000018 },
    { name: 'v2 salt, labels and packet types (the v2 draft, 0x709a50c4)', version: 0x709a50c4, like: QuicVersion.V2 },
  ])('$name: opened, learned for the next connection', ({ version, like }) => {
    const asm = new QuicInitialAssembler();
    expect(outcome(asm.onDatagram(initial(version, 'one.kaspersky.com', { like }), TUPLE, 1))).toBe('one.kaspersky.com');
    expect(asm.knows(version)).toBe(true);
    const other = '198.18.0.11|40000|198.19.0.5|443';
    expect(outcome(asm.onDatagram(initial(version, 'two.kaspersky.com', { like, dcid: hex('aabbccddeeff0011') }), other, 2))).toBe('two.kaspersky.com');
  });

  test('no salt fits: counted by the kind of version, never a name, and given up on after a few tries', () => {
    const asm = new QuicInitialAssembler();
    // A v1 Initial whose version bytes were changed: the header is authenticated, so no key opens it.
    const patched = (version: number): Uint8Array => {
      const d = initial(QuicVersion.V1, 'x.kaspersky.com');
      d.set([version >>> 24, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff], 1);
      return d;
    };
    for (let i = 0; i < MAX_GUESS_TRIES + 3; i++) expect(asm.onDatagram(patched(0x12345678), TUPLE, i)).toBe(QUIC_UNSUPPORTED_VERSION);
    expect(asm.knows(0x12345678)).toBe(false);
    expect(asm.onDatagram(patched(0xff000015), TUPLE, 100)).toBe(QUIC_VERSION_DRAFT);
    expect(asm.onDatagram(patched(0xfaceb003), TUPLE, 101)).toBe(QUIC_VERSION_MVFST);
  });

  test('the kind of a version', () => {
    expect([0x1a2a3a4a, 0x0a0a0a0a, 0x51303530, 0x54303531, 0xff000010, 0xfaceb005, 0xdeadbeef].map((v) => unsupportedVersionIssue(v).reason)).toEqual([
      'unsupported_version_grease',
      'unsupported_version_grease',
      'unsupported_version_gquic',
      'unsupported_version_gquic',
      'unsupported_version_draft',
      'unsupported_version_mvfst',
      'unsupported_version',
    ]);
    expect([QUIC_VERSION_GQUIC, QUIC_VERSION_GREASE].map((i) => i.layer)).toEqual(['quic', 'quic']);
  });

  test('shapes not worth a guess: below 1200 bytes, a greased version, a 0-RTT type', () => {
    const d = initial(0x12345678, 'x.kaspersky.com', { like: QuicVersion.V1 });
    expect(looksLikeQuicInitial(d.subarray(0, 1199))).toBe(false);
    const grease = d.slice();
    grease.set([0x1a, 0x2a, 0x3a, 0x4a], 1);
    expect(looksLikeQuicInitial(grease)).toBe(false);
    const zeroRtt = d.slice();
    zeroRtt[0] = (zeroRtt[0]! & 0xcf) | 0x20;
    expect(looksLikeQuicInitial(zeroRtt)).toBe(false);
  });
});

describe('Version Negotiation', () => {
  test('the ClientHello re-sent in another version with the same DCID is reported once (ndpi quic-28)', () => {
    const asm = new QuicInitialAssembler();
    expect(outcome(asm.onDatagram(initial(QuicVersion.DRAFT_28, 'www.wireshark.org'), TUPLE, 1))).toBe('www.wireshark.org');
    // The server answers with Version Negotiation (not fed: server to client); the client
    // starts again in draft-27, same DCID, a new ClientHello.
    const again = sealInitial({ version: QuicVersion.DRAFT_27, dcid: DCID, minSize: 1200 }, frames.crypto(0, fakeClientHello({ sni: 'www.wireshark.org', random: new Uint8Array(32).fill(3) })));
    expect(asm.onDatagram(again, TUPLE, 2)).toBeUndefined();
  });

  test('a new connection in another version with a new DCID is a new ClientHello', () => {
    const asm = new QuicInitialAssembler();
    expect(outcome(asm.onDatagram(initial(QuicVersion.DRAFT_28, 'a.kaspersky.com'), TUPLE, 1))).toBe('a.kaspersky.com');
    const d = clientInitialDatagrams(fakeClientHello({ sni: 'b.kaspersky.com', random: new Uint8Array(32).fill(4) }), { dcid: hex('99887766554433221100'), version: QuicVersion.V1 });
    expect(outcome(asm.onDatagram(concat(...d), TUPLE, 2))).toBe('b.kaspersky.com');
  });
});
