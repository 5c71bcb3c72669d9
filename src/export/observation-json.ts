import type { Observation } from '../capture/observation.js';
import { isoTime } from '../common/time.js';

/** The observation contract's field order (DESIGN.md), extras after. */
export function observationJson(o: Observation, withFile: boolean, matched = false): string {
  const j: Record<string, unknown> = {
    ts: isoTime(o.time),
    frame: o.frame,
    kind: o.kind,
    name: o.name,
    src: o.src,
    dst: o.dst,
    sport: o.sport,
    dport: o.dport,
  };
  if (o.rrtype !== undefined) j['rrtype'] = o.rrtype;
  if (o.data !== undefined) j['data'] = o.data;
  // `names --matched` (the interchange for analyze) also carries what attribution needs.
  if (matched && o.ttl !== undefined) j['ttl'] = o.ttl;
  j['transport'] = o.transport;
  if (o.conn !== undefined) j['conn'] = o.conn;
  if (o.qtype !== undefined) j['qtype'] = o.qtype;
  if (o.alpn !== undefined) j['alpn'] = o.alpn;
  if (o.ech) j['ech'] = true;
  if (o.ja4 !== undefined) j['ja4'] = o.ja4;
  if (o.http_path !== undefined) j['http_path'] = o.http_path;
  if (o.vlan !== undefined) j['vlan'] = o.vlan;
  if (o.tunnel !== undefined) j['tunnel'] = o.tunnel;
  if (withFile && o.source !== undefined) j['file'] = o.source;
  return JSON.stringify(j);
}
