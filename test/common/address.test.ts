import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ipv4Text, ipv4ToString, ipv6Text, ipv6ToString } from '../../src/common/address.js';

/**
 * Text forms of addresses: RFC 5952 for IPv6 (the observation contract's `src`/`dst`), dotted
 * quad for IPv4. Inputs here are bytes, written as 8 hex groups, so the RFC's own examples
 * (2001:db8::/32) can be used: they never go on the wire.
 */
function bytesOf(groups: readonly number[], at = 0): Uint8Array {
  if (groups.length !== 8) throw new Error('8 groups');
  const b = new Uint8Array(at + 16);
  groups.forEach((g, i) => {
    b[at + 2 * i] = g >> 8;
    b[at + 2 * i + 1] = g & 0xff;
  });
  return b;
}

/** The full, uncompressed text `a:b:c:d:e:f:g:h` → groups. */
function groups(full: string): number[] {
  return full.split(':').map((g) => Number.parseInt(g, 16));
}

describe('ipv6ToString: RFC 5952 §4 and §5', () => {
  test.for([
    { name: '§4.1 leading zeros are dropped', full: '2001:0db8:0000:0000:0000:0000:0000:0001', want: '2001:db8::1' },
    { name: '§4.1 leading zeros inside a group', full: 'fd00:00ab:0c00:000d:0001:0010:0100:1000', want: 'fd00:ab:c00:d:1:10:100:1000' },
    { name: '§4.2.1 the longest run is compressed entirely', full: '2001:0db8:0000:0000:0000:0000:0002:0001', want: '2001:db8::2:1' },
    { name: '§4.2.2 a single zero group is not compressed', full: '2001:0db8:0000:0001:0001:0001:0001:0001', want: '2001:db8:0:1:1:1:1:1' },
    { name: '§4.2.3 the longer of two runs', full: '2001:0000:0000:0001:0000:0000:0000:0001', want: '2001:0:0:1::1' },
    { name: '§4.2.3 the first of two equal runs', full: '2001:0db8:0000:0000:0001:0000:0000:0001', want: '2001:db8::1:0:0:1' },
    { name: '§4.3 lower-case hex', full: '2001:0DB8:0000:0000:0000:0000:0000:ABCD', want: '2001:db8::abcd' },
    { name: 'the unspecified address', full: '0:0:0:0:0:0:0:0', want: '::' },
    { name: 'loopback', full: '0:0:0:0:0:0:0:1', want: '::1' },
    { name: 'run at the end', full: 'fd00:0:0:0:0:0:0:0', want: 'fd00::' },
    { name: 'run of two at the end', full: 'fd00:1:2:3:4:5:0:0', want: 'fd00:1:2:3:4:5::' },
    { name: 'run of two at the start', full: '0:0:fd00:1:2:3:4:5', want: '::fd00:1:2:3:4:5' },
    { name: 'no zero groups', full: 'fd12:3456:789a:1:2:3:4:5', want: 'fd12:3456:789a:1:2:3:4:5' },
    { name: 'zero groups only one apart are two runs', full: 'fd00:0:1:0:2:0:3:0', want: 'fd00:0:1:0:2:0:3:0' },
    { name: 'a unique local address', full: 'fd00:0:0:1:0:0:0:10', want: 'fd00:0:0:1::10' },
    { name: 'ffff groups', full: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', want: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' },
    { name: '§5 IPv4-mapped keeps the dotted quad', full: '0:0:0:0:0:ffff:c612:0001', want: '::ffff:198.18.0.1' },
    { name: '§5 IPv4-mapped 0.0.0.0', full: '0:0:0:0:0:ffff:0:0', want: '::ffff:0.0.0.0' },
    { name: 'not mapped: ::fffe:…', full: '0:0:0:0:0:fffe:c612:1', want: '::fffe:c612:1' },
    { name: 'not mapped: ffff in another group', full: '0:0:0:0:ffff:0:c612:1', want: '::ffff:0:c612:1' },
    { name: 'not mapped: a non-zero prefix', full: '0:0:0:1:0:ffff:c612:1', want: '::1:0:ffff:c612:1' },
  ])('$name: $want', ({ full, want }) => {
    expect(ipv6ToString(bytesOf(groups(full)), 0)).toBe(want);
  });

  test('reads at the given offset', () => {
    const b = bytesOf(groups('fd00:0:0:0:0:0:0:53'), 24);
    b.fill(0xee, 0, 24);
    expect(ipv6ToString(b, 24)).toBe('fd00::53');
  });

  test('any address: valid IPv6 text that parses back to the same bytes, in canonical form', () => {
    // Zero-heavy groups, so runs of every length and position come up.
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0xffff), fc.nat(0xffff));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (g) => {
        const s = ipv6ToString(bytesOf(g), 0);
        expect(isIPv6(s)).toBe(true);
        // The WHATWG URL serializer is RFC 5952 compression without the dotted IPv4-mapped form.
        const canonical = new URL(`http://[${s}]/`).hostname.slice(1, -1);
        const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
        if (mapped) expect(s).toBe(`::ffff:${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`);
        else expect(s).toBe(canonical);
        expect(s).toBe(s.toLowerCase());
      }),
      { numRuns: 5000 },
    );
  });
});

describe('ipv4ToString', () => {
  test.for([
    { name: 'benchmarking range', bytes: [198, 18, 0, 1], want: '198.18.0.1' },
    { name: 'no leading zeros', bytes: [198, 19, 7, 10], want: '198.19.7.10' },
    { name: 'zeros', bytes: [0, 0, 0, 0], want: '0.0.0.0' },
    { name: 'all ones', bytes: [255, 255, 255, 255], want: '255.255.255.255' },
  ])('$name: $want', ({ bytes, want }) => {
    expect(ipv4ToString(Uint8Array.from(bytes), 0)).toBe(want);
  });

  test('reads at the given offset', () => {
    expect(ipv4ToString(Uint8Array.of(9, 9, 198, 18, 200, 2, 9), 2)).toBe('198.18.200.2');
  });
});

describe('cached formatting (ipv4Text, ipv6Text)', () => {
  // The caches are direct-mapped: colliding addresses overwrite each other's slot. Whatever
  // the order, the text must be that address's, never a neighbour's.
  test('random addresses, repeated and interleaved, always give their own text', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { maxLength: 200 }), (addrs, picks) => {
        for (const p of [...picks, ...picks.map((x) => x + 1)]) {
          const a = addrs[p % addrs.length]!;
          expect(ipv6Text(a, 0)).toBe(ipv6ToString(a, 0));
          expect(ipv4Text(a, 12)).toBe(ipv4ToString(a, 12));
        }
      }),
    );
  });

  test('more distinct addresses than slots (8192 each), then the first again', () => {
    const b = new Uint8Array(16);
    const first = Uint8Array.of(198, 18, 0, 1);
    expect(ipv4Text(first, 0)).toBe('198.18.0.1');
    for (let i = 0; i < 8192; i++) {
      b[12] = 198;
      b[13] = 18 + (i >> 16);
      b[14] = (i >> 8) & 0xff;
      b[15] = i & 0xff;
      expect(ipv4Text(b, 12)).toBe(`198.${18 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}`);
      b[0] = 0xfd;
      b[14] = i >> 8;
      expect(ipv6Text(b, 0)).toBe(ipv6ToString(b, 0));
    }
    expect(ipv4Text(first, 0)).toBe('198.18.0.1');
  });
});
