/** Protocol numbers used by the link, network and transport decoders. */

export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW_OPENBSD: 14,
  RAW_12: 12,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
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
} as const;
