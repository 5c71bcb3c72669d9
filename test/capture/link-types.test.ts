import { describe, expect, test } from 'vitest';
import {
  ARCNET_NOT_IP,
  LINK_UNSUPPORTED,
  LLC_NOT_IP,
  NFLOG_NO_PAYLOAD,
  PKTAP_NOT_PACKET,
  PPP_NOT_IP,
  RADIO_BAD_HEADER,
  WLAN_FRAGMENT,
  WLAN_NOT_DATA,
  WLAN_PROTECTED,
} from '../../src/capture/packet/link.js';
import type { DecodeIssue } from '../../src/capture/issues.js';
import type { Observation } from '../../src/capture/observation.js';
import { AYIYA_NOT_FORWARD, CAPWAP_DTLS, CAPWAP_FRAGMENT, GRE_NO_PAYLOAD, L2TP_CONTROL } from '../../src/capture/packet/tunnels.js';
import {
  amsduSubframe,
  ayiya,
  capwapData,
  geneve,
  gre,
  IPPROTO_GRE,
  IPPROTO_IPV6,
  nsh,
  pptpGre,
  teredo,
  vxlan,
  arcnet,
  chdlc,
  concat,
  eth,
  eth8023,
  ETH_IPV4,
  ETH_IPV6,
  ETH_PPPOE_SESSION,
  fddi,
  IPPROTO_UDP,
  ipv4,
  LINKTYPE,
  llcSnap,
  mpls,
  nflog,
  ppi,
  pktap,
  ppp,
  PPP_IPV6,
  PPP_LCP,
  pppoe,
  radiotap,
  udp,
  wlan,
} from '../helpers/packets.js';
import { decodeAll, pcapFile } from '../helpers/pcap.js';
import { C4, C6, R4, udpDns, v4, v6, want } from '../helpers/wrapped-query.js';

/**
 * The link types a capture tool or a span hands over besides Ethernet, SLL and raw IP (issue
 * 14): PPP in its framings, Cisco HDLC, FDDI and 802.3 with LLC/SNAP, ARCnet, NFLOG, PKTAP and
 * 802.11 data frames bare, under radiotap and under PPI. Each wraps the same DNS query.
 */



async function decodeOne(linktype: number, frame: Uint8Array) {
  return decodeAll(pcapFile([{ data: frame }], { linktype }));
}

interface Case {
  name: string;
  linktype: number;
  frame: () => Uint8Array;
  want: Observation;
}

describe('one DNS query under more link types', () => {
  test.for<Case>([
    { name: 'PPP (9), bare protocol field', linktype: LINKTYPE.PPP, frame: () => ppp({}, v4()), want: want(4) },
    { name: 'PPP (9) with FF 03 in front', linktype: LINKTYPE.PPP, frame: () => ppp({ hdlc: true, proto: PPP_IPV6 }, v6()), want: want(6) },
    { name: 'PPP (9), one-byte protocol field (PFC)', linktype: LINKTYPE.PPP, frame: () => ppp({ pfc: true }, v4()), want: want(4) },
    { name: 'PPP in HDLC-like framing (50)', linktype: LINKTYPE.PPP_HDLC, frame: () => ppp({ hdlc: true }, v4()), want: want(4) },
    { name: 'PPP with direction (204)', linktype: LINKTYPE.PPP_WITH_DIR, frame: () => concat(Uint8Array.of(1), ppp({ hdlc: true }, v4())), want: want(4) },
    { name: 'Cisco HDLC (104), IPv4', linktype: LINKTYPE.C_HDLC, frame: () => chdlc(ETH_IPV4, v4()), want: want(4) },
    { name: 'Cisco HDLC (104), IPv6', linktype: LINKTYPE.C_HDLC, frame: () => chdlc(ETH_IPV6, v6()), want: want(6) },
    { name: 'Cisco HDLC with direction (205)', linktype: LINKTYPE.C_HDLC_WITH_DIR, frame: () => concat(Uint8Array.of(0), chdlc(ETH_IPV4, v4())), want: want(4) },
    { name: 'FDDI (10) with LLC/SNAP', linktype: LINKTYPE.FDDI, frame: () => fddi(llcSnap(ETH_IPV4, v4())), want: want(4) },
    { name: '802.3 length field with LLC/SNAP', linktype: LINKTYPE.ETHERNET, frame: () => eth8023(llcSnap(ETH_IPV4, v4())), want: want(4) },
    {
      name: '802.3 with LLC/SNAP: Ethernet padding after the length is ignored',
      linktype: LINKTYPE.ETHERNET,
      frame: () => concat(eth8023(llcSnap(ETH_IPV6, v6())), new Uint8Array(8).fill(0xee)),
      want: want(6),
    },
    { name: 'SNAP with the 802.1H bridge-tunnel OUI', linktype: LINKTYPE.ETHERNET, frame: () => eth8023(llcSnap(ETH_IPV4, v4(), 0xf8)), want: want(4) },
    { name: 'ARCnet Linux (129), RFC 1051 IP', linktype: LINKTYPE.ARCNET_LINUX, frame: () => arcnet({ linux: true, protoId: 0xf0 }, v4()), want: want(4) },
    { name: 'ARCnet Linux (129), RFC 1201 IP', linktype: LINKTYPE.ARCNET_LINUX, frame: () => arcnet({ linux: true, protoId: 0xd4 }, v4()), want: want(4) },
    { name: 'ARCnet Linux (129), IPv6', linktype: LINKTYPE.ARCNET_LINUX, frame: () => arcnet({ linux: true, protoId: 0xc4 }, v6()), want: want(6) },
    { name: 'ARCnet BSD (7), RFC 1201 IP', linktype: LINKTYPE.ARCNET_BSD, frame: () => arcnet({ linux: false, protoId: 0xd4 }, v4()), want: want(4) },
    { name: 'NFLOG (239), IPv4, little-endian TLVs', linktype: LINKTYPE.NFLOG, frame: () => nflog({}, v4()), want: want(4) },
    { name: 'NFLOG (239), IPv6, big-endian TLVs', linktype: LINKTYPE.NFLOG, frame: () => nflog({ family: 10, le: false }, v6()), want: want(6) },
    { name: 'PKTAP (258) over Ethernet', linktype: LINKTYPE.PKTAP, frame: () => pktap(1, eth({ type: ETH_IPV4 }, v4())), want: want(4) },
    { name: 'USER2 (149) is PKTAP, as macOS 10.9 wrote it', linktype: LINKTYPE.USER2, frame: () => pktap(1, eth({ type: ETH_IPV6 }, v6())), want: want(6) },
    { name: 'PKTAP over raw IP', linktype: LINKTYPE.PKTAP, frame: () => pktap(12, v4()), want: want(4) },
    { name: '802.11 (105), QoS data, from DS', linktype: LINKTYPE.IEEE802_11, frame: () => wlan({ fromDs: true }, llcSnap(ETH_IPV4, v4())), want: want(4) },
    { name: '802.11, plain data, to DS, IPv6', linktype: LINKTYPE.IEEE802_11, frame: () => wlan({ qos: false, toDs: true }, llcSnap(ETH_IPV6, v6())), want: want(6) },
    { name: '802.11, four addresses (WDS)', linktype: LINKTYPE.IEEE802_11, frame: () => wlan({ toDs: true, fromDs: true }, llcSnap(ETH_IPV4, v4())), want: want(4) },
    { name: '802.11, QoS with HT Control (+HTC)', linktype: LINKTYPE.IEEE802_11, frame: () => wlan({ htc: true }, llcSnap(ETH_IPV4, v4())), want: want(4) },
    {
      name: '802.11 A-MSDU: every subframe is a packet',
      linktype: LINKTYPE.IEEE802_11,
      frame: () => wlan({ amsdu: true }, concat(amsduSubframe(llcSnap(ETH_IPV4, v4())), amsduSubframe(llcSnap(ETH_IPV6, v6()), true))),
      want: want(4),
    },
    { name: 'radiotap (127)', linktype: LINKTYPE.IEEE802_11_RADIOTAP, frame: () => radiotap({}, wlan({}, llcSnap(ETH_IPV4, v4()))), want: want(4) },
    {
      name: 'radiotap with FCS at the end (flag 0x10) and two present words',
      linktype: LINKTYPE.IEEE802_11_RADIOTAP,
      frame: () => radiotap({ flags: 0x10, extraPresent: true }, concat(wlan({}, llcSnap(ETH_IPV4, ipv4({ src: C4, dst: R4, proto: IPPROTO_UDP, totalLengthOverride: 0 }, udpDns()))), Uint8Array.of(1, 2, 3, 4))),
      want: want(4),
    },
    {
      name: 'radiotap with the data-pad flag: the 26-byte QoS header is padded to 28',
      linktype: LINKTYPE.IEEE802_11_RADIOTAP,
      frame: () => radiotap({ flags: 0x20 }, wlan({}, concat(Uint8Array.of(0, 0), llcSnap(ETH_IPV4, v4())))),
      want: want(4),
    },
    { name: 'PPI (192) with 802.11-Common', linktype: LINKTYPE.PPI, frame: () => ppi({}, wlan({}, llcSnap(ETH_IPV4, v4()))), want: want(4) },
    {
      name: 'PPI, FCS present',
      linktype: LINKTYPE.PPI,
      frame: () => ppi({ fcs: true }, concat(wlan({}, llcSnap(ETH_IPV4, ipv4({ src: C4, dst: R4, proto: IPPROTO_UDP, totalLengthOverride: 0 }, udpDns()))), Uint8Array.of(1, 2, 3, 4))),
      want: want(4),
    },
    { name: 'PPI over Ethernet', linktype: LINKTYPE.PPI, frame: () => ppi({ dlt: 1 }, eth({ type: ETH_IPV4 }, v4())), want: want(4) },
    { name: 'PPPoE with a one-byte PPP protocol field', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_PPPOE_SESSION }, pppoeCompressed(v4())), want: want(4) },
    { name: 'LINKTYPE_IPV4 holding an IPv6 packet: the version decides', linktype: LINKTYPE.IPV4, frame: v6, want: want(6) },
    { name: 'LINKTYPE_IPV6 holding an IPv4 packet', linktype: LINKTYPE.IPV6, frame: v4, want: want(4) },
  ])('$name', async ({ linktype, frame, want: w }) => {
    const { observations, decoder } = await decodeOne(linktype, frame());
    expect(observations[0]).toStrictEqual(w);
    expect(decoder.issues.total()).toBe(0);
  });

  test('an A-MSDU yields the packet of every subframe', async () => {
    const frame = wlan({ amsdu: true }, concat(amsduSubframe(llcSnap(ETH_IPV4, v4())), amsduSubframe(llcSnap(ETH_IPV6, v6()), true)));
    const { observations } = await decodeOne(LINKTYPE.IEEE802_11, frame);
    expect(observations.map((o) => o.src)).toStrictEqual([C4, C6]);
  });
});

/** RFC 2516 session with a compressed (one-byte) PPP protocol: PPPoE's length counts it. */
function pppoeCompressed(payload: Uint8Array): Uint8Array {
  const p = pppoe({}, payload);
  // pppoe() writes a two-byte protocol 0x0021: drop its high byte and fix the length.
  const out = concat(p.subarray(0, 6), p.subarray(7));
  out[4] = ((payload.length + 1) >> 8) & 0xff;
  out[5] = (payload.length + 1) & 0xff;
  return out;
}

describe('what these link types carry besides IP is counted, not guessed at', () => {
  test.for<{ name: string; linktype: number; frame: () => Uint8Array; issue: DecodeIssue }>([
    { name: 'PPP LCP', linktype: LINKTYPE.PPP, frame: () => ppp({ hdlc: true, proto: PPP_LCP }, new Uint8Array(8)), issue: PPP_NOT_IP },
    { name: '802.3 spanning tree (LLC 42 42)', linktype: LINKTYPE.ETHERNET, frame: () => eth8023(concat(Uint8Array.of(0x42, 0x42, 0x03), new Uint8Array(35))), issue: LLC_NOT_IP },
    { name: 'SNAP with the Cisco OUI (CDP)', linktype: LINKTYPE.ETHERNET, frame: () => eth8023(llcSnap(0x2000, new Uint8Array(20), 0x00000c)), issue: LLC_NOT_IP },
    { name: 'ARCnet ARP', linktype: LINKTYPE.ARCNET_LINUX, frame: () => arcnet({ linux: true, protoId: 0xf1 }, new Uint8Array(28)), issue: ARCNET_NOT_IP },
    { name: 'NFLOG without a payload TLV', linktype: LINKTYPE.NFLOG, frame: () => nflog({ payload: false }, v4()), issue: NFLOG_NO_PAYLOAD },
    { name: 'PKTAP record that is not a packet', linktype: LINKTYPE.PKTAP, frame: () => pktap(1, eth({ type: ETH_IPV4 }, v4()), 2), issue: PKTAP_NOT_PACKET },
    { name: 'PKTAP nesting PKTAP', linktype: LINKTYPE.PKTAP, frame: () => pktap(258, pktap(1, eth({ type: ETH_IPV4 }, v4()))), issue: PKTAP_NOT_PACKET },
    { name: '802.11 beacon (management)', linktype: LINKTYPE.IEEE802_11, frame: () => wlan({ type: 0, subtype: 8, qos: false }, new Uint8Array(40)), issue: WLAN_NOT_DATA },
    { name: '802.11 QoS Null (no body)', linktype: LINKTYPE.IEEE802_11, frame: () => wlan({ subtype: 12 }, new Uint8Array(0)), issue: WLAN_NOT_DATA },
    { name: '802.11 protected (CCMP)', linktype: LINKTYPE.IEEE802_11, frame: () => wlan({ protected: true }, new Uint8Array(60)), issue: WLAN_PROTECTED },
    { name: '802.11 first fragment', linktype: LINKTYPE.IEEE802_11, frame: () => wlan({ moreFragments: true }, llcSnap(ETH_IPV4, v4())), issue: WLAN_FRAGMENT },
    { name: 'radiotap of an unknown version', linktype: LINKTYPE.IEEE802_11_RADIOTAP, frame: () => patch0(radiotap({}, wlan({}, llcSnap(ETH_IPV4, v4())))), issue: RADIO_BAD_HEADER },
    { name: 'a link type not decoded (token ring, 6)', linktype: 6, frame: v4, issue: LINK_UNSUPPORTED },
  ])('$name', async ({ linktype, frame, issue }) => {
    const { observations, decoder } = await decodeOne(linktype, frame());
    expect(observations).toStrictEqual([]);
    expect(decoder.issues.rows()).toStrictEqual([{ layer: issue.layer, kind: issue.kind, reason: issue.reason, count: 1 }]);
  });
});

function patch0(b: Uint8Array): Uint8Array {
  const c = b.slice();
  c[0] = 1;
  return c;
}

describe('every prefix of every new link type decodes without throwing', () => {
  const frames: Array<[number, Uint8Array]> = [
    [LINKTYPE.PPP, ppp({ hdlc: true }, v4())],
    [LINKTYPE.C_HDLC, chdlc(ETH_IPV4, v4())],
    [LINKTYPE.FDDI, fddi(llcSnap(ETH_IPV4, v4()))],
    [LINKTYPE.ARCNET_BSD, arcnet({ linux: false, protoId: 0xd4 }, v4())],
    [LINKTYPE.NFLOG, nflog({}, v4())],
    [LINKTYPE.PKTAP, pktap(1, eth({ type: ETH_IPV4 }, v4()))],
    [LINKTYPE.IEEE802_11_RADIOTAP, radiotap({ flags: 0x30, extraPresent: true }, wlan({ amsdu: true, htc: true, toDs: true, fromDs: true }, amsduSubframe(llcSnap(ETH_IPV4, v4()))))],
    [LINKTYPE.PPI, ppi({ fcs: true }, wlan({}, llcSnap(ETH_IPV4, v4())))],
  ];
  test.for(frames.map(([linktype, frame], i) => ({ i, linktype, frame })))('frame $i', async ({ linktype, frame }) => {
    for (let n = 0; n < frame.length; n++) {
      const { decoder } = await decodeOne(linktype, frame.subarray(0, n));
      expect(decoder.issues.rows().some((r) => r.reason === 'internal_error')).toBe(false);
    }
  });
});

const OUTER_A4 = '198.18.200.1';
const OUTER_B4 = '198.18.200.2';
const outer4 = (proto: number, payload: Uint8Array): Uint8Array => eth({ type: ETH_IPV4 }, ipv4({ src: OUTER_A4, dst: OUTER_B4, proto }, payload));
const outerUdp = (sport: number, dport: number, payload: Uint8Array): Uint8Array => outer4(IPPROTO_UDP, udp({ sport, dport }, payload));
const ethV4 = (): Uint8Array => eth({ type: ETH_IPV4 }, v4());

describe('one DNS query under more tunnels', () => {
  test.for<Omit<Case, 'linktype'>>([
    { name: 'PPTP: enhanced GRE (version 1) with PPP in HDLC framing', frame: () => outer4(IPPROTO_GRE, pptpGre({ seq: 5 }, ppp({ hdlc: true }, v4()))), want: want(4, { tunnel: ['pptp'] }) },
    { name: 'PPTP with an acknowledgment, compressed PPP fields', frame: () => outer4(IPPROTO_GRE, pptpGre({ seq: 5, ack: 4 }, ppp({ pfc: true }, v4()))), want: want(4, { tunnel: ['pptp'] }) },
    { name: 'GRE (version 0) carrying PPP, 0x880b', frame: () => outer4(IPPROTO_GRE, gre({ proto: 0x880b }, ppp({ proto: PPP_IPV6 }, v6()))), want: want(6, { tunnel: ['gre'] }) },
    { name: 'GRE carrying 802.11 (Aruba, 0x8200)', frame: () => outer4(IPPROTO_GRE, gre({ proto: 0x8200 }, wlan({}, llcSnap(ETH_IPV4, v4())))), want: want(4, { tunnel: ['gre-aruba'] }) },
    { name: 'GRE carrying 802.11 (Aruba, 0x9000)', frame: () => outer4(IPPROTO_GRE, gre({ proto: 0x9000 }, wlan({ qos: false }, llcSnap(ETH_IPV4, v4())))), want: want(4, { tunnel: ['gre-aruba'] }) },
    { name: 'GRE-in-UDP (RFC 8086, port 4754)', frame: () => outerUdp(50000, 4754, gre({ proto: ETH_IPV4 }, v4())), want: want(4, { tunnel: ['gre-udp'] }) },
    { name: 'AYIYA (port 5072), IPv6 inside', frame: () => outerUdp(53859, 5072, ayiya(IPPROTO_IPV6, v6())), want: want(6, { tunnel: ['ayiya'] }) },
    { name: 'AYIYA from the server (source port 5072)', frame: () => outerUdp(5072, 53859, ayiya(IPPROTO_IPV6, v6())), want: want(6, { tunnel: ['ayiya'] }) },
    { name: 'CAPWAP data, 802.3 frame', frame: () => outerUdp(12222, 5247, capwapData({ native: false }, ethV4())), want: want(4, { tunnel: ['capwap'] }) },
    { name: 'CAPWAP data, native 802.11', frame: () => outerUdp(12222, 5247, capwapData({ native: true }, wlan({ toDs: true }, llcSnap(ETH_IPV4, v4())))), want: want(4, { tunnel: ['capwap'] }) },
    {
      name: 'CAPWAP data, 802.11 with the frame control byte-swapped (Cisco)',
      frame: () => outerUdp(5247, 12222, capwapData({ native: true }, swapFc(wlan({ fromDs: true }, llcSnap(ETH_IPV4, v4()))))),
      want: want(4, { tunnel: ['capwap'] }),
    },
    { name: 'Teredo (port 3544)', frame: () => outerUdp(40001, 3544, teredo(v6())), want: want(6, { tunnel: ['teredo'] }) },
    { name: 'Teredo with an origin indication, from the relay', frame: () => outerUdp(3544, 40001, teredo(v6(), true)), want: want(6, { tunnel: ['teredo'] }) },
    { name: 'NSH (EtherType 0x894f), IPv4 inside', frame: () => eth({ type: 0x894f }, nsh(1, v4())), want: want(4, { tunnel: ['nsh'] }) },
    { name: 'NSH, Ethernet inside', frame: () => eth({ type: 0x894f }, nsh(3, ethV4())), want: want(4, { tunnel: ['nsh'] }) },
    { name: 'VXLAN answered from port 4789 (source port only)', frame: () => outerUdp(4789, 33333, vxlan(5001, ethV4())), want: want(4, { tunnel: ['vxlan'] }) },
    { name: 'GENEVE answered from port 6081 (source port only)', frame: () => outerUdp(6081, 12345, geneve({ vni: 7 }, ethV4())), want: want(4, { tunnel: ['geneve'] }) },
    { name: 'VXLAN-GPE (4790), IPv4 next protocol', frame: () => outerUdp(40000, 4790, concat(Uint8Array.of(0x0c, 0, 0, 1, 0, 0, 9, 0), v4())), want: want(4, { tunnel: ['vxlan-gpe'] }) },
    { name: 'VXLAN-GPE, Ethernet next protocol', frame: () => outerUdp(40000, 4790, concat(Uint8Array.of(0x0c, 0, 0, 3, 0, 0, 9, 0), ethV4())), want: want(4, { tunnel: ['vxlan-gpe'] }) },
    { name: 'MPLS-in-UDP (RFC 7510, 6635)', frame: () => outerUdp(40000, 6635, mpls([100], v4())), want: want(4, { tunnel: ['mpls-udp'] }) },
    { name: 'L2TPv2 data, PPP in HDLC framing', frame: () => outerUdp(1701, 1701, concat(Uint8Array.of(0x00, 0x02, 0x12, 0x34, 0x00, 0x01), ppp({ hdlc: true }, v4()))), want: want(4, { tunnel: ['l2tp'] }) },
    { name: 'L2TPv2 data with length, sequence and offset fields', frame: () => outerUdp(1701, 1701, concat(Uint8Array.of(0x4a, 0x02, 0, 0, 0x12, 0x34, 0, 1, 0, 5, 0, 6, 0, 2, 0xaa, 0xbb), ppp({ proto: PPP_IPV6 }, v6()))), want: want(6, { tunnel: ['l2tp'] }) },
    { name: 'VN-Tag (0x8926)', frame: () => eth({ type: 0x8926 }, concat(Uint8Array.of(0x80, 0x01, 0x00, 0x02, 0x08, 0x00), v4())), want: want(4) },
    { name: 'E-Tag (802.1BR, 0x893f)', frame: () => eth({ type: 0x893f }, concat(new Uint8Array(6), Uint8Array.of(0x86, 0xdd), v6())), want: want(6) },
    { name: 'Cisco MetaData (0x8909)', frame: () => eth({ type: 0x8909 }, concat(Uint8Array.of(1, 1, 0, 1, 0, 42, 0x08, 0x00), v4())), want: want(4) },
    { name: 'PBB I-TAG (802.1ah, 0x88e7)', frame: () => eth({ type: 0x88e7 }, concat(Uint8Array.of(0, 0, 0x10, 0x01), ethV4())), want: want(4, { tunnel: ['pbb'] }) },
  ])('$name', async ({ frame, want: w }) => {
    const { observations, decoder } = await decodeOne(LINKTYPE.ETHERNET, frame());
    expect(observations).toStrictEqual([w]);
    expect(decoder.issues.total()).toBe(0);
  });

  test.for<{ name: string; frame: () => Uint8Array; issue: DecodeIssue }>([
    { name: 'a PPTP acknowledgment without payload', frame: () => outer4(IPPROTO_GRE, pptpGre({ ack: 4 }, new Uint8Array(0))), issue: GRE_NO_PAYLOAD },
    { name: 'PPTP carrying LCP', frame: () => outer4(IPPROTO_GRE, pptpGre({ seq: 1 }, ppp({ hdlc: true, proto: PPP_LCP }, new Uint8Array(10)))), issue: PPP_NOT_IP },
    { name: 'AYIYA heartbeat', frame: () => outerUdp(53859, 5072, ayiya(59, new Uint8Array(0), 0)), issue: AYIYA_NOT_FORWARD },
    { name: 'CAPWAP data fragment', frame: () => outerUdp(12222, 5247, capwapData({ native: true, fragment: true }, new Uint8Array(40))), issue: CAPWAP_FRAGMENT },
    { name: 'CAPWAP data in DTLS', frame: () => outerUdp(12222, 5247, capwapData({ native: true, dtls: true }, new Uint8Array(40))), issue: CAPWAP_DTLS },
    { name: 'L2TP control message', frame: () => outerUdp(1701, 1701, concat(Uint8Array.of(0xc8, 0x02, 0, 20, 0, 1, 0, 0, 0, 0, 0, 0), new Uint8Array(8))), issue: L2TP_CONTROL },
  ])('$name', async ({ frame, issue }) => {
    const { observations, decoder } = await decodeOne(LINKTYPE.ETHERNET, frame());
    expect(observations).toStrictEqual([]);
    expect(decoder.issues.rows()).toStrictEqual([{ layer: issue.layer, kind: issue.kind, reason: issue.reason, count: 1 }]);
  });

  test('a QUIC Initial from source port 4789 or 6081 is not taken for a tunnel', async () => {
    // Not a valid Initial here: only that the tunnels do not claim the datagram.
    const quicish = concat(Uint8Array.of(0xc8, 0, 0, 0, 1, 8), new Uint8Array(60));
    for (const sport of [4789, 6081, 4754]) {
      const { decoder } = await decodeOne(LINKTYPE.ETHERNET, outerUdp(sport, 443, quicish));
      expect(decoder.issues.rows().filter((r) => r.layer === 'tunnel' || r.layer === 'ethernet')).toStrictEqual([]);
    }
  });
});

function swapFc(frame: Uint8Array): Uint8Array {
  const c = frame.slice();
  c[0] = frame[1]!;
  c[1] = frame[0]!;
  return c;
}
