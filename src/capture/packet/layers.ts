import type { DecodeIssue } from '../issues.js';
import type { TcpStreams } from '../tcp/streams.js';
import type { PacketContext } from './context.js';
import type { Defragmenter } from './defrag.js';

/**
 * What the packet layers (link.ts, ip.ts, tunnels.ts) need from the decoder that runs them:
 * the per-packet context they fill in, the reassembly state they hand data to, and the
 * application hand-offs. The layers are plain functions over this one object, so a layer
 * added for a new link type or tunnel is a function in the file of its kind.
 */
export interface Layers {
  readonly ctx: PacketContext;
  readonly defrag: Defragmenter;
  readonly tcp: TcpStreams;
  /** 1 at each UDP/TCP port that carries DNS. */
  readonly dnsPort: Uint8Array;
  /** Also look for DNS by content on other UDP ports (dns.heuristic). */
  readonly dnsHeuristic: boolean;
  count(i: DecodeIssue): void;
  /** A DNS message (UDP payload, or one TCP message without its length prefix). */
  dnsMessage(msg: Uint8Array): void;
  /** A UDP payload that starts like a QUIC Initial. */
  quicDatagram(payload: Uint8Array): void;
}
