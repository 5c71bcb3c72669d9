/**
 * QUIC Initial packets → the client's TLS ClientHello handshake message.
 *
 * A client opens a QUIC connection with Initial packets whose protection keys derive from
 * public values (RFC 9001 §5.2), so an observer can decrypt them, collect the CRYPTO
 * frames (RFC 9000 §19.6) and reassemble the ClientHello. Parsing the ClientHello itself
 * (SNI, ALPN, JA4) is tls.ts's job; this file hands over the handshake message bytes
 * (4-byte header + body).
 *
 * Why reassembly is needed: Chrome scatters its ClientHello over many small CRYPTO frames in
 * random order, and a post-quantum ClientHello (ML-KEM key share, ~1.2 KB more) no longer
 * fits in one 1200-byte Initial, so it spans two or more packets that may arrive in any
 * order. State is kept per client connection, bounded (LRU + idle timeout on packet time).
 *
 *   datagram ─┬─ long header packet (Length) ─┬─ Initial ─→ unprotect ─→ frames ─→ CRYPTO stream
 *             │                               └─ 0-RTT / Handshake: skipped by Length
 *             └─ short header: ends the walk (it runs to the end of the datagram)
 */
import { ByteReader, u24be, u32be, u8 } from '../../common/bytes.js';
import { defineIssue, type DecodeIssue, type IssueCounter } from '../issues.js';
import { NAME_EVICTED, NAME_IDLE, NAME_INCOMPLETE } from '../unrecovered.js';
import {
  GUESS_CANDIDATES,
  initialKeys,
  learnedVersion,
  openPacket,
  quicVersionInfo,
  HP_SAMPLE_LEN,
  HP_SAMPLE_OFFSET,
  type OpenedPacket,
  type PacketKeys,
  type QuicVersionInfo,
} from './quic-crypto.js';

// ---------------------------------------------------------------------------------------
// Outcomes (see issues.ts: truncated = bytes ran out, invalid = contradicts the spec,
// skipped = not for us or a limit was reached).

/** The long header stops before its Length field ends. */
export const QUIC_TRUNCATED_HEADER = defineIssue('quic', 'truncated', 'header');
/** The Initial's Length runs past the end of the datagram (snaplen cut, damage). */
export const QUIC_TRUNCATED_PACKET = defineIssue('quic', 'truncated', 'packet');
/** A connection ID longer than 20 bytes (RFC 9000 §17.2). */
export const QUIC_BAD_HEADER = defineIssue('quic', 'invalid', 'bad_header');
/** Length leaves no room for the header-protection sample (RFC 9001 §5.4.2). */
export const QUIC_PACKET_TOO_SHORT = defineIssue('quic', 'invalid', 'packet_too_short');
/**
 * A client's long header in a version kasmon cannot open, by the kind of version (a closed
 * set, so the counters stay bounded): no known salt fits, or none was tried (not an Initial).
 */
export const QUIC_UNSUPPORTED_VERSION = defineIssue('quic', 'skipped', 'unsupported_version');
/** Google QUIC (Q0xx, T0xx): not IETF QUIC (tshark's gquic; not observations). */
export const QUIC_VERSION_GQUIC = defineIssue('quic', 'skipped', 'unsupported_version_gquic');
/** An IETF draft before 22 (another long header) or one that no known salt opens. */
export const QUIC_VERSION_DRAFT = defineIssue('quic', 'skipped', 'unsupported_version_draft');
/** A Facebook mvfst version other than the draft-based ones tshark knows (0xfaceb0xx). */
export const QUIC_VERSION_MVFST = defineIssue('quic', 'skipped', 'unsupported_version_mvfst');
/** A reserved version (0x?a?a?a?a, RFC 9000 §15) that only forces version negotiation. */
export const QUIC_VERSION_GREASE = defineIssue('quic', 'skipped', 'unsupported_version_grease');
/** Every issue an unopened version is counted under (the report sums them). */
export const QUIC_UNSUPPORTED_VERSIONS: readonly DecodeIssue[] = [QUIC_UNSUPPORTED_VERSION, QUIC_VERSION_GQUIC, QUIC_VERSION_DRAFT, QUIC_VERSION_MVFST, QUIC_VERSION_GREASE];

/** The issue for a version that could not be opened, by its kind. */
export function unsupportedVersionIssue(version: number): DecodeIssue {
  if (isGrease(version)) return QUIC_VERSION_GREASE;
  if (version >>> 8 === 0xff0000) return QUIC_VERSION_DRAFT;
  if (version >>> 8 === 0xfaceb0) return QUIC_VERSION_MVFST;
  const hi = version >>> 24;
  if ((hi === 0x51 || hi === 0x54) && isDigit(version >>> 16) && isDigit(version >>> 8) && isDigit(version)) return QUIC_VERSION_GQUIC;
  return QUIC_UNSUPPORTED_VERSION;
}

/** RFC 9000 §15: versions 0x?a?a?a?a are reserved to exercise version negotiation. */
function isGrease(version: number): boolean {
  return (version & 0x0f0f0f0f) === 0x0a0a0a0a;
}

function isDigit(b: number): boolean {
  const c = b & 0xff;
  return c >= 0x30 && c <= 0x39;
}
/** AEAD authentication failed: not a client Initial of a connection we can key, or damaged. */
export const QUIC_DECRYPT_FAILED = defineIssue('quic', 'invalid', 'decrypt_failed');
/** A frame that cannot appear in an Initial, or one cut short (after successful decryption). */
export const QUIC_BAD_FRAME = defineIssue('quic', 'invalid', 'bad_frame');
/** CRYPTO data beyond maxCryptoBytes, or a handshake message that would end beyond it. */
export const QUIC_CRYPTO_TOO_LONG = defineIssue('quic', 'skipped', 'crypto_too_long');
/** More than MAX_CRYPTO_FRAGMENTS disjoint CRYPTO ranges pending for one connection. */
export const QUIC_TOO_MANY_FRAGMENTS = defineIssue('quic', 'skipped', 'too_many_fragments');
/** An Initial travelling the other way on a 5-tuple whose client we track: the server's. */
export const QUIC_SERVER_INITIAL = defineIssue('quic', 'skipped', 'server_initial');
/** The CRYPTO stream does not start with a ClientHello (e.g. a server Initial). */
export const QUIC_NOT_CLIENT_HELLO = defineIssue('quic', 'skipped', 'not_client_hello');
/** A connection dropped from the pending table to make room (LRU). */
export const QUIC_EVICTED = defineIssue('quic', 'skipped', 'evicted');
/** A connection whose ClientHello was still incomplete when it went idle. */
export const QUIC_TIMEOUT = defineIssue('quic', 'skipped', 'timeout');

// ---------------------------------------------------------------------------------------
// Limits.

/** Highest CRYPTO stream offset kept per connection. A ClientHello is typically 0.3-2 KB
 *  (post-quantum key shares, PSK tickets and ECH push it toward 3-5 KB); after a
 *  HelloRetryRequest the second ClientHello follows the first in the same stream. */
export const MAX_CRYPTO_BYTES = 16_384;
/** Disjoint (not yet merged) CRYPTO ranges per connection; adjacent ranges merge. */
export const MAX_CRYPTO_FRAGMENTS = 256;
/** Connections tracked at once; the least recently active is evicted beyond this. */
export const MAX_PENDING = 10_000;
/** Byte budget of all tracked connections together (see CONN_BYTES). */
export const DEFAULT_QUIC_BYTES = 16 * 1024 * 1024;
/**
 * Heap and native bytes of a tracked connection with nothing buffered: the entry, its two map
 * keys, the Initial keys and the AES-ECB header-protection cipher (an OpenSSL context).
 * Measured by test/memory/accounting.test.ts.
 */
export const CONN_BYTES = 3072;
/** A reassembly buffer's cost besides its bytes; a CRYPTO range's. */
export const BUFFER_OVERHEAD = 240;
export const RANGE_BYTES = 32;
/** Idle time (packet time) after which a connection is forgotten: 10 s covers Initial
 *  retransmission timeouts (RFC 9002 §6.2) of a lossy handshake. */
export const PENDING_TIMEOUT_MICROS = 10_000_000;
/** RFC 9000 §17.2: connection IDs are at most 20 bytes in QUIC v1 (and v2, drafts 29-32). */
export const MAX_CID_LEN = 20;
/** RFC 9000 §14.1: a client pads every datagram carrying an Initial to at least 1200 bytes. */
export const MIN_INITIAL_DATAGRAM = 1200;
/** Unknown versions whose salt is being guessed or was learned (beyond this, none is tried). */
export const MAX_GUESSED_VERSIONS = 64;
/** Initials of an unknown version tried against every known salt before it is given up on. */
export const MAX_GUESS_TRIES = 8;

/** TLS HandshakeType client_hello (RFC 8446 §4). */
const HANDSHAKE_CLIENT_HELLO = 1;
/** Smallest Length that leaves room for the 16-byte sample 4 bytes after the packet number. */
const MIN_PROTECTED_LEN = HP_SAMPLE_OFFSET + HP_SAMPLE_LEN;

// ---------------------------------------------------------------------------------------
// Wire helpers.

/** RFC 9000 §16 variable-length integer; undefined when the bytes run out. Values above
 *  2^53 lose precision, which only matters for lengths that then fail their bounds check. */
function varint(r: ByteReader): number | undefined {
  const first = r.u8();
  if (first === undefined) return undefined;
  const len = 1 << (first >> 6);
  if (r.remaining < len - 1) return undefined;
  let v = first & 0x3f;
  for (let i = 1; i < len; i++) v = v * 256 + u8(r.buf, r.pos++);
  return v;
}

/**
 * Cheap content probe for a UDP payload: does it start with a QUIC Initial we could open?
 * RFC 9000 §17.2: header form 1, fixed bit 1, a version with a known salt, the version's
 * Initial type bits (v2 differs, RFC 9369 §3.2), CID lengths ≤ 20 and a token/Length that
 * fit the header. The Length itself may run past a snaplen-truncated capture (the
 * assembler reports that as truncated rather than "not QUIC").
 */
export function looksLikeQuicInitial(b: Uint8Array): boolean {
  if (b.length < 7) return false;
  const first = u8(b, 0);
  if ((first & 0xc0) !== 0xc0) return false;
  const version = u32be(b, 1);
  const v = quicVersionInfo(version);
  const type = (first >> 4) & 0x03;
  if (v === undefined) {
    // A version we do not know: a client Initial by its shape (type 0 or, as in v2, 1; padded
    // to 1200 bytes) is worth trying the known salts on (QuicInitialAssembler.guessVersion).
    if (version === 0 || type > 1 || b.length < MIN_INITIAL_DATAGRAM || isGrease(version)) return false;
  } else if (type !== v.types.initial) return false;
  const dcil = u8(b, 5);
  const r = new ByteReader(b, 6);
  if (dcil > MAX_CID_LEN || !r.skip(dcil)) return false;
  const scil = r.u8();
  if (scil === undefined || scil > MAX_CID_LEN || !r.skip(scil)) return false;
  const tokenLen = varint(r);
  if (tokenLen === undefined || !r.skip(tokenLen)) return false;
  const length = varint(r);
  return length !== undefined && length >= MIN_PROTECTED_LEN;
}

// ---------------------------------------------------------------------------------------
// Reassembly state.

/** One client connection's Initial CRYPTO stream. */
interface Conn {
  /** Map key: tuple | version | original DCID (hex). */
  readonly id: string;
  /** The caller's 5-tuple key ("srcip|sport|dstip|dport"). */
  readonly tuple: string;
  readonly version: number;
  /** Client Initial keys, derived once from the client's original DCID (RFC 9001 §5.2). */
  readonly keys: PacketKeys;
  /** Largest packet number opened so far in the Initial space (for RFC 9000 Appendix A.3). */
  largestPn: number;
  lastSeen: number;
  /** Stream offset where the next handshake message starts (past any ClientHello returned). */
  base: number;
  /** Reassembly buffer indexed by stream offset; grows on demand up to maxCryptoBytes. */
  buf: Uint8Array;
  /** Bytes this entry is accounted at (CONN_BYTES + buffer + ranges). */
  bytes: number;
  /** Received byte ranges, sorted, disjoint and not touching (touching ranges merge). */
  ranges: Range[];
  /** Set after a limit or a non-ClientHello: packets are ignored until the entry expires. */
  dead: boolean;
  /** ClientHello.random of the message at offset 0 (see `prevRandom`). */
  firstRandom: Uint8Array | undefined;
  /** firstRandom of the connection this one replaced on the same 5-tuple. A Retry
   *  (RFC 9000 §17.2.5) makes the client resend the unchanged ClientHello under new keys;
   *  like tshark, that copy is not reported twice. */
  readonly prevRandom: Uint8Array | undefined;
  /** Original DCID, hex (the map key's last part). */
  readonly dcidHex: string;
  /**
   * The connection this one replaced on the same 5-tuple had the same original DCID and had
   * returned its ClientHello: the client starts again in another version after a Version
   * Negotiation (RFC 9000 §6). Like tshark, which keeps it one connection, that ClientHello is
   * not reported a second time.
   */
  readonly afterVersionNegotiation: boolean;
}

/** Stream offsets [start, end). */
interface Range {
  start: number;
  end: number;
}

const EMPTY = new Uint8Array(0);

/** Offsets of ClientHello.random in the handshake message: type(1) length(3) version(2). */
const RANDOM_AT = 6;
const RANDOM_END = RANDOM_AT + 32;

/** a equals b[bStart, bStart + a.length); the caller guarantees b is long enough. */
function sameBytes(a: Uint8Array, b: Uint8Array, bStart: number): boolean {
  for (let i = 0; i < a.length; i++) if (u8(a, i) !== u8(b, bStart + i)) return false;
  return true;
}

/** "a|b|c|d[|zone]" -> "c|d|a|b[|zone]": the same connection seen from the other side. */
function reverseTuple(tuple: string): string {
  const p = tuple.split('|');
  if (p.length === 4) return `${p[2]}|${p[3]}|${p[0]}|${p[1]}`;
  return p.length === 5 ? `${p[2]}|${p[3]}|${p[0]}|${p[1]}|${p[4]}` : tuple;
}

export interface QuicAssemblerOptions {
  /** Connections tracked at once. @default MAX_PENDING */
  readonly maxPending?: number;
  /** Highest CRYPTO stream offset kept per connection. @default MAX_CRYPTO_BYTES */
  readonly maxCryptoBytes?: number;
  /** Idle timeout in microseconds of ageing time. @default PENDING_TIMEOUT_MICROS */
  readonly pendingTimeoutMicros?: number;
  /** Byte budget of all connections together. @default DEFAULT_QUIC_BYTES */
  readonly budgetBytes?: number;
  /** Where evictions (QUIC_EVICTED) and timeouts (QUIC_TIMEOUT) are counted as they
   *  happen, since they concern other connections than the datagram being decoded. */
  readonly issues?: IssueCounter;
}

/**
 * Decrypts client Initial packets and reassembles their CRYPTO stream into ClientHello
 * messages, per connection.
 *
 * Connection identity: Initial keys come from the Destination Connection ID of the
 * client's first Initial, and later client Initials keep using those keys even after the
 * client switches its DCID to the server's chosen ID. So entries are keyed by the 5-tuple
 * plus that original DCID, and a packet whose DCID matches no entry is first tried with the
 * keys of the latest connection on its 5-tuple before fresh keys are derived from its own
 * DCID. After a Retry the client derives new keys from the Retry's SCID: that is a fresh
 * derivation, i.e. a new entry.
 *
 * Output: each ClientHello once. Retransmitted or overlapping CRYPTO ranges are absorbed
 * (first copy wins); after a HelloRetryRequest the second ClientHello (at the offset where
 * the first ended) is returned too. Returned views stay valid: their bytes are never
 * rewritten.
 */
export class QuicInitialAssembler {
  /** Entries dropped to make room (LRU); each is also counted as QUIC_EVICTED. */
  evictions = 0;
  /** Entries that went idle with an incomplete ClientHello; each is also counted as QUIC_TIMEOUT. */
  timeouts = 0;

  /** Bytes held by all connections (see CONN_BYTES). */
  bytes = 0;
  private readonly maxPending: number;
  private readonly budget: number;
  private readonly maxCryptoBytes: number;
  private readonly timeout: number;
  private readonly issues: IssueCounter | undefined;
  /** Insertion order = least recently active first (entries are re-inserted on use). */
  private readonly conns = new Map<string, Conn>();
  /** The most recently created connection on each 5-tuple. */
  private readonly latest = new Map<string, Conn>();
  /** Unknown versions: the salt that opened one of their Initials, or null once given up on. */
  private readonly guessed = new Map<number, QuicVersionInfo | null>();
  /** Initials of an unknown version tried so far, until MAX_GUESS_TRIES. */
  private readonly guessTries = new Map<number, number>();
  /** CRYPTO frames of the packet being processed (reused; views into its plaintext). */
  private readonly frameOffsets: number[] = [];
  private readonly frameData: Uint8Array[] = [];

  constructor(opts: QuicAssemblerOptions = {}) {
    this.maxPending = opts.maxPending ?? MAX_PENDING;
    this.budget = opts.budgetBytes ?? DEFAULT_QUIC_BYTES;
    this.maxCryptoBytes = opts.maxCryptoBytes ?? MAX_CRYPTO_BYTES;
    this.timeout = opts.pendingTimeoutMicros ?? PENDING_TIMEOUT_MICROS;
    this.issues = opts.issues;
  }

  /** Connections currently tracked (incomplete, finished-but-recent and failed ones). */
  get pendingCount(): number {
    return this.conns.size;
  }

  /**
   * Feeds one client→server UDP payload. Returns a complete ClientHello handshake message
   * (a view; 4-byte header + body) the first time it completes, a DecodeIssue when the
   * datagram could not be used, or undefined when there is nothing to report yet (or the
   * datagram holds no Initial). Never throws.
   *
   * @param connKey the datagram's 5-tuple, "srcip|sport|dstip|dport"
   * @param tsMicros packet time; drives the idle timeout
   */
  onDatagram(payload: Uint8Array, connKey: string, tsMicros: number): Uint8Array | DecodeIssue | undefined {
    this.expire(tsMicros);
    let issue: DecodeIssue | undefined;
    let off = 0;
    // RFC 9000 §12.2: a datagram may coalesce several packets; every long header except
    // Retry and Version Negotiation carries a Length, a short header runs to the end.
    while (off < payload.length) {
      const first = u8(payload, off);
      if ((first & 0x80) === 0) break;
      if (payload.length - off < 6) return issue ?? QUIC_TRUNCATED_HEADER;
      const version = u32be(payload, off + 1);
      if (version === 0) break; // Version Negotiation (RFC 9000 §17.2.1)
      let v = quicVersionInfo(version) ?? this.guessed.get(version);
      if (v === null) return issue ?? unsupportedVersionIssue(version);
      if (v === undefined) {
        v = this.guessVersion(payload, off, version);
        if (v === undefined) return issue ?? unsupportedVersionIssue(version);
      }

      // RFC 9000 §17.2: DCID Length (8), DCID, SCID Length (8), SCID
      const dcil = u8(payload, off + 5);
      const r = new ByteReader(payload, off + 6);
      if (!r.skip(dcil)) return issue ?? QUIC_TRUNCATED_HEADER;
      if (dcil > MAX_CID_LEN) return issue ?? QUIC_BAD_HEADER;
      const dcidAt = r.pos - dcil;
      const scil = r.u8();
      if (scil === undefined || !r.skip(scil)) return issue ?? QUIC_TRUNCATED_HEADER;
      if (scil > MAX_CID_LEN) return issue ?? QUIC_BAD_HEADER;

      const type = (first >> 4) & 0x03;
      if (type === v.types.retry) break; // server-only, no Length: nothing after it to parse
      const isInitial = type === v.types.initial;
      // RFC 9000 §17.2.2 Initial: Token Length (i), Token (..), Length (i), Packet Number
      if (isInitial) {
        const tokenLen = varint(r);
        if (tokenLen === undefined || !r.skip(tokenLen)) return issue ?? QUIC_TRUNCATED_HEADER;
      }
      const length = varint(r);
      if (length === undefined) return issue ?? QUIC_TRUNCATED_HEADER;
      const pnAt = r.pos;
      const end = pnAt + length;
      if (end > payload.length) return issue ?? (isInitial ? QUIC_TRUNCATED_PACKET : undefined);

      if (isInitial) {
        if (length < MIN_PROTECTED_LEN) {
          issue ??= QUIC_PACKET_TOO_SHORT;
        } else {
          const dcid = payload.subarray(dcidAt, dcidAt + dcil);
          const res = this.onInitial(payload.subarray(off, end), pnAt - off, v, dcid, connKey, tsMicros);
          if (res instanceof Uint8Array) return res;
          issue ??= res;
        }
      }
      off = end;
    }
    return issue;
  }

  /**
   * Drops connections idle for longer than the timeout at packet time `nowMicros`. Also run
   * at the start of every onDatagram. Returns how many incomplete ClientHellos were dropped.
   */
  expire(nowMicros: number): number {
    let dropped = 0;
    for (const c of this.conns.values()) {
      if (nowMicros - c.lastSeen < this.timeout) break; // the rest are more recent
      this.remove(c);
      if (this.incomplete(c)) {
        dropped++;
        this.timeouts++;
        this.issues?.add(QUIC_TIMEOUT);
        this.issues?.add(NAME_IDLE);
      }
    }
    return dropped;
  }

  /** End of input: ClientHellos still incomplete are counted as names not recovered. */
  finish(): void {
    for (const c of this.conns.values()) if (this.incomplete(c)) this.issues?.add(NAME_INCOMPLETE);
    this.conns.clear();
    this.latest.clear();
    this.bytes = 0;
  }

  // -------------------------------------------------------------------------------------

  /** True when the version of `payload`'s first packet is one kasmon opens (built in, or learned). */
  knows(version: number): boolean {
    return quicVersionInfo(version) !== undefined || (this.guessed.get(version) ?? null) !== null;
  }

  /**
   * An Initial of a version not in the table: the known salts and label sets are tried in
   * turn on its protection, and the one the AEAD tag accepts is remembered for the version
   * (no false names: a wrong key cannot authenticate). Bounded: MAX_GUESSED_VERSIONS versions,
   * MAX_GUESS_TRIES Initials each, then the version is given up on (counted by its kind).
   */
  private guessVersion(payload: Uint8Array, off: number, version: number): QuicVersionInfo | undefined {
    const tries = this.guessTries.get(version) ?? 0;
    if (isGrease(version) || tries >= MAX_GUESS_TRIES || (tries === 0 && this.guessTries.size >= MAX_GUESSED_VERSIONS)) return undefined;
    this.guessTries.set(version, tries + 1);
    const dcil = u8(payload, off + 5); // onDatagram checked that 6 bytes are there
    const r = new ByteReader(payload, off + 6);
    if (dcil > MAX_CID_LEN || !r.skip(dcil)) return undefined;
    const dcid = payload.subarray(r.pos - dcil, r.pos);
    const scil = r.u8();
    if (scil === undefined || scil > MAX_CID_LEN || !r.skip(scil)) return undefined;
    const tokenLen = varint(r);
    if (tokenLen === undefined || !r.skip(tokenLen)) return undefined;
    const length = varint(r);
    if (length === undefined || length < MIN_PROTECTED_LEN || r.pos + length > payload.length) return undefined;
    const packet = payload.subarray(off, r.pos + length);
    const type = (u8(payload, off) >> 4) & 0x03;
    for (const c of GUESS_CANDIDATES) {
      if (c.types.initial !== type) continue;
      if (openPacket(initialKeys(c, dcid, 'client'), packet, r.pos - off, -1) !== undefined) {
        const learned = learnedVersion(version, c);
        this.guessed.set(version, learned);
        return learned;
      }
    }
    if (tries + 1 >= MAX_GUESS_TRIES) this.guessed.set(version, null);
    return undefined;
  }

  private onInitial(
    packet: Uint8Array,
    pnOffset: number,
    v: QuicVersionInfo,
    dcid: Uint8Array,
    tuple: string,
    ts: number,
  ): Uint8Array | DecodeIssue | undefined {
    const version = v.version;
    const dcidHex = Buffer.from(dcid.buffer, dcid.byteOffset, dcid.length).toString('hex');
    const id = `${tuple}|${version}|${dcidHex}`;
    let conn = this.conns.get(id);
    let opened: OpenedPacket | undefined;
    if (conn !== undefined) {
      if (conn.dead) {
        this.touch(conn, ts); // a given-up connection stays quiet until it goes idle
        return undefined;
      }
      opened = openPacket(conn.keys, packet, pnOffset, conn.largestPn);
    } else {
      // Not the DCID a connection started with: maybe the client switched to the server's
      // chosen ID (RFC 9000 §7.2) and still uses the original keys (RFC 9001 §5.2).
      const alt = this.latest.get(tuple);
      if (alt !== undefined && alt.version === version) {
        opened = openPacket(alt.keys, packet, pnOffset, alt.largestPn);
        if (opened !== undefined) conn = alt;
      }
    }
    // No connection owns the packet: keys from its own DCID, as a client's first Initial.
    // Unless the reverse 5-tuple is a client we track: then it is the server's Initial,
    // sealed with server keys from a DCID it does not carry (RFC 9001 §5.2).
    let freshKeys: PacketKeys | undefined;
    if (conn === undefined) {
      if (this.latest.has(reverseTuple(tuple))) return QUIC_SERVER_INITIAL;
      freshKeys = initialKeys(v, dcid, 'client');
      opened = openPacket(freshKeys, packet, pnOffset, -1);
    }
    if (opened === undefined) return QUIC_DECRYPT_FAILED;
    if (conn !== undefined) {
      if (opened.pn > conn.largestPn) conn.largestPn = opened.pn;
      this.touch(conn, ts);
      if (conn.dead) return undefined;
    }

    const bad = this.parseFrames(opened.payload);
    const offsets = this.frameOffsets;
    const data = this.frameData;
    let res: Uint8Array | DecodeIssue | undefined = bad;
    if (data.length > 0) {
      // Only packets carrying CRYPTO data create state (ACK-only Initials need none).
      // freshKeys is set exactly when no connection owns the packet.
      if (freshKeys !== undefined) conn = this.create(id, tuple, version, dcidHex, freshKeys, opened.pn, ts);
      if (conn !== undefined) res = this.addFrames(conn, offsets, data) ?? this.takeHello(conn) ?? bad;
    }
    offsets.length = 0;
    data.length = 0; // release the views into the plaintext
    return res;
  }

  private addFrames(conn: Conn, offsets: readonly number[], data: readonly Uint8Array[]): DecodeIssue | undefined {
    // parseFrames fills the two lists together
    for (let i = 0; i < data.length; i++) {
      const failed = this.addRange(conn, offsets[i] ?? 0, data[i] ?? EMPTY);
      if (failed !== undefined) return this.kill(conn, failed);
    }
    return undefined;
  }

  /**
   * RFC 9000 §19 frames, limited to what §12.4 (Table 3) allows in Initial packets plus a
   * few harmless ones skipped by their encoding. CRYPTO frames are collected into
   * frameOffsets/frameData; an unknown or cut-short frame ends the packet (QUIC_BAD_FRAME)
   * and the frames before it are kept, since the packet authenticated.
   */
  private parseFrames(p: Uint8Array): DecodeIssue | undefined {
    this.frameOffsets.length = 0;
    this.frameData.length = 0;
    const r = new ByteReader(p);
    while (r.remaining > 0) {
      const type = varint(r);
      switch (type) {
        case 0x00: // PADDING (§19.1): usually a long run, skip it in one loop
          while (r.pos < r.end && u8(p, r.pos) === 0) r.pos++;
          break;
        case 0x01: // PING (§19.2)
        case 0x1e: // HANDSHAKE_DONE (§19.20), not valid here but has no body
          break;
        case 0x02: // ACK (§19.3): Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range,
        case 0x03: //   ACK Range (Gap, ACK Range Length) * count, [ECN Counts: ECT0, ECT1, ECN-CE]
        {
          if (varint(r) === undefined || varint(r) === undefined) return QUIC_BAD_FRAME;
          const count = varint(r);
          if (count === undefined || varint(r) === undefined) return QUIC_BAD_FRAME;
          // each range is at least 2 bytes: a bogus count fails here rather than looping long
          if (count * 2 > r.remaining) return QUIC_BAD_FRAME;
          for (let i = 0; i < count * 2; i++) if (varint(r) === undefined) return QUIC_BAD_FRAME;
          if (type === 0x03) {
            if (varint(r) === undefined || varint(r) === undefined || varint(r) === undefined) return QUIC_BAD_FRAME;
          }
          break;
        }
        case 0x06: {
          // CRYPTO (§19.6): Offset (i), Length (i), Crypto Data
          const offset = varint(r);
          const len = varint(r);
          if (offset === undefined || len === undefined) return QUIC_BAD_FRAME;
          const data = r.bytes(len);
          if (data === undefined) return QUIC_BAD_FRAME;
          if (len > 0) {
            this.frameOffsets.push(offset);
            this.frameData.push(data);
          }
          break;
        }
        case 0x07: {
          // NEW_TOKEN (§19.7): Token Length (i), Token (server-only, skipped by encoding)
          const len = varint(r);
          if (len === undefined || !r.skip(len)) return QUIC_BAD_FRAME;
          break;
        }
        case 0x1c: // CONNECTION_CLOSE (§19.19): Error Code (i), [Frame Type (i)] (0x1c only),
        case 0x1d: {
          //   Reason Phrase Length (i), Reason Phrase
          if (varint(r) === undefined) return QUIC_BAD_FRAME;
          if (type === 0x1c && varint(r) === undefined) return QUIC_BAD_FRAME;
          const len = varint(r);
          if (len === undefined || !r.skip(len)) return QUIC_BAD_FRAME;
          break;
        }
        default:
          return QUIC_BAD_FRAME;
      }
    }
    return undefined;
  }

  private create(id: string, tuple: string, version: number, dcidHex: string, keys: PacketKeys, pn: number, ts: number): Conn {
    const prev = this.latest.get(tuple);
    while (this.conns.size >= this.maxPending || this.bytes + CONN_BYTES > this.budget) {
      if (!this.evictOldest(undefined)) break;
    }
    const conn: Conn = {
      id,
      tuple,
      version,
      keys,
      largestPn: pn,
      lastSeen: ts,
      base: 0,
      buf: EMPTY,
      bytes: CONN_BYTES,
      ranges: [],
      dead: false,
      firstRandom: undefined,
      prevRandom: prev?.firstRandom,
      dcidHex,
      // (the same DCID on the same 5-tuple makes a new entry only in another version)
      afterVersionNegotiation: prev !== undefined && prev.dcidHex === dcidHex && prev.firstRandom !== undefined,
    };
    this.conns.set(id, conn);
    this.latest.set(tuple, conn);
    this.bytes += conn.bytes;
    return conn;
  }

  /** Drops the least recently active connection other than `keep`; false when there is none. */
  private evictOldest(keep: Conn | undefined): boolean {
    for (const c of this.conns.values()) {
      if (c === keep) continue;
      this.remove(c);
      this.evictions++;
      this.issues?.add(QUIC_EVICTED);
      if (this.incomplete(c)) this.issues?.add(NAME_EVICTED);
      return true;
    }
    return false;
  }

  /** Re-accounts a connection after its buffer or ranges changed; past the budget, others go. */
  private recharge(conn: Conn): void {
    const held = CONN_BYTES + (conn.buf.length > 0 ? conn.buf.length + BUFFER_OVERHEAD : 0) + conn.ranges.length * RANGE_BYTES;
    if (held === conn.bytes) return;
    this.bytes += held - conn.bytes; // conn is always a tracked one here
    conn.bytes = held;
    while (this.bytes > this.budget && this.evictOldest(conn));
  }

  /** Marks activity: re-inserting moves the entry to the most-recent end of the map. */
  private touch(conn: Conn, ts: number): void {
    conn.lastSeen = ts;
    this.conns.delete(conn.id);
    this.conns.set(conn.id, conn);
  }

  private remove(conn: Conn): void {
    this.bytes -= conn.bytes; // only tracked connections are removed
    this.conns.delete(conn.id);
    if (this.latest.get(conn.tuple) === conn) this.latest.delete(conn.tuple);
  }

  private kill(conn: Conn, why: DecodeIssue): DecodeIssue {
    conn.dead = true;
    conn.buf = EMPTY;
    conn.ranges.length = 0;
    this.recharge(conn);
    return why;
  }

  private incomplete(c: Conn): boolean {
    const last = c.ranges.at(-1);
    return !c.dead && last !== undefined && last.end > c.base;
  }

  /**
   * Stores CRYPTO bytes [offset, offset+data.length) (RFC 9000 §19.6). Bytes already held
   * or already consumed are not overwritten (first copy wins); only the gaps are copied.
   */
  private addRange(conn: Conn, offset: number, data: Uint8Array): DecodeIssue | undefined {
    let start = offset;
    const end = offset + data.length;
    if (end > this.maxCryptoBytes) return QUIC_CRYPTO_TOO_LONG;
    if (end <= conn.base) return undefined; // retransmission of a message already returned
    if (start < conn.base) start = conn.base;

    if (conn.buf.length < end) {
      // copy: outlives the packet (the ClientHello may need more packets). Sized to what
      // arrived (rounded up to 256 bytes), doubling as it grows.
      const size = Math.max((end + 255) & ~255, 2 * conn.buf.length);
      const grown = new Uint8Array(Math.min(this.maxCryptoBytes, size));
      grown.set(conn.buf);
      conn.buf = grown;
    }
    // Copy the parts of [start, end) no earlier range covers.
    const rg = conn.ranges;
    let cursor = start;
    for (const r of rg) {
      if (r.end < start) continue;
      if (r.start > end) break;
      if (r.start > cursor) conn.buf.set(data.subarray(cursor - offset, r.start - offset), cursor);
      if (r.end > cursor) cursor = r.end;
    }
    if (cursor < end) conn.buf.set(data.subarray(cursor - offset, end - offset), cursor);

    // Merge: ranges that overlap or touch [start, end) collapse into one.
    const merged: Range[] = [];
    const cur: Range = { start, end };
    let placed = false;
    for (const r of rg) {
      if (r.end < cur.start) {
        merged.push(r);
      } else if (r.start > cur.end) {
        if (!placed) merged.push(cur);
        placed = true;
        merged.push(r);
      } else {
        cur.start = Math.min(cur.start, r.start);
        cur.end = Math.max(cur.end, r.end);
      }
    }
    if (!placed) merged.push(cur);
    conn.ranges = merged;
    this.recharge(conn);
    if (merged.length > MAX_CRYPTO_FRAGMENTS) return QUIC_TOO_MANY_FRAGMENTS;
    return undefined;
  }

  /**
   * When the stream holds a whole handshake message at `base`, returns it (RFC 8446 §4:
   * msg_type (1), length (3), body) if it is a ClientHello and advances past it.
   */
  private takeHello(conn: Conn): Uint8Array | DecodeIssue | undefined {
    let contiguous = 0;
    for (const r of conn.ranges) {
      if (r.start <= conn.base && r.end > conn.base) contiguous = r.end - conn.base;
    }
    if (contiguous === 0) return undefined;
    const at = conn.base;
    if (u8(conn.buf, at) !== HANDSHAKE_CLIENT_HELLO) return this.kill(conn, QUIC_NOT_CLIENT_HELLO);
    if (contiguous < 4) return undefined;
    const need = 4 + u24be(conn.buf, at + 1);
    if (at + need > this.maxCryptoBytes) return this.kill(conn, QUIC_CRYPTO_TOO_LONG);
    if (contiguous < need) return undefined;

    const hello = conn.buf.subarray(at, at + need);
    conn.base = at + need;
    // Nothing buffered past it (the usual case): drop our reference, the caller's view keeps
    // the bytes alive. A later message (after HelloRetryRequest) gets a fresh buffer.
    if (!this.incomplete(conn)) {
      conn.buf = EMPTY;
      this.recharge(conn);
    }
    if (at === 0 && need >= RANDOM_END) {
      conn.firstRandom = hello.slice(RANDOM_AT, RANDOM_END); // copy: 32 bytes kept for the check below
      if (conn.prevRandom !== undefined && sameBytes(conn.prevRandom, hello, RANDOM_AT)) {
        return undefined; // the same ClientHello resent after a Retry: already reported
      }
      if (conn.afterVersionNegotiation) return undefined; // the attempt's ClientHello, already reported
    }
    return hello;
  }
}
