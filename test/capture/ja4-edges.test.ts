import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { alpnCode, ja4, ja4MemoEntries, MAX_MEMO } from '../../src/capture/app/ja4.js';
import type { ClientHello } from '../../src/capture/app/tls.js';

/** JA4 at its edges (src/capture/app/ja4.ts): the ALPN code at the borders of [0-9A-Za-z], and a memo that never hands one hello's fingerprint to another. */

function hello(over: Partial<ClientHello>): ClientHello {
  return {
    legacyVersion: 0x0303,
    cipherSuites: [0x1301, 0x1302],
    extensions: [0x0000, 0x0010, 0x000a],
    sni: 'a.test',
    sniCount: 1,
    alpn: ['h2'],
    supportedVersions: [0x0304],
    signatureAlgorithms: [0x0403],
    ech: false,
    ...over,
  };
}

describe('alpnCode at the borders of [0-9A-Za-z]', () => {
  // Each non-alphanumeric character here sits right next to a range: '/' ':' '@' '[' '`' '{'.
  test.for([
    { alpn: '0z', want: '0z' },
    { alpn: '9Z', want: '9Z' },
    { alpn: 'Aa', want: 'Aa' },
    { alpn: 'za', want: 'za' },
    { alpn: '/a', want: '21' }, // 2f 61
    { alpn: ':a', want: '31' }, // 3a 61
    { alpn: '@a', want: '41' }, // 40 61
    { alpn: '[a', want: '51' }, // 5b 61
    { alpn: '`a', want: '61' }, // 60 61
    { alpn: '{a', want: '71' }, // 7b 61
    { alpn: 'a{', want: '6b' }, // 61 7b
    { alpn: 'a`', want: '60' }, // 61 60
    { alpn: 'x', want: 'xx' },
    // bytes below 0x10: their hex has a leading zero
    { alpn: '\x01\x0a', want: '0a' },
    { alpn: '\x05a', want: '01' },
  ])('$alpn → $want', ({ alpn, want }) => {
    expect(alpnCode(alpn)).toBe(want);
  });
});

/** JA4 the slow way, for hellos without GREASE and with at most 99 values per list (JA4.md). */
function reference(h: ClientHello, transport: 't' | 'q'): string {
  const hex = (v: number): string => v.toString(16).padStart(4, '0');
  const sha12 = (x: string): string => createHash('sha256').update(x).digest('hex').slice(0, 12);
  const top = h.supportedVersions.length > 0 ? Math.max(...h.supportedVersions) : h.legacyVersion;
  const version = { 0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10' }[top] ?? '00';
  const sni = h.extensions.includes(0x0000) ? 'd' : 'i';
  const two = (n: number): string => String(n).padStart(2, '0');
  const a = `${transport}${version}${sni}${two(h.cipherSuites.length)}${two(h.extensions.length)}${alpnCode(h.alpn[0])}`;
  const b = h.cipherSuites.length === 0 ? '000000000000' : sha12([...h.cipherSuites].sort((x, y) => x - y).map(hex).join(','));
  const exts = [...h.extensions].filter((e) => e !== 0x0000 && e !== 0x0010).sort((x, y) => x - y).map(hex).join(',');
  // No extensions left once SNI and ALPN are out: the "no values" marker, whatever the signature algorithms.
  const c = exts === '' ? '000000000000' : sha12(h.signatureAlgorithms.length === 0 ? exts : `${exts}_${h.signatureAlgorithms.map(hex).join(',')}`);
  return `${a}_${b}_${c}`;
}

describe('the fingerprint memo keeps hellos apart', () => {
  test('hellos that differ in one thing only, fingerprinted one after another, each get their own (checked against a from-scratch JA4)', () => {
    const variants: Array<[string, ClientHello]> = [
      ['h2', hello({})],
      ['no ALPN', hello({ alpn: [] })],
      ['h3', hello({ alpn: ['h3'] })],
      ['x2', hello({ alpn: ['x2'] })],
      ['TLS 1.2', hello({ supportedVersions: [0x0303] })],
      ['legacy only', hello({ supportedVersions: [], legacyVersion: 0x0301 })],
      ['a cipher more', hello({ cipherSuites: [0x1301, 0x1302, 0x1303] })],
      ['an extension more', hello({ extensions: [0x0000, 0x0010, 0x000a, 0x000b] })],
      ['a signature algorithm more', hello({ signatureAlgorithms: [0x0403, 0x0804] })],
      ['no SNI extension', hello({ extensions: [0x0010, 0x000a], sni: undefined, sniCount: 0 })],
      // the same values, split differently between the lists
      ['0x000a moved to the ciphers', hello({ cipherSuites: [0x1301, 0x1302, 0x000a], extensions: [0x0000, 0x0010, 0x000b] })],
      ['0x0403 moved to the extensions', hello({ extensions: [0x0000, 0x0010, 0x000a, 0x0403], signatureAlgorithms: [] })],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [name, h] of round === 0 ? variants : [...variants].reverse()) {
        expect(ja4(h, 't'), name).toBe(reference(h, 't'));
        expect(ja4(h, 'q'), name).toBe(reference(h, 'q'));
      }
    }
    expect(new Set(variants.map(([, h]) => reference(h, 't'))).size).toBe(variants.length);
  });
});

describe('long lists, odd versions, and the memo under pressure', () => {
  test('more than 64 values in a list, in any order, are sorted like a short one', () => {
    const ciphers = Array.from({ length: 80 }, (_, i) => 0xc000 + ((i * 37) % 80)); // a permutation, not sorted
    const exts = [0x0000, 0x0010, ...Array.from({ length: 70 }, (_, i) => 0x0100 + ((i * 13) % 70))];
    const h = hello({ cipherSuites: ciphers, extensions: exts });
    expect(ja4(h, 't')).toBe(reference(h, 't'));
  });

  test('a hostile hello with hundreds of signature algorithms', () => {
    const sigs = Array.from({ length: 600 }, (_, i) => 0x0400 + i);
    const h = hello({ signatureAlgorithms: sigs });
    expect(ja4(h, 't')).toBe(reference(h, 't'));
    expect(ja4(hello({}), 't')).toBe(reference(hello({}), 't'));
  });

  test('the scratch key grows for whichever list is long: tens of thousands of extensions, then more signature algorithms', () => {
    // Longer than any other test's lists, so the key must grow here whatever ran before; each
    // list's length is part of what it is sized for. Parts b and c are compared (the a part's
    // counts stop at 99, the reference's do not).
    const noGrease = (v: number): boolean => (v & 0x0f0f) !== 0x0a0a; // the reference keeps GREASE
    const exts = [0x0000, 0x0010, ...Array.from({ length: 40_000 }, (_, i) => 0x0100 + i).filter(noGrease)];
    const byExts = hello({ extensions: exts });
    expect(ja4(byExts, 't').split('_').slice(1)).toEqual(reference(byExts, 't').split('_').slice(1));
    const sigs = Array.from({ length: 100_000 }, (_, i) => 0x0100 + (i % 0xfe00)).filter(noGrease);
    const bySigs = hello({ signatureAlgorithms: sigs });
    expect(ja4(bySigs, 't').split('_').slice(1)).toEqual(reference(bySigs, 't').split('_').slice(1));
  });

  test('supported_versions holding only 0x0000: the version is that value (unknown, 00), not legacy_version', () => {
    const h = hello({ supportedVersions: [0x0000], legacyVersion: 0x0303 });
    expect(ja4(h, 't').slice(0, 4)).toBe('t00d');
    expect(ja4(h, 't')).toBe(reference(h, 't'));
  });

  test('two hellos whose memo keys hash alike (a 32-bit FNV-1a collision) still get their own fingerprints', () => {
    // Found by a search over the last two signature algorithms (ja4.ts hashes its key with FNV-1a):
    // these two hellos differ only there, and their keys collide.
    const a = hello({ supportedVersions: [0x0304], signatureAlgorithms: [0x0403, 0x9902, 0xe68f] });
    const b = hello({ supportedVersions: [0x0304], signatureAlgorithms: [0x0403, 0x7e03, 0x1e18] });
    expect(ja4(a, 't')).toBe(reference(a, 't'));
    expect(ja4(b, 't')).toBe(reference(b, 't'));
    expect(ja4(a, 't')).toBe(reference(a, 't'));
    expect(reference(a, 't')).not.toBe(reference(b, 't'));
  });

  test(`the memo never holds more than ${MAX_MEMO} fingerprints`, () => {
    let most = 0;
    for (let i = 0; i <= MAX_MEMO + 1; i++) {
      ja4(hello({ signatureAlgorithms: [0x0403, 0x1000 + i] }), 't');
      most = Math.max(most, ja4MemoEntries());
    }
    expect(most).toBe(MAX_MEMO);
  });
});
