import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { calculateJa4, readTlsClientHello } from 'read-tls-client-hello';
import { describe, expect, test } from 'vitest';
import { isIssue } from '../../src/capture/issues.js';
import { alpnCode, ja4, ja4MemoEntries } from '../../src/capture/app/ja4.js';
import { isGrease, parseClientHello, readClientHelloMessage, type ClientHello } from '../../src/capture/app/tls.js';
import { clientHello, handshakeMessage, type ClientHelloOptions } from '../helpers/tls.js';

function parse(opts: ClientHelloOptions): ClientHello {
  const h = parseClientHello(handshakeMessage(opts));
  if (isIssue(h)) throw new Error(h.key);
  return h;
}

/** A ClientHello literal for rules the parser would reject on the wire (e.g. an empty sig-alg list). */
function literal(over: Partial<ClientHello>): ClientHello {
  return {
    legacyVersion: 0x0303,
    cipherSuites: [0x1301],
    extensions: [],
    sni: undefined,
    sniCount: 0,
    alpn: [],
    supportedVersions: [],
    signatureAlgorithms: [],
    ech: false,
    ...over,
  };
}

const hex = (list: string): number[] => list.split(',').map((h) => parseInt(h, 16));

/**
 * Published JA4 values with the raw lists they came from (JA4_ro: original order), rebuilt as
 * wire hellos by the builder and fingerprinted end to end.
 */
const PUBLISHED: Array<{ source: string; want: string; opts: ClientHelloOptions }> = [
  {
    // FoxIO-LLC/ja4 technical_details/JA4.md "Example" / "Raw Output" (also rust/ja4/src/tls.rs unit test).
    source: 'FoxIO JA4.md example',
    want: 't13d1516h2_8daaf6152771_e5627efa2ab1',
    opts: {
      sni: 'example.com',
      alpn: ['h2'],
      ciphers: hex('1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035'),
      extensions: hex('001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015'),
      sigAlgs: hex('0403,0804,0401,0503,0805,0501,0806,0601'),
    },
  },
  {
    // FoxIO-LLC/ja4 python/test/testdata/latest.pcapng.json, stream 3 (discovery.cem.cloud.us).
    source: 'FoxIO testdata latest.pcapng stream 3 (TLS 1.2, no ALPN)',
    want: 't12d190800_d83cc789557e_7af1ed941c26',
    opts: {
      sni: 'discovery.cem.cloud.us',
      versions: null,
      ciphers: hex('c02c,c02b,c030,c02f,c024,c023,c028,c027,c00a,c009,c014,c013,009d,009c,003d,003c,0035,002f,000a'),
      extensions: hex('0000,0005,000a,000b,000d,0023,0017,ff01'),
      sigAlgs: hex('0804,0805,0806,0401,0501,0201,0403,0503,0203,0202,0601,0603'),
    },
  },
  {
    // Same file, stream 5 (app.slack.com): pre_shared_key 0x0029.
    source: 'FoxIO testdata latest.pcapng stream 5',
    want: 't13d1516h2_8daaf6152771_9b887d9acb53',
    opts: {
      sni: 'app.slack.com',
      alpn: ['h2'],
      ciphers: hex('1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035'),
      extensions: hex('000d,0010,0000,000b,0023,4469,ff01,0033,000a,002d,002b,0005,0017,0012,001b,0029'),
      sigAlgs: hex('0403,0804,0401,0503,0805,0501,0806,0601'),
    },
  },
  {
    // Same file, stream 9: another extension order, same sorted fingerprint as the spec example.
    source: 'FoxIO testdata latest.pcapng stream 9 (shuffled extensions)',
    want: 't13d1516h2_8daaf6152771_e5627efa2ab1',
    opts: {
      sni: 'ping-edge.smartscreen.microsoft.com',
      alpn: ['h2'],
      ciphers: hex('1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035'),
      extensions: hex('000b,0023,002d,001b,000d,ff01,0012,0005,002b,0017,0000,0010,4469,000a,0033,0015'),
      sigAlgs: hex('0403,0804,0401,0503,0805,0501,0806,0601'),
      grease: true,
    },
  },
  {
    // A Chrome 143 JA4/JA4_ro pair as reported by browserleaks (ECH 0xfe0d, ALPS 0x44cd), with GREASE.
    source: 'browserleaks Chrome 143 (third-party report)',
    want: 't13d1516h2_8daaf6152771_d8a2da3f94cd',
    opts: {
      sni: 'tls-outer.browserleaks.com',
      alpn: ['h2', 'http/1.1'],
      ech: true,
      grease: true,
      ciphers: hex('1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035'),
      extensions: hex('002d,0033,0010,fe0d,0017,44cd,0000,000b,000a,002b,ff01,0023,0012,0005,000d,001b'),
      sigAlgs: hex('0403,0804,0401,0503,0805,0501,0806,0601'),
    },
  },
];

describe('ja4: published examples', () => {
  test.for(PUBLISHED)('$source', ({ opts, want }) => {
    const m = readClientHelloMessage(clientHello(opts));
    if (isIssue(m) || m.status !== 'complete') throw new Error('not complete');
    const h = parseClientHello(m.message);
    if (isIssue(h)) throw new Error(h.key);
    expect(ja4(h, 't')).toBe(want);
  });

  test('FoxIO JA4.md: no signature algorithms -> no underscore (6d807ffa2a79)', () => {
    const h = literal({
      extensions: hex('001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015'),
      supportedVersions: [0x0304],
    });
    expect(ja4(h, 't').split('_')[2]).toBe('6d807ffa2a79');
  });

  test('FoxIO JA4.md: cipher hash 8daaf6152771', () => {
    const h = literal({ cipherSuites: hex('1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035') });
    expect(ja4(h, 't').split('_')[1]).toBe('8daaf6152771');
  });
});

describe('ja4: rules', () => {
  const base: ClientHelloOptions = { sni: 'a.test', alpn: ['h2'] };

  test('GREASE is ignored everywhere', () => {
    expect(ja4(parse({ ...base, grease: true }), 't')).toBe(ja4(parse(base), 't'));
  });

  test.for<{ name: string; h: ClientHello; want: string }>([
    { name: 'highest supported_versions', h: parse({ versions: [0x0303, 0x0304, 0x0302] }), want: '13' },
    { name: 'supported_versions up to 1.2', h: parse({ versions: [0x0303, 0x0302] }), want: '12' },
    { name: 'GREASE version is not the highest', h: parse({ versions: [0x0303], grease: true }), want: '12' },
    { name: 'legacy 1.2 without supported_versions', h: parse({ versions: null }), want: '12' },
    { name: 'legacy 1.1', h: parse({ versions: null, legacyVersion: 0x0302 }), want: '11' },
    { name: 'legacy 1.0', h: parse({ versions: null, legacyVersion: 0x0301 }), want: '10' },
    { name: 'SSL 3.0', h: parse({ noExtensions: true, legacyVersion: 0x0300 }), want: 's3' },
    { name: 'unknown', h: parse({ versions: null, legacyVersion: 0x0305 }), want: '00' },
    { name: 'legacy ignored when supported_versions present', h: parse({ legacyVersion: 0x0301, versions: [0x0304] }), want: '13' },
  ])('version: $name -> $want', ({ h, want }) => {
    expect(ja4(h, 't').slice(1, 3)).toBe(want);
  });

  test("'d' with server_name, 'i' without", () => {
    expect(ja4(parse(base), 't')[3]).toBe('d');
    expect(ja4(parse({ alpn: ['h2'] }), 't')[3]).toBe('i');
    // The extension decides, even when it holds no host_name.
    expect(ja4(parse({ sniEntries: [[9, 'x']] }), 't')[3]).toBe('d');
  });

  test('counts: two digits, GREASE excluded, SNI and ALPN included, capped at 99', () => {
    expect(ja4(parse({ ...base, grease: true }), 't').slice(4, 8)).toBe('0512');
    const many = parse({ ciphers: Array.from({ length: 120 }, (_, i) => 0x0100 + i) });
    expect(ja4(many, 't').slice(4, 6)).toBe('99');
    const manyExt = literal({ extensions: Array.from({ length: 150 }, (_, i) => 0x0100 + i) });
    expect(ja4(manyExt, 't').slice(6, 8)).toBe('99');
    expect(ja4(literal({ cipherSuites: [0x1301] }), 't').slice(4, 8)).toBe('0100');
  });

  test.for<{ alpn: string | undefined; want: string }>([
    { alpn: 'h2', want: 'h2' },
    { alpn: 'http/1.1', want: 'h1' },
    { alpn: 'h3', want: 'h3' },
    { alpn: 'x', want: 'xx' },
    { alpn: undefined, want: '00' },
    { alpn: '', want: '00' },
    // JA4.md: non-alphanumeric first or last byte -> first/last char of the value's hex.
    { alpn: '\u00ab', want: 'ab' },
    { alpn: '\u00ab\u00cd', want: 'ad' },
    { alpn: '0\u00ab', want: '3b' },
    { alpn: '01\u00ab\u00cd', want: '3d' },
    { alpn: '0\u00ab\u00cd1', want: '01' },
    { alpn: '/x', want: '28' }, // 0x2f 0x78 -> "2f78" -> "28"
  ])('alpn $alpn -> $want', ({ alpn, want }) => {
    expect(alpnCode(alpn)).toBe(want);
  });

  test('only the first ALPN value counts, from the wire', () => {
    expect(ja4(parse({ alpn: ['http/1.1', 'h2'] }), 't').slice(8, 10)).toBe('h1');
    expect(ja4(parse({ alpn: [Uint8Array.of(0x30, 0xab)] }), 't').slice(8, 10)).toBe('3b');
  });

  test('empty lists give 000000000000', () => {
    // No ciphers at all.
    expect(ja4(literal({ cipherSuites: [] }), 't').split('_')[1]).toBe('000000000000');
    // No extensions block (SSLv3 style).
    expect(ja4(parse({ noExtensions: true }), 't').split('_')[2]).toBe('000000000000');
    // Only SNI and ALPN: nothing left to hash once they are removed.
    const h = parse({ ...base, extensions: [0x0000, 0x0010] });
    expect(ja4(h, 't')).toMatch(/^t12d0502h2_[0-9a-f]{12}_000000000000$/);
  });

  test('sig algs keep their order; sorting them changes part c', () => {
    const a = ja4(parse({ ...base, sigAlgs: [0x0403, 0x0804] }), 't');
    const b = ja4(parse({ ...base, sigAlgs: [0x0804, 0x0403] }), 't');
    expect(a.slice(0, 24)).toBe(b.slice(0, 24));
    expect(a).not.toBe(b);
  });

  test("transport 'q' for QUIC", () => {
    expect(ja4(parse(base), 'q')).toMatch(/^q13d/);
  });

  test('does not mutate the hello', () => {
    const h = parse({ ...base, grease: true, ciphers: [0xc02f, 0x1301] });
    const before = structuredClone(h);
    ja4(h, 't');
    expect(h).toEqual(before);
  });
});

describe('ja4: cross-check with read-tls-client-hello calculateJa4', () => {
  // read-tls-client-hello reads one record from a stream (async); fine for a test. It differs
  // from the spec where these hellos avoid: it prints '13' whenever supported_versions exists,
  // does not cap counts at 99, copies non-alphanumeric ALPN bytes verbatim, and hashes an empty
  // extension list instead of printing 000000000000.
  const cases: Array<{ name: string; opts: ClientHelloOptions }> = [
    { name: 'TLS 1.3 defaults with SNI and ALPN', opts: { sni: 'a.test', alpn: ['h2', 'http/1.1'] } },
    { name: 'Chrome-like: GREASE, ECH, padding to 1800', opts: { sni: 'pq.test', alpn: ['h2'], grease: true, ech: true, padTo: 1800 } },
    { name: 'TLS 1.2 no supported_versions', opts: { sni: 'dnl-01.geo.kaspersky.com', versions: null, ciphers: [0xc02f, 0xc030, 0x009c, 0x002f] } },
    { name: 'TLS 1.0 no signature_algorithms', opts: { sni: 'a.test', versions: null, sigAlgs: null, legacyVersion: 0x0301 } },
    { name: 'no SNI, ALPN http/1.1', opts: { alpn: ['http/1.1'] } },
    { name: 'no SNI, no ALPN', opts: {} },
    { name: 'the JA4.md example order', opts: PUBLISHED[0]!.opts },
  ];
  test.for(cases)('$name', async ({ opts }) => {
    const record = clientHello(opts);
    const theirs = calculateJa4(await readTlsClientHello(Readable.from([Buffer.from(record)], { objectMode: false })));
    expect(ja4(parse(opts), 't')).toBe(theirs);
  });
});

describe('ja4: memoised hashes', () => {
  // Parts b and c are memoised on the value lists; a memo keyed too loosely would hand one
  // client's hash to another.
  const sha12 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 12);

  test('where the extension list ends and the signature algorithms start is part of the key', () => {
    const one = literal({ extensions: hex('000a,000b'), signatureAlgorithms: hex('0403') });
    const two = literal({ extensions: hex('000a'), signatureAlgorithms: hex('000b,0403') });
    expect(ja4(one, 't').split('_')[2]).toBe(sha12('000a,000b_0403'));
    expect(ja4(two, 't').split('_')[2]).toBe(sha12('000a_000b,0403'));
  });

  test('a repeat gives the same value, and a different list a different one', () => {
    const a = literal({ cipherSuites: hex('1301,1302'), extensions: hex('000a'), signatureAlgorithms: hex('0403') });
    const b = literal({ cipherSuites: hex('1302,1301'), extensions: hex('000a'), signatureAlgorithms: hex('0804') });
    const first = ja4(a, 't');
    expect(ja4(a, 't')).toBe(first);
    expect(first.split('_')[1]).toBe(sha12('1301,1302'));
    expect(ja4(b, 't').split('_')[1]).toBe(sha12('1301,1302')); // same set, other order
    expect(ja4(b, 't').split('_')[2]).toBe(sha12('000a_0804'));
  });

  test('more distinct lists than the memo holds still hash correctly', () => {
    for (let i = 0; i < 5000; i += 499) {
      const h = literal({ cipherSuites: [0x1301, 0x2000 + i] });
      expect(ja4(h, 't').split('_')[1]).toBe(sha12(`1301,${(0x2000 + i).toString(16).padStart(4, '0')}`));
    }
    for (let i = 0; i < 5000; i++) ja4(literal({ cipherSuites: [0x3000 + i] }), 't');
    expect(ja4(literal({ cipherSuites: [0x3001] }), 't').split('_')[1]).toBe(sha12('3001'));
  });
});

describe('ja4: memo bounds', () => {
  test('hellos with thousands of values are fingerprinted correctly, also when repeated, and not memoised', () => {
    const many = Array.from({ length: 3000 }, (_, i) => 0x1000 + i);
    const h = literal({ cipherSuites: many });
    const want = createHash('sha256')
      .update(many.filter((v) => !isGrease(v)).map((v) => v.toString(16).padStart(4, '0')).join(',')) // ascending already
      .digest('hex')
      .slice(0, 12);
    const before = ja4MemoEntries();
    expect(ja4(h, 't').split('_')[1]).toBe(want);
    expect(ja4(h, 't').split('_')[1]).toBe(want);
    expect(ja4(h, 't').split('_')[0]).toBe('t12i990000'); // 3000 ciphers count as 99
    expect(ja4MemoEntries()).toBe(before);
    ja4(literal({ cipherSuites: [0x1301, 0x1302] }), 't');
    expect(ja4MemoEntries()).toBe(before + 1); // a normal hello is
  });
});
