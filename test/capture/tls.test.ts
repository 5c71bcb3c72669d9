import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { isIssue, type DecodeIssue } from '../../src/capture/issues.js';
import {
  MAX_CLIENT_HELLO_BYTES,
  TLS_BAD_ALPN,
  TLS_BAD_CIPHER_SUITES,
  TLS_BAD_EXTENSIONS,
  TLS_BAD_RECORD_VERSION,
  TLS_BAD_SIGNATURE_ALGORITHMS,
  TLS_BAD_SNI,
  TLS_BAD_SNI_LENGTH,
  TLS_BAD_SNI_NAME,
  TLS_BAD_SUPPORTED_VERSIONS,
  TLS_DUPLICATE_EXTENSION,
  TLS_EMPTY_RECORD,
  TLS_HELLO_TOO_LARGE,
  TLS_HELLO_TRUNCATED,
  TLS_INTERLEAVED_RECORD,
  TLS_MALFORMED_HELLO,
  TLS_NOT_CLIENT_HELLO,
  TLS_NOT_HANDSHAKE,
  TLS_RECORD_TOO_LONG,
  TLS_TRAILING_DATA,
  isGrease,
  looksLikeTlsHandshake,
  parseClientHello,
  readClientHelloMessage,
  type ClientHello,
} from '../../src/capture/app/tls.js';
import {
  Ext,
  bytes,
  clientHello,
  concat,
  handshakeMessage,
  record,
  tlsRecords,
  u16,
  vec16,
  vec8,
  type ClientHelloOptions,
} from '../helpers/tls.js';

/** Records → message → ClientHello, failing the test on anything but a complete, valid hello. */
function decode(stream: Uint8Array): ClientHello {
  const m = readClientHelloMessage(stream);
  if (isIssue(m) || m.status !== 'complete') throw new Error(`not complete: ${JSON.stringify(m)}`);
  const h = parseClientHello(m.message);
  if (isIssue(h)) throw new Error(`issue: ${h.key}`);
  return h;
}

/** Parse a hello built with `opts` (the message alone). */
function parseOpts(opts: ClientHelloOptions): ClientHello | DecodeIssue {
  return parseClientHello(handshakeMessage(opts));
}

/** A hand-made ClientHello body (after legacy_version and random) with a correct header. */
function rawHello(...rest: Uint8Array[]): Uint8Array {
  return withHandshakeLength(concat([Uint8Array.of(1, 0, 0, 0), u16(0x0303), new Uint8Array(32), ...rest]));
}

/** Rewrite the 3-byte handshake length so it matches the bytes given. */
function withHandshakeLength(msg: Uint8Array): Uint8Array {
  const out = msg.slice();
  const len = out.length - 4;
  out[1] = (len >> 16) & 0xff;
  out[2] = (len >> 8) & 0xff;
  out[3] = len & 0xff;
  return out;
}

describe('looksLikeTlsHandshake', () => {
  test.for([
    { name: 'TLS 1.0 record with ClientHello', input: clientHello({ sni: 'a.test' }), want: true },
    { name: 'SSLv3 record version', input: clientHello({ recordVersion: 0x0300 }), want: true },
    { name: 'TLS 1.3 record version 0x0304', input: clientHello({ recordVersion: 0x0304 }), want: true },
    { name: 'only the first 3 bytes', input: Uint8Array.of(0x16, 0x03, 0x01), want: true },
    { name: '5-byte record header', input: Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00), want: true },
    { name: 'two bytes are too few', input: Uint8Array.of(0x16, 0x03), want: false },
    { name: 'empty', input: new Uint8Array(0), want: false },
    { name: 'application data record', input: Uint8Array.of(0x17, 0x03, 0x03, 0x00, 0x10, 0x01), want: false },
    { name: 'record version 3.5', input: Uint8Array.of(0x16, 0x03, 0x05, 0x00, 0x10, 0x01), want: false },
    { name: 'record major 2', input: Uint8Array.of(0x16, 0x02, 0x00, 0x00, 0x10, 0x01), want: false },
    { name: 'ServerHello', input: Uint8Array.of(0x16, 0x03, 0x03, 0x00, 0x10, 0x02), want: false },
    { name: 'HTTP request', input: bytes('GET / HTTP/1.1\r\n'), want: false },
  ])('$name', ({ input, want }) => {
    expect(looksLikeTlsHandshake(input)).toBe(want);
  });
});

describe('isGrease', () => {
  test('the 16 RFC 8701 values and nothing else', () => {
    const grease: number[] = [];
    for (let v = 0; v <= 0xffff; v++) if (isGrease(v)) grease.push(v);
    expect(grease).toEqual([...Array(16).keys()].map((i) => (i << 12) | 0x0a00 | (i << 4) | 0x0a));
  });
});

describe('parseClientHello: hellos from the builder', () => {
  const base: Omit<ClientHello, 'legacyVersion' | 'cipherSuites' | 'extensions'> = {
    sni: undefined,
    sniCount: 0,
    alpn: [],
    supportedVersions: [],
    signatureAlgorithms: [],
    ech: false,
  };
  test.for<{ name: string; opts: ClientHelloOptions; want: Partial<ClientHello> }>([
    {
      name: 'TLS 1.3 with SNI and ALPN',
      opts: { sni: 'ksn.kaspersky-labs.com', alpn: ['h2', 'http/1.1'] },
      want: {
        legacyVersion: 0x0303,
        sni: 'ksn.kaspersky-labs.com',
        sniCount: 1,
        alpn: ['h2', 'http/1.1'],
        supportedVersions: [0x0304, 0x0303],
        signatureAlgorithms: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
        ech: false,
      },
    },
    {
      name: 'TLS 1.2 (no supported_versions)',
      opts: { sni: 'dnl-01.geo.kaspersky.com', versions: null },
      want: { legacyVersion: 0x0303, sni: 'dnl-01.geo.kaspersky.com', supportedVersions: [] },
    },
    {
      name: 'TLS 1.0 (no supported_versions, no signature_algorithms)',
      opts: { sni: 'a.test', versions: null, sigAlgs: null, legacyVersion: 0x0301, ciphers: [0xc014, 0x0035, 0x002f] },
      want: { legacyVersion: 0x0301, sni: 'a.test', cipherSuites: [0xc014, 0x0035, 0x002f], signatureAlgorithms: [] },
    },
    {
      name: 'SSLv3-style hello without an extensions block',
      opts: { noExtensions: true, legacyVersion: 0x0300, ciphers: [0x0035, 0x002f, 0x000a] },
      want: { ...base, legacyVersion: 0x0300, cipherSuites: [0x0035, 0x002f, 0x000a], extensions: [] },
    },
    {
      name: 'no SNI: a ClientHello with sni undefined',
      opts: { alpn: ['h2'] },
      want: { sni: undefined, sniCount: 0, alpn: ['h2'] },
    },
    {
      name: 'upper-case SNI with a trailing dot is normalised',
      opts: { sni: 'DNL-02.Geo.Kaspersky.COM.' },
      want: { sni: 'dnl-02.geo.kaspersky.com' },
    },
    {
      name: 'GREASE everywhere is kept in the lists',
      opts: { sni: 'g.test', grease: true },
      want: {
        sni: 'g.test',
        cipherSuites: [0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f],
        supportedVersions: [0x3a3a, 0x0304, 0x0303],
      },
    },
    {
      name: 'ECH outer hello: public name plus ech flag',
      opts: { sni: 'cloudflare-ech.com', ech: true, grease: true },
      want: { sni: 'cloudflare-ech.com', ech: true },
    },
    {
      name: 'post-quantum sized hello (padded to 1800 bytes)',
      opts: { sni: 'pq.test', grease: true, padTo: 1800 },
      want: { sni: 'pq.test' },
    },
    {
      name: 'SNI of 255 bytes is accepted',
      opts: { sni: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}` },
      want: { sni: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}` },
    },
    {
      name: 'only a non-host_name entry: no sni, extension still listed',
      opts: { sniEntries: [[7, 'opaque']] },
      want: { sni: undefined, sniCount: 0, extensions: expect.arrayContaining([0x0000]) as number[] },
    },
    {
      name: 'two host_names: the first is kept, both are counted',
      opts: { sniEntries: [[0, 'first.test'], [0, 'second.test']] },
      want: { sni: 'first.test', sniCount: 2 },
    },
    {
      name: 'other name type before host_name is skipped',
      opts: { sniEntries: [[1, 'x'], [0, 'real.test']] },
      want: { sni: 'real.test', sniCount: 1 },
    },
    {
      name: 'non-ASCII ALPN bytes survive as latin1',
      opts: { alpn: [Uint8Array.of(0x30, 0xab)] },
      want: { alpn: ['0\u00ab'] },
    },
  ])('$name', ({ opts, want }) => {
    const h = parseOpts(opts);
    expect(isIssue(h)).toBe(false);
    expect(h).toMatchObject(want);
  });

  test('extension types are reported in wire order, GREASE included', () => {
    const h = decode(clientHello({ sni: 'a.test', alpn: ['h2'], grease: true, ech: true, padTo: 1800 }));
    expect(h.extensions).toEqual([
      0x1a1a, 0x0000, 0x0017, 0xff01, 0x000a, 0x000b, 0x0023, 0x0010, 0x0005, 0x000d, 0x0033, 0x002d, 0x002b,
      0xfe0d, 0x2a2a, 0x0015,
    ]);
    expect(handshakeMessage({ sni: 'a.test', alpn: ['h2'], grease: true, ech: true, padTo: 1800 }).length).toBe(1800);
  });

  test('an explicit extension order is kept', () => {
    const order = [Ext.KeyShare, Ext.ServerName, Ext.SupportedVersions, Ext.Alpn];
    expect(parseOpts({ sni: 'o.test', alpn: ['h2'], extensions: order })).toMatchObject({ extensions: order });
  });

  test('bytes after the length the header claims are ignored', () => {
    const msg = handshakeMessage({ sni: 'a.test' });
    expect(parseClientHello(concat([msg, Uint8Array.of(0x16, 0xff, 0xff)]))).toMatchObject({ sni: 'a.test' });
  });

  test('a second parse after a duplicate-extension failure starts clean', () => {
    // The duplicate detector reuses a bit set; a failed parse must not leave bits behind.
    expect(parseOpts({ sni: 'a.test', extensions: [0x0000, 0x0017, 0x0017] })).toBe(TLS_DUPLICATE_EXTENSION);
    expect(parseOpts({ sni: 'a.test', extensions: [0x0017, 0x0000] })).toMatchObject({ sni: 'a.test' });
  });
});

describe('parseClientHello: issues', () => {
  const sniExt = (body: Uint8Array): ClientHelloOptions => ({ extensions: [], extra: [[Ext.ServerName, body]] });
  const hostName = (name: Uint8Array): Uint8Array => vec16(concat([Uint8Array.of(0), vec16(name)]));

  test.for<{ name: string; input: Uint8Array; want: DecodeIssue }>([
    { name: 'SNI length 0', input: handshakeMessage({ sni: '' }), want: TLS_BAD_SNI_LENGTH },
    { name: 'SNI length 256', input: handshakeMessage({ sni: 'a'.repeat(256) }), want: TLS_BAD_SNI_LENGTH },
    { name: 'SNI with NUL', input: handshakeMessage({ sni: 'evil.test\u0000.kaspersky.com' }), want: TLS_BAD_SNI_NAME },
    { name: 'SNI with a space', input: handshakeMessage({ sni: 'a b.test' }), want: TLS_BAD_SNI_NAME },
    { name: 'SNI with DEL', input: handshakeMessage({ sni: 'a\u007f.test' }), want: TLS_BAD_SNI_NAME },
    { name: 'SNI with UTF-8 bytes', input: handshakeMessage({ sni: 'b\u00c3\u00bccher.test' }), want: TLS_BAD_SNI_NAME },
    { name: 'SNI is just "."', input: handshakeMessage({ sni: '.' }), want: TLS_BAD_SNI_NAME },
    { name: 'empty server_name extension', input: handshakeMessage(sniExt(new Uint8Array(0))), want: TLS_BAD_SNI },
    { name: 'empty server_name_list', input: handshakeMessage(sniExt(vec16(new Uint8Array(0)))), want: TLS_BAD_SNI },
    {
      name: 'host_name overruns its list',
      input: handshakeMessage(sniExt(concat([u16(5), Uint8Array.of(0), u16(9), bytes('ab')]))),
      want: TLS_BAD_SNI,
    },
    {
      name: 'bytes after server_name_list',
      input: handshakeMessage(sniExt(concat([hostName(bytes('a.test')), Uint8Array.of(0)]))),
      want: TLS_BAD_SNI,
    },
    { name: 'duplicate SNI extension', input: handshakeMessage({ sni: 'a.test', extensions: [0, 0] }), want: TLS_DUPLICATE_EXTENSION },
    {
      name: 'duplicate unknown extension',
      input: handshakeMessage({ extensions: [], extra: [[0x1234, new Uint8Array(0)], [0x1234, Uint8Array.of(1)]] }),
      want: TLS_DUPLICATE_EXTENSION,
    },
    { name: 'empty ALPN protocol name', input: handshakeMessage({ alpn: ['h2', ''] }), want: TLS_BAD_ALPN },
    {
      name: 'empty ALPN list',
      input: handshakeMessage({ extensions: [], extra: [[Ext.Alpn, vec16(new Uint8Array(0))]] }),
      want: TLS_BAD_ALPN,
    },
    {
      name: 'odd supported_versions',
      input: handshakeMessage({ extensions: [], extra: [[Ext.SupportedVersions, vec8(Uint8Array.of(3, 4, 3))]] }),
      want: TLS_BAD_SUPPORTED_VERSIONS,
    },
    { name: 'empty supported_versions', input: handshakeMessage({ versions: [] }), want: TLS_BAD_SUPPORTED_VERSIONS },
    { name: 'empty signature_algorithms', input: handshakeMessage({ sigAlgs: [] }), want: TLS_BAD_SIGNATURE_ALGORITHMS },
    { name: 'server hello type', input: Uint8Array.of(2, 0, 0, 0), want: TLS_NOT_CLIENT_HELLO },
    { name: 'three bytes', input: Uint8Array.of(1, 0, 0), want: TLS_HELLO_TRUNCATED },
    { name: 'header claims more than given', input: handshakeMessage({ sni: 'a.test' }).subarray(0, 50), want: TLS_HELLO_TRUNCATED },
    { name: 'empty body', input: Uint8Array.of(1, 0, 0, 0), want: TLS_MALFORMED_HELLO },
    {
      name: 'odd cipher_suites length',
      input: rawHello(vec8(new Uint8Array(0)), vec16(Uint8Array.of(0x13, 0x01, 0x13)), vec8(Uint8Array.of(0))),
      want: TLS_BAD_CIPHER_SUITES,
    },
    {
      name: 'compression methods missing',
      input: rawHello(vec8(new Uint8Array(0)), vec16(u16(0x1301))),
      want: TLS_MALFORMED_HELLO,
    },
    {
      name: 'one stray byte where extensions start',
      input: withHandshakeLength(concat([handshakeMessage({ noExtensions: true }), Uint8Array.of(0)])),
      want: TLS_BAD_EXTENSIONS,
    },
    {
      name: 'extension length overruns the block',
      input: withHandshakeLength(concat([handshakeMessage({ noExtensions: true }), vec16(concat([u16(0x0017), u16(4)]))])),
      want: TLS_BAD_EXTENSIONS,
    },
    {
      name: 'data after the extensions block',
      input: withHandshakeLength(concat([handshakeMessage({ sni: 'a.test' }), Uint8Array.of(0)])),
      want: TLS_TRAILING_DATA,
    },
  ])('$name', ({ input, want }) => {
    expect(parseClientHello(input)).toBe(want);
  });
});

describe('readClientHelloMessage', () => {
  test('one record: a zero-copy view of the message', () => {
    const stream = clientHello({ sni: 'a.test' });
    const r = readClientHelloMessage(stream);
    expect(r).toMatchObject({ status: 'complete', consumed: stream.length });
    if (isIssue(r) || r.status !== 'complete') return;
    expect(r.message.buffer).toBe(stream.buffer);
    expect(r.message.byteOffset).toBe(5);
    expect(r.message).toEqual(handshakeMessage({ sni: 'a.test' }));
  });

  test.for<{ name: string; split: number | number[] }>([
    { name: '3 equal records', split: 3 },
    { name: 'handshake header split 1+3', split: [1] },
    { name: 'handshake header split 2+2', split: [2] },
    { name: 'handshake header split 1+1+1+rest', split: [1, 1, 1] },
    { name: '1-byte records for the first 40 bytes', split: Array<number>(40).fill(1) },
  ])('spanning records ($name): copied and identical', ({ split }) => {
    const opts: ClientHelloOptions = { sni: 'span.kaspersky.com', alpn: ['h2'], grease: true, padTo: 1800 };
    const stream = clientHello({ ...opts, recordSplit: split });
    const r = readClientHelloMessage(stream);
    expect(r).toMatchObject({ status: 'complete', consumed: stream.length });
    if (isIssue(r) || r.status !== 'complete') return;
    expect(r.message.buffer).not.toBe(stream.buffer);
    expect(r.message).toEqual(handshakeMessage(opts));
    expect(parseClientHello(r.message)).toMatchObject({ sni: 'span.kaspersky.com' });
  });

  test('bytes after the hello (next flight, app data) are not consumed', () => {
    const hello = clientHello({ sni: 'a.test', recordSplit: 2 });
    const stream = concat([hello, record(0x14, 0x0303, Uint8Array.of(1)), record(0x17, 0x0303, new Uint8Array(30))]);
    expect(readClientHelloMessage(stream)).toMatchObject({ status: 'complete', consumed: hello.length });
  });

  test('a record holding the hello and more handshake data: consumed stops at the hello', () => {
    const msg = handshakeMessage({ sni: 'a.test' });
    const stream = tlsRecords(concat([msg, Uint8Array.of(0x0b, 0, 0, 0)]));
    expect(readClientHelloMessage(stream)).toMatchObject({ status: 'complete', consumed: 5 + msg.length });
  });

  test('HelloRetryRequest flow: CCS + second ClientHello found at the first one\'s consumed offset', () => {
    // RFC 8446 §4.1.4 + §D.4: ClientHello, (server HRR), CCS, ClientHello again on the same stream.
    const first = clientHello({ sni: 'hrr.kaspersky.com' });
    const ccs = record(20, 0x0303, Uint8Array.of(1));
    const second = clientHello({ sni: 'hrr.kaspersky.com', alpn: ['h2'], recordVersion: 0x0303 });
    const stream = concat([first, ccs, second]);
    const r1 = readClientHelloMessage(stream);
    expect(r1).toMatchObject({ status: 'complete', consumed: first.length });
    if (isIssue(r1) || r1.status !== 'complete') return;
    const rest = stream.subarray(r1.consumed);
    const r2 = readClientHelloMessage(rest);
    expect(r2).toMatchObject({ status: 'complete', consumed: rest.length });
    if (isIssue(r2) || r2.status !== 'complete') return;
    expect(r2.message.buffer).toBe(stream.buffer); // still zero-copy
    expect(parseClientHello(r2.message)).toMatchObject({ sni: 'hrr.kaspersky.com', alpn: ['h2'] });
    // Every prefix of CCS + hello waits for more.
    for (let k = 0; k < rest.length; k++) {
      const p = readClientHelloMessage(rest.subarray(0, k));
      if (isIssue(p) || p.status !== 'need_more') throw new Error(`prefix ${k}: ${JSON.stringify(p)}`);
      expect(k + p.needed).toBeLessThanOrEqual(rest.length);
    }
  });

  const hello = handshakeMessage({ sni: 'a.test' });
  const fragment = (b: Uint8Array, version = 0x0301) => record(22, version, b);
  test.for<{ name: string; input: Uint8Array; want: DecodeIssue }>([
    { name: 'alert record first', input: record(21, 0x0303, Uint8Array.of(2, 40)), want: TLS_NOT_HANDSHAKE },
    { name: 'HTTP request', input: bytes('GET / HTTP/1.1\r\n\r\n'), want: TLS_NOT_HANDSHAKE },
    { name: 'CCS with a bad body', input: record(20, 0x0303, Uint8Array.of(2)), want: TLS_NOT_HANDSHAKE },
    { name: 'two CCS records', input: concat([record(20, 0x0303, Uint8Array.of(1)), record(20, 0x0303, Uint8Array.of(1))]), want: TLS_NOT_HANDSHAKE },
    { name: 'CCS then application data', input: concat([record(20, 0x0303, Uint8Array.of(1)), record(23, 0x0303, hello)]), want: TLS_NOT_HANDSHAKE },
    { name: 'record version 3.5', input: fragment(hello, 0x0305), want: TLS_BAD_RECORD_VERSION },
    { name: 'record version 2.0', input: fragment(hello, 0x0200), want: TLS_BAD_RECORD_VERSION },
    { name: 'zero-length record', input: fragment(new Uint8Array(0)), want: TLS_EMPTY_RECORD },
    { name: 'record longer than 2^14+2048', input: concat([Uint8Array.of(22, 3, 1, 0x48, 0x01), hello]), want: TLS_RECORD_TOO_LONG },
    { name: 'ServerHello', input: fragment(Uint8Array.of(2, 0, 0, 0x26)), want: TLS_NOT_CLIENT_HELLO },
    {
      name: 'alert between hello fragments',
      input: concat([fragment(hello.subarray(0, 20)), record(21, 0x0303, Uint8Array.of(2, 40)), fragment(hello.subarray(20))]),
      want: TLS_INTERLEAVED_RECORD,
    },
    {
      name: 'bad version in the second record',
      input: concat([fragment(hello.subarray(0, 20)), fragment(hello.subarray(20), 0x0307)]),
      want: TLS_BAD_RECORD_VERSION,
    },
    {
      name: `hello over MAX_CLIENT_HELLO_BYTES (${MAX_CLIENT_HELLO_BYTES})`,
      input: fragment(Uint8Array.of(1, 0, 0x40, 0x00)),
      want: TLS_HELLO_TOO_LARGE,
    },
  ])('$name', ({ input, want }) => {
    expect(readClientHelloMessage(input)).toBe(want);
  });

  test('largest allowed hello is gathered', () => {
    const stream = clientHello({ sni: 'big.test', padTo: MAX_CLIENT_HELLO_BYTES, recordSplit: 2 });
    const r = readClientHelloMessage(stream);
    expect(r).toMatchObject({ status: 'complete' });
    if (isIssue(r) || r.status !== 'complete') return;
    expect(r.message.length).toBe(MAX_CLIENT_HELLO_BYTES);
    expect(parseClientHello(r.message)).toMatchObject({ sni: 'big.test' });
  });

  test('empty stream needs at least a record header and a handshake header', () => {
    expect(readClientHelloMessage(new Uint8Array(0))).toEqual({ status: 'need_more', needed: 9 });
  });
});

describe('prefix sweeps', () => {
  const streams: Array<{ name: string; opts: ClientHelloOptions }> = [
    { name: 'TLS 1.3 one record', opts: { sni: 'sweep.kaspersky.com', alpn: ['h2', 'http/1.1'], grease: true } },
    { name: 'TLS 1.0 no extensions', opts: { noExtensions: true, legacyVersion: 0x0301 } },
    { name: 'three records', opts: { sni: 'sweep.kaspersky.com', ech: true, recordSplit: 3 } },
    { name: 'header split over records', opts: { sni: 'sweep.kaspersky.com', recordSplit: [2, 1, 30] } },
  ];

  test.for(streams)('every prefix of the stream ($name) needs more, by a true lower bound', ({ opts }) => {
    const full = clientHello(opts);
    for (let k = 0; k < full.length; k++) {
      const r = readClientHelloMessage(full.subarray(0, k));
      if (isIssue(r) || r.status !== 'need_more') throw new Error(`prefix ${k}: ${JSON.stringify(r)}`);
      expect(r.needed).toBeGreaterThan(0);
      expect(k + r.needed).toBeLessThanOrEqual(full.length);
    }
    expect(decode(full).sni).toBe(opts.sni);
  });

  test.for(streams)('every prefix of the message ($name) is truncated', ({ opts }) => {
    const msg = handshakeMessage(opts);
    for (let k = 0; k < msg.length; k++) expect(parseClientHello(msg.subarray(0, k))).toBe(TLS_HELLO_TRUNCATED);
  });

  test.for(streams)('a message cut short with a consistent length ($name) never gives a wrong name', ({ opts }) => {
    const msg = handshakeMessage(opts);
    for (let k = 4; k <= msg.length; k++) {
      const h = parseClientHello(withHandshakeLength(msg.subarray(0, k)));
      if (!isIssue(h)) expect([undefined, opts.sni]).toContain(h.sni);
    }
  });
});

describe('properties', () => {
  const decodeAll = (b: Uint8Array) => {
    looksLikeTlsHandshake(b);
    const m = readClientHelloMessage(b);
    parseClientHello(b);
    if (!isIssue(m) && m.status === 'complete') return parseClientHello(m.message);
    return m;
  };
  const plausible = (h: ReturnType<typeof decodeAll>) => {
    if (isIssue(h) || !('cipherSuites' in h) || h.sni === undefined) return;
    expect(h.sni).toMatch(/^[\x21-\x7e]{1,255}$/); // 255: the longest SNI parseClientHello accepts
    expect(h.sni).toBe(h.sni.toLowerCase());
  };

  test('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        plausible(decodeAll(b));
        // and the same bytes as the body of a ClientHello in a well-formed record
        plausible(decodeAll(tlsRecords(concat([Uint8Array.of(1, 0, b.length >> 8, b.length & 0xff), b]))));
      }),
      { numRuns: 2000 },
    );
  });

  const seeds = [
    clientHello({ sni: 'seed.kaspersky.com', alpn: ['h2'], grease: true, ech: true }),
    clientHello({ sni: 'seed.test', recordSplit: 3 }),
    clientHello({ noExtensions: true }),
  ];
  test('random mutations of valid hellos never throw and never give an implausible name', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        (seed, edits, cut) => {
          const b = seed.slice();
          for (const [at, v] of edits) b[at % b.length] = v;
          plausible(decodeAll(b));
          plausible(decodeAll(b.subarray(0, cut % (b.length + 1))));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('parseClientHello(msg, nameOnly)', () => {
  // replay validates and reads the name first, and parses fully only for a matched name: the
  // first pass must reject exactly what the full parse rejects, with the same issue.
  const seeds = [
    handshakeMessage({ sni: 'a.test', alpn: ['h2', 'http/1.1'], grease: true, ech: true }),
    handshakeMessage({ sni: 'S01.UPD.kaspersky.com.', versions: [0x0304, 0x0303] }),
    handshakeMessage({ alpn: ['h3'] }),
    handshakeMessage({ noExtensions: true }),
  ];

  test('same issue, or the same name, extensions and ECH flag with the lists left empty (mutated hellos)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (which, flips, cut) => {
          const m = seeds[which]!.slice();
          for (const [at, v] of flips) m[at % m.length] = v;
          const msg = m.subarray(0, cut % (m.length + 1));
          const full = parseClientHello(msg);
          const head = parseClientHello(msg, true);
          if (isIssue(full)) {
            expect(head).toBe(full);
            return;
          }
          if (isIssue(head)) throw new Error(`nameOnly rejected what the full parse accepted: ${head.key}`);
          expect({ sni: head.sni, sniCount: head.sniCount, extensions: head.extensions, ech: head.ech }).toStrictEqual({
            sni: full.sni,
            sniCount: full.sniCount,
            extensions: full.extensions,
            ech: full.ech,
          });
          expect([head.cipherSuites, head.alpn, head.supportedVersions, head.signatureAlgorithms]).toStrictEqual([[], [], [], []]);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
