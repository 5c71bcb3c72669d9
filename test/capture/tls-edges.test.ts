/**
 * ClientHello parsing at each length check (src/capture/app/tls.ts, issue 9 mutation testing):
 * a message that ends exactly at a field, or one byte short of it, gets the issue of the field
 * that is cut, not the next field's; and each length that must fill its parent exactly does.
 */
import { describe, expect, test } from 'vitest';
import { isIssue } from '../../src/capture/issues.js';
import {
  looksLikeTlsHandshake,
  MAX_RECORD_FRAGMENT,
  parseClientHello,
  readClientHelloMessage,
  TLS_BAD_ALPN,
  TLS_BAD_CIPHER_SUITES,
  TLS_BAD_EXTENSIONS,
  TLS_BAD_SIGNATURE_ALGORITHMS,
  TLS_BAD_SNI,
  TLS_BAD_SUPPORTED_VERSIONS,
  TLS_MALFORMED_HELLO,
  type ClientHello,
  type ClientHelloMessageResult,
} from '../../src/capture/app/tls.js';
import { handshakeMessage } from '../helpers/tls.js';

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}
function cat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}
function u16(v: number): Uint8Array {
  return Uint8Array.of(v >> 8, v & 0xff);
}
/** The handshake message: type client_hello, 3-byte length, body (nothing after it). */
function msg(...body: Uint8Array[]): Uint8Array {
  const b = cat(...body);
  return cat(Uint8Array.of(1, b.length >> 16, (b.length >> 8) & 0xff, b.length & 0xff), b);
}
/** One extension: type, 2-byte length, data. */
function ext(type: number, data: Uint8Array): Uint8Array {
  return cat(u16(type), u16(data.length), data);
}

const VR = cat(hex('0303'), new Uint8Array(32).fill(0x11)); // legacy_version, random
const HEAD = cat(VR, hex('00'), hex('0002 1301'), hex('01 00')); // + empty session id, one suite, null compression
/** A hello with these extensions (the extensions block's length is computed). */
function withExts(...exts: Uint8Array[]): Uint8Array {
  const block = cat(...exts);
  return msg(HEAD, u16(block.length), block);
}
function reason(r: ClientHello | ReturnType<typeof parseClientHello>): string {
  return isIssue(r) ? r.key : 'hello';
}

describe('the fixed part of the ClientHello, cut at each field', () => {
  test.for([
    { name: 'version and random only (no session id length)', m: msg(VR), want: TLS_MALFORMED_HELLO.key },
    { name: 'ends right after an empty session id', m: msg(VR, hex('00')), want: TLS_BAD_CIPHER_SUITES.key },
    { name: 'a session id running past the end', m: msg(VR, hex('05 aabbcc')), want: TLS_MALFORMED_HELLO.key },
    { name: 'a session id that ends the message', m: msg(VR, hex('02 aabb')), want: TLS_BAD_CIPHER_SUITES.key },
    { name: 'an empty cipher suite list that ends the message', m: msg(VR, hex('00 0000')), want: TLS_MALFORMED_HELLO.key },
    { name: 'cipher suites running past the end', m: msg(VR, hex('00 0004 1301')), want: TLS_BAD_CIPHER_SUITES.key },
    { name: 'an empty compression list that ends the message', m: msg(VR, hex('00 0002 1301 00')), want: 'hello' },
    { name: 'compression methods running past the end', m: msg(VR, hex('00 0002 1301 03 00')), want: TLS_MALFORMED_HELLO.key },
    { name: 'an empty extensions block that ends the message', m: msg(HEAD, hex('0000')), want: 'hello' },
    { name: 'an extensions block running past the end', m: msg(HEAD, hex('0010 00000000')), want: TLS_BAD_EXTENSIONS.key },
  ])('$name: $want', ({ m, want }) => {
    expect(reason(parseClientHello(m))).toBe(want);
    expect(reason(parseClientHello(m, true))).toBe(want);
  });
});

describe('extension lists that must fill their extension exactly', () => {
  const name = cat(hex('00'), u16(7), Buffer.from('a.b.com'));
  test.for([
    { name: 'server_name list one byte shorter than its extension', e: ext(0x0000, cat(u16(name.length - 1), name)), want: TLS_BAD_SNI.key },
    { name: 'server_name list as long as its extension', e: ext(0x0000, cat(u16(name.length), name)), want: 'hello' },
    { name: 'ALPN list one byte longer than its extension', e: ext(0x0010, hex('0004 02 6832')), want: TLS_BAD_ALPN.key },
    { name: 'an ALPN name running past its list', e: ext(0x0010, hex('0003 05 6832')), want: TLS_BAD_ALPN.key },
    { name: 'ALPN as it should be', e: ext(0x0010, hex('0003 02 6832')), want: 'hello' },
    { name: 'supported_versions with no data at all', e: ext(0x002b, new Uint8Array(0)), want: TLS_BAD_SUPPORTED_VERSIONS.key },
    { name: 'supported_versions list shorter than its extension', e: ext(0x002b, hex('02 0304 0303')), want: TLS_BAD_SUPPORTED_VERSIONS.key },
    { name: 'signature_algorithms list shorter than its extension', e: ext(0x000d, hex('0002 0403 0804')), want: TLS_BAD_SIGNATURE_ALGORITHMS.key },
  ])('$name: $want', ({ e, want }) => {
    // followed by another extension, so nothing past the list is the end of the message
    const m = withExts(e, ext(0x0017, new Uint8Array(0)));
    expect(reason(parseClientHello(m))).toBe(want);
  });

  test('the name and ALPN read from lists that fill their extensions', () => {
    const h = parseClientHello(withExts(ext(0x0000, cat(u16(name.length), name)), ext(0x0010, hex('0003 02 6832'))));
    expect(isIssue(h)).toBe(false);
    if (!isIssue(h)) expect([h.sni, h.alpn]).toEqual(['a.b.com', ['h2']]);
  });
});

/** A handshake record (type 22) of `version` around `fragment`. */
function rec(fragment: Uint8Array, version = 0x0301): Uint8Array {
  return cat(Uint8Array.of(22), u16(version), u16(fragment.length), fragment);
}
function needed(r: ClientHelloMessageResult): number | string {
  if (isIssue(r)) return r.key;
  return r.status === 'need_more' ? r.needed : r.status;
}

describe('records around the ClientHello', () => {
  const hello = handshakeMessage({ sni: 'rec.kaspersky.com' });

  test('the probe judges the bytes from its offset to its end', () => {
    const b = cat(hex('0000'), hex('16 0303 00'), hex('00'));
    expect(looksLikeTlsHandshake(b, 2, 7)).toBe(true); // 5 bytes: no handshake type yet to check
    expect(looksLikeTlsHandshake(cat(b, hex('02')), 2, 8)).toBe(false); // a ServerHello
  });

  test('a record version of 3.4 is accepted, 3.5 is not', () => {
    const ok = readClientHelloMessage(rec(hello, 0x0304));
    expect(isIssue(ok) ? ok.key : ok.status).toBe('complete');
    expect(needed(readClientHelloMessage(rec(hello, 0x0305)))).toBe('tls/invalid/bad_record_version');
  });

  test(`a record of exactly ${MAX_RECORD_FRAGMENT} bytes holding the ClientHello and what follows it`, () => {
    const r = readClientHelloMessage(rec(cat(hello, new Uint8Array(MAX_RECORD_FRAGMENT - hello.length).fill(0x16))));
    expect(isIssue(r) ? r.key : r.status).toBe('complete');
    if (!isIssue(r) && r.status === 'complete') expect([r.message.length, r.consumed]).toEqual([hello.length, 5 + hello.length]);
  });

  test('how many more bytes a cut stream needs', () => {
    // the compatibility change_cipher_spec record, 3 of its 6 bytes: 3 more, a record header and a handshake header
    expect(needed(readClientHelloMessage(hex('14 0303')))).toBe(3 + 5 + 4);
    // a record cut inside the handshake header: 2 of its 4 bytes
    expect(needed(readClientHelloMessage(hex('16 0301 0010 01 00')))).toBe(2);
    // 2 header bytes in a record of their own, then a record header cut after 2 bytes
    expect(needed(readClientHelloMessage(hex('16 0301 0002 01 00  16 03')))).toBe(3 + 2);
  });
});
