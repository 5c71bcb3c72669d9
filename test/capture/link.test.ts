import { describe, expect, test } from 'vitest';
import { DECODER_BUG } from '../../src/capture/decoder.js';
import { IPV4_BAD_IHL, IPV4_BAD_LENGTH, IPV4_BAD_VERSION, IPV4_FRAGMENT_CUT, IPV4_TRUNCATED, IPV6_EXT_TRUNCATED, IPV6_FRAGMENT_CUT, IPV6_TRUNCATED, IP_PROTO_SKIPPED, UDP_BAD_LENGTH, UDP_TRUNCATED } from '../../src/capture/packet/ip.js';
import { ETHER_NOT_IP, LINK_TRUNCATED, LINK_UNSUPPORTED, LLC_NOT_IP, MPLS_TRUNCATED, PPP_NOT_IP, PPPOE_TRUNCATED } from '../../src/capture/packet/link.js';
import { MAX_ENCAP_DEPTH, TUNNEL_TOO_DEEP, TUNNEL_TRUNCATED, TUNNEL_UNSUPPORTED } from '../../src/capture/packet/tunnels.js';
import { TCP_BAD_OFFSET, TCP_TRUNCATED } from '../../src/capture/tcp/streams.js';
import { DNS_TRUNCATED_HEADER } from '../../src/capture/app/dns.js';
import type { DecodeIssue } from '../../src/capture/issues.js';
import type { Observation } from '../../src/capture/observation.js';
import {
  concat,
  erspan2,
  erspan3,
  eth,
  ETH_ARP,
  ETH_ERSPAN_2,
  ETH_ERSPAN_3,
  ETH_IPV4,
  ETH_IPV6,
  ETH_MPLS,
  ETH_PPPOE_SESSION,
  ETH_TEB,
  geneve,
  gre,
  gtpu,
  IPPROTO_DSTOPTS,
  IPPROTO_GRE,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMPV6,
  IPPROTO_IPIP,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipv4,
  ipv6,
  ipv4Fragments,
  ipv6Frag,
  ipv6Fragments,
  LINKTYPE,
  mpls,
  nullLink,
  optionsHeader,
  patch,
  PDU_SESSION_CONTAINER,
  pppoe,
  ROUTER_ALERT,
  sll,
  sll2,
  tcp,
  udp,
  vxlan,
} from '../helpers/packets.js';
import { FRAG_AT_END } from '../../src/capture/packet/defrag.js';
import { decodeAll, pcapFile, T0 } from '../helpers/pcap.js';
import { C4, C6, Q, R4, R6, udpDns, v4, v6, want } from '../helpers/wrapped-query.js';

/**
 * One DNS query for s01.upd.kaspersky.com, from an inner client to an inner resolver, wrapped
 * in every link type and encapsulation the decoder follows. Outer tunnel endpoints use other
 * addresses, so a test sees at once whether the inner or the outer header was reported.
 */
const OUTER_A4 = '198.18.200.1';
const OUTER_B4 = '198.18.200.2';
const OUTER_A6 = 'fd00:ffff::1';
const OUTER_B6 = 'fd00:ffff::2';

const ethV4 = (): Uint8Array => eth({ type: ETH_IPV4 }, v4());
const ethV6 = (): Uint8Array => eth({ type: ETH_IPV6 }, v6());
/** Outer IPv4 packet between the tunnel endpoints. */
const outer4 = (proto: number, payload: Uint8Array): Uint8Array => eth({ type: ETH_IPV4 }, ipv4({ src: OUTER_A4, dst: OUTER_B4, proto }, payload));
const outer6 = (next: number, payload: Uint8Array): Uint8Array => eth({ type: ETH_IPV6 }, ipv6({ src: OUTER_A6, dst: OUTER_B6, next }, payload));
const outerUdp = (dport: number, payload: Uint8Array, sport = 49152): Uint8Array => outer4(IPPROTO_UDP, udp({ sport, dport }, payload));


async function decodeOne(linktype: number, frame: Uint8Array, origLen?: number) {
  return decodeAll(pcapFile([origLen === undefined ? { data: frame } : { data: frame, origLen }], { linktype }));
}

interface LinkCase {
  name: string;
  linktype: number;
  frame: () => Uint8Array;
  want: Observation;
}

describe('one DNS query under every link type', () => {
  test.for<LinkCase>([
    { name: 'Ethernet, IPv4', linktype: LINKTYPE.ETHERNET, frame: ethV4, want: want(4) },
    { name: 'Ethernet, IPv6', linktype: LINKTYPE.ETHERNET, frame: ethV6, want: want(6) },
    { name: '802.1Q', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_IPV4, vlan: [42] }, v4()), want: want(4, { vlan: 42 }) },
    { name: '802.1Q with priority bits, IPv6', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_IPV6, vlan: [4094], pcp: 5 }, v6()), want: want(6, { vlan: 4094 }) },
    { name: 'QinQ (802.1ad outer 0x88a8): the outer id', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_IPV4, vlan: [100, 42] }, v4()), want: want(4, { vlan: 100 }) },
    { name: 'triple-tagged', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_IPV4, vlan: [7, 8, 9] }, v4()), want: want(4, { vlan: 7 }) },
    { name: 'NULL, AF_INET little-endian', linktype: LINKTYPE.NULL, frame: () => nullLink(2, true, v4()), want: want(4) },
    { name: 'NULL, AF_INET big-endian (BE sniffer)', linktype: LINKTYPE.NULL, frame: () => nullLink(2, false, v4()), want: want(4) },
    { name: 'NULL, AF_INET6 = 24 (NetBSD/OpenBSD)', linktype: LINKTYPE.NULL, frame: () => nullLink(24, true, v6()), want: want(6) },
    { name: 'NULL, AF_INET6 = 28 (FreeBSD)', linktype: LINKTYPE.NULL, frame: () => nullLink(28, true, v6()), want: want(6) },
    { name: 'NULL, AF_INET6 = 30 (macOS)', linktype: LINKTYPE.NULL, frame: () => nullLink(30, true, v6()), want: want(6) },
    { name: 'NULL, AF_INET6 = 10 (Linux)', linktype: LINKTYPE.NULL, frame: () => nullLink(10, true, v6()), want: want(6) },
    { name: 'NULL, AF_INET6 = 30 big-endian', linktype: LINKTYPE.NULL, frame: () => nullLink(30, false, v6()), want: want(6) },
    { name: 'LOOP, AF_INET network order', linktype: LINKTYPE.LOOP, frame: () => nullLink(2, false, v4()), want: want(4) },
    { name: 'LOOP, AF_INET6 = 24 network order', linktype: LINKTYPE.LOOP, frame: () => nullLink(24, false, v6()), want: want(6) },
    { name: 'RAW (101), IPv4', linktype: LINKTYPE.RAW, frame: v4, want: want(4) },
    { name: 'RAW (101), IPv6', linktype: LINKTYPE.RAW, frame: v6, want: want(6) },
    { name: 'RAW (12, DLT_RAW on most BSDs)', linktype: LINKTYPE.RAW_12, frame: v4, want: want(4) },
    { name: 'RAW (14, DLT_RAW on OpenBSD)', linktype: LINKTYPE.RAW_OPENBSD, frame: v6, want: want(6) },
    { name: 'IPV4 (228)', linktype: LINKTYPE.IPV4, frame: v4, want: want(4) },
    { name: 'IPV6 (229)', linktype: LINKTYPE.IPV6, frame: v6, want: want(6) },
    { name: 'Linux SLL, IPv4', linktype: LINKTYPE.LINUX_SLL, frame: () => sll({ protocol: ETH_IPV4 }, v4()), want: want(4) },
    { name: 'Linux SLL, IPv6 received', linktype: LINKTYPE.LINUX_SLL, frame: () => sll({ protocol: ETH_IPV6, pktType: 0 }, v6()), want: want(6) },
    { name: 'Linux SLL, 802.1Q tag in the payload', linktype: LINKTYPE.LINUX_SLL, frame: () => sll({ protocol: 0x8100 }, concat(Uint8Array.of(0, 42, 0x08, 0x00), v4())), want: want(4, { vlan: 42 }) },
    { name: 'Linux SLL2, IPv4', linktype: LINKTYPE.LINUX_SLL2, frame: () => sll2({ protocol: ETH_IPV4 }, v4()), want: want(4) },
    { name: 'Linux SLL2, IPv6', linktype: LINKTYPE.LINUX_SLL2, frame: () => sll2({ protocol: ETH_IPV6, ifindex: 7 }, v6()), want: want(6) },
  ])('$name', async ({ linktype, frame, want: w }) => {
    const { observations, decoder } = await decodeOne(linktype, frame());
    expect(observations).toStrictEqual([w]);
    expect(decoder.issues.total()).toBe(0);
  });
});

describe('one DNS query under every encapsulation', () => {
  test.for<Omit<LinkCase, 'linktype'>>([
    { name: 'MPLS, one label', frame: () => eth({ type: ETH_MPLS }, mpls([1000], v4())), want: want(4) },
    { name: 'MPLS, two labels', frame: () => eth({ type: ETH_MPLS }, mpls([1000, 2000], v4())), want: want(4) },
    { name: 'MPLS, two labels, IPv6', frame: () => eth({ type: ETH_MPLS }, mpls([16, 17], v6())), want: want(6) },
    {
      name: 'MPLS pseudowire with control word (RFC 4385), Ethernet inside',
      frame: () => eth({ type: ETH_MPLS }, mpls([300], concat(new Uint8Array(4), ethV4()))),
      want: want(4, { tunnel: ['mpls-pw'] }),
    },
    { name: 'MPLS over 802.1Q', frame: () => eth({ type: ETH_MPLS, vlan: [5] }, mpls([1000, 2000], v4())), want: want(4, { vlan: 5 }) },
    { name: 'PPPoE session, IPv4', frame: () => eth({ type: ETH_PPPOE_SESSION }, pppoe({}, v4())), want: want(4) },
    { name: 'PPPoE session, IPv6', frame: () => eth({ type: ETH_PPPOE_SESSION }, pppoe({ proto: 0x0057 }, v6())), want: want(6) },
    {
      name: 'PPPoE: Ethernet padding after the session payload is ignored',
      frame: () => concat(eth({ type: ETH_PPPOE_SESSION }, pppoe({}, v4())), new Uint8Array(20).fill(0xee)),
      want: want(4),
    },
    { name: 'GRE, IPv4 in IPv4', frame: () => outer4(IPPROTO_GRE, gre({ proto: ETH_IPV4 }, v4())), want: want(4, { tunnel: ['gre'] }) },
    { name: 'GRE, IPv6 in IPv4', frame: () => outer4(IPPROTO_GRE, gre({ proto: ETH_IPV6 }, v6())), want: want(6, { tunnel: ['gre'] }) },
    { name: 'GRE, IPv4 in IPv6', frame: () => outer6(IPPROTO_GRE, gre({ proto: ETH_IPV4 }, v4())), want: want(4, { tunnel: ['gre'] }) },
    {
      name: 'GRE with checksum, key and sequence number (RFC 2890)',
      frame: () => outer4(IPPROTO_GRE, gre({ proto: ETH_IPV4, checksum: true, key: 0xfeed, seq: 77 }, v4())),
      want: want(4, { tunnel: ['gre'] }),
    },
    { name: 'GRE with key only', frame: () => outer4(IPPROTO_GRE, gre({ proto: ETH_IPV4, key: 1 }, v4())), want: want(4, { tunnel: ['gre'] }) },
    { name: 'GRE TEB (0x6558), Ethernet inside', frame: () => outer4(IPPROTO_GRE, gre({ proto: ETH_TEB }, ethV4())), want: want(4, { tunnel: ['gre'] }) },
    {
      name: 'GRE TEB, inner frame 802.1Q-tagged',
      frame: () => outer4(IPPROTO_GRE, gre({ proto: ETH_TEB, key: 9 }, eth({ type: ETH_IPV4, vlan: [300] }, v4()))),
      want: want(4, { tunnel: ['gre'], vlan: 300 }),
    },
    {
      name: 'outer 802.1Q is kept over an inner tag',
      frame: () => eth({ type: ETH_IPV4, vlan: [11] }, ipv4({ src: OUTER_A4, dst: OUTER_B4, proto: IPPROTO_GRE }, gre({ proto: ETH_TEB }, eth({ type: ETH_IPV4, vlan: [300] }, v4())))),
      want: want(4, { tunnel: ['gre'], vlan: 11 }),
    },
    { name: 'ERSPAN type I (GRE 0x88be, no sequence)', frame: () => outer4(IPPROTO_GRE, gre({ proto: ETH_ERSPAN_2 }, ethV4())), want: want(4, { tunnel: ['erspan1'] }) },
    {
      name: 'ERSPAN type II',
      frame: () => outer4(IPPROTO_GRE, gre({ proto: ETH_ERSPAN_2, seq: 1 }, erspan2({ session: 12, vlan: 0 }, ethV4()))),
      want: want(4, { tunnel: ['erspan2'] }),
    },
    {
      name: 'ERSPAN type III',
      frame: () => outer4(IPPROTO_GRE, gre({ proto: ETH_ERSPAN_3, seq: 1 }, erspan3({ session: 12 }, ethV4()))),
      want: want(4, { tunnel: ['erspan3'] }),
    },
    {
      name: 'ERSPAN type III with platform sub-header (O flag)',
      frame: () => outer4(IPPROTO_GRE, gre({ proto: ETH_ERSPAN_3, seq: 1 }, erspan3({ session: 12, platform: new Uint8Array(8).fill(0xab) }, ethV4()))),
      want: want(4, { tunnel: ['erspan3'] }),
    },
    { name: 'VXLAN', frame: () => outerUdp(4789, vxlan(5001, ethV4())), want: want(4, { tunnel: ['vxlan'] }) },
    { name: 'VXLAN, IPv6 inside, over IPv6', frame: () => outer6(IPPROTO_UDP, udp({ sport: 49152, dport: 4789 }, vxlan(1, ethV6()))), want: want(6, { tunnel: ['vxlan'] }) },
    { name: 'VXLAN, inner VLAN', frame: () => outerUdp(4789, vxlan(5001, eth({ type: ETH_IPV4, vlan: [77] }, v4()))), want: want(4, { tunnel: ['vxlan'], vlan: 77 }) },
    { name: 'GENEVE, Ethernet inside, no options', frame: () => outerUdp(6081, geneve({ vni: 7 }, ethV4())), want: want(4, { tunnel: ['geneve'] }) },
    {
      name: 'GENEVE with options (two TLVs, 12 bytes)',
      frame: () =>
        outerUdp(
          6081,
          geneve(
            {
              vni: 7,
              options: [
                { optClass: 0x0102, type: 0x80, data: Uint8Array.of(1, 2, 3, 4) },
                { optClass: 0xffff, type: 0x01, data: new Uint8Array(0) },
              ],
            },
            ethV4(),
          ),
        ),
      want: want(4, { tunnel: ['geneve'] }),
    },
    { name: 'GENEVE carrying IPv4 directly (protocol 0x0800)', frame: () => outerUdp(6081, geneve({ vni: 7, proto: ETH_IPV4 }, v4())), want: want(4, { tunnel: ['geneve'] }) },
    { name: 'GENEVE carrying IPv6 directly', frame: () => outerUdp(6081, geneve({ vni: 7, proto: ETH_IPV6 }, v6())), want: want(6, { tunnel: ['geneve'] }) },
    { name: 'GTP-U, no optional fields', frame: () => outerUdp(2152, gtpu(0x11223344, v4())), want: want(4, { tunnel: ['gtp-u'] }) },
    { name: 'GTP-U, sequence number', frame: () => outerUdp(2152, gtpu(1, v6(), { seq: 99 }), 2152), want: want(6, { tunnel: ['gtp-u'] }) },
    {
      name: 'GTP-U with a PDU Session Container extension header',
      frame: () => outerUdp(2152, gtpu(1, v4(), { extensions: [PDU_SESSION_CONTAINER] })),
      want: want(4, { tunnel: ['gtp-u'] }),
    },
    {
      name: 'GTP-U with two extension headers',
      frame: () => outerUdp(2152, gtpu(1, v4(), { seq: 5, extensions: [{ type: 0x40, content: Uint8Array.of(0x12, 0x34) }, PDU_SESSION_CONTAINER] })),
      want: want(4, { tunnel: ['gtp-u'] }),
    },
    { name: 'GTP-U from the gateway (source port 2152)', frame: () => outerUdp(40001, gtpu(1, v4()), 2152), want: want(4, { tunnel: ['gtp-u'] }) },
    { name: 'IP-in-IP (protocol 4)', frame: () => outer4(IPPROTO_IPIP, v4()), want: want(4, { tunnel: ['ipip'] }) },
    { name: 'IPv6 in IPv4 (protocol 41)', frame: () => outer4(IPPROTO_IPV6, v6()), want: want(6, { tunnel: ['ip6in4'] }) },
    {
      name: 'IPv6 with hop-by-hop and destination options',
      frame: () => eth({ type: ETH_IPV6 }, ipv6({ src: C6, dst: R6, next: IPPROTO_UDP }, udpDns(), [optionsHeader(IPPROTO_HOPOPTS, ROUTER_ALERT), optionsHeader(IPPROTO_DSTOPTS)])),
      want: want(6),
    },
    {
      name: 'IPv6 with a 16-byte destination options header',
      frame: () => eth({ type: ETH_IPV6 }, ipv6({ src: C6, dst: R6, next: IPPROTO_UDP }, udpDns(), [optionsHeader(IPPROTO_DSTOPTS, new Uint8Array(10).fill(0))])),
      want: want(6),
    },
    {
      name: 'IPv4 with options (IHL 6, Router Alert)',
      frame: () => eth({ type: ETH_IPV4 }, ipv4({ src: C4, dst: R4, proto: IPPROTO_UDP, options: Uint8Array.of(0x94, 0x04, 0, 0) }, udpDns())),
      want: want(4),
    },
    {
      name: 'IPv4 with 40 bytes of options (IHL 15)',
      frame: () => eth({ type: ETH_IPV4 }, ipv4({ src: C4, dst: R4, proto: IPPROTO_UDP, options: new Uint8Array(40).fill(1) }, udpDns())),
      want: want(4),
    },
    {
      name: 'IPv4 total length 0 (segmentation offload): the captured length is used',
      frame: () => eth({ type: ETH_IPV4 }, ipv4({ src: C4, dst: R4, proto: IPPROTO_UDP, totalLengthOverride: 0 }, udpDns())),
      want: want(4),
    },
    {
      name: 'Ethernet padding after a short IPv4 packet is ignored',
      frame: () => concat(ethV4(), new Uint8Array(30).fill(0x55)),
      want: want(4),
    },
    {
      name: 'GRE in VXLAN in GENEVE in GTP-U: every tunnel listed, outermost first',
      frame: () =>
        outerUdp(
          2152,
          gtpu(
            1,
            ipv4(
              { src: '198.18.100.1', dst: '198.18.100.2', proto: IPPROTO_UDP },
              udp(
                { sport: 1, dport: 6081 },
                geneve(
                  { vni: 2 },
                  eth(
                    { type: ETH_IPV4 },
                    ipv4(
                      { src: '198.18.101.1', dst: '198.18.101.2', proto: IPPROTO_UDP },
                      udp({ sport: 2, dport: 4789 }, vxlan(3, eth({ type: ETH_IPV4 }, ipv4({ src: '198.18.102.1', dst: '198.18.102.2', proto: IPPROTO_GRE }, gre({ proto: ETH_IPV4 }, v4()))))),
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
      want: want(4, { tunnel: ['gtp-u', 'geneve', 'vxlan', 'gre'] }),
    },
  ])('$name', async ({ frame, want: w }) => {
    const { observations, decoder } = await decodeOne(LINKTYPE.ETHERNET, frame());
    expect(observations).toStrictEqual([w]);
    expect(decoder.issues.total()).toBe(0);
  });

  test(`${MAX_ENCAP_DEPTH} nested GRE tunnels are followed; one more is counted as tunnel/skipped/too_deep`, async () => {
    const nest = (n: number): Uint8Array => {
      let p = v4();
      for (let i = 0; i < n; i++) p = ipv4({ src: OUTER_A4, dst: OUTER_B4, proto: IPPROTO_GRE }, gre({ proto: ETH_IPV4 }, p));
      return eth({ type: ETH_IPV4 }, p);
    };
    const deep = await decodeOne(LINKTYPE.ETHERNET, nest(MAX_ENCAP_DEPTH));
    expect(deep.observations).toStrictEqual([want(4, { tunnel: Array<string>(MAX_ENCAP_DEPTH).fill('gre') })]);

    const tooDeep = await decodeOne(LINKTYPE.ETHERNET, nest(MAX_ENCAP_DEPTH + 1));
    expect(tooDeep.observations).toEqual([]);
    expect(tooDeep.decoder.issues.rows()).toEqual([{ layer: 'tunnel', kind: 'skipped', reason: 'too_deep', count: 1 }]);
    expect(tooDeep.decoder.issues.get(TUNNEL_TOO_DEEP)).toBe(1);
  });

  test('the depth limit is per packet: a deep packet does not affect the next one', async () => {
    let p = v4();
    for (let i = 0; i < MAX_ENCAP_DEPTH + 3; i++) p = ipv4({ src: OUTER_A4, dst: OUTER_B4, proto: IPPROTO_GRE }, gre({ proto: ETH_IPV4 }, p));
    const { observations, decoder } = await decodeAll(
      pcapFile([{ data: eth({ type: ETH_IPV4 }, p) }, { data: outer4(IPPROTO_GRE, gre({ proto: ETH_IPV4 }, v4())) }, { data: ethV4() }], { linktype: LINKTYPE.ETHERNET }),
    );
    expect(observations).toStrictEqual([want(4, { frame: 2, tunnel: ['gre'], time: { sec: T0 + 1, nsec: 0, digits: 6 }, tsMicros: (T0 + 1) * 1e6 }), want(4, { frame: 3, time: { sec: T0 + 2, nsec: 0, digits: 6 }, tsMicros: (T0 + 2) * 1e6 })]);
    expect(decoder.issues.get(TUNNEL_TOO_DEEP)).toBe(1);
  });
});

describe('IP fragments are put back together', () => {
  const frames = (list: readonly Uint8Array[]) => list.map((data) => ({ data }));
  const at = (frame: number) => ({ frame, time: { sec: T0 + frame - 1, nsec: 0, digits: 6 }, tsMicros: (T0 + frame - 1) * 1_000_000 });

  test.for<{ name: string; linktype: number; fragments: () => Uint8Array[]; want: Observation }>([
    {
      name: 'IPv4, two fragments in order',
      linktype: LINKTYPE.RAW,
      fragments: () => ipv4Fragments({ src: C4, dst: R4, proto: IPPROTO_UDP }, udpDns(), 24),
      want: want(4, at(2)),
    },
    {
      name: 'IPv4, three fragments in reverse order',
      linktype: LINKTYPE.RAW,
      fragments: () => ipv4Fragments({ src: C4, dst: R4, proto: IPPROTO_UDP }, udpDns(), 16).reverse(),
      want: want(4, at(3)),
    },
    {
      name: 'IPv4 fragments inside GRE',
      linktype: LINKTYPE.ETHERNET,
      fragments: () => ipv4Fragments({ src: C4, dst: R4, proto: IPPROTO_UDP }, udpDns(), 24).map((f) => outer4(IPPROTO_GRE, gre({ proto: ETH_IPV4 }, f))),
      want: want(4, { ...at(2), tunnel: ['gre'] }),
    },
    {
      name: 'IPv6, two fragments',
      linktype: LINKTYPE.RAW,
      fragments: () => ipv6Fragments({ src: C6, dst: R6, next: IPPROTO_UDP }, udpDns(), 24),
      want: want(6, at(2)),
    },
    {
      name: 'IPv6 atomic fragment (offset 0, M=0; RFC 6946) is a whole packet',
      linktype: LINKTYPE.RAW,
      fragments: () => [ipv6({ src: C6, dst: R6, next: IPPROTO_UDP }, udpDns(), [ipv6Frag({ offset: 0, more: false })])],
      want: want(6),
    },
  ])('$name', async ({ linktype, fragments, want: w }) => {
    const { observations, decoder } = await decodeAll(pcapFile(frames(fragments()), { linktype }));
    expect(observations).toStrictEqual([w]);
    expect(decoder.issues.total()).toBe(0);
    expect(decoder.pending().fragmentTrains).toBe(0);
  });

  test('a lone first fragment yields nothing and stays pending; at the end of input it is counted', async () => {
    const [first] = ipv4Fragments({ src: C4, dst: R4, proto: IPPROTO_UDP }, udpDns(), 24);
    const { observations, decoder } = await decodeAll(pcapFile(frames([first!]), { linktype: LINKTYPE.RAW }), { finish: false });
    expect(observations).toEqual([]);
    expect(decoder.pending().fragmentTrains).toBe(1);
    expect(decoder.issues.get(FRAG_AT_END)).toBe(0);
    decoder.finish();
    expect(decoder.pending().fragmentTrains).toBe(0);
    expect(decoder.issues.get(FRAG_AT_END)).toBe(1);
  });

  test.for([
    { name: 'IPv4', fragments: () => ipv4Fragments({ src: C4, dst: R4, proto: IPPROTO_UDP }, udpDns(), 24), issue: IPV4_FRAGMENT_CUT },
    { name: 'IPv6', fragments: () => ipv6Fragments({ src: C6, dst: R6, next: IPPROTO_UDP }, udpDns(), 24), issue: IPV6_FRAGMENT_CUT },
  ])('$name fragment cut by the snap length is counted as truncated; the first one is decoded as far as it goes', async ({ fragments, issue }) => {
    const [first, second] = fragments();
    const cut = (f: Uint8Array) => ({ data: f.subarray(0, f.length - 4), origLen: f.length });
    const { observations, decoder } = await decodeAll(pcapFile([cut(second!), cut(first!)], { linktype: LINKTYPE.RAW }));
    expect(observations).toEqual([]);
    // The first fragment's 12 bytes of DNS header: the question is past the cut.
    expect(decoder.issues.rows()).toEqual([
      { layer: 'dns', kind: 'truncated', reason: 'records', count: 1 },
      { layer: issue.layer, kind: 'truncated', reason: issue.reason, count: 2 },
      { layer: 'name', kind: 'truncated', reason: 'capture_truncated', count: 1 },
    ]);
  });
});

describe('what the link and network layers skip, counted', () => {
  test.for<{ name: string; linktype: number; frame: () => Uint8Array; issue: DecodeIssue }>([
    { name: 'token ring link type (6)', linktype: 6, frame: ethV4, issue: LINK_UNSUPPORTED },
    { name: 'USER0 link type (147)', linktype: 147, frame: ethV4, issue: LINK_UNSUPPORTED },
    { name: 'NULL with an unknown address family (7)', linktype: LINKTYPE.NULL, frame: () => nullLink(7, true, v4()), issue: LINK_UNSUPPORTED },
    { name: 'ARP EtherType', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_ARP }, new Uint8Array(28)), issue: ETHER_NOT_IP },
    { name: '802.3 length field, LLC that is not SNAP', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: 46 }, new Uint8Array(46)), issue: LLC_NOT_IP },
    { name: 'SLL carrying ARP', linktype: LINKTYPE.LINUX_SLL, frame: () => sll({ protocol: ETH_ARP }, new Uint8Array(28)), issue: ETHER_NOT_IP },
    { name: 'PPPoE carrying LCP (0xc021)', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_PPPOE_SESSION }, pppoe({ proto: 0xc021 }, new Uint8Array(10))), issue: PPP_NOT_IP },
    { name: 'RAW with version nibble 5', linktype: LINKTYPE.RAW, frame: () => patch(v4(), 0, [0x55]), issue: IPV4_BAD_VERSION },
    { name: 'IPv4 with IHL 4', linktype: LINKTYPE.RAW, frame: () => patch(v4(), 0, [0x44]), issue: IPV4_BAD_IHL },
    { name: 'IPv4 total length below the header', linktype: LINKTYPE.RAW, frame: () => ipv4({ src: C4, dst: R4, proto: IPPROTO_UDP, totalLengthOverride: 19 }, udpDns()), issue: IPV4_BAD_LENGTH },
    { name: 'ICMPv6', linktype: LINKTYPE.RAW, frame: () => ipv6({ src: C6, dst: R6, next: IPPROTO_ICMPV6 }, new Uint8Array(8)), issue: IP_PROTO_SKIPPED },
    { name: 'GRE version 2 (undefined)', linktype: LINKTYPE.ETHERNET, frame: () => outer4(IPPROTO_GRE, gre({ proto: 0x880b, version: 2, key: 1 }, new Uint8Array(8))), issue: TUNNEL_UNSUPPORTED },
    { name: 'GRE carrying an unknown protocol', linktype: LINKTYPE.ETHERNET, frame: () => outer4(IPPROTO_GRE, gre({ proto: 0x1234 }, v4())), issue: TUNNEL_UNSUPPORTED },
    { name: 'UDP length below 8', linktype: LINKTYPE.RAW, frame: () => ipv4({ src: C4, dst: R4, proto: IPPROTO_UDP }, udp({ sport: 40000, dport: 53, lengthOverride: 7 }, Q)), issue: UDP_BAD_LENGTH },
    { name: 'TCP data offset below 5', linktype: LINKTYPE.RAW, frame: () => patch(ipv4({ src: C4, dst: R4, proto: IPPROTO_TCP }, tcp({ sport: 1, dport: 53 }, Q)), 32, [0x40]), issue: TCP_BAD_OFFSET },
  ])('$name', async ({ linktype, frame, issue }) => {
    const { observations, decoder } = await decodeOne(linktype, frame());
    expect(observations).toEqual([]);
    expect(decoder.issues.rows()).toEqual([{ layer: issue.layer, kind: issue.kind, reason: issue.reason, count: 1 }]);
  });
});

describe('headers cut short at every layer are counted as truncated', () => {
  /** The frame cut to `at` bytes, as a capture with that snaplen stores it (orig_len = full length). */
  interface CutCase {
    name: string;
    linktype: number;
    frame: () => Uint8Array;
    at: number;
    issue: DecodeIssue;
  }
  const gre4 = (payload: Uint8Array, o: Parameters<typeof gre>[0] = { proto: ETH_IPV4 }): Uint8Array => outer4(IPPROTO_GRE, gre(o, payload));
  const E = 14; // Ethernet header
  const O = E + 20; // outer Ethernet + IPv4
  test.for<CutCase>([
    { name: 'Ethernet header', linktype: LINKTYPE.ETHERNET, frame: ethV4, at: 13, issue: LINK_TRUNCATED },
    { name: 'empty Ethernet frame', linktype: LINKTYPE.ETHERNET, frame: ethV4, at: 0, issue: LINK_TRUNCATED },
    { name: '802.1Q tag', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_IPV4, vlan: [1] }, v4()), at: 16, issue: LINK_TRUNCATED },
    { name: 'inner QinQ tag', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_IPV4, vlan: [1, 2] }, v4()), at: 19, issue: LINK_TRUNCATED },
    { name: 'NULL header', linktype: LINKTYPE.NULL, frame: () => nullLink(2, true, v4()), at: 3, issue: LINK_TRUNCATED },
    { name: 'SLL header', linktype: LINKTYPE.LINUX_SLL, frame: () => sll({ protocol: ETH_IPV4 }, v4()), at: 15, issue: LINK_TRUNCATED },
    { name: 'SLL2 header', linktype: LINKTYPE.LINUX_SLL2, frame: () => sll2({ protocol: ETH_IPV4 }, v4()), at: 19, issue: LINK_TRUNCATED },
    { name: 'RAW, nothing captured', linktype: LINKTYPE.RAW, frame: v4, at: 0, issue: LINK_TRUNCATED },
    { name: 'IPv4 header', linktype: LINKTYPE.ETHERNET, frame: ethV4, at: E + 19, issue: IPV4_TRUNCATED },
    { name: 'IPv4 options', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_IPV4 }, ipv4({ src: C4, dst: R4, proto: IPPROTO_UDP, options: new Uint8Array(8) }, udpDns())), at: E + 24, issue: IPV4_TRUNCATED },
    { name: 'IPv6 header', linktype: LINKTYPE.ETHERNET, frame: ethV6, at: E + 39, issue: IPV6_TRUNCATED },
    {
      name: 'IPv6 hop-by-hop header',
      linktype: LINKTYPE.ETHERNET,
      frame: () => eth({ type: ETH_IPV6 }, ipv6({ src: C6, dst: R6, next: IPPROTO_UDP }, udpDns(), [optionsHeader(IPPROTO_HOPOPTS, ROUTER_ALERT)])),
      at: E + 40 + 5,
      issue: IPV6_EXT_TRUNCATED,
    },
    {
      name: 'IPv6 destination options longer than captured',
      linktype: LINKTYPE.ETHERNET,
      frame: () => eth({ type: ETH_IPV6 }, ipv6({ src: C6, dst: R6, next: IPPROTO_UDP }, udpDns(), [optionsHeader(IPPROTO_DSTOPTS, new Uint8Array(20))])),
      at: E + 40 + 12,
      issue: IPV6_EXT_TRUNCATED,
    },
    { name: 'UDP header', linktype: LINKTYPE.ETHERNET, frame: ethV4, at: E + 20 + 7, issue: UDP_TRUNCATED },
    { name: 'TCP header', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_IPV4 }, ipv4({ src: C4, dst: R4, proto: IPPROTO_TCP }, tcp({ sport: 1, dport: 53 }, Q))), at: E + 20 + 19, issue: TCP_TRUNCATED },
    { name: 'DNS header', linktype: LINKTYPE.ETHERNET, frame: ethV4, at: E + 28 + 11, issue: DNS_TRUNCATED_HEADER },
    { name: 'MPLS label stack', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_MPLS }, mpls([1, 2], v4())), at: E + 6, issue: MPLS_TRUNCATED },
    { name: 'MPLS: bottom of stack, nothing after', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_MPLS }, mpls([1, 2], v4())), at: E + 8, issue: MPLS_TRUNCATED },
    { name: 'PPPoE header', linktype: LINKTYPE.ETHERNET, frame: () => eth({ type: ETH_PPPOE_SESSION }, pppoe({}, v4())), at: E + 6, issue: PPPOE_TRUNCATED },
    { name: 'GRE base header', linktype: LINKTYPE.ETHERNET, frame: () => gre4(v4()), at: O + 3, issue: TUNNEL_TRUNCATED },
    { name: 'GRE key and sequence', linktype: LINKTYPE.ETHERNET, frame: () => gre4(v4(), { proto: ETH_IPV4, key: 1, seq: 2 }), at: O + 4 + 6, issue: TUNNEL_TRUNCATED },
    { name: 'GRE checksum field', linktype: LINKTYPE.ETHERNET, frame: () => gre4(v4(), { proto: ETH_IPV4, checksum: true }), at: O + 6, issue: TUNNEL_TRUNCATED },
    {
      name: 'ERSPAN II header',
      linktype: LINKTYPE.ETHERNET,
      frame: () => gre4(erspan2({}, ethV4()), { proto: ETH_ERSPAN_2, seq: 1 }),
      at: O + 8 + 7,
      issue: TUNNEL_TRUNCATED,
    },
    {
      name: 'ERSPAN III header',
      linktype: LINKTYPE.ETHERNET,
      frame: () => gre4(erspan3({}, ethV4()), { proto: ETH_ERSPAN_3, seq: 1 }),
      at: O + 8 + 11,
      issue: TUNNEL_TRUNCATED,
    },
    {
      name: 'GENEVE options',
      linktype: LINKTYPE.ETHERNET,
      frame: () => outerUdp(6081, geneve({ vni: 1, options: [{ optClass: 1, type: 1, data: new Uint8Array(8) }] }, ethV4())),
      at: O + 8 + 8 + 6,
      issue: TUNNEL_TRUNCATED,
    },
    { name: 'inner Ethernet of GRE TEB', linktype: LINKTYPE.ETHERNET, frame: () => gre4(ethV4(), { proto: ETH_TEB }), at: O + 4 + 10, issue: LINK_TRUNCATED },
    { name: 'inner IPv4 of GRE', linktype: LINKTYPE.ETHERNET, frame: () => gre4(v4()), at: O + 4 + 10, issue: IPV4_TRUNCATED },
    { name: 'inner IPv4 of VXLAN', linktype: LINKTYPE.ETHERNET, frame: () => outerUdp(4789, vxlan(1, ethV4())), at: O + 8 + 8 + E + 10, issue: IPV4_TRUNCATED },
    { name: 'inner IPv6 of GTP-U', linktype: LINKTYPE.ETHERNET, frame: () => outerUdp(2152, gtpu(1, v6())), at: O + 8 + 8 + 30, issue: IPV6_TRUNCATED },
    { name: 'inner UDP of GTP-U', linktype: LINKTYPE.ETHERNET, frame: () => outerUdp(2152, gtpu(1, v4())), at: O + 8 + 8 + 20 + 4, issue: UDP_TRUNCATED },
  ])('$name', async ({ linktype, frame, at, issue }) => {
    const full = frame();
    expect(at).toBeLessThan(full.length);
    const { observations, decoder } = await decodeOne(linktype, full.subarray(0, at), full.length);
    expect(observations).toEqual([]);
    // A DNS message cut by the snap length also counts the names it lost (name/capture_truncated).
    expect(decoder.issues.rows().filter((r) => r.layer !== 'name')).toEqual([{ layer: issue.layer, kind: 'truncated', reason: issue.reason, count: 1 }]);
    expect(issue.kind).toBe('truncated');
    expect(decoder.issues.get(DECODER_BUG)).toBe(0);
  });
});
