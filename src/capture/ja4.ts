/**
 * JA4 TLS client fingerprint, as FoxIO specifies it (JA4 is BSD-3-Clause; spec:
 * FoxIO-LLC/ja4 technical_details/JA4.md). Layout:
 *
 *   a: transport(1) version(2) sni(1) ciphers(2) extensions(2) alpn(2)    e.g. t13d1516h2
 *   b: sha256("002f,0035,…" sorted cipher hex)[0:12]
 *   c: sha256("0005,000a,…" sorted extension hex without SNI/ALPN + "_" + sig algs in order)[0:12]
 *
 * GREASE (RFC 8701) is ignored everywhere. Runs once per ClientHello, so plain strings are fine.
 */
import { createHash } from 'node:crypto';
import { ExtensionType, isGrease, type ClientHello } from './tls.js';

/** Part b/c when the list they hash is empty: the spec's "no values" marker, not sha256(""). */
const EMPTY_HASH = '000000000000';

const VERSION_CODES: ReadonlyMap<number, string> = new Map([
  [0x0304, '13'],
  [0x0303, '12'],
  [0x0302, '11'],
  [0x0301, '10'],
  [0x0300, 's3'],
  [0x0002, 's2'],
  [0xfeff, 'd1'],
  [0xfefd, 'd2'],
  [0xfefc, 'd3'],
]);

/**
 * JA4 of a parsed ClientHello. `transport` is 't' for TLS over TCP and 'q' for QUIC.
 * Follows the spec where the published implementations disagree (see ja4.test.ts).
 */
export function ja4(hello: ClientHello, transport: 't' | 'q'): string {
  const ciphers = hello.cipherSuites.filter(notGrease);
  const extensions = hello.extensions.filter(notGrease);

  // Version: the highest non-GREASE supported_versions value, else the hello's legacy_version
  // (the record-layer version is never used).
  let version = hello.legacyVersion;
  const offered = hello.supportedVersions.filter(notGrease);
  if (offered.length > 0) version = Math.max(...offered);

  // 'd' when the server_name extension is there at all (a domain), 'i' when not (an IP).
  const sni = extensions.includes(ExtensionType.ServerName) ? 'd' : 'i';

  const a =
    transport +
    (VERSION_CODES.get(version) ?? '00') +
    sni +
    count2(ciphers.length) +
    count2(extensions.length) +
    alpnCode(hello.alpn[0]);

  const b = ciphers.length === 0 ? EMPTY_HASH : hash12(ciphers.sort(byValue).map(hex4).join(','));

  const hashed = extensions
    .filter((t) => t !== ExtensionType.ServerName && t !== ExtensionType.Alpn)
    .sort(byValue)
    .map(hex4)
    .join(',');
  const sigs = hello.signatureAlgorithms.filter(notGrease).map(hex4).join(',');
  // No signature algorithms: the string ends without the underscore.
  const c = hashed === '' ? EMPTY_HASH : hash12(sigs === '' ? hashed : `${hashed}_${sigs}`);

  return `${a}_${b}_${c}`;
}

/**
 * First and last character of the first ALPN value; '00' when there is none. When either end
 * is not [0-9A-Za-z], the first and last characters of the value's hex encoding instead
 * (0x30 0xAB → "3b"). A one-byte value uses that byte for both ends.
 */
export function alpnCode(first: string | undefined): string {
  if (first === undefined || first.length === 0) return '00';
  const f = first.charCodeAt(0);
  const l = first.charCodeAt(first.length - 1);
  if (isAlnum(f) && isAlnum(l)) return String.fromCharCode(f, l);
  return hex2(f).charAt(0) + hex2(l).charAt(1);
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function notGrease(v: number): boolean {
  return !isGrease(v);
}

function byValue(x: number, y: number): number {
  return x - y;
}

function count2(n: number): string {
  return n > 99 ? '99' : n.toString().padStart(2, '0');
}

function hex2(v: number): string {
  return (v & 0xff).toString(16).padStart(2, '0');
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

/**
 * Clients of one kind send the same lists over and over, so the truncated hashes are
 * memoised (bounded: the memo is dropped when full). Saves two sha256 per ClientHello.
 */
const MAX_MEMO = 4096;
const memo = new Map<string, string>();

function hash12(s: string): string {
  let h = memo.get(s);
  if (h === undefined) {
    if (memo.size >= MAX_MEMO) memo.clear();
    h = createHash('sha256').update(s).digest('hex').slice(0, 12);
    memo.set(s, h);
  }
  return h;
}
