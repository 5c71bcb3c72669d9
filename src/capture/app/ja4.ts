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
 *
 * Clients of one kind send the same lists over and over (Chrome shuffles its extensions, but
 * JA4 sorts them), so the result is memoised on everything it depends on: the values are laid
 * out in one scratch array (GREASE dropped, ciphers and extensions sorted), hashed, and
 * compared with the stored key. A repeat builds no string and hashes nothing with sha256, and
 * returns the same string object as before. Bounded: the memo is dropped when full.
 */
export function ja4(hello: ClientHello, transport: 't' | 'q'): string {
  const need = 8 + hello.cipherSuites.length + hello.extensions.length + hello.signatureAlgorithms.length;
  if (key.length < need) key = new Uint16Array(need * 2);
  const k = key;

  // Version: the highest non-GREASE supported_versions value, else the hello's legacy_version
  // (the record-layer version is never used).
  let version = -1;
  for (const v of hello.supportedVersions) if (!isGrease(v) && v > version) version = v;
  if (version < 0) version = hello.legacyVersion;
  const alpn = hello.alpn[0];

  let n = 0;
  k[n++] = transport === 't' ? 1 : 2;
  k[n++] = version;
  // The ALPN code depends only on the first value's first and last characters (latin1).
  k[n++] = alpn === undefined || alpn.length === 0 ? 0 : 1;
  k[n++] = alpn === undefined || alpn.length === 0 ? 0 : alpn.charCodeAt(0);
  k[n++] = alpn === undefined || alpn.length === 0 ? 0 : alpn.charCodeAt(alpn.length - 1);
  const c0 = ++n; // count slot at c0 - 1
  for (const v of hello.cipherSuites) if (!isGrease(v)) k[n++] = v;
  k[c0 - 1] = n - c0;
  sortRange(k, c0, n);
  const e0 = ++n;
  for (const v of hello.extensions) if (!isGrease(v)) k[n++] = v;
  k[e0 - 1] = n - e0;
  sortRange(k, e0, n);
  const s0 = ++n;
  for (const v of hello.signatureAlgorithms) if (!isGrease(v)) k[n++] = v;
  k[s0 - 1] = n - s0;

  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ k[i]!, 0x01000193);
  h >>>= 0;
  const hit = memo.get(h);
  if (hit !== undefined && hit.key.length === n) {
    let same = true;
    for (let i = 0; i < n && same; i++) same = hit.key[i] === k[i];
    if (same) return hit.value;
  }

  const ciphers = k.subarray(c0, e0 - 1);
  const extensions = k.subarray(e0, s0 - 1);
  const sigs = k.subarray(s0, n);
  // 'd' when the server_name extension is there at all (a domain), 'i' when not (an IP).
  // Sorted, so server_name (type 0) can only come first.
  const sni = extensions.length > 0 && extensions[0] === ExtensionType.ServerName ? 'd' : 'i';
  const a =
    transport +
    (VERSION_CODES.get(version) ?? '00') +
    sni +
    count2(ciphers.length) +
    count2(extensions.length) +
    alpnCode(alpn);
  const value = `${a}_${partB(ciphers)}_${partC(extensions, sigs)}`;
  if (n <= MAX_MEMO_KEY) {
    if (memo.size >= MAX_MEMO) memo.clear();
    memo.set(h, { key: k.slice(0, n), value });
  }
  return value;
}

/**
 * Entries, and values per entry: real hellos need 50-150 values, while a hostile one can list
 * thousands; only keys up to this size are kept, so the memo stays under ~8 MiB.
 */
export const MAX_MEMO = 4096;
const MAX_MEMO_KEY = 1024;
const memo = new Map<number, { key: Uint16Array; value: string }>();

/** Entries in the memo. @internal For tests of its bounds. */
export function ja4MemoEntries(): number {
  return memo.size;
}
/** The memo key being built (grown for hostile hellos with long lists). */
let key = new Uint16Array(512);

/** Ascending sort of k[from, to): insertion sort for the usual few dozen values. */
function sortRange(k: Uint16Array, from: number, to: number): void {
  if (to - from > 64) {
    k.subarray(from, to).sort();
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const v = k[i]!;
    let j = i - 1;
    while (j >= from && k[j]! > v) {
      k[j + 1] = k[j]!;
      j--;
    }
    k[j + 1] = v;
  }
}

function partB(ciphers: Uint16Array): string {
  if (ciphers.length === 0) return EMPTY_HASH;
  return hash12(Array.from(ciphers, hex4).join(','));
}

/** Sorted extensions without server_name and ALPN, "_", signature algorithms in wire order. */
function partC(extensions: Uint16Array, sigs: Uint16Array): string {
  const hashed: string[] = [];
  for (const t of extensions) if (t !== ExtensionType.ServerName && t !== ExtensionType.Alpn) hashed.push(hex4(t));
  // No extensions left: the "no values" marker, whatever the signature algorithms are.
  if (hashed.length === 0) return EMPTY_HASH;
  const exts = hashed.join(',');
  // No signature algorithms: the string ends without the underscore.
  return hash12(sigs.length === 0 ? exts : `${exts}_${Array.from(sigs, hex4).join(',')}`);
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
