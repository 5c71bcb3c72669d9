/**
 * The observation contract (DESIGN.md): one hostname seen on the wire. Capture produces
 * these; analyze consumes them; `kasmon names` prints them one JSON object per line.
 */
export type ObservationKind = 'dns_query' | 'dns_answer' | 'tls_sni' | 'http_host' | 'quic_sni';

export const OBSERVATION_KINDS: readonly ObservationKind[] = [
  'dns_query',
  'dns_answer',
  'tls_sni',
  'http_host',
  'quic_sni',
];

/**
 * Not a name: a connection start whose name the wire did not show (see `conn`). The analyzer
 * may attribute it to a Kaspersky name through remembered DNS answers (analyze/attribution.ts).
 * `kasmon names` prints these only with `--matched` (the interchange for `kasmon analyze`).
 */
export type ConnectionKind = 'ip_connection';

/** Why a connection start carried no usable name. */
export type ConnectionReason = 'no_sni' | 'ech' | 'ip_literal' | 'no_hello' | 'quic_undecryptable';
export const CONNECTION_REASONS: readonly ConnectionReason[] = ['no_sni', 'ech', 'ip_literal', 'no_hello', 'quic_undecryptable'];

export type { PacketTime } from '../common/time.js';
import type { PacketTime } from '../common/time.js';


export interface Observation {
  kind: ObservationKind | ConnectionKind;
  /**
   * Lower-case, no trailing dot; for http_host without the port or IPv6 brackets. For an
   * `ip_connection`, the destination address (what the client used instead of a name).
   */
  name: string;
  time: PacketTime;
  /** Microseconds since the epoch: what analysis compares (exact for any realistic date). */
  tsMicros: number;
  /** 1-based index of the packet in its file that completed the observation. */
  frame: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  transport: 'udp' | 'tcp';
  /** dns_answer only: A, AAAA, CNAME. */
  rrtype?: string;
  /** dns_answer only: the address or the CNAME target. */
  data?: string;
  /** dns_answer only: the record's TTL in seconds (RFC 1035 §4.1.3). */
  ttl?: number;
  /** ip_connection only: why the connection showed no usable name. */
  conn?: ConnectionReason;
  /** dns_query only: the question type (A, AAAA, HTTPS, ...). */
  qtype?: string;
  /** tls_sni / quic_sni: ALPN protocols offered. */
  alpn?: string[];
  /** tls_sni / quic_sni: the ClientHello carried encrypted_client_hello; `name` is the outer (public) name. */
  ech?: boolean;
  /** tls_sni / quic_sni: JA4 client fingerprint. */
  ja4?: string;
  /** http_host: the request path (no query string). */
  http_path?: string;
  /** Outermost 802.1Q VLAN id, when tagged. */
  vlan?: number;
  /** Tunnels followed to reach the inner packet, outermost first (e.g. ['vxlan']). */
  tunnel?: string[];
  /** The capture file the observation came from (not printed by `names`). */
  source?: string;
}
