import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { FIXTURES, kasmon, lines } from './cli.js';

/**
 * Golden tests on test/fixtures/attribution (real dig, openssl s_client -noservername, curl and
 * nc in network namespaces, README.md there): one client per evidence kind beyond a visible
 * name — a hidden SNI attributed through its DNS answer, HTTP update fetches (one to an IP
 * literal, reached through a corporate alias), a resolver bypass, and a connection that never
 * said hello, attributed backwards through a CNAME chain to a CDN.
 */
const F = `${FIXTURES}/attribution`;
const REL = 'test/fixtures/attribution';
const args = ['replay', `${REL}/input.pcap`, '--config', `${REL}/config.yaml`, '--observer', 'lab'];

describe('attribution fixture', () => {
  test('JSON report and ECS alerts are exactly the golden files', () => {
    const r = kasmon([...args, '--format', 'json', '--alerts', '-']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(readFileSync(`${F}/expected.alerts.ndjson`, 'utf8'));
    const j = kasmon([...args, '--format', 'json']);
    expect(j.stdout).toBe(readFileSync(`${F}/expected.report.json`, 'utf8'));
  });

  test('the table report is exactly the golden file', () => {
    expect(kasmon(args).stdout).toBe(readFileSync(`${F}/expected.report.txt`, 'utf8'));
  });

  test('names --matched is exactly the golden observation file, and analyze on it gives the same report', () => {
    const m = kasmon(['names', '--matched', `${REL}/input.pcap`]);
    expect(m.stdout).toBe(readFileSync(`${F}/expected.matched.ndjson`, 'utf8'));
    const a = kasmon(['analyze', '--config', `${REL}/config.yaml`, '--observer', 'lab', '--format', 'json', `${F}/expected.matched.ndjson`]);
    expect(a.stdout).toBe(readFileSync(`${F}/expected.report.json`, 'utf8'));
  });

  test('each evidence kind, as an analyst reads it', () => {
    const rep = JSON.parse(readFileSync(`${F}/expected.report.json`, 'utf8')) as { clients: Array<Record<string, any>>; attribution: Record<string, any> };
    const by = Object.fromEntries(rep.clients.map((c) => [c['client'], c]));
    const name = (c: string, n: string): Record<string, any> => by[c]['names'].find((x: { name: string }) => x.name === n);
    // hidden SNI: the TLS connection to 198.18.1.7 counts for s07.upd.kaspersky.com
    expect(name('198.18.0.21', 's07.upd.kaspersky.com')).toMatchObject({ evidence: ['dns_query', 'dns_answer', 'resolved_ip'], destinations: ['198.18.1.7:443'] });
    // HTTP to an IP literal pulling bases, reached through a corporate alias; then the index by name
    expect(by['198.18.0.22']).toMatchObject({ severity_after_cutoff: 'critical', update_paths: ['dnl-05.geo.kaspersky.com/bases/av/kdb/i386/kdb-i386-0607g.xml.klz', 'dnl-05.geo.kaspersky.com/index/u0607g.xml'] });
    expect(by['198.18.0.22']['findings'][0]).toMatchObject({ finding: 'signature_update', severity: 'critical', after: 2 });
    expect(name('198.18.0.22', 'av-mirror.corp.example')).toMatchObject({ category: 'update', rule: 'upd-dnl-geo' });
    // resolver bypass, with the resolver's address
    expect(by['198.18.0.23']).toMatchObject({ resolver_bypass: ['198.18.0.2'] });
    // no hello: attributed backwards through the CNAME to the CDN name
    expect(name('198.18.0.24', 'downloads.upd.kaspersky.com')).toMatchObject({ evidence: ['dns_query', 'dns_answer', 'resolved_ip'], destinations: ['198.18.1.5:443'], addresses: ['198.18.1.5'] });
    expect(rep.attribution).toEqual({ connections_without_name: { no_sni: 1, ech: 0, ip_literal: 1, no_hello: 1, quic_undecryptable: 0 }, attributed_by_dns: 3, attributed_by_network: 0 });
    const alerts = lines(readFileSync(`${F}/expected.alerts.ndjson`, 'utf8')) as Array<Record<string, any>>;
    expect(alerts.map((a) => [a['source'].ip, a['kasmon'].finding ?? a['kasmon'].evidence, a['event'].severity])).toEqual(
      expect.arrayContaining([
        ['198.18.0.22', 'signature_update', 99],
        ['198.18.0.23', 'resolver_bypass', 73],
      ]),
    );
  });

  test('without dns.internal_resolvers there is no bypass finding', () => {
    const r = kasmon(['replay', `${REL}/input.pcap`, '--format', 'json']);
    const rep = JSON.parse(r.stdout) as { findings: Record<string, { after: number }> };
    expect(rep.findings['resolver_bypass']!.after).toBe(0);
  });
});
