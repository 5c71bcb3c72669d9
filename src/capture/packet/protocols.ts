/** Protocol numbers used by the link, network and transport decoders. */

/** tcpdump.org LINKTYPE_* values (https://www.tcpdump.org/linktypes.html). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  /** BSD ARCnet: no offset field, possibly an exception-frame header. */
  ARCNET_BSD: 7,
  PPP: 9,
  FDDI: 10,
  RAW_OPENBSD: 14,
  RAW_12: 12,
  PPP_HDLC: 50,
  RAW: 101,
  C_HDLC: 104,
  IEEE802_11: 105,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11_RADIOTAP: 127,
  ARCNET_LINUX: 129,
  /** DLT_USER2: what macOS 10.9 wrote for PKTAP before 258 was assigned (tshark decodes it so). */
  USER2: 149,
  PPI: 192,
  PPP_WITH_DIR: 204,
  C_HDLC_WITH_DIR: 205,
  IPV4: 228,
  IPV6: 229,
  NFLOG: 239,
  PKTAP: 258,
  LINUX_SLL2: 276,
} as const;

/** PPP protocol field values (RFC 1661 §2, IANA "PPP DLL Protocol Numbers"). */
export const PppProto = {
  IPv4: 0x0021,
  IPv6: 0x0057,
  MPLS: 0x0281,
  MPLS_MC: 0x0283,
} as const;

export const EtherType = {
  IPv4: 0x0800,
  IPv6: 0x86dd,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  QINQ_OLD: 0x9100,
  MPLS: 0x8847,
  MPLS_MC: 0x8848,
  PPPOE_SESSION: 0x8864,
  TEB: 0x6558, // transparent Ethernet bridging (GRE, GENEVE)
  ERSPAN_2: 0x88be,
  ERSPAN_3: 0x22eb,
  /** PPP in GRE (RFC 2637 enhanced GRE, PPTP). */
  PPP: 0x880b,
  /** RFC 8300 Network Service Header. */
  NSH: 0x894f,
  /** Cisco VN-Tag (802.1Qbh): 4 bytes, then an EtherType. */
  VNTAG: 0x8926,
  /** IEEE 802.1BR E-Tag: 6 bytes, then an EtherType. */
  ETAG: 0x893f,
  /** IEEE 802.1ah provider backbone bridging I-TAG: 4 bytes, then the customer's Ethernet frame. */
  PBB: 0x88e7,
  /** Cisco MetaData (SGT): its own length, then an EtherType. */
  CMD: 0x8909,
} as const;

export const IpProto = {
  HOPOPT: 0,
  ICMP: 1,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  MOBILITY: 135,
  HIP: 139,
  SHIM6: 140,
  EXP1: 253,
  EXP2: 254,
} as const;

export const Port = {
  DNS: 53,
  HTTPS: 443,
  MDNS: 5353,
  LLMNR: 5355,
  VXLAN: 4789,
  GENEVE: 6081,
  GTP_U: 2152,
  TEREDO: 3544,
  /** RFC 8086 GRE-in-UDP. */
  GRE_UDP: 4754,
  /** RFC 7510 MPLS-in-UDP. */
  MPLS_UDP: 6635,
  /** draft-ietf-nvo3-vxlan-gpe: VXLAN with a next-protocol field. */
  VXLAN_GPE: 4790,
  /** RFC 2661 L2TP (version 2: PPP sessions). */
  L2TP: 1701,
  /** Anything In Anything (draft-massar-v6ops-ayiya), SixXS tunnels. */
  AYIYA: 5072,
  /** RFC 5415 CAPWAP data channel. */
  CAPWAP_DATA: 5247,
} as const;
