import { describe, expect, test } from 'vitest';
import { Analyzer } from '../../src/analyze/analyzer.js';
import { inScope, type ReportScope } from '../../src/analyze/scope.js';
import { CidrList, parseCidr, type Cidr } from '../../src/common/cidr.js';
import { loadConfig } from '../../src/config/load.js';
import { policyFrom, scopedPolicy } from '../../src/engine/policy.js';
import { observation, S, T0 } from '../helpers/analysis.js';

const nets = (...c: string[]): CidrList => new CidrList(c.map((x) => parseCidr(x) as Cidr));
const scope = (o: Partial<ReportScope>): ReportScope => ({ sinceMicros: undefined, untilMicros: undefined, clients: undefined, since: undefined, until: undefined, clientNets: [], ...o });

describe('report scope', () => {
  test('the window runs from --since (inclusive) to --until (exclusive), as editcap -A/-B', () => {
    const s = scope({ sinceMicros: T0, untilMicros: T0 + 10 * S });
    expect(inScope(s, '198.18.0.1', T0 - 1)).toBe(false);
    expect(inScope(s, '198.18.0.1', T0)).toBe(true);
    expect(inScope(s, '198.18.0.1', T0 + 10 * S - 1)).toBe(true);
    expect(inScope(s, '198.18.0.1', T0 + 10 * S)).toBe(false);
    expect(inScope(scope({ sinceMicros: T0 }), '198.18.0.1', T0 + 1e15)).toBe(true);
    expect(inScope(scope({ untilMicros: T0 }), '198.18.0.1', 0)).toBe(true);
  });

  test('clients: IPv4 and IPv6 networks, each family only against its own, any spelling of an address', () => {
    const s = scope({ clients: nets('198.18.4.0/22', 'fd00:1::/64', '198.19.0.7/32') });
    expect(inScope(s, '198.18.7.255', 0)).toBe(true);
    expect(inScope(s, '198.18.8.0', 0)).toBe(false);
    expect(inScope(s, '198.19.0.7', 0)).toBe(true);
    expect(inScope(s, '198.19.0.8', 0)).toBe(false);
    expect(inScope(s, 'fd00:1::ffff', 0)).toBe(true);
    expect(inScope(s, 'fd00:1:0:0:0:0:0:1', 0)).toBe(true);
    expect(inScope(s, 'fd00:2::1', 0)).toBe(false);
    expect(inScope(s, '::ffff:198.18.4.1', 0)).toBe(false); // an IPv6 address, though it embeds a v4 one
    expect(inScope(s, 'not-an-address', 0)).toBe(false);
  });

  test('the analyzer skips contacts outside the scope (no client, no match, no alert) and counts them', () => {
    const config = loadConfig();
    const s = scope({ sinceMicros: T0, clients: nets('198.18.0.0/24') });
    const alerts: string[] = [];
    const a = new Analyzer(scopedPolicy(policyFrom(config), s), { bytes: 64 << 20, maxClients: 1000, dnsAnswers: { bytes: 1 << 20, maxTtlSeconds: 86_400 } }, { onAlert: (d) => alerts.push(d.client) });
    a.onObservation(observation('tls_sni', 's01.upd.kaspersky.com', T0 - 1, '198.18.0.5')); // before the window
    a.onObservation(observation('tls_sni', 's01.upd.kaspersky.com', T0, '198.18.1.5')); // another network
    expect(a.outOfScope).toBe(2);
    expect(a.clients.size).toBe(0);
    expect(a.matches()).toEqual([]);
    a.onObservation(observation('tls_sni', 's01.upd.kaspersky.com', T0, '198.18.0.5'));
    expect(a.outOfScope).toBe(2);
    expect([...a.clients.clients()].map((c) => c.client)).toEqual(['198.18.0.5']);
    expect(alerts).toEqual(['198.18.0.5']);
  });

  test('a DNS answer outside the scope still attributes a nameless connection inside it', () => {
    const config = loadConfig();
    const s = scope({ sinceMicros: T0, clients: nets('198.18.0.0/24') });
    const a = new Analyzer(scopedPolicy(policyFrom(config), s), { bytes: 64 << 20, maxClients: 1000, dnsAnswers: { bytes: 1 << 20, maxTtlSeconds: 86_400 } });
    // Answered to another client, before the window.
    a.onObservation(observation('dns_answer', 'dnl-01.geo.kaspersky.com', T0 - 60 * S, '198.18.1.53', { dst: '198.18.1.9', rrtype: 'A', data: '198.19.7.7', ttl: 3600 }));
    expect(a.outOfScope).toBe(1);
    a.onObservation({ ...observation('tls_sni', '198.19.7.7', T0 + S, '198.18.0.5', { dst: '198.19.7.7', conn: 'no_sni' }), kind: 'ip_connection' });
    expect(a.attributedByDns).toBe(1);
    expect([...a.clients.clients()].map((c) => [c.client, [...c.names.keys()]])).toEqual([['198.18.0.5', ['dnl-01.geo.kaspersky.com']]]);
  });

  test('without a scope nothing is skipped', () => {
    const a = new Analyzer(policyFrom(loadConfig()), { bytes: 64 << 20, maxClients: 1000, dnsAnswers: { bytes: 1 << 20, maxTtlSeconds: 86_400 } });
    a.onObservation(observation('tls_sni', 's01.upd.kaspersky.com', 0, '198.18.0.1'));
    expect(a.outOfScope).toBe(0);
    expect(a.clients.size).toBe(1);
  });
});
