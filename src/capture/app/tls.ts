/**
 * TLS ClientHello: find it at the start of a client's TCP stream, and decode the few fields
 * kasmon needs (server_name, ALPN, and what JA4 fingerprints).
 *
 * Three steps, each cheap enough for where it runs:
 * - `looksLikeTlsHandshake` — a content probe run on every TCP payload: a handful of byte compares.
 * - `readClientHelloMessage` — walks TLS records and gathers the first handshake message, which
 *   may span several records; says how many more bytes it needs when the stream is short.
 * - `parseClientHello` — decodes the message, modelled on Go's crypto/tls
 *   `clientHelloMsg.unmarshal`: every nested length prefix is checked against the end of its
 *   parent before it is used, so a bad inner length can never read past it. Plain offsets, no
 *   reader object per vector: it runs once per ClientHello, tens of thousands per second.
 *
 * Decoders never throw: they return one of the frozen issues below (see issues.ts).
 */
import { latin1, latin1Lower, u8, u16be } from '../../common/bytes.js';
import { defineIssue, type DecodeIssue } from '../issues.js';

// ---------------------------------------------------------------------------------------------
// Issues. Compared by identity; `key` is what the metrics count.

/** The first record is not a handshake record (ContentType 22). */
export const TLS_NOT_HANDSHAKE = defineIssue('tls', 'invalid', 'not_handshake_record');
/** A record header's legacy_record_version is not 0x0300..0x0304. */
export const TLS_BAD_RECORD_VERSION = defineIssue('tls', 'invalid', 'bad_record_version');
/** A handshake record with a zero-length fragment (forbidden by RFC 8446 §5.1). */
export const TLS_EMPTY_RECORD = defineIssue('tls', 'invalid', 'empty_record');
/** A record longer than any TLS version allows (2^14 + 2048). */
export const TLS_RECORD_TOO_LONG = defineIssue('tls', 'invalid', 'record_too_long');
/** A non-handshake record arrived before the ClientHello was complete (RFC 8446 §5.1). */
export const TLS_INTERLEAVED_RECORD = defineIssue('tls', 'invalid', 'interleaved_record');
/** The first handshake message is not a ClientHello (HandshakeType 1). */
export const TLS_NOT_CLIENT_HELLO = defineIssue('tls', 'invalid', 'not_client_hello');
/** The ClientHello claims more than MAX_CLIENT_HELLO_BYTES. */
export const TLS_HELLO_TOO_LARGE = defineIssue('tls', 'skipped', 'too_large');
/** parseClientHello got fewer bytes than the handshake header claims. */
export const TLS_HELLO_TRUNCATED = defineIssue('tls', 'truncated', 'client_hello');
/** The fixed part (version, random, session id, compression methods) does not fit. */
export const TLS_MALFORMED_HELLO = defineIssue('tls', 'invalid', 'malformed_hello');
/** cipher_suites does not fit or has an odd length. */
export const TLS_BAD_CIPHER_SUITES = defineIssue('tls', 'invalid', 'bad_cipher_suites');
/** The extensions block or one extension's framing does not fit. */
export const TLS_BAD_EXTENSIONS = defineIssue('tls', 'invalid', 'bad_extensions');
/** Bytes left inside the message after the extensions block. */
export const TLS_TRAILING_DATA = defineIssue('tls', 'invalid', 'trailing_data');
/** The same extension type twice (RFC 8446 §4.2). */
export const TLS_DUPLICATE_EXTENSION = defineIssue('tls', 'invalid', 'duplicate_extension');
/** server_name extension framing is wrong (empty list, bad entry length, leftovers). */
export const TLS_BAD_SNI = defineIssue('tls', 'invalid', 'bad_sni');
/** host_name of length 0 or over 255. */
export const TLS_BAD_SNI_LENGTH = defineIssue('tls', 'invalid', 'bad_sni_length');
/** host_name is not a plausible hostname (control, space, non-ASCII bytes; just "."). */
export const TLS_BAD_SNI_NAME = defineIssue('tls', 'invalid', 'bad_sni_name');
/** ALPN framing is wrong (empty list or empty protocol name). */
export const TLS_BAD_ALPN = defineIssue('tls', 'invalid', 'bad_alpn');
/** supported_versions framing is wrong (empty or odd length). */
export const TLS_BAD_SUPPORTED_VERSIONS = defineIssue('tls', 'invalid', 'bad_supported_versions');
/** signature_algorithms framing is wrong (empty or odd length). */
export const TLS_BAD_SIGNATURE_ALGORITHMS = defineIssue('tls', 'invalid', 'bad_signature_algorithms');

// ---------------------------------------------------------------------------------------------
// Protocol numbers and limits.

/** RFC 8446 §5.1 ContentType. */
export const ContentType = { ChangeCipherSpec: 20, Handshake: 22 } as const;
/** RFC 8446 §4 HandshakeType. */
export const HandshakeType = { ClientHello: 1 } as const;
/** IANA TLS ExtensionType values used here. */
export const ExtensionType = {
  ServerName: 0x0000, // RFC 6066 §3
  SignatureAlgorithms: 0x000d, // RFC 8446 §4.2.3
  Alpn: 0x0010, // RFC 7301
  Padding: 0x0015, // RFC 7685
  SupportedVersions: 0x002b, // RFC 8446 §4.2.1
  QuicTransportParameters: 0x0039, // RFC 9001 §8.2
  EncryptedClientHello: 0xfe0d, // RFC 9849 (draft-ietf-tls-esni)
} as const;

export const TLS_RECORD_HEADER_LEN = 5;
export const TLS_HANDSHAKE_HEADER_LEN = 4;
/** RFC 8446 §5.2: no record may exceed 2^14 + 256 (1.3) / 2^14 + 2048 (≤ 1.2); take the looser. */
export const MAX_RECORD_FRAGMENT = 16_384 + 2048;
/**
 * Largest ClientHello (4-byte header included) we gather. Real ones are 200–2000 bytes even
 * with post-quantum key shares; the cap bounds what a reassembler must buffer per flow.
 */
export const MAX_CLIENT_HELLO_BYTES = 16_384;
/** RFC 6066 §3 allows 2^16-1, but a DNS name is at most 255 octets on the wire. */
export const MAX_SNI_BYTES = 255;

/** RFC 8701 GREASE: 0x0A0A, 0x1A1A, … 0xFAFA (both bytes equal, low nibble 0xA). */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

// ---------------------------------------------------------------------------------------------
// Probe.

/**
 * Cheap content probe for the first bytes of a client stream: a handshake record (22), record
 * version 3.0–3.4, and — when byte 5 is present — handshake type ClientHello. Needs at least 3
 * bytes. Runs on every TCP payload, so it is only byte compares.
 */
export function looksLikeTlsHandshake(b: Uint8Array, off = 0, end = b.length): boolean {
  const n = end - off;
  if (n < 3 || u8(b, off) !== ContentType.Handshake || u8(b, off + 1) !== 0x03 || u8(b, off + 2) > 0x04) return false;
  return n < 6 || u8(b, off + 5) === HandshakeType.ClientHello;
}

// ---------------------------------------------------------------------------------------------
// Records → handshake message.

export type ClientHelloMessageResult =
  /** `message` starts at the handshake type byte; `consumed` is the stream offset just past it. */
  | { status: 'complete'; message: Uint8Array; consumed: number }
  /** The stream is a valid prefix so far; at least `needed` more bytes are required. */
  | { status: 'need_more'; needed: number }
  | DecodeIssue;

/**
 * Gather the first handshake message (which must be a ClientHello) from bytes at the start of a
 * client's TCP stream, following it across records. The stream may also start with the
 * compatibility change_cipher_spec record that precedes a second ClientHello (after a
 * HelloRetryRequest), so `readClientHelloMessage(stream.subarray(first.consumed))` finds it.
 *
 * RFC 8446 §5.1 TLSPlaintext: type(1) legacy_record_version(2) length(2) fragment[length].
 * Handshake messages may be split over several records (and a header over two), but no other
 * record type may come between the fragments.
 *
 * The message is a zero-copy view of `stream` when it sits in one record, and a fresh copy when
 * it spans records; either way it is only valid as long as `stream` is.
 */
export function readClientHelloMessage(stream: Uint8Array): ClientHelloMessageResult {
  const n = stream.length;
  let pos = 0; // start of the current record
  let records = 0;
  let gathered = 0; // handshake bytes seen so far, across records
  let bodyLen = 0; // accumulates the 3-byte handshake length
  let msgLen = -1; // 4 + body length, once the handshake header is complete

  // RFC 8446 §D.4: in middlebox compatibility mode a client sends one dummy change_cipher_spec
  // record (14 03 03 00 01 01) right before its second ClientHello, the one answering a
  // HelloRetryRequest. Skipping it at the very start lets a caller look for that second hello
  // at the first one's `consumed` offset. Anywhere else it is just a non-handshake record.
  if (n > 0 && u8(stream, 0) === ContentType.ChangeCipherSpec) {
    const have = n < CCS_RECORD_LEN ? n : CCS_RECORD_LEN;
    for (let k = 1; k < have; k++) if (u8(stream, k) !== u8(CCS_RECORD, k)) return TLS_NOT_HANDSHAKE;
    if (have < CCS_RECORD_LEN) {
      return { status: 'need_more', needed: CCS_RECORD_LEN - n + TLS_RECORD_HEADER_LEN + TLS_HANDSHAKE_HEADER_LEN };
    }
    pos = CCS_RECORD_LEN;
  }
  const firstRecord = pos;

  for (;;) {
    // The record header, checked byte by byte as far as it is present, so that a non-TLS
    // stream is rejected on its first byte instead of waiting for more.
    if (pos < n && u8(stream, pos) !== ContentType.Handshake) {
      return records === 0 ? TLS_NOT_HANDSHAKE : TLS_INTERLEAVED_RECORD;
    }
    if (pos + 1 < n && u8(stream, pos + 1) !== 0x03) return TLS_BAD_RECORD_VERSION;
    if (pos + 2 < n && u8(stream, pos + 2) > 0x04) return TLS_BAD_RECORD_VERSION;
    if (pos + TLS_RECORD_HEADER_LEN > n) {
      const stillNeeded = msgLen < 0 ? TLS_HANDSHAKE_HEADER_LEN - gathered : msgLen - gathered;
      return { status: 'need_more', needed: pos + TLS_RECORD_HEADER_LEN - n + stillNeeded };
    }
    const len = u16be(stream, pos + 3);
    if (len === 0) return TLS_EMPTY_RECORD;
    if (len > MAX_RECORD_FRAGMENT) return TLS_RECORD_TOO_LONG;

    const fragStart = pos + TLS_RECORD_HEADER_LEN;
    const fragEnd = fragStart + len;
    const availEnd = fragEnd < n ? fragEnd : n;
    let i = fragStart;

    // RFC 8446 §4 Handshake: msg_type(1) length(3). May straddle a record boundary.
    while (msgLen < 0 && i < availEnd) {
      const b = u8(stream, i++);
      if (gathered === 0) {
        if (b !== HandshakeType.ClientHello) return TLS_NOT_CLIENT_HELLO;
      } else {
        bodyLen = (bodyLen << 8) | b;
      }
      if (++gathered === TLS_HANDSHAKE_HEADER_LEN) {
        msgLen = TLS_HANDSHAKE_HEADER_LEN + bodyLen;
        if (msgLen > MAX_CLIENT_HELLO_BYTES) return TLS_HELLO_TOO_LARGE;
      }
    }
    if (msgLen >= 0) {
      const take = Math.min(availEnd - i, msgLen - gathered);
      gathered += take;
      i += take;
    }
    records++;

    if (gathered === msgLen) {
      if (records === 1) {
        return { status: 'complete', message: stream.subarray(fragStart, i), consumed: i };
      }
      return { status: 'complete', message: joinFragments(stream, firstRecord, msgLen), consumed: i };
    }
    if (availEnd < fragEnd) {
      // Cut inside this record: the rest of the message is the least we still need.
      const stillNeeded = msgLen < 0 ? TLS_HANDSHAKE_HEADER_LEN - gathered : msgLen - gathered;
      return { status: 'need_more', needed: stillNeeded };
    }
    pos = fragEnd;
  }
}

/** The compatibility-mode change_cipher_spec record (RFC 8446 §D.4), as TLS 1.3 clients send it. */
const CCS_RECORD = Uint8Array.of(ContentType.ChangeCipherSpec, 0x03, 0x03, 0x00, 0x01, 0x01);
const CCS_RECORD_LEN = CCS_RECORD.length;

/** Concatenate the first `msgLen` handshake bytes from records already validated by the caller. */
function joinFragments(stream: Uint8Array, firstRecord: number, msgLen: number): Uint8Array {
  const out = new Uint8Array(msgLen); // copy: spans records
  let pos = firstRecord;
  let copied = 0;
  while (copied < msgLen) {
    const len = u16be(stream, pos + 3);
    const take = Math.min(len, msgLen - copied);
    out.set(stream.subarray(pos + TLS_RECORD_HEADER_LEN, pos + TLS_RECORD_HEADER_LEN + take), copied);
    copied += take;
    pos += TLS_RECORD_HEADER_LEN + len;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// ClientHello.

/** What kasmon keeps from a ClientHello. Lists are in wire order with GREASE values included. */
export interface ClientHello {
  /** legacy_version of the hello body (0x0303 for TLS 1.2 and 1.3; see supportedVersions). */
  legacyVersion: number;
  cipherSuites: number[];
  /** Extension types in wire order; empty when the hello has no extensions block. */
  extensions: number[];
  /** The first host_name of server_name: lower-case, one trailing dot removed. */
  sni: string | undefined;
  /** host_name entries in server_name (more than 1 violates RFC 6066 §3; only the first is kept). */
  sniCount: number;
  /** ALPN protocol names as latin1 strings (opaque bytes, case kept); empty when absent. */
  alpn: string[];
  /** supported_versions values; empty when the extension is absent. */
  supportedVersions: number[];
  /** signature_algorithms values in wire order; empty when absent. */
  signatureAlgorithms: number[];
  /**
   * encrypted_client_hello (0xfe0d) is present, so `sni` is the outer (public) name. Clients
   * also send GREASE ECH, which looks the same from the wire.
   */
  ech: boolean;
}

/**
 * Decode a ClientHello handshake message (`msg` starts at the handshake type byte). Bytes after
 * the length the header claims are ignored. Returns a ClientHello (with `sni` undefined when
 * there is no host_name) or an issue; never throws.
 *
 * `nameOnly`: validate exactly as a full parse does (same issues), but fill only `sni`,
 * `sniCount`, `extensions` and `ech`; cipher suites, ALPN, supported versions and signature
 * algorithms stay empty. `replay` asks this first and parses fully only when the name matched
 * a rule (about one hello in five), since the lists and ALPN strings feed only JA4 and ALPN.
 */
export function parseClientHello(msg: Uint8Array, nameOnly = false): ClientHello | DecodeIssue {
  // RFC 8446 §4: Handshake { msg_type(1) length(3) body }.
  if (msg.length < TLS_HANDSHAKE_HEADER_LEN) return TLS_HELLO_TRUNCATED;
  if (u8(msg, 0) !== HandshakeType.ClientHello) return TLS_NOT_CLIENT_HELLO;
  const end = TLS_HANDSHAKE_HEADER_LEN + ((u8(msg, 1) << 16) | u16be(msg, 2));
  if (end > msg.length) return TLS_HELLO_TRUNCATED;

  // RFC 8446 §4.1.2 ClientHello:
  //   ProtocolVersion legacy_version; Random random[32]; opaque legacy_session_id<0..32>;
  //   CipherSuite cipher_suites<2..2^16-2>; opaque legacy_compression_methods<1..2^8-1>;
  //   Extension extensions<8..2^16-1>;
  // The session id may be up to 32 bytes; we do not enforce it (it carries no name).
  // Every length is checked against the end of its parent before it is used, so an inner
  // length can never reach past its enclosing vector.
  let p = TLS_HANDSHAKE_HEADER_LEN;
  if (end - p < 2 + 32 + 1) return TLS_MALFORMED_HELLO;
  const legacyVersion = u16be(msg, p);
  p += 2 + 32;
  const sessionIdLen = u8(msg, p);
  p += 1;
  if (end - p < sessionIdLen) return TLS_MALFORMED_HELLO;
  p += sessionIdLen;

  if (end - p < 2) return TLS_BAD_CIPHER_SUITES;
  const suitesLen = u16be(msg, p);
  p += 2;
  if (end - p < suitesLen || suitesLen % 2 !== 0) return TLS_BAD_CIPHER_SUITES;
  const cipherSuites: number[] = [];
  if (!nameOnly) for (let i = p; i < p + suitesLen; i += 2) cipherSuites.push(u16be(msg, i));
  p += suitesLen;

  if (end - p < 1) return TLS_MALFORMED_HELLO;
  const compressionLen = u8(msg, p);
  p += 1;
  if (end - p < compressionLen) return TLS_MALFORMED_HELLO;
  p += compressionLen;

  const hello: ClientHello = {
    legacyVersion,
    cipherSuites,
    extensions: [],
    sni: undefined,
    sniCount: 0,
    alpn: [],
    supportedVersions: [],
    signatureAlgorithms: [],
    ech: false,
  };

  // RFC 5246 §7.4.1.2: the extensions block may be absent altogether (SSLv3/TLS 1.0 style).
  if (p === end) return hello;
  if (end - p < 2) return TLS_BAD_EXTENSIONS;
  const extsLen = u16be(msg, p);
  p += 2;
  if (end - p < extsLen) return TLS_BAD_EXTENSIONS;
  if (p + extsLen !== end) return TLS_TRAILING_DATA;

  const issue = parseExtensions(msg, p, end, hello, nameOnly);
  clearSeen(hello.extensions);
  return issue ?? hello;
}

/**
 * Extension types seen in the hello being parsed, as a 65536-bit set reused across calls (parsing
 * is synchronous). Linear duplicate search would be quadratic in a hostile 4096-extension hello.
 */
const seen = new Uint32Array(65_536 / 32);

function clearSeen(types: readonly number[]): void {
  for (const t of types) seen[t >>> 5] = 0;
}

/** RFC 8446 §4.2: Extension { ExtensionType extension_type; opaque extension_data<0..2^16-1>; } over b[p, end). */
function parseExtensions(b: Uint8Array, p: number, end: number, hello: ClientHello, nameOnly: boolean): DecodeIssue | undefined {
  while (p < end) {
    if (end - p < 4) return TLS_BAD_EXTENSIONS;
    const type = u16be(b, p);
    const len = u16be(b, p + 2);
    p += 4;
    if (end - p < len) return TLS_BAD_EXTENSIONS;
    const data = p;
    const dataEnd = p + len;
    p = dataEnd;

    // RFC 8446 §4.2: "There MUST NOT be more than one extension of the same type".
    const word = type >>> 5;
    const bit = 1 << (type & 31);
    const w = seen[word] ?? 0;
    if ((w & bit) !== 0) return TLS_DUPLICATE_EXTENSION;
    seen[word] = w | bit;
    hello.extensions.push(type);

    // Unknown and uninteresting extensions (and GREASE, RFC 8701 §3) are skipped.
    let issue: DecodeIssue | undefined;
    switch (type) {
      case ExtensionType.ServerName:
        issue = parseServerName(b, data, dataEnd, hello);
        break;
      case ExtensionType.Alpn:
        issue = parseAlpn(b, data, dataEnd, nameOnly ? undefined : hello.alpn);
        break;
      case ExtensionType.SupportedVersions:
        // RFC 8446 §4.2.1: ProtocolVersion versions<2..254> (in a ClientHello).
        issue = readU16List(b, data, dataEnd, 1, nameOnly ? undefined : hello.supportedVersions) ? undefined : TLS_BAD_SUPPORTED_VERSIONS;
        break;
      case ExtensionType.SignatureAlgorithms:
        // RFC 8446 §4.2.3: SignatureScheme supported_signature_algorithms<2..2^16-2>.
        issue = readU16List(b, data, dataEnd, 2, nameOnly ? undefined : hello.signatureAlgorithms)
          ? undefined
          : TLS_BAD_SIGNATURE_ALGORITHMS;
        break;
      case ExtensionType.EncryptedClientHello:
        // RFC 9849 §5: ECHClientHello (outer or inner). Its presence is all we report: the inner
        // hello is encrypted, and `sni` then holds the public name.
        hello.ech = true;
        break;
    }
    if (issue !== undefined) return issue;
  }
  return undefined;
}

/**
 * RFC 6066 §3:
 *   struct { NameType name_type; select (name_type) { case host_name: HostName; } name; } ServerName;
 *   enum { host_name(0), (255) } NameType;  opaque HostName<1..2^16-1>;
 *   struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
 * Only host_name is defined; other name types are skipped. The list "MUST NOT contain more than
 * one name of the same name_type": we keep the first host_name and count the rest.
 */
function parseServerName(b: Uint8Array, p: number, end: number, hello: ClientHello): DecodeIssue | undefined {
  // The list fills the extension exactly and is not empty.
  if (end - p < 2) return TLS_BAD_SNI;
  const listLen = u16be(b, p);
  p += 2;
  if (listLen === 0 || p + listLen !== end) return TLS_BAD_SNI;
  while (p < end) {
    if (end - p < 3) return TLS_BAD_SNI;
    const nameType = u8(b, p);
    const len = u16be(b, p + 1);
    p += 3;
    if (end - p < len) return TLS_BAD_SNI;
    const start = p;
    p += len;
    if (nameType !== 0) continue;
    if (++hello.sniCount > 1) continue;

    if (len === 0 || len > MAX_SNI_BYTES) return TLS_BAD_SNI_LENGTH;
    let stop = start + len;
    if (u8(b, stop - 1) === 0x2e) stop--; // one trailing dot (an absolute name) is dropped
    if (stop === start) return TLS_BAD_SNI_NAME;
    // A plausible hostname: printable ASCII only (no NUL, control, space, DEL or 8-bit bytes).
    // Underscores, IP literals etc. pass: they are what the client asked for.
    for (let i = start; i < stop; i++) {
      const c = u8(b, i);
      if (c <= 0x20 || c >= 0x7f) return TLS_BAD_SNI_NAME;
    }
    hello.sni = latin1Lower(b, start, stop);
  }
  return undefined;
}

/**
 * RFC 7301 §3.1: opaque ProtocolName<1..2^8-1>; struct { ProtocolName protocol_name_list<2..2^16-1> }.
 * Names are opaque bytes; they become latin1 strings (one char per byte) so JA4 can see each byte.
 */
function parseAlpn(b: Uint8Array, p: number, end: number, out: string[] | undefined): DecodeIssue | undefined {
  if (end - p < 2) return TLS_BAD_ALPN;
  const listLen = u16be(b, p);
  p += 2;
  if (listLen === 0 || p + listLen !== end) return TLS_BAD_ALPN;
  while (p < end) {
    const len = u8(b, p);
    p += 1;
    if (len === 0 || end - p < len) return TLS_BAD_ALPN;
    out?.push(latin1(b, p, p + len));
    p += len;
  }
  return undefined;
}

/**
 * A non-empty, even-length list of u16 with a `prefix`-byte length (1 or 2) that fills its
 * extension b[p, end) exactly; its values go to `out` when given.
 */
function readU16List(b: Uint8Array, p: number, end: number, prefix: 1 | 2, out: number[] | undefined): boolean {
  if (end - p < prefix) return false;
  const len = prefix === 1 ? u8(b, p) : u16be(b, p);
  p += prefix;
  if (len === 0 || len % 2 !== 0 || p + len !== end) return false;
  if (out !== undefined) for (let i = p; i < end; i += 2) out.push(u16be(b, i));
  return true;
}
