import { describe, expect, test } from 'vitest';
import { concat, dnsQuery, eth, ETH_ARP, ETH_IPV4, ipv4, IPPROTO_UDP, LINKTYPE, udp } from '../helpers/packets.js';
import { pcapFile, writeTemp, type PcapFrame } from '../helpers/pcap.js';
import { kasmon } from './cli.js';

/**
 * A capture kasmon cannot read must not pass for one without Kaspersky traffic: the summary
 * says first, in words, what could not be decoded (the link type by number and name), the
 * JSON carries the coverage figure, and a capture of which nothing could be decoded exits 5.
 */
const dnsFrame = (i: number): Uint8Array =>
  eth({ type: ETH_IPV4 }, ipv4({ src: '198.18.0.10', dst: '198.19.0.53', proto: IPPROTO_UDP }, udp({ sport: 40000 + i, dport: 53 }, dnsQuery('s01.upd.kaspersky.com'))));
const frames = (n: number, make: (i: number) => Uint8Array): PcapFrame[] => Array.from({ length: n }, (_, i) => ({ data: make(i) }));

interface Coverage {
  frames_read: number;
  frames_decoded: number;
  ratio: number;
  not_decoded: Array<{ reason: string; frames: number; linktype: number | null; linktype_name: string | null }>;
  cut_by_snaplen: { frames: number; snaplen: number | null };
  quic_packets: { known_version: number; unknown_version: number };
}
const json = (args: string[]): { status: number | null; warnings: string[]; coverage: Coverage; stderr: string } => {
  const r = kasmon(['replay', '--format', 'json', ...args]);
  const rep = JSON.parse(r.stdout) as { warnings: string[]; coverage: Coverage };
  return { status: r.status, warnings: rep.warnings, coverage: rep.coverage, stderr: r.stderr };
};

describe('coverage', () => {
  test('all frames of an unsupported link type (802.11 with a Prism header): said first with number and name; exit 5', () => {
    const f = writeTemp(pcapFile(frames(40, () => new Uint8Array(60).fill(7)), { linktype: 119 }));
    const r = json([f]);
    expect(r.status).toBe(5);
    expect(r.coverage).toEqual({
      frames_read: 40,
      frames_decoded: 0,
      ratio: 0,
      not_decoded: [{ reason: 'unsupported link type 119 (LINKTYPE_IEEE802_11_PRISM)', frames: 40, linktype: 119, linktype_name: 'LINKTYPE_IEEE802_11_PRISM' }],
      cut_by_snaplen: { frames: 0, snaplen: null },
      quic_packets: { known_version: 0, unknown_version: 0 },
    });
    expect(r.warnings).toEqual([
      'Not one of the 40 frames could be decoded: nothing was analysed, and no finding here means anything.',
      '40 of 40 frames (100%) have link type 119 (LINKTYPE_IEEE802_11_PRISM), which kasmon cannot decode: the names in them are not in this report.',
    ]);
    expect(r.stderr).toBe('kasmon: not one of the 40 frames could be decoded (unsupported link type 119 (LINKTYPE_IEEE802_11_PRISM): 40); nothing was analysed\n');
    // The table puts it before everything but its title, and "none lost" is no longer the last word.
    const t = kasmon(['replay', f]);
    expect(t.status).toBe(5);
    expect(t.stdout.split('\n').slice(1, 3)).toEqual([
      'WARNING: Not one of the 40 frames could be decoded: nothing was analysed, and no finding here means anything.',
      'WARNING: 40 of 40 frames (100%) have link type 119 (LINKTYPE_IEEE802_11_PRISM), which kasmon cannot decode: the names in them are not in this report.',
    ]);
    expect(t.stdout).toContain('coverage: 0 of 40 frames decoded (0.0%); not decoded: unsupported link type 119 (LINKTYPE_IEEE802_11_PRISM) 40');
    expect(kasmon(['names', f]).status).toBe(5);
  });

  test('a user link type has its name too', () => {
    const r = json([writeTemp(pcapFile(frames(3, () => new Uint8Array(20)), { linktype: 150 }))]);
    expect(r.coverage.not_decoded[0]!.reason).toBe('unsupported link type 150 (LINKTYPE_USER3)');
  });

  test('an unknown encapsulation in part of an Ethernet capture: a warning, the rest analysed, exit 0', () => {
    // 0x88e5 = MACsec: it may carry IP that kasmon cannot see.
    const all = [...frames(6, dnsFrame), ...frames(4, () => eth({ type: 0x88e5 }, new Uint8Array(64)))];
    const r = json([writeTemp(pcapFile(all, { linktype: LINKTYPE.ETHERNET }))]);
    expect(r.status).toBe(0);
    expect([r.coverage.frames_decoded, r.coverage.ratio]).toEqual([6, 0.6]);
    expect(r.warnings).toEqual(['4 of 10 frames (40.0%) could not be decoded (ethernet/skipped/unsupported_ethertype 4): the names in them are not in this report.']);
  });

  test('ARP and other link-layer chatter is decoded (not IP, nothing to look for): no warning', () => {
    const all = [...frames(2, dnsFrame), ...frames(8, () => eth({ type: ETH_ARP }, new Uint8Array(28)))];
    const r = json([writeTemp(pcapFile(all, { linktype: LINKTYPE.ETHERNET }))]);
    expect(r.status).toBe(0);
    expect([r.coverage.frames_decoded, r.warnings]).toEqual([10, []]);
  });

  test('frames cut by the snap length: said with the snap length', () => {
    const all = frames(10, (i) => dnsFrame(i).subarray(0, 54)).map((f, i) => ({ ...f, origLen: dnsFrame(i).length }));
    const r = json([writeTemp(pcapFile(all, { linktype: LINKTYPE.ETHERNET, snaplen: 54 }))]);
    expect(r.coverage.cut_by_snaplen).toEqual({ frames: 10, snaplen: 54 });
    expect(r.warnings).toEqual([expect.stringMatching(/^10 of 10 frames \(100%\) were cut by the snap length \(54 bytes kept\): names past the cut are lost \(\d+ counted under name\/capture_truncated\); capture with tcpdump -s 0\.$/)]);
  });

  test('QUIC in a version kasmon cannot decrypt: said, counted', () => {
    const quicV3 = concat(Uint8Array.of(0xc3, 0, 0, 0, 3, 8), new Uint8Array(8).fill(1), Uint8Array.of(0), new Uint8Array(1180));
    const quic = (i: number): Uint8Array => eth({ type: ETH_IPV4 }, ipv4({ src: '198.18.0.10', dst: '198.19.0.1', proto: IPPROTO_UDP }, udp({ sport: 50000 + i, dport: 443 }, quicV3)));
    const r = json([writeTemp(pcapFile([...frames(5, quic), ...frames(5, dnsFrame)], { linktype: LINKTYPE.ETHERNET }))]);
    expect(r.status).toBe(0);
    expect(r.coverage.quic_packets).toEqual({ known_version: 0, unknown_version: 5 });
    expect(r.warnings).toEqual(['5 of 5 QUIC client packets to port 443 (100%) use a version kasmon cannot decrypt: the names in them are not in this report.']);
  });

  test('an empty capture is not "nothing decodable": exit 0, coverage 1', () => {
    const r = json([writeTemp(pcapFile([], { linktype: 119 }))]);
    expect([r.status, r.coverage.ratio, r.warnings]).toEqual([0, 1, []]);
  });
});
