import { defineIssue } from './issues.js';

/**
 * Why a flow or message that could carry a name did not yield one. These counters are what
 * lets an analyst trust "no Kaspersky traffic here": layer `name`, one reason each, shown
 * by `replay` under NAMES NOT RECOVERED and by `names --stats`.
 */
export const NAME_NO_SNI = defineIssue('name', 'skipped', 'client_hello_without_sni');
/** A flow ended (FIN, RST, end of input) with segments held beyond a hole that never filled. */
export const NAME_GAP = defineIssue('name', 'truncated', 'reassembly_gap');
/** The bytes holding the name were cut by the capture's snap length. */
export const NAME_SNAPLEN = defineIssue('name', 'truncated', 'capture_truncated');
/** A connection to a name port was first seen in the middle of its stream. */
export const NAME_MIDSTREAM = defineIssue('name', 'skipped', 'midstream');
/** A stream or its ClientHello exceeded a named limit (MAX_STREAM_BYTES, MAX_OOO_SEGMENTS, MAX_CLIENT_HELLO_BYTES). */
export const NAME_LIMIT = defineIssue('name', 'skipped', 'limit_exceeded');
/** The bytes contradict the protocol (the layer's own issue says how). */
export const NAME_MALFORMED = defineIssue('name', 'invalid', 'malformed');
/** The flow table was full and this flow, still waiting for bytes, was the least recently used. */
export const NAME_EVICTED = defineIssue('name', 'skipped', 'flow_evicted');
/** The capture ended (or the flow closed) while the message was still incomplete. */
export const NAME_INCOMPLETE = defineIssue('name', 'truncated', 'incomplete_at_end');
/** The flow went idle longer than limits.flow_idle_seconds (packet time) while incomplete. */
export const NAME_IDLE = defineIssue('name', 'truncated', 'idle_timeout');
