import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { dnsQuery, eth, ETH_IPV4, ipv4, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_PSH, TCP_SYN, tcp, udp } from '../helpers/packets.js';
import { pcapFile, writeTemp, type PcapFrame } from '../helpers/pcap.js';
import { clientHello } from '../helpers/tls.js';
import { kasmon, lines } from './cli.js';

/**
 * Time discipline (issue 9): one packet stamped a year ahead or a year behind, in the middle of
 * a capture, must not mute the alerts that follow it, flush the decoder's state or freeze its
 * ageing. Every later contact alerts as it would without the bad packet; the bad packet is
 * counted under time/... and its name is still decoded (judged at network time).
 */
const HOUR = 3600;
const DAY = 86_400;
const YEAR = 365 * DAY;
/** 2024-10-01T00:00:00Z, after the cutoff. */
const T0 = 1_727_740_800;

const CLIENT = '198.18.0.21';
const RESOLVER = '198.19.0.53';
const SERVER = '198.19.1.7';

function query(sec: number, name = 's01.upd.kaspersky.com', id = 1): PcapFrame {
  const ip = ipv4({ src: CLIENT, dst: RESOLVER, proto: IPPROTO_UDP, id }, udp({ sport: 40_000 + (id % 20_000), dport: 53 }, dnsQuery(name, 'A', id)));
  return { data: eth({ type: ETH_IPV4 }, ip), ts: { sec, nsec: 0 } };
}

function segment(sec: number, sport: number, seq: number, flags: number, payload: Uint8Array = new Uint8Array(0)): PcapFrame {
  const ip = ipv4({ src: CLIENT, dst: SERVER, proto: IPPROTO_TCP }, tcp({ sport, dport: 443, seq, flags }, payload));
  return { data: eth({ type: ETH_IPV4 }, ip), ts: { sec, nsec: 0 } };
}

/** Contacts 2 h, 24 h and 30 days after the first: each one alerts (suppression is 1 h). */
const CONTACTS = [0, 2 * HOUR, 24 * HOUR, 30 * DAY];

function capture(bad: number | undefined): string {
  const frames: PcapFrame[] = [query(T0 + CONTACTS[0]!, undefined, 1)];
  if (bad !== undefined) frames.push(query(T0 + bad, 's02.upd.kaspersky.com', 2));
  for (const [i, c] of CONTACTS.slice(1).entries()) frames.push(query(T0 + c, undefined, 10 + i));
  return writeTemp(pcapFile(frames, { linktype: 1 }));
}

interface Report {
  decode_issues: Array<{ layer: string; kind: string; reason: string; count: number }>;
  totals: { alerts: number };
  clock: { steps_forward: number; steps_backward: number };
  clients: Array<{ client: string; last_seen: string; after_cutoff: number; names: Array<{ name: string }> }>;
}

function replay(file: string): { report: Report; alerts: Array<{ '@timestamp': string }> } {
  const alertsFile = writeTemp(new Uint8Array(0), 'ndjson');
  const r = kasmon(['replay', file, '--format', 'json', '--alerts', alertsFile]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { report: JSON.parse(r.stdout) as Report, alerts: lines(readFileSync(alertsFile, 'utf8')) as Array<{ '@timestamp': string }> };
}

const iso = (sec: number): string => `${new Date(sec * 1000).toISOString().slice(0, 19)}.000000Z`;

describe('a packet stamped far from the others, in the middle of a capture', () => {
  const without = replay(capture(undefined));

  test('without it: one alert per contact (the baseline the others are held to)', () => {
    expect(without.alerts.map((a) => a['@timestamp'])).toEqual(CONTACTS.map((c) => iso(T0 + c)));
  });

  test.for([
    { name: 'a year ahead', offset: YEAR, reason: 'ahead_of_network_time' },
    { name: 'a year behind', offset: -YEAR, reason: 'behind_network_time' },
  ])('$name: every later contact still alerts; the packet is counted under time/ and its name still reported', ({ offset, reason }) => {
    const { report, alerts } = replay(capture(offset));
    expect(alerts.map((a) => a['@timestamp'])).toEqual(without.alerts.map((a) => a['@timestamp']));
    expect(report.decode_issues).toContainEqual({ layer: 'time', kind: 'invalid', reason, count: 1 });
    // The bad packet's name is in the report, judged at network time (the first contact's), so
    // the client's last contact is the real last one, not a year away.
    const [c] = report.clients;
    expect(c?.names.map((n) => n.name)).toEqual(['s01.upd.kaspersky.com', 's02.upd.kaspersky.com']);
    expect(c?.after_cutoff).toBe(CONTACTS.length + 1);
    expect(c?.last_seen).toBe(iso(T0 + 30 * DAY));
    // The sparse capture's real gaps are steps of the capture clock, not problems.
    expect(report.clock).toEqual({ steps_forward: 3, steps_backward: 0 });
  });
});

describe('decoder state across a bad stamp', () => {
  const HELLO = clientHello({ sni: 'ksn-url-geo.kaspersky-labs.com' });
  const ISN = 1000;

  test('a year-ahead packet between two segments of a ClientHello does not flush the flow: the name is still read', () => {
    const frames = [
      segment(T0, 50_001, ISN, TCP_SYN),
      segment(T0 + 1, 50_001, ISN + 1, TCP_PSH | TCP_ACK, HELLO.subarray(0, 100)),
      query(T0 + YEAR, 'example.org', 3),
      segment(T0 + 2, 50_001, ISN + 101, TCP_PSH | TCP_ACK, HELLO.subarray(100)),
    ];
    const { report } = replay(writeTemp(pcapFile(frames, { linktype: 1 })));
    expect(report.clients.map((c) => c.names.map((n) => n.name))).toEqual([['ksn-url-geo.kaspersky-labs.com']]);
    expect(report.decode_issues).toContainEqual({ layer: 'time', kind: 'invalid', reason: 'ahead_of_network_time', count: 1 });
    expect(report.decode_issues.filter((d) => d.layer === 'name')).toEqual([]);
  });

  test('after a year-ahead packet, a stalled ClientHello still idles out (ageing is not frozen) and is counted', () => {
    const frames = [segment(T0, 50_002, ISN, TCP_SYN), segment(T0 + 1, 50_002, ISN + 1, TCP_PSH | TCP_ACK, HELLO.subarray(0, 100)), query(T0 + YEAR, 'example.org', 3)];
    // Traffic goes on for 200 s (flow_idle_seconds is 120): DNS every 10 s.
    for (let s = 10; s <= 200; s += 10) frames.push(query(T0 + s, 'example.org', 100 + s));
    const { report } = replay(writeTemp(pcapFile(frames, { linktype: 1 })));
    expect(report.decode_issues).toContainEqual({ layer: 'name', kind: 'truncated', reason: 'idle_timeout', count: 1 });
  });
});
