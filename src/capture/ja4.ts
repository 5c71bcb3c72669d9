/**
 * JA4 TLS client fingerprint, as FoxIO specifies it (JA4 is BSD-3-Clause; spec:
 * FoxIO-LLC/ja4 technical_details/JA4.md). Layout:
 *
 *   a: transport(1) version(2) sni(1) ciphers(2) extensions(2) alpn(2)    e.g. t13d1516h2
 *   b: sha256("002f,0035,…" sorted cipher hex)[0:12]
 *   c: sha256("0005,000a,…" sorted extension hex without SNI/ALPN + "_" + sig algs in order)[0:12]
 *
 * GREASE (RFC 8701) is ignored everywhere. Runs once per ClientHello that matched a rule (replay)
 * or per ClientHello (names).
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
  const ciphers = sortedNonGrease(hello.cipherSuites);
  const extensions = sortedNonGrease(hello.extensions);

  // Version: the highest non-GREASE supported_versions value, else the hello's legacy_version
  // (the record-layer version is never used).
  let version = -1;
  for (const v of hello.supportedVersions) if (!isGrease(v) && v > version) version = v;
  if (version < 0) version = hello.legacyVersion;

  // 'd' when the server_name extension is there at all (a domain), 'i' when not (an IP).
  // Sorted, so server_name (type 0) can only come first.
  const sni = extensions.length > 0 && extensions[0] === ExtensionType.ServerName ? 'd' : 'i';

  const a =
    transport +
    (VERSION_CODES.get(version) ?? '00') +
    sni +
    count2(ciphers.length) +
    count2(extensions.length) +
    alpnCode(hello.alpn[0]);

  return `${a}_${partB(ciphers)}_${partC(extensions, hello.signatureAlgorithms)}`;
}

/**
 * Parts b and c are memoised on the lists they hash, keyed by one char per value (clients of
 * one kind send the same lists over and over; Chrome shuffles its extensions, but sorting
 * undoes that): a repeat costs a native sort and a short Map lookup instead of hex formatting
 * and a sha256. Bounded: the memo is dropped when full.
 */
const MAX_MEMO = 4096;
const memoB = new Map<string, string>();
const memoC = new Map<string, string>();

/** Non-GREASE values in ascending order (a typed array sorts numerically, natively). */
function sortedNonGrease(list: readonly number[]): Uint16Array {
  const out = new Uint16Array(list.length);
  let n = 0;
  for (const v of list) if (!isGrease(v)) out[n++] = v;
  return (n === out.length ? out : out.subarray(0, n)).sort();
}

/** One UTF-16 code unit per u16 value: a compact, collision-free memo key. */
function keyOf(values: Uint16Array): string {
  let k = '';
  for (let i = 0; i < values.length; i++) k += String.fromCharCode(values[i]!);
  return k;
}

function partB(ciphers: Uint16Array): string {
  if (ciphers.length === 0) return EMPTY_HASH;
  const key = keyOf(ciphers);
  let h = memoB.get(key);
  if (h === undefined) {
    h = hash12(Array.from(ciphers, hex4).join(','));
    if (memoB.size >= MAX_MEMO) memoB.clear();
    memoB.set(key, h);
  }
  return h;
}

/** Sorted extensions without server_name and ALPN, "_", signature algorithms in wire order. */
function partC(extensions: Uint16Array, signatureAlgorithms: readonly number[]): string {
  const hashed: number[] = [];
  for (const t of extensions) if (t !== ExtensionType.ServerName && t !== ExtensionType.Alpn) hashed.push(t);
  // No extensions left: the "no values" marker, whatever the signature algorithms are.
  if (hashed.length === 0) return EMPTY_HASH;
  const sigs: number[] = [];
  for (const s of signatureAlgorithms) if (!isGrease(s)) sigs.push(s);
  // The extension count leads the key, so where one list ends and the other starts is unambiguous.
  let key = String.fromCharCode(hashed.length);
  for (const t of hashed) key += String.fromCharCode(t);
  for (const s of sigs) key += String.fromCharCode(s);
  let h = memoC.get(key);
  if (h === undefined) {
    const exts = hashed.map(hex4).join(',');
    // No signature algorithms: the string ends without the underscore.
    h = hash12(sigs.length === 0 ? exts : `${exts}_${sigs.map(hex4).join(',')}`);
    if (memoC.size >= MAX_MEMO) memoC.clear();
    memoC.set(key, h);
  }
  return h;
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

function count2(n: number): string {
  return n > 99 ? '99' : n.toString().padStart(2, '0');
}

function hex2(v: number): string {
  return (v & 0xff).toString(16).padStart(2, '0');
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

function hash12(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 12);
}
