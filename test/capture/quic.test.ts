/**
 * QUIC Initial decryption and CRYPTO reassembly: the RFC 9001 / RFC 9369 Appendix A test
 * vectors first (keys, header protection, packet protection), then the assembler on packets
 * built by test/helpers/quic.ts, then never-throws properties.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { isIssue, IssueCounter, type DecodeIssue } from '../../src/capture/issues.js';
import {
  looksLikeQuicInitial,
  QuicInitialAssembler,
  QUIC_BAD_FRAME,
  QUIC_BAD_HEADER,
  QUIC_CRYPTO_TOO_LONG,
  QUIC_DECRYPT_FAILED,
  QUIC_EVICTED,
  QUIC_NOT_CLIENT_HELLO,
  QUIC_PACKET_TOO_SHORT,
  QUIC_SERVER_INITIAL,
  QUIC_TIMEOUT,
  QUIC_TOO_MANY_FRAGMENTS,
  QUIC_TRUNCATED_HEADER,
  QUIC_TRUNCATED_PACKET,
  QUIC_VERSION_GREASE,
} from '../../src/capture/app/quic.js';
import {
  decodePacketNumber,
  deriveInitialKeys,
  hkdfLabel,
  initialSecrets,
  openPacket,
  quicVersionInfo,
  QuicVersion,
} from '../../src/capture/app/quic-crypto.js';
import {
  clientInitialDatagrams,
  coalesce,
  concat,
  containsBytes,
  fakeClientHello,
  frames,
  hex,
  longPacket,
  sealInitial,
  splitCrypto,
  toHex,
} from '../helpers/quic.js';

// ---------------------------------------------------------------------------------------
// RFC 9001 Appendix A and RFC 9369 Appendix A (same DCID, same ClientHello CRYPTO frame).

const RFC_DCID = hex('8394c8f03e515708');

/** A.2: "the following CRYPTO frame, plus enough PADDING frames to make a 1162-byte payload" */
const A2_CRYPTO_FRAME = hex(`
  060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868
  04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578
  616d706c652e636f6dff01000100000a 00080006001d00170018001000070005
  04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba
  baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400
  0d0010000e0403050306030203080408 050806002d00020101001c0002400100
  3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000
  75300901100f088394c8f03e51570806 048000ffff`);
/** The ClientHello handshake message inside it: CRYPTO type(1) offset(1) length(2) = 4 bytes. */
const A2_CLIENT_HELLO = A2_CRYPTO_FRAME.subarray(4);

/** RFC 9001 A.2, the protected client Initial (1200 bytes). */
const V1_CLIENT_INITIAL = hex(`
  c000000001088394c8f03e5157080000 449e7b9aec34d1b1c98dd7689fb8ec11
  d242b123dc9bd8bab936b47d92ec356c 0bab7df5976d27cd449f63300099f399
  1c260ec4c60d17b31f8429157bb35a12 82a643a8d2262cad67500cadb8e7378c
  8eb7539ec4d4905fed1bee1fc8aafba1 7c750e2c7ace01e6005f80fcb7df6212
  30c83711b39343fa028cea7f7fb5ff89 eac2308249a02252155e2347b63d58c5
  457afd84d05dfffdb20392844ae81215 4682e9cf012f9021a6f0be17ddd0c208
  4dce25ff9b06cde535d0f920a2db1bf3 62c23e596d11a4f5a6cf3948838a3aec
  4e15daf8500a6ef69ec4e3feb6b1d98e 610ac8b7ec3faf6ad760b7bad1db4ba3
  485e8a94dc250ae3fdb41ed15fb6a8e5 eba0fc3dd60bc8e30c5c4287e53805db
  059ae0648db2f64264ed5e39be2e20d8 2df566da8dd5998ccabdae053060ae6c
  7b4378e846d29f37ed7b4ea9ec5d82e7 961b7f25a9323851f681d582363aa5f8
  9937f5a67258bf63ad6f1a0b1d96dbd4 faddfcefc5266ba6611722395c906556
  be52afe3f565636ad1b17d508b73d874 3eeb524be22b3dcbc2c7468d54119c74
  68449a13d8e3b95811a198f3491de3e7 fe942b330407abf82a4ed7c1b311663a
  c69890f4157015853d91e923037c227a 33cdd5ec281ca3f79c44546b9d90ca00
  f064c99e3dd97911d39fe9c5d0b23a22 9a234cb36186c4819e8b9c5927726632
  291d6a418211cc2962e20fe47feb3edf 330f2c603a9d48c0fcb5699dbfe58964
  25c5bac4aee82e57a85aaf4e2513e4f0 5796b07ba2ee47d80506f8d2c25e50fd
  14de71e6c418559302f939b0e1abd576 f279c4b2e0feb85c1f28ff18f58891ff
  ef132eef2fa09346aee33c28eb130ff2 8f5b766953334113211996d20011a198
  e3fc433f9f2541010ae17c1bf202580f 6047472fb36857fe843b19f5984009dd
  c324044e847a4f4a0ab34f719595de37 252d6235365e9b84392b061085349d73
  203a4a13e96f5432ec0fd4a1ee65accd d5e3904df54c1da510b0ff20dcc0c77f
  cb2c0e0eb605cb0504db87632cf3d8b4 dae6e705769d1de354270123cb11450e
  fc60ac47683d7b8d0f811365565fd98c 4c8eb936bcab8d069fc33bd801b03ade
  a2e1fbc5aa463d08ca19896d2bf59a07 1b851e6c239052172f296bfb5e724047
  90a2181014f3b94a4e97d117b4381303 68cc39dbb2d198065ae3986547926cd2
  162f40a29f0c3c8745c0f50fba3852e5 66d44575c29d39a03f0cda721984b6f4
  40591f355e12d439ff150aab7613499d bd49adabc8676eef023b15b65bfc5ca0
  6948109f23f350db82123535eb8a7433 bdabcb909271a6ecbcb58b936a88cd4e
  8f2e6ff5800175f113253d8fa9ca8885 c2f552e657dc603f252e1a8e308f76f0
  be79e2fb8f5d5fbbe2e30ecadd220723 c8c0aea8078cdfcb3868263ff8f09400
  54da48781893a7e49ad5aff4af300cd8 04a6b6279ab3ff3afb64491c85194aab
  760d58a606654f9f4400e8b38591356f bf6425aca26dc85244259ff2b19c41b9
  f96f3ca9ec1dde434da7d2d392b905dd f3d1f9af93d1af5950bd493f5aa731b4
  056df31bd267b6b90a079831aaf579be 0a39013137aac6d404f518cfd4684064
  7e78bfe706ca4cf5e9c5453e9f7cfd2b 8b4c8d169a44e55c88d4a9a7f9474241
  e221af44860018ab0856972e194cd934`);

/** RFC 9001 A.3: the server Initial (ACK + CRYPTO with ServerHello), and its plaintext. */
const V1_SERVER_INITIAL = hex(`
  cf000000010008f067a5502a4262b500 4075c0d95a482cd0991cd25b0aac406a
  5816b6394100f37a1c69797554780bb3 8cc5a99f5ede4cf73c3ec2493a1839b3
  dbcba3f6ea46c5b7684df3548e7ddeb9 c3bf9c73cc3f3bded74b562bfb19fb84
  022f8ef4cdd93795d77d06edbb7aaf2f 58891850abbdca3d20398c276456cbc4
  2158407dd074ee`);
const A3_SERVER_PAYLOAD = hex(`
  02000000000600405a020000560303ee fce7f7b37ba1d1632e96677825ddf739
  88cfc79825df566dc5430b9a045a1200 130100002e00330024001d00209d3c94
  0d89690b84d08a60993c144eca684d10 81287c834d5311bcf32bb9da1a002b00
  020304`);

/** RFC 9369 A.2, the protected v2 client Initial (1200 bytes). */
const V2_CLIENT_INITIAL = hex(`
  d76b3343cf088394c8f03e5157080000 449ea0c95e82ffe67b6abcdb4298b485
  dd04de806071bf03dceebfa162e75d6c 96058bdbfb127cdfcbf903388e99ad04
  9f9a3dd4425ae4d0992cfff18ecf0fdb 5a842d09747052f17ac2053d21f57c5d
  250f2c4f0e0202b70785b7946e992e58 a59ac52dea6774d4f03b55545243cf1a
  12834e3f249a78d395e0d18f4d766004 f1a2674802a747eaa901c3f10cda5500
  cb9122faa9f1df66c392079a1b40f0de 1c6054196a11cbea40afb6ef5253cd68
  18f6625efce3b6def6ba7e4b37a40f77 32e093daa7d52190935b8da58976ff33
  12ae50b187c1433c0f028edcc4c2838b 6a9bfc226ca4b4530e7a4ccee1bfa2a3
  d396ae5a3fb512384b2fdd851f784a65 e03f2c4fbe11a53c7777c023462239dd
  6f7521a3f6c7d5dd3ec9b3f233773d4b 46d23cc375eb198c63301c21801f6520
  bcfb7966fc49b393f0061d974a2706df 8c4a9449f11d7f3d2dcbb90c6b877045
  636e7c0c0fe4eb0f697545460c806910 d2c355f1d253bc9d2452aaa549e27a1f
  ac7cf4ed77f322e8fa894b6a83810a34 b361901751a6f5eb65a0326e07de7c12
  16ccce2d0193f958bb3850a833f7ae43 2b65bc5a53975c155aa4bcb4f7b2c4e5
  4df16efaf6ddea94e2c50b4cd1dfe060 17e0e9d02900cffe1935e0491d77ffb4
  fdf85290fdd893d577b1131a610ef6a5 c32b2ee0293617a37cbb08b847741c3b
  8017c25ca9052ca1079d8b78aebd4787 6d330a30f6a8c6d61dd1ab5589329de7
  14d19d61370f8149748c72f132f0fc99 f34d766c6938597040d8f9e2bb522ff9
  9c63a344d6a2ae8aa8e51b7b90a4a806 105fcbca31506c446151adfeceb51b91
  abfe43960977c87471cf9ad4074d30e1 0d6a7f03c63bd5d4317f68ff325ba3bd
  80bf4dc8b52a0ba031758022eb025cdd 770b44d6d6cf0670f4e990b22347a7db
  848265e3e5eb72dfe8299ad7481a4083 22cac55786e52f633b2fb6b614eaed18
  d703dd84045a274ae8bfa73379661388 d6991fe39b0d93debb41700b41f90a15
  c4d526250235ddcd6776fc77bc97e7a4 17ebcb31600d01e57f32162a8560cacc
  7e27a096d37a1a86952ec71bd89a3e9a 30a2a26162984d7740f81193e8238e61
  f6b5b984d4d3dfa033c1bb7e4f0037fe bf406d91c0dccf32acf423cfa1e70710
  10d3f270121b493ce85054ef58bada42 310138fe081adb04e2bd901f2f13458b
  3d6758158197107c14ebb193230cd115 7380aa79cae1374a7c1e5bbcb80ee23e
  06ebfde206bfb0fcbc0edc4ebec30966 1bdd908d532eb0c6adc38b7ca7331dce
  8dfce39ab71e7c32d318d136b6100671 a1ae6a6600e3899f31f0eed19e3417d1
  34b90c9058f8632c798d4490da498730 7cba922d61c39805d072b589bd52fdf1
  e86215c2d54e6670e07383a27bbffb5a ddf47d66aa85a0c6f9f32e59d85a44dd
  5d3b22dc2be80919b490437ae4f36a0a e55edf1d0b5cb4e9a3ecabee93dfc6e3
  8d209d0fa6536d27a5d6fbb17641cde2 7525d61093f1b28072d111b2b4ae5f89
  d5974ee12e5cf7d5da4d6a31123041f3 3e61407e76cffcdcfd7e19ba58cf4b53
  6f4c4938ae79324dc402894b44faf8af bab35282ab659d13c93f70412e85cb19
  9a37ddec600545473cfb5a05e08d0b20 9973b2172b4d21fb69745a262ccde96b
  a18b2faa745b6fe189cf772a9f84cbfc`);

/** RFC 9369 A.3 server Initial and its plaintext (the same frames as RFC 9001 A.3). */
const V2_SERVER_INITIAL = hex(`
  dc6b3343cf0008f067a5502a4262b500 4075d92faaf16f05d8a4398c47089698
  baeea26b91eb761d9b89237bbf872630 17915358230035f7fd3945d88965cf17
  f9af6e16886c61bfc703106fbaf3cb4c fa52382dd16a393e42757507698075b2
  c984c707f0a0812d8cd5a6881eaf21ce da98f4bd23f6fe1a3e2c43edd9ce7ca8
  4bed8521e2e140`);

interface VectorCase {
  name: string;
  version: number;
  labels: Array<[string, string]>;
  initialSecret: string;
  client: { secret: string; key: string; iv: string; hp: string };
  server: { secret: string; key: string; iv: string; hp: string };
  clientPacket: Uint8Array;
  unprotectedHeader: string;
  serverPacket: Uint8Array;
}

const VECTORS: VectorCase[] = [
  {
    name: 'RFC 9001 (v1)',
    version: QuicVersion.V1,
    labels: [
      ['client in', '00200f746c73313320636c69656e7420696e00'],
      ['server in', '00200f746c7331332073657276657220696e00'],
      ['quic key', '00100e746c7331332071756963206b657900'],
      ['quic iv', '000c0d746c733133207175696320697600'],
      ['quic hp', '00100d746c733133207175696320687000'],
    ],
    initialSecret: '7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44',
    client: {
      secret: 'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea',
      key: '1f369613dd76d5467730efcbe3b1a22d',
      iv: 'fa044b2f42a3fd3b46fb255c',
      hp: '9f50449e04a0e810283a1e9933adedd2',
    },
    server: {
      secret: '3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b',
      key: 'cf3a5331653c364c88f0f379b6067e37',
      iv: '0ac1493ca1905853b0bba03e',
      hp: 'c206b8d9b9f0f37644430b490eeaa314',
    },
    clientPacket: V1_CLIENT_INITIAL,
    unprotectedHeader: 'c300000001088394c8f03e5157080000449e00000002',
    serverPacket: V1_SERVER_INITIAL,
  },
  {
    name: 'RFC 9369 (v2)',
    version: QuicVersion.V2,
    labels: [
      ['client in', '00200f746c73313320636c69656e7420696e00'],
      ['server in', '00200f746c7331332073657276657220696e00'],
      ['quicv2 key', '001010746c73313320717569637632206b657900'],
      ['quicv2 iv', '000c0f746c7331332071756963763220697600'],
      ['quicv2 hp', '00100f746c7331332071756963763220687000'],
    ],
    initialSecret: '2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba',
    client: {
      secret: '14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b',
      key: '8b1a0bc121284290a29e0971b5cd045d',
      iv: '91f73e2351d8fa91660e909f',
      hp: '45b95e15235d6f45a6b19cbcb0294ba9',
    },
    server: {
      secret: '0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1',
      key: '82db637861d55e1d011f19ea71d5d2a7',
      iv: 'dd13c276499c0249d3310652',
      hp: 'edf6d05c83121201b436e16877593c3a',
    },
    clientPacket: V2_CLIENT_INITIAL,
    unprotectedHeader: 'd36b3343cf088394c8f03e5157080000449e00000002',
    serverPacket: V2_SERVER_INITIAL,
  },
];

/** pn_offset of the RFC packets: 1 + 4 + 1 + 8 (DCID) + 1 + 0 (SCID) + 1 (token len) + 2 (Length) */
const RFC_CLIENT_PN_OFFSET = 18;
/** 1 + 4 + 1 + 0 (DCID) + 1 + 8 (SCID) + 1 (token len) + 2 (Length) */
const RFC_SERVER_PN_OFFSET = 18;

describe.for(VECTORS)('$name Appendix A', (vc) => {
  test.for(vc.labels)('A.1 HkdfLabel for "%s"', ([label, want]) => {
    const length = label.endsWith('in') ? 32 : label.endsWith('iv') ? 12 : 16;
    expect(toHex(hkdfLabel(label, length))).toBe(want);
  });

  test('A.1 initial, client and server secrets and keys', () => {
    const v = quicVersionInfo(vc.version);
    expect(v).toBeDefined();
    if (v === undefined) return;
    const s = initialSecrets(v, RFC_DCID);
    expect(toHex(s.initial)).toBe(vc.initialSecret);
    expect(toHex(s.client)).toBe(vc.client.secret);
    expect(toHex(s.server)).toBe(vc.server.secret);
    for (const side of ['client', 'server'] as const) {
      const k = deriveInitialKeys(vc.version, RFC_DCID, side);
      if (k === undefined) throw new Error('no keys');
      expect({ key: toHex(k.key), iv: toHex(k.iv), hp: toHex(k.hp) }).toEqual({ key: vc[side].key, iv: vc[side].iv, hp: vc[side].hp });
    }
  });

  test('A.2 client Initial: header protection removed, payload decrypted', () => {
    const keys = deriveInitialKeys(vc.version, RFC_DCID);
    if (keys === undefined) throw new Error('no keys');
    const opened = openPacket(keys, vc.clientPacket, RFC_CLIENT_PN_OFFSET, -1);
    expect(opened).toBeDefined();
    if (opened === undefined) return;
    expect(opened.pn).toBe(2);
    expect(opened.pnLength).toBe(4);
    expect(toHex(opened.header)).toBe(vc.unprotectedHeader);
    expect(opened.payload.length).toBe(1162);
    expect(toHex(opened.payload.subarray(0, A2_CRYPTO_FRAME.length))).toBe(toHex(A2_CRYPTO_FRAME));
    expect(opened.payload.subarray(A2_CRYPTO_FRAME.length).every((b) => b === 0)).toBe(true);
    // the input is left as it was (the decoder works on capture buffers it does not own)
    expect(vc.clientPacket[0]).toBe(vc.version === QuicVersion.V1 ? 0xc0 : 0xd7);
  });

  test('A.2 client Initial through the assembler: the ClientHello handshake message', () => {
    expect(looksLikeQuicInitial(vc.clientPacket)).toBe(true);
    const asm = new QuicInitialAssembler();
    const hello = asm.onDatagram(vc.clientPacket, '10.0.0.1|50000|10.0.0.2|443', 1);
    expect(hello).toBeInstanceOf(Uint8Array);
    if (!(hello instanceof Uint8Array)) return;
    expect(hello.length).toBe(4 + 0xed);
    expect(toHex(hello)).toBe(toHex(A2_CLIENT_HELLO));
    expect(toHex(hello.subarray(0, 8))).toBe('010000ed0303ebf8');
    expect(containsBytes(hello, 'example.com')).toBe(true);
  });

  test('A.2 the builder seals the RFC payload into the RFC packet, byte for byte', () => {
    const payload = concat(A2_CRYPTO_FRAME, frames.padding(1162 - A2_CRYPTO_FRAME.length));
    const built = sealInitial({ version: vc.version, dcid: RFC_DCID, pn: 2, pnLength: 4 }, payload);
    expect(toHex(built)).toBe(toHex(vc.clientPacket));
  });

  test('A.3 server Initial opens with the server keys only', () => {
    const keys = deriveInitialKeys(vc.version, RFC_DCID, 'server');
    if (keys === undefined) throw new Error('no keys');
    const opened = openPacket(keys, vc.serverPacket, RFC_SERVER_PN_OFFSET, -1);
    expect(opened?.pn).toBe(1);
    expect(opened?.pnLength).toBe(2);
    expect(toHex(opened?.payload ?? new Uint8Array())).toBe(toHex(A3_SERVER_PAYLOAD));
    // The assembler only holds client keys (and cannot know the client's DCID from a server
    // packet), so a server Initial fed by mistake is a decrypt failure, never a ClientHello.
    const asm = new QuicInitialAssembler();
    expect(asm.onDatagram(vc.serverPacket, '10.0.0.2|443|10.0.0.1|50000', 1)).toBe(QUIC_DECRYPT_FAILED);
    expect(asm.pendingCount).toBe(0);
  });
});

describe('decodePacketNumber (RFC 9000 §17.1, Appendix A.3)', () => {
  test.for([
    { name: 'RFC example', largest: 0xa82f30ea, truncated: 0x9b32, len: 2, want: 0xa82f9b32 },
    { name: 'first packet of a space', largest: -1, truncated: 0x02, len: 4, want: 2 },
    { name: 'first packet, 1-byte encoding', largest: -1, truncated: 0xff, len: 1, want: 255 },
    { name: 'wraps forward', largest: 0xff, truncated: 0x01, len: 1, want: 0x101 },
    { name: 'slightly older', largest: 0x105, truncated: 0xfe, len: 1, want: 0xfe },
    { name: 'above 2^32', largest: 0x1_0000_00ff, truncated: 0x0100, len: 2, want: 0x1_0000_0100 },
  ])('$name', ({ largest, truncated, len, want }) => {
    expect(decodePacketNumber(largest, truncated, len)).toBe(want);
  });
});

// ---------------------------------------------------------------------------------------
// The probe.

const CLIENT_DCID = hex('0011223344556677');
const TUPLE = '192.0.2.10|53727|203.0.113.5|443';
const ZEROS = new Uint8Array(1200);

/** Hand-made long headers (RFC 9000 §17.2) followed by 1200 zero bytes. */
const MALFORMED = {
  /** v2 version with type bits 0b00: a Retry in v2 (RFC 9369 §3.2), v1's Initial bits */
  v2WithV1InitialBits: concat(hex('c0 6b3343cf 08'), CLIENT_DCID, hex('00 00 4400'), ZEROS),
  unknownVersion: concat(hex('c0 1a2a3a4a 08'), CLIENT_DCID, hex('00 00 4400'), ZEROS),
  fixedBitClear: concat(hex('80 00000001 08'), CLIENT_DCID, hex('00 00 4400'), ZEROS),
  dcidTooLong: concat(hex('c0 00000001 15'), new Uint8Array(21), hex('00 00 4400'), ZEROS),
  scidTooLong: concat(hex('c0 00000001 08'), CLIENT_DCID, hex('15'), new Uint8Array(21), hex('00 4400'), ZEROS),
  /** Length 16: no room for the 16-byte sample 4 bytes after the packet number */
  lengthTooSmall: concat(hex('c0 00000001 08'), CLIENT_DCID, hex('00 00 10'), ZEROS),
  versionNegotiation: hex('80 00000000 08 0011223344556677 00 00000001 ff00001d'),
  shortHeader: hex('4300bff4aabbccddeeff00112233445566778899'),
};

/** The first datagram of clientInitialDatagrams(). */
function firstDatagram(hello: Uint8Array, o: Parameters<typeof clientInitialDatagrams>[1]): Uint8Array {
  const [d] = clientInitialDatagrams(hello, o);
  if (d === undefined) throw new Error('no datagram');
  return d;
}

describe('looksLikeQuicInitial', () => {
  const hello = fakeClientHello({ sni: 'ksn.kaspersky.com' });
  test.for([
    { name: 'v1 Initial', b: () => firstDatagram(hello, { dcid: CLIENT_DCID }), want: true },
    { name: 'v2 Initial', b: () => firstDatagram(hello, { dcid: CLIENT_DCID, version: QuicVersion.V2 }), want: true },
    { name: 'draft-29 Initial', b: () => firstDatagram(hello, { dcid: CLIENT_DCID, version: QuicVersion.DRAFT_29 }), want: true },
    { name: 'draft-32 Initial', b: () => firstDatagram(hello, { dcid: CLIENT_DCID, version: QuicVersion.DRAFT_32 }), want: true },
    { name: 'snaplen-truncated Initial (Length past the end)', b: () => V1_CLIENT_INITIAL.subarray(0, 256), want: true },
    { name: 'empty', b: () => new Uint8Array(0), want: false },
    { name: 'DNS query', b: () => hex('abcd01000001000000000000076578616d706c6503636f6d0000010001'), want: false },
    { name: 'TLS record', b: () => hex('1603010200010001fc0303'), want: false },
    { name: 'short header', b: () => MALFORMED.shortHeader, want: false },
    { name: 'v1 Handshake packet', b: () => longPacket('handshake', QuicVersion.V1, CLIENT_DCID, new Uint8Array(40)), want: false },
    { name: 'v1 0-RTT packet', b: () => longPacket('zero_rtt', QuicVersion.V1, CLIENT_DCID, new Uint8Array(40)), want: false },
    { name: 'v2 with v1 Initial type bits', b: () => MALFORMED.v2WithV1InitialBits, want: false },
    { name: 'v2 0-RTT packet', b: () => longPacket('zero_rtt', QuicVersion.V2, CLIENT_DCID, new Uint8Array(40)), want: false },
    { name: 'unknown (greased) version', b: () => MALFORMED.unknownVersion, want: false },
    { name: 'version negotiation', b: () => MALFORMED.versionNegotiation, want: false },
    { name: 'fixed bit clear', b: () => MALFORMED.fixedBitClear, want: false },
    { name: 'DCID longer than 20', b: () => MALFORMED.dcidTooLong, want: false },
    { name: 'SCID longer than 20', b: () => MALFORMED.scidTooLong, want: false },
    { name: 'Length too small for a sample', b: () => MALFORMED.lengthTooSmall, want: false },
  ])('$name -> $want', ({ b, want }) => {
    expect(looksLikeQuicInitial(b() ?? new Uint8Array(0))).toBe(want);
  });
});

// ---------------------------------------------------------------------------------------
// Reassembly on built packets.

type Result = Uint8Array | DecodeIssue | undefined;

function feed(asm: QuicInitialAssembler, dgrams: Uint8Array[], tuple = TUPLE, ts = 1_000_000): Result[] {
  return dgrams.map((d, i) => asm.onDatagram(d, tuple, ts + i));
}

/** The only ClientHello among the results, asserting exactly one was returned. */
function onlyHello(results: Result[]): Uint8Array {
  const hellos = results.filter((r): r is Uint8Array => r instanceof Uint8Array);
  expect(hellos.length).toBe(1);
  return hellos[0] ?? new Uint8Array(0);
}

/** A post-quantum-sized ClientHello (X25519MLKEM768 key share alone is 1216 bytes). */
const BIG_HELLO = fakeClientHello({ sni: 'dnl-01.geo.kaspersky.com', size: 1800 });

describe('QuicInitialAssembler', () => {
  test('a ClientHello over two Initials, CRYPTO frames out of order, is returned on the second', () => {
    const dgrams = clientInitialDatagrams(BIG_HELLO, { dcid: CLIENT_DCID, packets: 2, fragments: 6 });
    expect(dgrams.map((d) => d.length)).toEqual([1200, 1200]);
    const asm = new QuicInitialAssembler();
    const [r1, r2] = feed(asm, dgrams);
    expect(r1).toBeUndefined();
    expect(asm.pendingCount).toBe(1);
    expect(r2).toBeInstanceOf(Uint8Array);
    expect(toHex(r2 as Uint8Array)).toBe(toHex(BIG_HELLO));
    expect(containsBytes(r2 as Uint8Array, 'dnl-01.geo.kaspersky.com')).toBe(true);
  });

  test.for([
    { name: 'reverse order', order: [1, 0] },
    { name: 'three packets shuffled', order: [2, 0, 1] },
    { name: 'three packets reversed', order: [2, 1, 0] },
  ])('packets delivered in $name', ({ order }) => {
    const dgrams = clientInitialDatagrams(BIG_HELLO, { dcid: CLIENT_DCID, packets: order.length, fragments: 9 });
    const asm = new QuicInitialAssembler();
    const results = feed(asm, order.map((i) => dgrams[i] ?? new Uint8Array(0)));
    expect(results.slice(0, -1).every((r) => r === undefined)).toBe(true);
    expect(toHex(onlyHello(results))).toBe(toHex(BIG_HELLO));
  });

  test('duplicate and overlapping CRYPTO ranges: first copy wins, reported once', () => {
    const hello = fakeClientHello({ sni: 'ksn-a.kaspersky-labs.com', size: 900 });
    const forged = new Uint8Array(hello.length).fill(0xee); // must never overwrite held bytes
    const p1 = sealInitial(
      { dcid: CLIENT_DCID, pn: 0, minSize: 1200 },
      concat(
        frames.crypto(0, hello.subarray(0, 300)),
        frames.crypto(200, hello.subarray(200, 500)),
        frames.crypto(100, hello.subarray(100, 250)),
      ),
    );
    // a "retransmission" overlapping both held and missing bytes, with different content for
    // the held part, then the true remainder
    const p2 = sealInitial(
      { dcid: CLIENT_DCID, pn: 1, minSize: 1200 },
      concat(
        frames.crypto(400, concat(forged.subarray(400, 500), hello.subarray(500, 600))),
        frames.crypto(600, hello.subarray(600)),
      ),
    );
    const asm = new QuicInitialAssembler();
    const results = feed(asm, [p1, p1, p2, p2, p1]);
    expect(results[0]).toBeUndefined();
    expect(results[1]).toBeUndefined();
    expect(toHex(results[2] as Uint8Array)).toBe(toHex(hello));
    expect(results.slice(3)).toEqual([undefined, undefined]); // retransmissions after completion
  });

  test('coalesced Initial + 0-RTT, and Initial + short header', () => {
    const hello = fakeClientHello({ sni: 'activation-v2.kaspersky.com' });
    const initial = sealInitial({ dcid: CLIENT_DCID, scid: hex('aabbccdd') }, frames.crypto(0, hello));
    const zeroRtt = longPacket('zero_rtt', QuicVersion.V1, CLIENT_DCID, new Uint8Array(900).fill(0x5a), hex('aabbccdd'));
    const withZeroRtt = coalesce(initial, zeroRtt);
    expect(looksLikeQuicInitial(withZeroRtt)).toBe(true);
    const once = (d: Uint8Array): string => toHex(new QuicInitialAssembler().onDatagram(d, TUPLE, 1) as Uint8Array);
    expect(once(withZeroRtt)).toBe(toHex(hello));
    const shortHeader = concat(hex('43'), CLIENT_DCID, new Uint8Array(200).fill(0x77));
    expect(once(coalesce(initial, shortHeader))).toBe(toHex(hello));
    // a 0-RTT packet first, then the Initial: the walk skips the 0-RTT by its Length
    expect(once(coalesce(zeroRtt, initial))).toBe(toHex(hello));
  });

  test.for([
    { name: 'v2 (RFC 9369)', version: QuicVersion.V2 },
    { name: 'draft-29', version: QuicVersion.DRAFT_29 },
    { name: 'draft-30', version: QuicVersion.DRAFT_30 },
    { name: 'draft-32', version: QuicVersion.DRAFT_32 },
  ])('$name ClientHello over two Initials', ({ version }) => {
    const dgrams = clientInitialDatagrams(BIG_HELLO, { dcid: CLIENT_DCID, packets: 2, version });
    expect(dgrams.every((d) => looksLikeQuicInitial(d))).toBe(true);
    const results = feed(new QuicInitialAssembler(), dgrams.reverse());
    expect(toHex(onlyHello(results))).toBe(toHex(BIG_HELLO));
  });

  test('keys from another DCID: decrypt_failed, and no state kept', () => {
    const wrongKeys = { dcid: CLIENT_DCID, keyDcid: hex('ffeeddccbbaa9988'), minSize: 1200 };
    const pkt = sealInitial(wrongKeys, frames.crypto(0, BIG_HELLO.subarray(0, 900)));
    const asm = new QuicInitialAssembler();
    expect(looksLikeQuicInitial(pkt)).toBe(true);
    expect(asm.onDatagram(pkt, TUPLE, 1)).toBe(QUIC_DECRYPT_FAILED);
    expect(asm.pendingCount).toBe(0);
  });

  test('a damaged byte anywhere in the protected part fails authentication', () => {
    const [pkt] = clientInitialDatagrams(fakeClientHello({ sni: 'a.kaspersky.com' }), { dcid: CLIENT_DCID });
    if (pkt === undefined) throw new Error('no packet');
    for (const at of [18, 30, 600, 1199]) {
      const bad = pkt.slice();
      bad[at] = (bad[at] ?? 0) ^ 0x01;
      expect(new QuicInitialAssembler().onDatagram(bad, TUPLE, 1)).toBe(QUIC_DECRYPT_FAILED);
    }
  });

  test('the client switches to the server-chosen DCID but keeps the original keys (RFC 9001 §5.2)', () => {
    const [first, second] = clientInitialDatagrams(BIG_HELLO, { dcid: CLIENT_DCID, packets: 2 });
    if (first === undefined || second === undefined) throw new Error('no packets');
    // rebuild the second packet with the server's CID on the wire, keys still from CLIENT_DCID
    const asm = new QuicInitialAssembler();
    expect(asm.onDatagram(first, TUPLE, 1)).toBeUndefined();
    const serverCid = hex('c15d62c70884f4b5');
    const pieces = splitCrypto(BIG_HELLO, 4).filter((_, i) => i % 2 === 1);
    const moved = sealInitial(
      { dcid: serverCid, keyDcid: CLIENT_DCID, pn: 1, minSize: 1200 },
      concat(frames.ack(0), ...pieces.map((p) => frames.crypto(p.offset, p.data))),
    );
    expect(toHex(asm.onDatagram(moved, TUPLE, 2) as Uint8Array)).toBe(toHex(BIG_HELLO));
    // later ACK-only Initials of that connection decrypt fine and report nothing
    const ackOnly = sealInitial({ dcid: serverCid, keyDcid: CLIENT_DCID, pn: 2, minSize: 1200 }, frames.ack(1));
    expect(asm.onDatagram(ackOnly, TUPLE, 3)).toBeUndefined();
    expect(asm.pendingCount).toBe(1);
  });

  test('Retry then HelloRetryRequest: the resent ClientHello once, the second ClientHello too', () => {
    const ch1 = fakeClientHello({ sni: 'ds.kaspersky.com', size: 600 });
    const ch2 = fakeClientHello({ sni: 'ds.kaspersky.com', size: 700 }); // same random, as RFC 8446 §4.1.2 requires
    const asm = new QuicInitialAssembler();
    const d1 = firstDatagram(ch1, { dcid: CLIENT_DCID });
    expect(toHex(asm.onDatagram(d1, TUPLE, 1) as Uint8Array)).toBe(toHex(ch1));
    // After a Retry the client uses the Retry's SCID as DCID and derives new keys from it
    // (RFC 9001 §5.2), resending the same ClientHello at offset 0: not reported again.
    const retryCid = hex('2e9a32ed45c9066ad4f9ac32c1d23c19e480');
    const d2 = firstDatagram(ch1, { dcid: retryCid, scid: hex('4394'), token: hex('7265747279'), firstPn: 1 });
    expect(asm.onDatagram(d2, TUPLE, 2)).toBeUndefined();
    // The server answers with a HelloRetryRequest; the second ClientHello follows the first
    // in the CRYPTO stream, sent to the server's new CID under the post-Retry keys.
    const serverCid = hex('b8e844a59dba1b56a9c136266fcc82bda97f');
    const d3 = sealInitial(
      { dcid: serverCid, keyDcid: retryCid, pn: 2, minSize: 1200 },
      concat(frames.ack(0), frames.crypto(ch1.length, ch2)),
    );
    expect(toHex(asm.onDatagram(d3, TUPLE, 3) as Uint8Array)).toBe(toHex(ch2));
  });

  test('a new connection on the same 5-tuple is reported', () => {
    const asm = new QuicInitialAssembler();
    const a = fakeClientHello({ sni: 'one.kaspersky.com' });
    const b = fakeClientHello({ sni: 'two.kaspersky.com', random: new Uint8Array(32).fill(9) });
    const ra = asm.onDatagram(firstDatagram(a, { dcid: CLIENT_DCID }), TUPLE, 1);
    const rb = asm.onDatagram(firstDatagram(b, { dcid: hex('0102030405060708') }), TUPLE, 2);
    expect([toHex(ra as Uint8Array), toHex(rb as Uint8Array)]).toEqual([toHex(a), toHex(b)]);
  });

  test('ACK/PING/CONNECTION_CLOSE/NEW_TOKEN frames are skipped by their encoding', () => {
    const hello = fakeClientHello({ sni: 'click.kaspersky.com' });
    const payload = concat(
      frames.ping(),
      frames.ack(1000, 3, [[2, 5], [0, 1]]),
      frames.ack(70_000, 0, [], [1, 2, 300]),
      frames.padding(7),
      frames.newToken(new Uint8Array(40).fill(3)),
      frames.crypto(0, hello),
      frames.connectionClose(0x0a, 'bye'),
      Uint8Array.of(0x1d, 0x00, 0x02, 0x68, 0x69), // application CONNECTION_CLOSE "hi"
    );
    const pkt = sealInitial({ dcid: CLIENT_DCID, minSize: 1200 }, payload);
    expect(toHex(new QuicInitialAssembler().onDatagram(pkt, TUPLE, 1) as Uint8Array)).toBe(toHex(hello));
  });

  test('a frame not allowed in Initials ends the packet as bad_frame (frames before it count)', () => {
    const hello = fakeClientHello({ sni: 'bad.kaspersky.com' });
    const stream = hex('0800'); // STREAM frame (RFC 9000 §19.8): 1-RTT only
    const asm = new QuicInitialAssembler();
    const first = sealInitial({ dcid: CLIENT_DCID, minSize: 1200 }, concat(stream, frames.crypto(0, hello)));
    expect(asm.onDatagram(first, TUPLE, 1)).toBe(QUIC_BAD_FRAME);
    const ok = asm.onDatagram(sealInitial({ dcid: hex('99'), minSize: 1200 }, concat(frames.crypto(0, hello), stream)), TUPLE, 2);
    expect(toHex(ok as Uint8Array)).toBe(toHex(hello));
    // a CRYPTO frame whose Length runs past the payload
    expect(asm.onDatagram(sealInitial({ dcid: hex('98') }, hex('0600407f0102')), TUPLE, 3)).toBe(QUIC_BAD_FRAME);
    // ACK with an absurd range count
    expect(asm.onDatagram(sealInitial({ dcid: hex('97') }, hex('02050080ffffff00')), TUPLE, 4)).toBe(QUIC_BAD_FRAME);
  });

  test('short packet numbers (1 and 2 bytes) and large packet numbers', () => {
    const hello = fakeClientHello({ sni: 'pn.kaspersky.com', size: 1500 });
    const pieces = splitCrypto(hello, 2);
    const mk = (i: number, pn: number, pnLength: 1 | 2 | 3 | 4): Uint8Array => {
      const p = pieces[i];
      if (p === undefined) throw new Error('no piece');
      return sealInitial({ dcid: CLIENT_DCID, pn, pnLength, minSize: 1200 }, frames.crypto(p.offset, p.data));
    };
    // RFC 9000 §12.3: numbering starts at 0 in each space, so a first packet is decoded
    // against "nothing seen yet"; a first packet numbered far above its encoding's window
    // cannot be keyed by an observer (the nonce uses the full number).
    const asm = new QuicInitialAssembler();
    expect(asm.onDatagram(mk(0, 0x1_2345_6701, 1), TUPLE, 1)).toBe(QUIC_DECRYPT_FAILED);
    expect(asm.pendingCount).toBe(0);
    const asm2 = new QuicInitialAssembler();
    expect(asm2.onDatagram(mk(0, 0x01, 1), TUPLE, 1)).toBeUndefined();
    expect(toHex(asm2.onDatagram(mk(1, 0x02, 2), TUPLE, 2) as Uint8Array)).toBe(toHex(hello));
    const asm3 = new QuicInitialAssembler();
    expect(asm3.onDatagram(mk(0, 0xfffe, 4), TUPLE, 1)).toBeUndefined();
    expect(toHex(asm3.onDatagram(mk(1, 0x1_0000, 1), TUPLE, 2) as Uint8Array)).toBe(toHex(hello)); // 0x00 after 0xfffe
  });

  test('the CRYPTO cap: a message ending beyond it, or data beyond it, is crypto_too_long', () => {
    const asm = new QuicInitialAssembler({ maxCryptoBytes: 1024 });
    const [d1, d2] = clientInitialDatagrams(BIG_HELLO, { dcid: CLIENT_DCID, packets: 2, fragments: 2 });
    // the first packet holds bytes [0, 900): the header says 1800 > 1024
    expect(asm.onDatagram(d1 ?? new Uint8Array(), TUPLE, 1)).toBe(QUIC_CRYPTO_TOO_LONG);
    expect(asm.onDatagram(d2 ?? new Uint8Array(), TUPLE, 2)).toBeUndefined(); // connection given up
    const far = sealInitial({ dcid: hex('0a0b0c0d0e0f1011'), minSize: 1200 }, frames.crypto(20_000, new Uint8Array(10)));
    expect(new QuicInitialAssembler().onDatagram(far, TUPLE, 1)).toBe(QUIC_CRYPTO_TOO_LONG);
  });

  test('too many disjoint fragments', () => {
    const hello = fakeClientHello({ size: 2000 });
    const payload: Uint8Array[] = [];
    for (let off = 1; off < 1100; off += 4) payload.push(frames.crypto(off, hello.subarray(off, off + 1))); // 275 one-byte holes
    const pkt = sealInitial({ dcid: CLIENT_DCID, minSize: 1200 }, concat(...payload.slice(0, 200)));
    const pkt2 = sealInitial({ dcid: CLIENT_DCID, pn: 1, minSize: 1200 }, concat(...payload.slice(200)));
    const asm = new QuicInitialAssembler();
    expect(asm.onDatagram(pkt, TUPLE, 1)).toBeUndefined();
    expect(asm.onDatagram(pkt2, TUPLE, 2)).toBe(QUIC_TOO_MANY_FRAGMENTS);
  });

  test('a CRYPTO stream that does not start with a ClientHello', () => {
    const serverHello = fakeClientHello({ msgType: 2 });
    const asm = new QuicInitialAssembler();
    expect(asm.onDatagram(firstDatagram(serverHello, { dcid: CLIENT_DCID }), TUPLE, 1)).toBe(QUIC_NOT_CLIENT_HELLO);
  });

  test("the server's Initials on a tracked connection are skipped, not decrypt failures", () => {
    const asm = new QuicInitialAssembler();
    const clientScid = hex('e5ec6b26');
    const d = firstDatagram(fakeClientHello({ sni: 'srv.kaspersky.com' }), { dcid: CLIENT_DCID, scid: clientScid });
    expect(asm.onDatagram(d, TUPLE, 1)).toBeInstanceOf(Uint8Array);
    // RFC 9001 §5.2: the server seals with server keys from the client's DCID, sent to the client's SCID
    const serverInitial = sealInitial(
      { dcid: clientScid, keyDcid: CLIENT_DCID, scid: hex('c15d62c70884f4b5'), side: 'server', pn: 0 },
      concat(frames.ack(0), frames.crypto(0, fakeClientHello({ msgType: 2 }))),
    );
    expect(asm.onDatagram(serverInitial, '203.0.113.5|443|192.0.2.10|53727', 2)).toBe(QUIC_SERVER_INITIAL);
    expect(asm.onDatagram(serverInitial, '203.0.113.99|443|192.0.2.10|53727', 3)).toBe(QUIC_DECRYPT_FAILED);
    expect(asm.pendingCount).toBe(1);
  });

  test('ACK-only Initials create no state', () => {
    const asm = new QuicInitialAssembler();
    expect(asm.onDatagram(sealInitial({ dcid: CLIENT_DCID, minSize: 1200 }, frames.ack(3)), TUPLE, 1)).toBeUndefined();
    expect(asm.pendingCount).toBe(0);
  });

  test('LRU eviction is counted (property and IssueCounter)', () => {
    const issues = new IssueCounter();
    const asm = new QuicInitialAssembler({ maxPending: 2, issues });
    const conns = ['a', 'b', 'c'].map((c, i) => ({
      tuple: `10.0.0.${i}|4000${i}|192.0.2.1|443`,
      dgrams: clientInitialDatagrams(fakeClientHello({ sni: `${c}.kaspersky.com`, size: 1800 }), {
        dcid: new Uint8Array(8).fill(i),
        packets: 2,
      }),
    }));
    for (const c of conns) expect(asm.onDatagram(c.dgrams[0] ?? new Uint8Array(), c.tuple, 1)).toBeUndefined();
    expect(asm.pendingCount).toBe(2);
    expect(asm.evictions).toBe(1);
    expect(issues.get(QUIC_EVICTED)).toBe(1);
    // 'a' was evicted: its second half alone does not complete; 'c' still does
    const [a, , c] = conns;
    expect(asm.onDatagram(a?.dgrams[1] ?? new Uint8Array(), a?.tuple ?? '', 2)).toBeUndefined();
    expect(asm.onDatagram(c?.dgrams[1] ?? new Uint8Array(), c?.tuple ?? '', 3)).toBeInstanceOf(Uint8Array);
  });

  test('idle timeout on packet time, explicit and on the next datagram', () => {
    const issues = new IssueCounter();
    const asm = new QuicInitialAssembler({ pendingTimeoutMicros: 5_000_000, issues });
    const [d1] = clientInitialDatagrams(BIG_HELLO, { dcid: CLIENT_DCID, packets: 2 });
    expect(asm.onDatagram(d1 ?? new Uint8Array(), TUPLE, 1_000_000)).toBeUndefined();
    expect(asm.expire(5_999_999)).toBe(0);
    expect(asm.pendingCount).toBe(1);
    expect(asm.expire(6_000_000)).toBe(1);
    expect(asm.pendingCount).toBe(0);
    expect(asm.timeouts).toBe(1);
    expect(issues.get(QUIC_TIMEOUT)).toBe(1);

    // a completed connection expires silently; an incomplete one via onDatagram's own sweep
    const done = clientInitialDatagrams(fakeClientHello({ sni: 'x.kaspersky.com' }), { dcid: hex('1111111111111111') });
    asm.onDatagram(done[0] ?? new Uint8Array(), 'other|1|x|443', 10_000_000);
    asm.onDatagram(d1 ?? new Uint8Array(), TUPLE, 10_000_001);
    expect(asm.pendingCount).toBe(2);
    asm.onDatagram(hex('00'), 'noise|1|x|443', 20_000_000);
    expect(asm.pendingCount).toBe(0);
    expect(asm.timeouts).toBe(2);
  });

  test('every proper prefix of an Initial datagram is reported as truncated', () => {
    const d = firstDatagram(fakeClientHello({ sni: 'prefix.kaspersky.com' }), { dcid: CLIENT_DCID, token: new Uint8Array(70).fill(7) });
    for (let n = 1; n < d.length; n++) {
      const r = new QuicInitialAssembler().onDatagram(d.subarray(0, n), TUPLE, 1);
      expect(isIssue(r) && r.kind === 'truncated', `prefix ${n}`).toBe(true);
    }
    expect(new QuicInitialAssembler().onDatagram(d, TUPLE, 1)).toBeInstanceOf(Uint8Array);
  });

  test.for([
    { name: 'truncated Initial (snaplen)', dgram: () => V1_CLIENT_INITIAL.subarray(0, 256), want: QUIC_TRUNCATED_PACKET },
    { name: 'header cut in the DCID', dgram: () => V1_CLIENT_INITIAL.subarray(0, 9), want: QUIC_TRUNCATED_HEADER },
    { name: 'header cut before the Length', dgram: () => V1_CLIENT_INITIAL.subarray(0, 16), want: QUIC_TRUNCATED_HEADER },
    { name: 'unknown (greased) version', dgram: () => MALFORMED.unknownVersion, want: QUIC_VERSION_GREASE },
    { name: 'DCID longer than 20', dgram: () => MALFORMED.dcidTooLong, want: QUIC_BAD_HEADER },
    { name: 'SCID longer than 20', dgram: () => MALFORMED.scidTooLong, want: QUIC_BAD_HEADER },
    { name: 'Length too small for a sample', dgram: () => MALFORMED.lengthTooSmall, want: QUIC_PACKET_TOO_SHORT },
    { name: 'short header only', dgram: () => MALFORMED.shortHeader, want: undefined },
    { name: 'version negotiation', dgram: () => MALFORMED.versionNegotiation, want: undefined },
    { name: 'empty datagram', dgram: () => new Uint8Array(0), want: undefined },
  ])('$name', ({ dgram, want }) => {
    expect(new QuicInitialAssembler().onDatagram(dgram(), TUPLE, 1)).toBe(want);
  });
});

// ---------------------------------------------------------------------------------------
// Properties.

describe('properties', () => {
  test('random bytes never throw (probe and assembler)', () => {
    const asm = new QuicInitialAssembler({ maxPending: 16 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), fc.boolean(), (b, longHeader) => {
        const d = b.slice();
        if (longHeader && d.length > 5) {
          d[0] = 0xc0 | ((d[0] ?? 0) & 0x3f);
          d.set([0, 0, 0, 1], 1);
        }
        looksLikeQuicInitial(d);
        const r = asm.onDatagram(d, TUPLE, 1);
        expect(r === undefined || isIssue(r) || r instanceof Uint8Array).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  test('authenticated random frames never throw (exercises the frame parser)', () => {
    const asm = new QuicInitialAssembler({ maxPending: 64 });
    let n = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (payload) => {
        const pkt = sealInitial({ dcid: Uint8Array.of(n & 0xff, (n++ >> 8) & 0xff) }, payload);
        const r = asm.onDatagram(pkt, TUPLE, 1);
        expect(r === undefined || isIssue(r) || r instanceof Uint8Array).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test('mutated and truncated packets never throw, and never yield a wrong ClientHello', () => {
    const dgrams = clientInitialDatagrams(BIG_HELLO, { dcid: CLIENT_DCID, packets: 2 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 }),
        fc.array(fc.tuple(fc.nat(1199), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
        fc.nat(1200),
        (which, flips, cut) => {
          const d = (dgrams[which] ?? new Uint8Array()).slice(0, cut === 0 ? undefined : cut);
          for (const [at, x] of flips) if (at < d.length) d[at] = (d[at] ?? 0) ^ x;
          const asm = new QuicInitialAssembler();
          const other = dgrams[1 - which] ?? new Uint8Array();
          for (const r of [asm.onDatagram(d, TUPLE, 1), asm.onDatagram(other, TUPLE, 2)]) {
            if (r instanceof Uint8Array) expect(toHex(r)).toBe(toHex(BIG_HELLO));
            else expect(r === undefined || isIssue(r)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('any split, any packet order, any duplicates: the ClientHello exactly once', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: BIG_HELLO.length - 1 }), { maxLength: 12 }),
        fc.integer({ min: 2, max: 4 }),
        fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
        (cuts, packets, noise) => {
          const pieces = splitCrypto(BIG_HELLO, [...cuts].sort((a, b) => a - b));
          const dgrams: Uint8Array[] = [];
          for (let p = 0; p < packets; p++) {
            const mine = pieces.filter((_, i) => (i + (noise[i] ?? 0)) % packets === p);
            // every packet also repeats a random earlier piece (a retransmitted range)
            const dup = pieces[(noise[p] ?? 0) % pieces.length];
            const fs = [...mine, ...(dup === undefined ? [] : [dup])].map((f) => frames.crypto(f.offset, f.data));
            dgrams.push(sealInitial({ dcid: CLIENT_DCID, pn: p, minSize: 1200 }, concat(...fs)));
          }
          // deliver in a noise-driven order, plus a duplicate datagram
          const order = dgrams.map((d, i) => ({ d, k: (noise[i] ?? 0) * 31 + i })).sort((a, b) => a.k - b.k).map((x) => x.d);
          order.push(order[0] ?? new Uint8Array());
          const results = feed(new QuicInitialAssembler(), order);
          expect(toHex(onlyHello(results))).toBe(toHex(BIG_HELLO));
        },
      ),
      { numRuns: 150 },
    );
  });
});
