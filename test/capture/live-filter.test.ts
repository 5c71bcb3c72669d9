import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { captureFilter, defaultFilter } from '../../src/capture/live/filter.js';
import { parseStats, tcpdumpArgs } from '../../src/capture/live/tcpdump.js';
import { NAME_PORTS } from '../../src/capture/tcp/streams.js';
import { dnsQuery, dnsResponse, eth, ETH_IPV4, ETH_IPV6, httpGet, ipv4, ipv4Fragments, ipv6, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, tcp, udp, vxlan } from '../helpers/packets.js';
import { pcapFile, writeTemp, type PcapFrame } from '../helpers/pcap.js';
import { clientHello } from '../helpers/tls.js';
import { kasmon, lines } from '../e2e/cli.js';

/**
 * The sensor's default BPF filter, compiled and run by real tcpdump (`tcpdump -r in -w out
 * FILTER`) over a capture with bulk downloads: it must keep every packet a name can come from
 * (kasmon reports exactly the same names from the filtered file) and drop the bulk.
 */
const FILTER = defaultFilter({ dnsPorts: [53], namePorts: NAME_PORTS });
const C = '198.18.0.41';
const S = '198.19.0.7';

function v4(src: string, dst: string, proto: number, payload: Uint8Array, vlan?: number): Uint8Array {
  return eth({ type: ETH_IPV4, ...(vlan !== undefined ? { vlan: [vlan] } : {}) }, ipv4({ src, dst, proto }, payload));
}

/** A client fetches `bytes` over HTTP or TLS: SYN, the request, then the server's bulk data and the client's ACKs. */
function download(sport: number, dport: number, request: Uint8Array, bytes: number, vlan?: number): Uint8Array[] {
  const out = [
    v4(C, S, IPPROTO_TCP, tcp({ sport, dport, seq: 1000, flags: TCP_SYN }, new Uint8Array(0)), vlan),
    v4(S, C, IPPROTO_TCP, tcp({ sport: dport, dport: sport, seq: 5000, ack: 1001, flags: TCP_SYN | TCP_ACK }, new Uint8Array(0)), vlan),
    v4(C, S, IPPROTO_TCP, tcp({ sport, dport, seq: 1001, ack: 5001, flags: TCP_PSH | TCP_ACK }, request), vlan),
  ];
  for (let off = 0; off < bytes; off += 1400) {
    out.push(v4(S, C, IPPROTO_TCP, tcp({ sport: dport, dport: sport, seq: 5001 + off, ack: 1001 + request.length, flags: TCP_ACK }, new Uint8Array(1400).fill(7)), vlan));
    if ((off / 1400) % 2 === 1) out.push(v4(C, S, IPPROTO_TCP, tcp({ sport, dport, seq: 1001 + request.length, ack: 5001 + off + 1400, flags: TCP_ACK }, new Uint8Array(0)), vlan));
  }
  out.push(v4(C, S, IPPROTO_TCP, tcp({ sport, dport, seq: 1001 + request.length, flags: TCP_FIN | TCP_ACK }, new Uint8Array(0)), vlan));
  return out;
}

function capture(): string {
  const frames: Uint8Array[] = [
    v4(C, '198.19.0.53', IPPROTO_UDP, udp({ sport: 40_001, dport: 53 }, dnsQuery('dnl-01.geo.kaspersky.com'))),
    v4('198.19.0.53', C, IPPROTO_UDP, udp({ sport: 53, dport: 40_001 }, dnsResponse('dnl-01.geo.kaspersky.com', [{ type: 'A', name: 'dnl-01.geo.kaspersky.com', data: S }]))),
    ...download(50_001, 80, httpGet('dnl-01.geo.kaspersky.com', '/diffs/bases.klz'), 300_000),
    ...download(50_002, 443, clientHello({ sni: 'ksn-url-geo.kaspersky-labs.com' }), 300_000),
    ...download(50_003, 443, clientHello({ sni: 'tagged.kaspersky.com' }), 50_000, 100),
    eth({ type: ETH_IPV6 }, ipv6({ src: 'fd00::41', dst: 'fd00::53', next: IPPROTO_UDP }, udp({ sport: 40_002, dport: 53 }, dnsQuery('activation-v2.kaspersky.com')))),
    // A large DNS answer split into IPv4 fragments: the later fragments carry no port.
    ...ipv4Fragments({ src: '198.19.0.53', dst: C, proto: IPPROTO_UDP, id: 77 }, udp({ sport: 53, dport: 40_003 }, dnsResponse('s01.upd.kaspersky.com', Array.from({ length: 60 }, (_, i) => ({ type: 'A' as const, name: 's01.upd.kaspersky.com', data: `198.19.1.${i}` })))), 400).map((f) => eth({ type: ETH_IPV4 }, f)),
    // A VXLAN mirror carrying a ClientHello.
    v4('198.18.9.1', '198.18.9.2', IPPROTO_UDP, udp({ sport: 41_000, dport: 4789 }, vxlan(7, v4(C, S, IPPROTO_TCP, tcp({ sport: 50_004, dport: 443, seq: 1 }, clientHello({ sni: 'mirrored.kaspersky.com' })))))),
  ];
  return writeTemp(pcapFile(frames.map((data, i): PcapFrame => ({ data, ts: { sec: 1_727_740_800 + i, nsec: 0 } })), { linktype: 1 }));
}

function names(file: string): string[] {
  const r = kasmon(['names', file]);
  expect(r.status).toBe(0);
  return (lines(r.stdout) as Array<{ kind: string; name: string }>).map((o) => `${o.kind} ${o.name}`).sort();
}

describe('the default capture filter, run by tcpdump', () => {
  test('keeps every name (DNS both ways, v6, fragments, VLAN, VXLAN, TLS, HTTP) and drops the bulk of downloads', () => {
    const input = capture();
    const output = writeTemp(new Uint8Array(0), 'pcap');
    const r = spawnSync('tcpdump', ['-r', input, '-w', output, FILTER], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const all = names(input);
    expect(all).toHaveLength(67); // 2 queries, 61 answers (60 of them in the fragmented message), 1 Host, 3 SNI
    expect(names(output)).toEqual(all);
    expect(statSync(output).size / statSync(input).size).toBeLessThan(0.05);
  });

  test('compiles to fewer instructions than the kernel allows (4096) for the usual DNS ports', () => {
    const f = defaultFilter({ dnsPorts: [53, 5353, 5355], namePorts: NAME_PORTS });
    const empty = writeTemp(pcapFile([], { linktype: 1 }));
    const r = spawnSync('tcpdump', ['-d', '-r', empty, f], { encoding: 'utf8' });
    const n = r.stdout.split('\n').filter((l) => /^\(\d+\)/.test(l)).length;
    expect(n, r.stderr).toBeGreaterThan(100);
    expect(n).toBeLessThan(4096);
  });

  test('--filter replaces the default, --filter-add is ORed onto whichever is in force', () => {
    expect(captureFilter('A', '', '')).toBe('A');
    expect(captureFilter('A', 'B', '')).toBe('B');
    expect(captureFilter('A', '', 'C')).toBe('(A) or (C)');
    expect(captureFilter('A', ' B ', ' C ')).toBe('(B) or (C)');
  });
});

describe('tcpdump as a child', () => {
  test('its arguments: packet-buffered pcap on stdout, numeric, snap length, buffer, user, filter last', () => {
    expect(tcpdumpArgs({ path: 'tcpdump', iface: 'eth1', snaplen: 65535, bufferKiB: 32768, user: 'kasmon', filter: 'udp port 53' })).toEqual(
      ['-i', 'eth1', '-w', '-', '-U', '-n', '-s', '65535', '-B', '32768', '-Z', 'kasmon', 'udp port 53'],
    );
    expect(tcpdumpArgs({ path: 'tcpdump', iface: 'eth1', snaplen: 1500, bufferKiB: 1024, user: '', filter: '' })).toEqual(['-i', 'eth1', '-w', '-', '-U', '-n', '-s', '1500', '-B', '1024']);
  });

  test.for([
    ['tcpdump: 12 packets captured, 15 packets received by filter, 3 packets dropped by kernel', { received: 15, droppedKernel: 3, droppedInterface: 0 }],
    ['15 packets received by filter', { received: 15, droppedKernel: 0, droppedInterface: 0 }],
    ['1 packet dropped by interface', { received: 0, droppedKernel: 0, droppedInterface: 1 }],
  ] as const)('stats line %j', ([line, want]) => {
    const s = { received: 0, droppedKernel: 0, droppedInterface: 0 };
    expect(parseStats(line, s)).toBe(true);
    expect(s).toEqual(want);
  });

  test('a line that is not a statistic changes nothing', () => {
    const s = { received: 4, droppedKernel: 1, droppedInterface: 0 };
    expect(parseStats('tcpdump: eth9: No such device exists', s)).toBe(false);
    expect(s).toEqual({ received: 4, droppedKernel: 1, droppedInterface: 0 });
  });
});
