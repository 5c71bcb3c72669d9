/**
 * The default BPF filter of `kasmon monitor`: let the kernel drop what cannot carry a name,
 * so tcpdump copies only a small part of a busy link to kasmon. What it keeps:
 *
 * - DNS, both ways, UDP and TCP, on the configured DNS ports (queries and answers).
 * - UDP 443, both ways (QUIC: the client's Initials carry the ClientHello).
 * - TCP toward the ports a name can be read from (443, 80, 8080, 8443, 853): SYN, FIN and RST
 *   segments (they open and close the reassembly state), and segments that carry payload
 *   (the IP total length minus both headers is > 0). Pure ACKs and everything the server
 *   sends back (the bulk of a download) are dropped.
 * - Non-first IP fragments (they carry no ports, and a large DNS answer can be fragmented).
 * - Mirror tunnels whole (VXLAN 4789, GENEVE 6081, GRE/ERSPAN, GTP-U 2152): the filter cannot
 *   look inside them; kasmon decapsulates.
 * - The same behind one or two 802.1Q tags (libpcap's `vlan` shifts the offsets).
 *
 * The IPv6 payload test assumes no extension headers between IPv6 and TCP (libpcap's `tcp[]`
 * has the same limit); such segments are kept only if they are SYN/FIN/RST.
 */
export interface FilterOptions {
  readonly dnsPorts: readonly number[];
  /** TCP ports where a ClientHello or HTTP request is read. */
  readonly namePorts: readonly number[];
}

export const MIRROR_TUNNELS = 'udp port 4789 or udp port 6081 or ip proto 47 or ip6 proto 47 or udp port 2152';

export function defaultFilter(o: FilterOptions): string {
  const dns = o.dnsPorts.map((p) => `port ${p}`).join(' or ');
  const toNamePort = o.namePorts.map((p) => `tcp dst port ${p}`).join(' or ');
  const payload4 = '(ip and ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2) > 0)';
  const payload6 = '(ip6 and ip6[4:2] - ((tcp[12] & 0xf0) >> 2) > 0)';
  const tcpStart = `(${toNamePort}) and (tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0 or ${payload4} or ${payload6})`;
  const fragments = '(ip and ip[6:2] & 0x1fff != 0) or (ip6 and ip6[6] == 44)';
  const inner = `(${dns}) or udp port 443 or (${tcpStart}) or ${fragments} or ${MIRROR_TUNNELS}`;
  return `(${inner}) or (vlan and (${inner})) or (vlan and vlan and (${inner}))`;
}

/**
 * The filter tcpdump runs: `replace` (capture.filter / --filter) instead of the default when
 * given, and `extra` (capture.filter_add / --filter-add) ORed onto whichever is in force.
 */
export function captureFilter(base: string, replace: string, extra: string): string {
  const f = replace.trim() !== '' ? replace.trim() : base;
  return extra.trim() !== '' ? `(${f}) or (${extra.trim()})` : f;
}
