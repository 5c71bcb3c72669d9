import { hkdfSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { decodePacketNumber, hkdfExpand, hkdfExtract, hkdfLabel } from '../../src/capture/app/quic-crypto.js';

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
