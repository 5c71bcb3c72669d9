import { hkdfSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  decodePacketNumber,
  deriveInitialKeys,
  hkdfExpand,
  hkdfExtract,
  hkdfLabel,
  HP_SAMPLE_LEN,
  learnedVersion,
  HP_SAMPLE_OFFSET,
  openPacket,
  QuicVersion,
  quicVersionInfo,
  type PacketKeys,
} from '../../src/capture/app/quic-crypto.js';
import { concat, frames, hex, sealInitial, toHex } from '../helpers/quic.js';

/** QUIC Initial crypto at its edges (src/capture/app/quic-crypto.ts), against independent references. */

describe('HKDF (RFC 5869) against node:crypto hkdfSync', () => {
  const salt = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
  const ikm = Buffer.from('8394c8f03e515708', 'hex');
  const info = Buffer.from('kasmon test info', 'latin1');
  // 32 bytes is one SHA-256 block; longer outputs need the counter to go on.
  test.for([1, 12, 16, 32, 33, 64, 65, 100])('%i bytes', (length) => {
    const want = Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
    expect(hkdfExpand(hkdfExtract(salt, ikm), info, length).toString('hex')).toBe(want.toString('hex'));
  });
});

describe('HkdfLabel (RFC 8446 §7.1) with a context', () => {
  test('length, "tls13 " + label, then the context with its length byte', () => {
    expect(hkdfLabel('x', 0x0102, Uint8Array.of(0xaa, 0xbb)).toString('hex')).toBe('0102' + '07' + Buffer.from('tls13 x').toString('hex') + '02aabb');
  });
});

describe('decodePacketNumber (RFC 9000 Appendix A.3) at the window edges', () => {
  // 1-byte encoding: window 256, half window 128.
  test.for([
    { name: 'candidate exactly half a window below expected: moved up', largest: 383, truncated: 0, want: 512 },
    { name: 'one above that: kept', largest: 382, truncated: 0, want: 256 },
    { name: 'candidate exactly half a window above expected: kept', largest: 255, truncated: 128, want: 384 },
    { name: 'one above that: moved down', largest: 255, truncated: 129, want: 129 },
    { name: 'expected is largest + 1', largest: 127, truncated: 0, want: 256 },
  ])('$name', ({ largest, truncated, want }) => {
    expect(decodePacketNumber(largest, truncated, 1)).toBe(want);
  });
});

describe('openPacket on its own', () => {
  const dcid = hex('8394c8f03e515708');
  const keys = (): PacketKeys => {
    const k = deriveInitialKeys(QuicVersion.V1, dcid);
    if (k === undefined) throw new Error('no keys');
    return k;
  };
  // first byte, version, DCID length, DCID, SCID length, token length, 2-byte Length
  const pnOffset = 1 + 4 + 1 + dcid.length + 1 + 1 + 2;
  const payload = concat(frames.crypto(0, hex('01000004 03030102')), frames.padding(30));

  test('no Initial keys for a version kasmon does not know', () => {
    expect(deriveInitialKeys(0x12345678, dcid)).toBeUndefined();
    expect(deriveInitialKeys(0x12345678, dcid, 'server')).toBeUndefined();
  });

  test('a packet too short for the header-protection sample is refused without upsetting the next one (the AES-ECB cipher is reused)', () => {
    const k = keys();
    const whole = sealInitial({ dcid, pn: 3 }, payload);
    expect(openPacket(k, whole.subarray(0, pnOffset + HP_SAMPLE_OFFSET + HP_SAMPLE_LEN - 1), pnOffset, -1)).toBeUndefined();
    const opened = openPacket(k, whole, pnOffset, -1);
    expect(opened?.pn).toBe(3);
    expect(toHex(opened?.payload ?? new Uint8Array())).toBe(toHex(payload));
  });

  test('packet numbers past 2^32 reach the nonce whole (RFC 9001 §5.3: the nonce is 62 bits of packet number)', () => {
    const pn = 2 ** 32 + 7;
    const opened = openPacket(keys(), sealInitial({ dcid, pn, pnLength: 2 }, payload), pnOffset, pn - 1);
    expect(opened?.pn).toBe(pn);
    expect(toHex(opened?.payload ?? new Uint8Array())).toBe(toHex(payload));
  });
});

describe('a learned version', () => {
  test('keeps the parameters of the candidate that opened it, under its own number and an 8-digit name', () => {
    const like = quicVersionInfo(QuicVersion.V1);
    if (like === undefined) throw new Error('no v1');
    const v = learnedVersion(0x00abcdef, like);
    expect([v.version, v.name, v.salt, v.types]).toEqual([0x00abcdef, `0x00abcdef (${like.name})`, like.salt, like.types]);
  });
});

describe('decodePacketNumber at the top of the packet-number space', () => {
  test('a candidate one window below 2^62 is not moved up past 2^62 - 1 (RFC 9000 Appendix A.3)', () => {
    // 4-byte encoding: window 2^32; all values here are exact doubles
    const largest = 2 ** 62 - 2 ** 31;
    expect(decodePacketNumber(largest, 0, 4)).toBe(2 ** 62 - 2 ** 32);
    // one window lower, the same candidate arithmetic does move up
    expect(decodePacketNumber(largest - 2 ** 32, 0, 4)).toBe(2 ** 62 - 2 ** 32);
  });
});
