import { OBSERVATION_KINDS, type ObservationKind } from '../capture/observation.js';

/**
 * How a contact was seen: the five name kinds of the observation contract, then two kinds of
 * attribution for connections that showed no name (analyze/attribution.ts):
 * - `resolved_ip`: the destination was an address a DNS answer gave for a Kaspersky name (its
 *   CNAME chain followed), within the answer's TTL;
 * - `kaspersky_network`: the destination lies in a configured Kaspersky address range
 *   (`attribution.kaspersky_networks`), lower confidence.
 * The order is fixed: a client's and a name's evidence are bit sets over these indexes (the
 * first five keep the indexes they had when only names counted, so checkpoints stay valid).
 */
export type AttributionKind = 'resolved_ip' | 'kaspersky_network';
export type EvidenceKind = ObservationKind | AttributionKind;

export const EVIDENCE_KINDS: readonly EvidenceKind[] = [...OBSERVATION_KINDS, 'resolved_ip', 'kaspersky_network'];

export const EVIDENCE_INDEX: Readonly<Record<EvidenceKind, number>> = Object.fromEntries(EVIDENCE_KINDS.map((k, i) => [k, i])) as Record<EvidenceKind, number>;

/** The kinds whose bits are set in `bits`, in EVIDENCE_KINDS order. */
export function evidenceOf(bits: number): EvidenceKind[] {
  return EVIDENCE_KINDS.filter((_, i) => (bits & (1 << i)) !== 0);
}

/** EVIDENCE_INDEX[kind] for an observation kind, as a switch: no keyed lookup per observation. */
export function kindEvidence(kind: ObservationKind): number {
  switch (kind) {
    case 'dns_query':
      return 0;
    case 'dns_answer':
      return 1;
    case 'tls_sni':
      return 2;
    case 'http_host':
      return 3;
    default:
      return 4;
  }
}
