/**
 * Builders for TLS ClientHellos, for tests of the TLS decoder, JA4, TCP reassembly and QUIC.
 *
 *   clientHello({ sni: 'example.com' })                    one TLS record (Uint8Array)
 *   clientHello({ sni: 'a.test', recordSplit: 3 })         the same hello spread over 3 records
 *   handshakeMessage({ sni: 'a.test', alpn: ['h3'] })      just the handshake message (QUIC CRYPTO)
 *
 * Defaults describe a plain TLS 1.3 client (5 ciphers, x25519 key share, supported_versions
 * 1.3/1.2, 8 signature algorithms) with no SNI and no ALPN. Every option is independent, so a
 * test states only what it is about. Wire formats: RFC 8446 §4.1.2 (ClientHello), §5.1 (records).
 */

/** Options for `clientHello` / `handshakeMessage`. Unset means the default described. */
export interface ClientHelloOptions {
  /**
   * server_name host_name. A string is encoded as latin1 bytes verbatim (case and trailing dot
   * kept); a Uint8Array is used as the raw name (for invalid names). Default: no server_name.
   */
  readonly sni?: string | Uint8Array;
  /** Raw server_name entries `[name_type, name]`, replacing `sni` (several names, other types). */
  readonly sniEntries?: ReadonlyArray<readonly [number, string | Uint8Array]>;
  /** ALPN protocol names (latin1 strings or raw bytes). Default: no ALPN extension. */
  readonly alpn?: ReadonlyArray<string | Uint8Array>;
  /** Cipher suites in order. Default: TLS13_CIPHERS + two ECDHE-GCM suites. */
  readonly ciphers?: readonly number[];
  /**
   * The complete list of extension types, in wire order. Types with a meaning here (SNI, ALPN,
   * supported_versions, signature_algorithms, ECH, padding) get their bodies from the options
   * above; others get a plausible default body (empty for flag extensions). Listing a type twice
   * emits it twice. Default: DEFAULT_EXTENSION_ORDER filtered to what the options enable.
   */
  readonly extensions?: readonly number[];
  /** Add GREASE like Chrome: a cipher, two extensions (first, last), a version, a group, a sig alg. */
  readonly grease?: boolean;
  /** supported_versions values; `null` omits the extension. Default [0x0304, 0x0303]. */
  readonly versions?: readonly number[] | null;
  /** ClientHello legacy_version. Default 0x0303. */
  readonly legacyVersion?: number;
  /** Record-layer legacy_record_version. Default 0x0301 (what real clients send first). */
  readonly recordVersion?: number;
  /** Add an encrypted_client_hello (0xfe0d) outer extension. */
  readonly ech?: boolean;
  /** Pad (RFC 7685 padding, 0x0015) so the handshake message is at least this many bytes. */
  readonly padTo?: number;
  /** signature_algorithms values; `null` omits the extension. Default DEFAULT_SIG_ALGS. */
  readonly sigAlgs?: readonly number[] | null;
  /** No extensions block at all (SSLv3/TLS 1.0 style hello). */
  readonly noExtensions?: boolean;
  /** Extra raw extensions `[type, body]`, appended after the others (before GREASE and padding). */
  readonly extra?: ReadonlyArray<readonly [number, Uint8Array]>;
  /** legacy_session_id. Default 32 bytes of 0x55 (TLS 1.3 middlebox compatibility mode). */
  readonly sessionId?: Uint8Array;
  /**
   * Split the handshake message over several records: a number n gives n records of (nearly)
   * equal size; an array gives the sizes of the leading fragments, the rest goes in a last one.
   */
  readonly recordSplit?: number | readonly number[];
}

export const TLS13_CIPHERS = [0x1301, 0x1302, 0x1303] as const;
export const DEFAULT_CIPHERS = [...TLS13_CIPHERS, 0xc02b, 0xc02f] as const;
export const DEFAULT_SIG_ALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601] as const;

/** Extension numbers the builder knows by name. */
export const Ext = {
  ServerName: 0x0000,
  StatusRequest: 0x0005,
  SupportedGroups: 0x000a,
  EcPointFormats: 0x000b,
  SignatureAlgorithms: 0x000d,
  Alpn: 0x0010,
  Sct: 0x0012,
  Padding: 0x0015,
  ExtendedMasterSecret: 0x0017,
  CompressCertificate: 0x001b,
  SessionTicket: 0x0023,
  PreSharedKey: 0x0029,
  SupportedVersions: 0x002b,
  PskKeyExchangeModes: 0x002d,
  KeyShare: 0x0033,
  QuicTransportParameters: 0x0039,
  ApplicationSettings: 0x4469,
  Ech: 0xfe0d,
  RenegotiationInfo: 0xff01,
} as const;

/** Default order; SNI/ALPN/versions/sig algs/ECH appear only when the options enable them. */
export const DEFAULT_EXTENSION_ORDER: readonly number[] = [
  Ext.ServerName,
  Ext.ExtendedMasterSecret,
  Ext.RenegotiationInfo,
  Ext.SupportedGroups,
  Ext.EcPointFormats,
  Ext.SessionTicket,
  Ext.Alpn,
  Ext.StatusRequest,
  Ext.SignatureAlgorithms,
  Ext.KeyShare,
  Ext.PskKeyExchangeModes,
  Ext.SupportedVersions,
  Ext.Ech,
];

const GREASE_CIPHER = 0x0a0a;
const GREASE_EXT_FIRST = 0x1a1a;
const GREASE_EXT_LAST = 0x2a2a;
const GREASE_VERSION = 0x3a3a;
const GREASE_GROUP = 0x4a4a;
const GREASE_SIG_ALG = 0x5a5a;
const X25519 = 0x001d;

/** The ClientHello handshake message: msg_type(1) length(3) body. */
export function handshakeMessage(opts: ClientHelloOptions = {}): Uint8Array {
  const grease = opts.grease ?? false;
  const ciphers = [...(grease ? [GREASE_CIPHER] : []), ...(opts.ciphers ?? DEFAULT_CIPHERS)];
  const head = [
    u16(opts.legacyVersion ?? 0x0303),
    new Uint8Array(32).fill(0xaa), // random
    vec8(opts.sessionId ?? new Uint8Array(32).fill(0x55)),
    vec16(concat(ciphers.map(u16))),
    vec8(Uint8Array.of(0)), // compression: null
  ];
  if (opts.noExtensions === true) return handshake(concat(head));

  const exts: Uint8Array[] = [];
  if (grease) exts.push(extension(GREASE_EXT_FIRST, new Uint8Array(0)));
  for (const type of extensionOrder(opts)) exts.push(extension(type, extensionBody(type, opts)));
  for (const [type, body] of opts.extra ?? []) exts.push(extension(type, body));
  if (grease) exts.push(extension(GREASE_EXT_LAST, Uint8Array.of(0)));

  let msg = handshake(concat([...head, vec16(concat(exts))]));
  if (opts.padTo !== undefined && msg.length < opts.padTo) {
    // The padding extension's own 4-byte header counts toward the target.
    const padLen = Math.max(0, opts.padTo - msg.length - 4);
    exts.push(extension(Ext.Padding, new Uint8Array(padLen)));
    msg = handshake(concat([...head, vec16(concat(exts))]));
  }
  return msg;
}

/** The ClientHello as it starts a TCP stream: one TLS record, or several with `recordSplit`. */
export function clientHello(opts: ClientHelloOptions = {}): Uint8Array {
  return tlsRecords(handshakeMessage(opts), opts.recordVersion ?? 0x0301, opts.recordSplit);
}

/** Wrap handshake bytes in handshake records (RFC 8446 §5.1), split as `recordSplit` says. */
export function tlsRecords(
  payload: Uint8Array,
  recordVersion = 0x0301,
  split?: number | readonly number[],
): Uint8Array {
  const sizes: number[] = [];
  if (typeof split === 'number') {
    const each = Math.ceil(payload.length / split);
    for (let left = payload.length; left > 0; left -= each) sizes.push(Math.min(each, left));
  } else {
    let used = 0;
    for (const s of split ?? []) {
      sizes.push(s);
      used += s;
    }
    if (used < payload.length) sizes.push(payload.length - used);
  }
  const out: Uint8Array[] = [];
  let off = 0;
  for (const size of sizes) {
    out.push(record(22, recordVersion, payload.subarray(off, off + size)));
    off += size;
  }
  return concat(out);
}

/** One TLS record: type(1) version(2) length(2) fragment. */
export function record(type: number, version: number, fragment: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(type), u16(version), u16(fragment.length), fragment]);
}

// ---------------------------------------------------------------------------------------------

function extensionOrder(opts: ClientHelloOptions): readonly number[] {
  if (opts.extensions !== undefined) return opts.extensions;
  return DEFAULT_EXTENSION_ORDER.filter((t) => {
    switch (t) {
      case Ext.ServerName:
        return opts.sni !== undefined || opts.sniEntries !== undefined;
      case Ext.Alpn:
        return opts.alpn !== undefined;
      case Ext.SupportedVersions:
        return opts.versions !== null;
      case Ext.SignatureAlgorithms:
        return opts.sigAlgs !== null;
      case Ext.Ech:
        return opts.ech === true;
      default:
        return true;
    }
  });
}

function extensionBody(type: number, opts: ClientHelloOptions): Uint8Array {
  const grease = opts.grease ?? false;
  switch (type) {
    case Ext.ServerName: {
      // RFC 6066 §3: server_name_list<1..2^16-1> of { name_type(1), HostName<1..2^16-1> }.
      const entries = opts.sniEntries ?? (opts.sni !== undefined ? [[0, opts.sni] as const] : undefined);
      if (entries === undefined) throw new Error('extensions lists server_name but no sni was given');
      return vec16(concat(entries.map(([t, name]) => concat([Uint8Array.of(t), vec16(bytes(name))]))));
    }
    case Ext.Alpn:
      // RFC 7301 §3.1: protocol_name_list<2..2^16-1> of ProtocolName<1..2^8-1>.
      if (opts.alpn === undefined) throw new Error('extensions lists ALPN but no alpn was given');
      return vec16(concat(opts.alpn.map((p) => vec8(bytes(p)))));
    case Ext.SupportedVersions: {
      // RFC 8446 §4.2.1: versions<2..254>.
      const versions = [...(grease ? [GREASE_VERSION] : []), ...(opts.versions ?? [0x0304, 0x0303])];
      return vec8(concat(versions.map(u16)));
    }
    case Ext.SignatureAlgorithms: {
      // RFC 8446 §4.2.3: supported_signature_algorithms<2..2^16-2>.
      const algs = [...(grease ? [GREASE_SIG_ALG] : []), ...(opts.sigAlgs ?? DEFAULT_SIG_ALGS)];
      return vec16(concat(algs.map(u16)));
    }
    case Ext.SupportedGroups: {
      // RFC 8446 §4.2.7: named_group_list<2..2^16-1>.
      const groups = [...(grease ? [GREASE_GROUP] : []), X25519, 0x0017, 0x0018];
      return vec16(concat(groups.map(u16)));
    }
    case Ext.KeyShare:
      // RFC 8446 §4.2.8: client_shares<0..2^16-1> of { group(2), key_exchange<1..2^16-1> }.
      return vec16(concat([u16(X25519), vec16(new Uint8Array(32).fill(0x42))]));
    case Ext.EcPointFormats:
      return vec8(Uint8Array.of(0)); // RFC 8422 §5.1.2: uncompressed
    case Ext.PskKeyExchangeModes:
      return vec8(Uint8Array.of(1)); // RFC 8446 §4.2.9: psk_dhe_ke
    case Ext.StatusRequest:
      return Uint8Array.of(1, 0, 0, 0, 0); // RFC 6066 §8: ocsp, no responder ids, no extensions
    case Ext.CompressCertificate:
      return vec8(u16(2)); // RFC 8879: brotli
    case Ext.ApplicationSettings:
      return vec16(vec8(bytes('h2')));
    case Ext.RenegotiationInfo:
      return vec8(new Uint8Array(0)); // RFC 5746 §3.2: empty renegotiated_connection
    case Ext.Ech:
      // RFC 9849 §5: ECHClientHello outer: type(1)=0, HpkeSymmetricCipherSuite(4), config_id(1),
      // enc<0..2^16-1>, payload<1..2^16-1>.
      return concat([
        Uint8Array.of(0), // outer
        u16(0x0001), // HKDF-SHA256
        u16(0x0001), // AES-128-GCM
        Uint8Array.of(0x2c), // config_id
        vec16(new Uint8Array(32).fill(0x33)), // enc: an X25519 public key
        vec16(new Uint8Array(144).fill(0x77)), // payload: the encrypted inner hello
      ]);
    case Ext.Padding:
      return new Uint8Array(0);
    default:
      return new Uint8Array(0); // flag extensions (extended_master_secret, SCT, session_ticket…)
  }
}

function handshake(body: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(1, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff), body]);
}

function extension(type: number, body: Uint8Array): Uint8Array {
  return concat([u16(type), vec16(body)]);
}

/** latin1: one byte per char, so tests can put any byte in a name. */
export function bytes(s: string | Uint8Array): Uint8Array {
  if (typeof s !== 'string') return s;
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export function u16(v: number): Uint8Array {
  return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
}

export function vec8(b: Uint8Array): Uint8Array {
  if (b.length > 0xff) throw new Error(`vec8 too long: ${b.length}`);
  return concat([Uint8Array.of(b.length), b]);
}

export function vec16(b: Uint8Array): Uint8Array {
  if (b.length > 0xffff) throw new Error(`vec16 too long: ${b.length}`);
  return concat([u16(b.length), b]);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
