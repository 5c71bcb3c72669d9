/**
 * QUIC Initial packet builder for tests: the sending side of src/capture/quic.ts.
 *
 * It builds plaintext frames, seals them with AEAD_AES_128_GCM and applies header
 * protection (RFC 9001 §5.3, §5.4) for any version the decoder knows (v1, v2, drafts
 * 29-32), so a test can take any ClientHello handshake message, cut it into CRYPTO frames,
 * spread them over several Initials in any order, pad each datagram to 1200 bytes and
 * coalesce other packets after it.
 *
 * Only the key schedule is shared with the code under test (deriveInitialKeys, itself
 * pinned to the RFC 9001 / RFC 9369 Appendix A vectors); nonce construction, sealing and
 * header protection are written out again here, so a bug there cannot cancel out.
 * `sealInitial` reproduces the RFC's protected packets byte for byte (see quic.test.ts).
 *
 * Typical use:
 *
 *   const hello = fakeClientHello({ sni: 'ksn.kaspersky.com', size: 1800 });
 *   const dgrams = clientInitialDatagrams(hello, { dcid: hex('8394c8f03e515708'), packets: 2 });
 *   for (const d of dgrams.reverse()) asm.onDatagram(d, 'c|1|s|443', 0);
 *
 * Lower-level pieces: `frames.*` (PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE, NEW_TOKEN),
 * `sealInitial(spec, payload)`, `longPacket(...)` for opaque 0-RTT/Handshake packets,
 * `coalesce(...)`, `splitCrypto(...)`. Everything here may throw on misuse (it is test code).
 */
import { createCipheriv } from 'node:crypto';
import { deriveInitialKeys, quicVersionInfo, QuicVersion, type LongPacketType } from '../../src/capture/app/quic-crypto.js';

export { QuicVersion };

/** Bytes from hex; whitespace and newlines are ignored (paste RFC dumps as they are). */
export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** RFC 9000 §16 variable-length integer, shortest encoding (or `size` bytes if given). */
export function varint(n: number, size?: 1 | 2 | 4 | 8): Uint8Array {
  const len = size ?? (n < 0x40 ? 1 : n < 0x4000 ? 2 : n < 0x40000000 ? 4 : 8);
  const out = new Uint8Array(len);
  let v = BigInt(n);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n || (len < 8 && n >= 2 ** (8 * len - 2))) throw new Error(`varint ${n} does not fit ${len} bytes`);
  out[0] = (out[0] ?? 0) | ({ 1: 0x00, 2: 0x40, 4: 0x80, 8: 0xc0 } as const)[len];
  return out;
}

/** Plaintext frames (RFC 9000 §19). */
export const frames = {
  /** n PADDING frames (§19.1): n zero bytes. */
  padding: (n: number): Uint8Array => new Uint8Array(n),
  /** PING (§19.2). */
  ping: (): Uint8Array => Uint8Array.of(0x01),
  /** CRYPTO (§19.6): Offset (i), Length (i), Crypto Data. */
  crypto: (offset: number, data: Uint8Array): Uint8Array => concat(Uint8Array.of(0x06), varint(offset), varint(data.length), data),
  /**
   * ACK (§19.3), type 0x03 when `ecn` is given: Largest Acknowledged, ACK Delay, Range
   * Count, First ACK Range, then (Gap, ACK Range Length) pairs, then ECT0/ECT1/ECN-CE.
   */
  ack: (largest: number, firstRange = 0, ranges: Array<[gap: number, len: number]> = [], ecn?: [number, number, number]): Uint8Array =>
    concat(
      Uint8Array.of(ecn === undefined ? 0x02 : 0x03),
      varint(largest),
      varint(0),
      varint(ranges.length),
      varint(firstRange),
      ...ranges.flatMap(([g, l]) => [varint(g), varint(l)]),
      ...(ecn ?? []).map((n) => varint(n)),
    ),
  /** CONNECTION_CLOSE (§19.19), transport variant 0x1c. */
  connectionClose: (code: number, reason = ''): Uint8Array =>
    concat(Uint8Array.of(0x1c), varint(code), varint(0), varint(reason.length), Buffer.from(reason, 'latin1')),
  /** NEW_TOKEN (§19.7); not allowed in Initials, but its encoding is skippable. */
  newToken: (token: Uint8Array): Uint8Array => concat(Uint8Array.of(0x07), varint(token.length), token),
};

/** Handshake message bytes cut into CRYPTO ranges at the given offsets (or n equal pieces). */
export function splitCrypto(message: Uint8Array, cuts: number | number[], base = 0): Array<{ offset: number; data: Uint8Array }> {
  let points: number[];
  if (typeof cuts === 'number') {
    points = [];
    for (let i = 1; i < cuts; i++) points.push(Math.floor((message.length * i) / cuts));
  } else {
    points = cuts;
  }
  const edges = [0, ...points, message.length];
  const out: Array<{ offset: number; data: Uint8Array }> = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const a = edges[i] ?? 0;
    const b = edges[i + 1] ?? message.length;
    if (b > a) out.push({ offset: base + a, data: message.subarray(a, b) });
  }
  return out;
}

export interface InitialSpec {
  /** @default QuicVersion.V1 */
  version?: number;
  /** Seal with this known version's salt, labels and type bits while writing `version` in the header (an unknown version). */
  like?: number;
  /** Destination Connection ID written in the header. */
  dcid: Uint8Array;
  /** DCID the keys are derived from (the client's original DCID). @default dcid */
  keyDcid?: Uint8Array;
  /** @default empty */
  scid?: Uint8Array;
  /** @default empty */
  token?: Uint8Array;
  /** Full packet number. @default 0 */
  pn?: number;
  /** Bytes used to encode the packet number, 1-4. @default 4 */
  pnLength?: 1 | 2 | 3 | 4;
  /** Whose Initial keys seal the packet. @default 'client' */
  side?: 'client' | 'server';
  /** Append PADDING until the whole packet is at least this long (client datagrams: 1200). */
  minSize?: number;
  /** Long Packet Type bits written in the header. @default the sealing version's Initial type */
  typeBits?: number;
}

/**
 * One protected Initial packet carrying `payload` (concatenated frames). The Length field is
 * always a 2-byte varint, as in RFC 9001 Appendix A.
 */
export function sealInitial(spec: InitialSpec, payload: Uint8Array): Uint8Array {
  const version = spec.version ?? QuicVersion.V1;
  const v = quicVersionInfo(spec.like ?? version);
  const keys = deriveInitialKeys(version, spec.keyDcid ?? spec.dcid, spec.side ?? 'client', v);
  if (v === undefined || keys === undefined) throw new Error(`no Initial keys for version ${version.toString(16)}`);
  const pn = spec.pn ?? 0;
  const pnLength = spec.pnLength ?? 4;
  const scid = spec.scid ?? new Uint8Array(0);
  const token = spec.token ?? new Uint8Array(0);

  const headStart = concat(
    Uint8Array.of(0xc0 | ((spec.typeBits ?? v.types.initial) << 4) | (pnLength - 1)),
    Buffer.from([version >>> 24, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff]),
    Uint8Array.of(spec.dcid.length),
    spec.dcid,
    Uint8Array.of(scid.length),
    scid,
    varint(token.length),
    token,
  );
  // RFC 9001 §5.4.2: the sample needs 4 - pnLength plaintext bytes at least.
  let body = payload;
  const minBody = Math.max(4 - pnLength, (spec.minSize ?? 0) - (headStart.length + 2 + pnLength + 16));
  if (body.length < minBody) body = concat(body, frames.padding(minBody - body.length));

  const pnBytes = new Uint8Array(pnLength);
  for (let i = 0; i < pnLength; i++) pnBytes[pnLength - 1 - i] = Math.floor(pn / 256 ** i) & 0xff;
  const header = concat(headStart, varint(pnLength + body.length + 16, 2), pnBytes);
  const pnOffset = header.length - pnLength;

  // RFC 9001 §5.3: nonce = iv XOR packet number, AAD = the unprotected header.
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 8; i++) nonce[11 - i] = (nonce[11 - i] ?? 0) ^ (Math.floor(pn / 256 ** i) & 0xff);
  const gcm = createCipheriv('aes-128-gcm', keys.key, nonce);
  gcm.setAAD(header);
  const sealed = concat(header, gcm.update(body), gcm.final(), gcm.getAuthTag());

  // RFC 9001 §5.4.1/§5.4.3: mask = AES-ECB(hp, sample), sample 4 bytes after the pn start.
  const sample = sealed.subarray(pnOffset + 4, pnOffset + 20);
  const mask = createCipheriv('aes-128-ecb', keys.hp, null).setAutoPadding(false).update(sample);
  sealed[0] = (sealed[0] ?? 0) ^ ((mask[0] ?? 0) & 0x0f);
  for (let i = 0; i < pnLength; i++) sealed[pnOffset + i] = (sealed[pnOffset + i] ?? 0) ^ (mask[1 + i] ?? 0);
  return sealed;
}

/**
 * A long-header packet of another type with an opaque (not really protected) body, for
 * coalescing tests: the decoder must skip it by its Length (RFC 9000 §12.2).
 */
export function longPacket(
  type: Exclude<LongPacketType, 'retry' | 'initial'>,
  version: number,
  dcid: Uint8Array,
  body: Uint8Array,
  scid: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const v = quicVersionInfo(version);
  if (v === undefined) throw new Error('unknown version');
  return concat(
    Uint8Array.of(0xc0 | (v.types[type] << 4) | 0x03),
    Buffer.from([version >>> 24, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff]),
    Uint8Array.of(dcid.length),
    dcid,
    Uint8Array.of(scid.length),
    scid,
    varint(body.length, 2),
    body,
  );
}

/** Several packets in one UDP datagram (RFC 9000 §12.2). */
export function coalesce(...packets: Uint8Array[]): Uint8Array {
  return concat(...packets);
}

export interface ClientInitialsOptions {
  /** @default QuicVersion.V1 */
  version?: number;
  dcid: Uint8Array;
  scid?: Uint8Array;
  /** Address-validation token (after a Retry or from NEW_TOKEN, RFC 9000 §8.1). */
  token?: Uint8Array;
  /** Number of Initial packets (one per datagram) the message is spread over. @default 1 */
  packets?: number;
  /** Number of CRYPTO frames; frame i goes to packet i % packets (scattered, like Chrome). @default 2 * packets */
  fragments?: number;
  /** Write each packet's CRYPTO frames in reverse offset order. @default true */
  reverseFrames?: boolean;
  /** Packet number of the first packet; later ones count up. @default 0 */
  firstPn?: number;
  /** Each datagram is padded to this size (RFC 9000 §14.1). @default 1200 */
  datagramSize?: number;
  /** CRYPTO stream offset of the message's first byte (a second ClientHello after HRR). @default 0 */
  streamOffset?: number;
}

/**
 * A client's Initial datagrams carrying `message` (a handshake message, 4-byte header
 * included), in packet-number order. Reorder the returned array to test out-of-order
 * delivery. Throws if the frames do not fit `datagramSize`.
 */
export function clientInitialDatagrams(message: Uint8Array, o: ClientInitialsOptions): Uint8Array[] {
  const packets = o.packets ?? 1;
  const pieces = splitCrypto(message, o.fragments ?? 2 * packets, o.streamOffset ?? 0);
  const size = o.datagramSize ?? 1200;
  const out: Uint8Array[] = [];
  for (let p = 0; p < packets; p++) {
    const mine = pieces.filter((_, i) => i % packets === p);
    if (o.reverseFrames ?? true) mine.reverse();
    const payload = concat(...mine.map((f) => frames.crypto(f.offset, f.data)));
    const spec: InitialSpec = { dcid: o.dcid, pn: (o.firstPn ?? 0) + p, minSize: size };
    if (o.version !== undefined) spec.version = o.version;
    if (o.scid !== undefined) spec.scid = o.scid;
    if (o.token !== undefined) spec.token = o.token;
    const pkt = sealInitial(spec, payload);
    if (pkt.length > size) throw new Error(`packet ${p} is ${pkt.length} bytes > ${size}: use more packets`);
    out.push(pkt);
  }
  return out;
}

export interface FakeHelloOptions {
  /** server_name (RFC 6066 §3); omitted when undefined. */
  sni?: string;
  /** Pad the handshake message to exactly this many bytes with a padding extension (RFC 7685). */
  size?: number;
  /** ClientHello.random; @default 32 bytes derived from the SNI */
  random?: Uint8Array;
  /** Handshake message type; 1 = client_hello, 2 = server_hello (for negative tests). @default 1 */
  msgType?: number;
}

/**
 * A structurally valid TLS 1.3 ClientHello handshake message (RFC 8446 §4.1.2): legacy
 * version, random, 32-byte session id, three cipher suites, null compression, and the
 * extensions server_name, supported_versions, quic_transport_parameters and padding.
 */
export function fakeClientHello(o: FakeHelloOptions = {}): Uint8Array {
  const u16 = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);
  const ext = (type: number, body: Uint8Array): Uint8Array => concat(u16(type), u16(body.length), body);
  const exts: Uint8Array[] = [];
  if (o.sni !== undefined) {
    const name = Buffer.from(o.sni, 'latin1');
    exts.push(ext(0x0000, concat(u16(name.length + 3), Uint8Array.of(0), u16(name.length), name)));
  }
  exts.push(ext(0x002b, hex('020304')));
  exts.push(ext(0x0039, hex('0504800080000f00')));
  const random = o.random ?? new Uint8Array(32).map((_, i) => (i * 7 + (o.sni?.length ?? 0)) & 0xff);
  const fixed = concat(hex('0303'), random, Uint8Array.of(32), new Uint8Array(32).fill(0xab), hex('0006130113021303'), hex('0100'));
  let extBytes = concat(...exts);
  if (o.size !== undefined) {
    // header(4) + fixed + extensions length(2) + extensions + padding ext header(4)
    const pad = o.size - (4 + fixed.length + 2 + extBytes.length + 4);
    if (pad < 0) throw new Error(`ClientHello needs at least ${o.size - pad} bytes`);
    extBytes = concat(extBytes, ext(0x0015, new Uint8Array(pad)));
  }
  const body = concat(fixed, u16(extBytes.length), extBytes);
  return concat(Uint8Array.of(o.msgType ?? 1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff), body);
}

/** True when `needle` occurs in `hay` (e.g. an SNI string in a recovered ClientHello). */
export function containsBytes(hay: Uint8Array, needle: Uint8Array | string): boolean {
  const n = typeof needle === 'string' ? Buffer.from(needle, 'latin1') : Buffer.from(needle.buffer, needle.byteOffset, needle.length);
  return Buffer.from(hay.buffer, hay.byteOffset, hay.length).includes(n);
}
