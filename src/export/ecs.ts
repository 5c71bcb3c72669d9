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

const SEVERITY_SCORE = { critical: 99, high: 73, medium: 47, low: 21, info: 1 } as const;

const PROTOCOL = { dns_query: 'dns', dns_answer: 'dns', tls_sni: 'tls', http_host: 'http', quic_sni: 'quic', ip_connection: undefined } as const;

const ACTION = {
  signature_update: 'kaspersky-signature-update-after-cutoff',
  resolver_bypass: 'kaspersky-dns-resolver-bypass-after-cutoff',
} as const;

export function alertEvent(a: AlertDecision, c: ClientState, ctx: AlertEventContext): Record<string, unknown> {
  const o = a.obs;
  const ev: Record<string, unknown> = {
    '@timestamp': isoTime(o.time),
    event: {
      kind: 'alert',
      category: ['network'],
      type: ['connection'],
      action: a.finding !== undefined ? ACTION[a.finding] : 'kaspersky-contact-after-cutoff',
      dataset: 'kasmon.alert',
      module: 'kasmon',
      severity: SEVERITY_SCORE[a.severity],
      reason: reason(a, ctx),
    },
    source: { ip: a.client },
    destination: { ip: o.kind === 'dns_answer' ? o.src : o.dst, port: o.kind === 'dns_answer' ? o.sport : o.dport, domain: a.name },
    network: { transport: o.transport, ...protocol(o), ...(o.vlan !== undefined ? { vlan: { id: String(o.vlan) } } : {}) },
    rule: { name: a.match.id, ruleset: 'kasmon-endpoints', category: a.category, description: a.match.pattern },
    observer: { name: ctx.observerName, type: 'sensor', product: 'kasmon' },
    kasmon: {
      category: a.category,
      severity: a.severity,
      confidence: a.match.confidence,
      phase: 'after',
      evidence: a.evidence,
      ...(a.finding !== undefined ? { finding: a.finding } : {}),
      ...(o.kind === 'ip_connection' ? { connection_without_name: o.conn ?? 'unknown' } : {}),
      count_after: a.countAfter,
      suppressed: a.suppressed,
      sequence: a.sequence,
      client_first_seen: isoTime(c.firstSeen),
      frame: o.frame,
      ...(o.source !== undefined ? { source_file: o.source } : {}),
      ...(c.publicDnsFallback.length > 0 ? { public_dns_fallback: [...c.publicDnsFallback] } : {}),
      ...(c.resolverBypass.length > 0 ? { resolver_bypass: [...c.resolverBypass] } : {}),
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
  } else if (o.kind === 'http_host' || o.http_path !== undefined) {
    ev['url'] = { domain: a.name, ...(o.http_path !== undefined ? { path: o.http_path } : {}) };
  }
  return ev;
}

function protocol(o: AlertDecision['obs']): { protocol?: string } {
  if (o.kind !== 'ip_connection') return { protocol: PROTOCOL[o.kind] };
  if (o.conn === 'ip_literal') return { protocol: 'http' };
  if (o.conn === 'quic_undecryptable') return { protocol: 'quic' };
  if (o.conn === 'no_sni' || o.conn === 'ech') return { protocol: 'tls' };
  return {};
}

function reason(a: AlertDecision, ctx: AlertEventContext): string {
  const via = a.evidence === 'resolved_ip' ? ` (a connection to ${a.obs.dst}, an address DNS gave for it)` : a.evidence === 'kaspersky_network' ? ` (a connection into the Kaspersky range ${a.match.pattern})` : '';
  if (a.finding === 'signature_update') return `${a.client} fetched Kaspersky signature updates (${a.name}${a.obs.http_path ?? ''})${via} after the cutoff ${ctx.cutoffIso}`;
  if (a.finding === 'resolver_bypass') return `${a.client} asked ${a.obs.dst}, not an internal resolver, for the Kaspersky name ${a.name} after the cutoff ${ctx.cutoffIso}`;
  return `${a.client} contacted a Kaspersky ${a.category} endpoint (${a.name})${via} after the cutoff ${ctx.cutoffIso}`;
}
