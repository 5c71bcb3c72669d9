import type { AlertDecision } from '../analyze/alerts.js';
import type { ClientState } from '../analyze/clients.js';
import { isoTime } from '../common/time.js';

/**
 * Alert events in Elastic Common Schema field names, so Filebeat/Vector/Logstash can ship
 * them unchanged. `@timestamp` is the packet time of the contact that raised the alert.
 */
export interface AlertEventContext {
  observerName: string;
  cutoffIso: string;
}

const SEVERITY_SCORE = { high: 73, medium: 47, low: 21, info: 1 } as const;

const PROTOCOL = { dns_query: 'dns', dns_answer: 'dns', tls_sni: 'tls', http_host: 'http', quic_sni: 'quic' } as const;

export function alertEvent(a: AlertDecision, c: ClientState, ctx: AlertEventContext): Record<string, unknown> {
  const o = a.obs;
  const ev: Record<string, unknown> = {
    '@timestamp': isoTime(o.time),
    event: {
      kind: 'alert',
      category: ['network'],
      type: ['connection'],
      action: 'kaspersky-contact-after-cutoff',
      dataset: 'kasmon.alert',
      module: 'kasmon',
      severity: SEVERITY_SCORE[a.severity],
      reason: `${a.client} contacted a Kaspersky ${a.category} endpoint (${o.name}) after the cutoff ${ctx.cutoffIso}`,
    },
    source: { ip: a.client },
    destination: { ip: o.kind === 'dns_answer' ? o.src : o.dst, port: o.kind === 'dns_answer' ? o.sport : o.dport, domain: o.name },
    network: { transport: o.transport, protocol: PROTOCOL[o.kind], ...(o.vlan !== undefined ? { vlan: { id: String(o.vlan) } } : {}) },
    rule: { name: a.match.id, ruleset: 'kasmon-endpoints', category: a.category, description: a.match.pattern },
    observer: { name: ctx.observerName, type: 'sensor', product: 'kasmon' },
    kasmon: {
      category: a.category,
      severity: a.severity,
      confidence: a.match.confidence,
      phase: 'after',
      evidence: o.kind,
      count_after: a.countAfter,
      suppressed: a.suppressed,
      sequence: a.sequence,
      client_first_seen: isoTime(c.firstSeen),
      frame: o.frame,
      ...(o.source !== undefined ? { source_file: o.source } : {}),
      ...(c.publicDnsFallback.length > 0 ? { public_dns_fallback: [...c.publicDnsFallback] } : {}),
      ...(a.at !== o.tsMicros ? { judged_at: isoTime(a.time), time_out_of_step: true } : {}),
    },
  };
  if (o.kind === 'dns_query' || o.kind === 'dns_answer') {
    const dns: Record<string, unknown> = { question: { name: o.name }, type: o.kind === 'dns_query' ? 'query' : 'answer' };
    if (o.kind === 'dns_answer') dns['answers'] = [{ name: o.name, type: o.rrtype, data: o.data }];
    ev['dns'] = dns;
  } else if (o.kind === 'tls_sni' || o.kind === 'quic_sni') {
    const client: Record<string, unknown> = { server_name: o.name };
    if (o.ja4 !== undefined) client['ja4'] = o.ja4;
    ev['tls'] = { client };
  } else {
    ev['url'] = { domain: o.name, ...(o.http_path !== undefined ? { path: o.http_path } : {}) };
  }
  return ev;
}
