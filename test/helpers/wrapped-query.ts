import type { Observation } from '../../src/capture/observation.js';
import { dnsQuery, IPPROTO_UDP, ipv4, ipv6, udp } from './packets.js';
import { T0 } from './pcap.js';

/**
 * One DNS query for s01.upd.kaspersky.com from an inner client to an inner resolver, over
 * IPv4 or IPv6: what the link-type and tunnel tests wrap in every framing the decoder follows,
 * and the observation each must yield (`want`).
 */
export const NAME = 's01.upd.kaspersky.com';
export const Q = dnsQuery(NAME);
export const C4 = '198.18.0.10';
export const R4 = '198.19.0.53';
export const C6 = 'fd00:0:0:1::10';
export const R6 = 'fd00::53';

export const udpDns = (): Uint8Array => udp({ sport: 40000, dport: 53 }, Q);
export const v4 = (): Uint8Array => ipv4({ src: C4, dst: R4, proto: IPPROTO_UDP }, udpDns());
export const v6 = (): Uint8Array => ipv6({ src: C6, dst: R6, next: IPPROTO_UDP }, udpDns());

/** The query's observation from the first frame of a capture at T0, from the IPv4 or IPv6 client. */
export function want(af: 4 | 6, extra: Partial<Observation> = {}): Observation {
  return {
    kind: 'dns_query',
    name: NAME,
    qtype: 'A',
    time: { sec: T0, nsec: 0, digits: 6 },
    tsMicros: T0 * 1_000_000,
    frame: 1,
    src: af === 4 ? C4 : C6,
    dst: af === 4 ? R4 : R6,
    sport: 40000,
    dport: 53,
    transport: 'udp',
    ...extra,
  };
}
