/**
 * QUIC Initial packet protection, receive side: version table, Initial secrets, header
 * protection removal, packet-number decoding and AEAD_AES_128_GCM open.
 *
 * Initial packets are encrypted, but with keys anyone can derive from the client's first
 * Destination Connection ID and a per-version public salt (RFC 9001 §5.2). That is what
 * lets a passive monitor read the ClientHello. Everything here uses node:crypto; nothing
 * throws (an authentication failure is `undefined`).
 *
 * References: RFC 9001 §5 (packet protection) and Appendix A (test vectors), RFC 9369 §3
 * (QUIC v2 differences), draft-ietf-quic-tls-22/-23/-29 §5.2 (draft salts), RFC 8446 §7.1
 * (HKDF-Expand-Label), RFC 5869 (HKDF), RFC 9000 §17.1 and Appendix A.3 (packet numbers).
 *
 * Versions: v1, v2, the IETF drafts 22-34 and Facebook mvfst's draft-based versions, as tshark
 * 4.0 opens them (packet-quic.c quic_draft_version). Drafts before 22 had another long header.
 * For a version not in the table, the assembler tries each known salt and label set
 * (GUESS_CANDIDATES): the AEAD tag of the Initial tells when one fits.
 */
import { createCipheriv, createDecipheriv, createHmac, type Cipher } from 'node:crypto';
import { u8 } from '../../common/bytes.js';

/** Long-header packet types, as this module names them (RFC 9000 §17.2, Table 5). */
export type LongPacketType = 'initial' | 'zero_rtt' | 'handshake' | 'retry';

/** What differs between the QUIC versions whose Initials we can open. */
export interface QuicVersionInfo {
  readonly version: number;
  readonly name: string;
  /** initial_salt of RFC 9001 §5.2 (or its per-version replacement). */
  readonly salt: Buffer;
  /** HKDF labels for the packet key, IV and header-protection key (RFC 9001 §5.1, RFC 9369 §3.3.2). */
  readonly keyLabel: string;
  readonly ivLabel: string;
  readonly hpLabel: string;
  /** The 2-bit Long Packet Type value of each type; v2 permutes them (RFC 9369 §3.2). */
  readonly types: Readonly<Record<LongPacketType, number>>;
}

export const QuicVersion = {
  V1: 0x00000001,
  V2: 0x6b3343cf,
  DRAFT_22: 0xff000016,
  DRAFT_23: 0xff000017,
  DRAFT_27: 0xff00001b,
  DRAFT_28: 0xff00001c,
  DRAFT_29: 0xff00001d,
  DRAFT_30: 0xff00001e,
  DRAFT_31: 0xff00001f,
  DRAFT_32: 0xff000020,
  DRAFT_34: 0xff000022,
  /** Facebook mvfst on draft-22. */
  MVFST_22: 0xfaceb001,
  /** Facebook mvfst on draft-27, and its "experimental" version. */
  MVFST_27: 0xfaceb002,
  MVFST_EXP: 0xfaceb00e,
} as const;

// RFC 9000 §17.2 Table 5.
const V1_TYPES = Object.freeze({ initial: 0, zero_rtt: 1, handshake: 2, retry: 3 });
// RFC 9369 §3.2: "Initial: 0b01, 0-RTT: 0b10, Handshake: 0b11, Retry: 0b00".
const V2_TYPES = Object.freeze({ initial: 1, zero_rtt: 2, handshake: 3, retry: 0 });

// RFC 9001 §5.2.
const SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
// RFC 9369 §3.3.1.
const SALT_V2 = Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex');
// draft-ietf-quic-tls-29 §5.2; drafts 30-32 kept the same salt (changed only in the RFC).
const SALT_DRAFT_29 = Buffer.from('afbfec289993d24c9e9786f19c6111e04390a899', 'hex');
// draft-ietf-quic-tls-23 §5.2, kept through draft 28.
const SALT_DRAFT_23 = Buffer.from('c3eef712c72ebb5a11a7d2432bb46365bef9f502', 'hex');
// draft-ietf-quic-tls-22 §5.2 (and the drafts since 17 that shared the long header of 22).
const SALT_DRAFT_22 = Buffer.from('7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a', 'hex');

function info(
  version: number,
  name: string,
  salt: Buffer,
  prefix: string,
  types: Readonly<Record<LongPacketType, number>>,
): QuicVersionInfo {
  return Object.freeze({
    version,
    name,
    salt,
    keyLabel: `${prefix} key`,
    ivLabel: `${prefix} iv`,
    hpLabel: `${prefix} hp`,
    types,
  });
}

/** The IETF drafts by number: 22 has its own salt, 23-28 share one, 29-32 another, 33-34 v1's. */
function draft(n: number): QuicVersionInfo {
  const salt = n === 22 ? SALT_DRAFT_22 : n <= 28 ? SALT_DRAFT_23 : n <= 32 ? SALT_DRAFT_29 : SALT_V1;
  const version = (0xff000000 | n) >>> 0;
  return info(version, `draft-${n}`, salt, 'quic', V1_TYPES);
}

const VERSIONS: ReadonlyMap<number, QuicVersionInfo> = new Map([
  [QuicVersion.V1, info(QuicVersion.V1, 'v1', SALT_V1, 'quic', V1_TYPES)],
  [QuicVersion.V2, info(QuicVersion.V2, 'v2', SALT_V2, 'quicv2', V2_TYPES)],
  ...Array.from({ length: 34 - 22 + 1 }, (_, i) => draft(22 + i)).map((v) => [v.version, v] as const),
  [QuicVersion.MVFST_22, info(QuicVersion.MVFST_22, 'mvfst-22', SALT_DRAFT_22, 'quic', V1_TYPES)],
  [QuicVersion.MVFST_27, info(QuicVersion.MVFST_27, 'mvfst-27', SALT_DRAFT_23, 'quic', V1_TYPES)],
  [QuicVersion.MVFST_EXP, info(QuicVersion.MVFST_EXP, 'mvfst-experimental', SALT_DRAFT_23, 'quic', V1_TYPES)],
]);

/** The version's parameters, or undefined for a version whose Initials we cannot open. */
export function quicVersionInfo(version: number): QuicVersionInfo | undefined {
  return VERSIONS.get(version);
}

/**
 * What a version kasmon does not know may be: each salt and label set in use, with the
 * packet-type encoding that goes with it. The assembler tries them on an Initial of an
 * unknown version; only the right one authenticates (RFC 9001 §5.3: AEAD_AES_128_GCM).
 */
export const GUESS_CANDIDATES: readonly QuicVersionInfo[] = Object.freeze([
  info(0, 'v1-salt', SALT_V1, 'quic', V1_TYPES),
  info(0, 'draft-29-salt', SALT_DRAFT_29, 'quic', V1_TYPES),
  info(0, 'draft-23-salt', SALT_DRAFT_23, 'quic', V1_TYPES),
  info(0, 'draft-22-salt', SALT_DRAFT_22, 'quic', V1_TYPES),
  info(0, 'v2-salt', SALT_V2, 'quicv2', V2_TYPES),
]);

/** A candidate's parameters for a version that turned out to use them. */
export function learnedVersion(version: number, like: QuicVersionInfo): QuicVersionInfo {
  return Object.freeze({ ...like, version, name: `0x${version.toString(16).padStart(8, '0')} (${like.name})` });
}

// ---------------------------------------------------------------------------------------
// HKDF (RFC 5869) with SHA-256, and TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1).
// node's hkdfSync always runs Extract then Expand, but QUIC needs Expand alone on an
// existing secret, so both steps are spelled out with HMAC.

const SHA256_LEN = 32;

/** HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM). */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Buffer {
  return createHmac('sha256', salt).update(ikm).digest();
}

/** HKDF-Expand(PRK, info, L): T(i) = HMAC(PRK, T(i-1) | info | i), output the first L bytes. */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let t: Buffer = Buffer.alloc(0);
  for (let i = 1, done = 0; done < length; i++) {
    t = createHmac('sha256', prk).update(t).update(info).update(Uint8Array.of(i)).digest();
    done += t.copy(out, done, 0, Math.min(SHA256_LEN, length - done));
  }
  return out;
}

/**
 * The HkdfLabel structure of RFC 8446 §7.1:
 *   struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; }
 * (RFC 9001 Appendix A.1 lists the encodings, e.g. "client in" -> 00200f746c73...696e00.)
 */
export function hkdfLabel(label: string, length: number, context: Uint8Array = new Uint8Array(0)): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const out = Buffer.allocUnsafe(2 + 1 + full.length + 1 + context.length);
  out.writeUInt16BE(length, 0);
  out[2] = full.length;
  full.copy(out, 3);
  out[3 + full.length] = context.length;
  out.set(context, 4 + full.length);
  return out;
}

/** HKDF-Expand-Label(Secret, Label, Context, Length) = HKDF-Expand(Secret, HkdfLabel, Length). */
export function hkdfExpandLabel(secret: Uint8Array, label: string, length: number, context?: Uint8Array): Buffer {
  return hkdfExpand(secret, hkdfLabel(label, length, context), length);
}

// ---------------------------------------------------------------------------------------
// Initial secrets and keys (RFC 9001 §5.1, §5.2).

export interface InitialSecrets {
  /** initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id) */
  readonly initial: Buffer;
  /** client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", 32) */
  readonly client: Buffer;
  /** server_initial_secret = HKDF-Expand-Label(initial_secret, "server in", "", 32) */
  readonly server: Buffer;
}

export function initialSecrets(v: QuicVersionInfo, dcid: Uint8Array): InitialSecrets {
  const initial = hkdfExtract(v.salt, dcid);
  return {
    initial,
    client: hkdfExpandLabel(initial, 'client in', SHA256_LEN),
    server: hkdfExpandLabel(initial, 'server in', SHA256_LEN),
  };
}

/** Packet protection keys for one direction of the Initial space (AEAD_AES_128_GCM). */
export interface PacketKeys {
  readonly version: QuicVersionInfo;
  /** 16-byte AEAD key ("quic key"). */
  readonly key: Buffer;
  /** 12-byte AEAD IV ("quic iv"). */
  readonly iv: Buffer;
  /** 16-byte header-protection key ("quic hp"). */
  readonly hp: Buffer;
  /**
   * AES-128-ECB over `hp` with padding off, created once per key set: ECB keeps no state
   * between blocks, so each 16-byte `update()` is one independent block encryption and the
   * cipher can be reused for every packet of the connection.
   */
  readonly hpCipher: Cipher;
}

/** key/iv/hp from a traffic secret with the version's labels (RFC 9001 §5.1, RFC 9369 §3.3.2). */
export function packetKeys(v: QuicVersionInfo, secret: Uint8Array): PacketKeys {
  const hp = hkdfExpandLabel(secret, v.hpLabel, 16);
  const hpCipher = createCipheriv('aes-128-ecb', hp, null).setAutoPadding(false);
  return {
    version: v,
    key: hkdfExpandLabel(secret, v.keyLabel, 16),
    iv: hkdfExpandLabel(secret, v.ivLabel, 12),
    hp,
    hpCipher,
  };
}

/**
 * The client's Initial keys for a connection, derived from the Destination Connection ID of
 * the client's first Initial (RFC 9001 §5.2). `side: 'server'` gives the server's, which use
 * the same DCID. Undefined when the version is not one we know.
 */
export function deriveInitialKeys(
  version: number,
  dcid: Uint8Array,
  side: 'client' | 'server' = 'client',
  known: QuicVersionInfo | undefined = undefined,
): PacketKeys | undefined {
  const v = known ?? VERSIONS.get(version);
  return v === undefined ? undefined : initialKeys(v, dcid, side);
}

/** One side's Initial keys for a connection of version `v` (RFC 9001 §5.2). */
export function initialKeys(v: QuicVersionInfo, dcid: Uint8Array, side: 'client' | 'server'): PacketKeys {
  const s = initialSecrets(v, dcid);
  return packetKeys(v, side === 'client' ? s.client : s.server);
}

// ---------------------------------------------------------------------------------------
// Header protection (RFC 9001 §5.4) and packet numbers (RFC 9000 §17.1, Appendix A.3).

/** The AES header-protection sample is 16 bytes, taken 4 bytes after the packet number's start (§5.4.2). */
export const HP_SAMPLE_OFFSET = 4;
export const HP_SAMPLE_LEN = 16;
/** AEAD_AES_128_GCM tag length (RFC 5116 §5.1). */
export const AEAD_TAG_LEN = 16;

/** mask = AES-ECB(hp_key, sample) (RFC 9001 §5.4.3); 16 bytes, of which the first 5 are used. */
export function headerProtectionMask(keys: PacketKeys, sample: Uint8Array): Buffer {
  return keys.hpCipher.update(sample);
}

/**
 * RFC 9000 Appendix A.3: the full packet number closest to largest+1 whose low `pnLen*8`
 * bits equal `truncated`. Use largest = -1 before any packet of the space was seen.
 * Plain arithmetic (not bit operations) so values above 2^31 stay exact.
 */
export function decodePacketNumber(largest: number, truncated: number, pnLen: number): number {
  const expected = largest + 1;
  const win = 2 ** (pnLen * 8);
  const hwin = win / 2;
  const candidate = expected - (expected % win) + truncated;
  if (candidate <= expected - hwin && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

/** A packet whose protection was removed. */
export interface OpenedPacket {
  /** Full (decoded) packet number. */
  readonly pn: number;
  /** Length in bytes of the packet-number field on the wire, 1-4. */
  readonly pnLength: number;
  /** The unprotected header (first byte and packet number unmasked): the AEAD's associated data. */
  readonly header: Buffer;
  /** Decrypted frames (owned by the caller: views into it may be kept). */
  readonly payload: Buffer;
}

/**
 * Removes header protection and decrypts one long-header packet (RFC 9001 §5.3, §5.4.1).
 * `packet` is exactly the packet (first byte to end of Length); `pnOffset` is where the
 * Packet Number field starts. The caller guarantees `packet.length >= pnOffset + 20`
 * (room for a 4-byte packet number plus the 16-byte sample, RFC 9001 §5.4.2).
 * The input is not modified. Undefined when authentication fails (wrong keys, damage).
 */
export function openPacket(
  keys: PacketKeys,
  packet: Uint8Array,
  pnOffset: number,
  largestPn: number,
): OpenedPacket | undefined {
  const sampleAt = pnOffset + HP_SAMPLE_OFFSET;
  if (packet.length < sampleAt + HP_SAMPLE_LEN) return undefined;
  const mask = headerProtectionMask(keys, packet.subarray(sampleAt, sampleAt + HP_SAMPLE_LEN));

  // §5.4.1: long headers protect the low 4 bits of byte 0; its low 2 bits then give the
  // packet number length.
  const first = u8(packet, 0) ^ (u8(mask, 0) & 0x0f);
  const pnLength = (first & 0x03) + 1;
  const payloadAt = pnOffset + pnLength;
  if (packet.length < payloadAt + AEAD_TAG_LEN) return undefined;

  // copy: the unprotected header becomes the AAD; the capture buffer stays untouched.
  const header = Buffer.from(packet.subarray(0, payloadAt));
  header[0] = first;
  let truncated = 0;
  for (let i = 0; i < pnLength; i++) {
    const b = u8(header, pnOffset + i) ^ u8(mask, 1 + i);
    header[pnOffset + i] = b;
    truncated = truncated * 256 + b;
  }
  const pn = decodePacketNumber(largestPn, truncated, pnLength);

  // §5.3: nonce = iv XOR packet number (left-padded to the IV length).
  const nonce = Buffer.from(keys.iv);
  const hi = Math.floor(pn / 2 ** 32);
  const lo = pn >>> 0;
  nonce.writeUInt32BE((nonce.readUInt32BE(4) ^ hi) >>> 0, 4);
  nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ lo) >>> 0, 8);

  const tagAt = packet.length - AEAD_TAG_LEN;
  try {
    const d = createDecipheriv('aes-128-gcm', keys.key, nonce, { authTagLength: AEAD_TAG_LEN });
    d.setAAD(header);
    d.setAuthTag(packet.subarray(tagAt));
    const body = d.update(packet.subarray(payloadAt, tagAt));
    const tail = d.final(); // throws when the tag does not verify
    const payload = tail.length === 0 ? body : Buffer.concat([body, tail]);
    return { pn, pnLength, header, payload };
  } catch {
    return undefined;
  }
}
