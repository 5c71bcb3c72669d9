import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { FIXTURES, kasmon, lines } from './cli.js';

/**
 * Golden tests on captures we made ourselves from real clients (test/fixtures/<case>/README.md
 * says how): `kasmon names` must print exactly expected.names.jsonl, and agree with tshark's
 * ground truth (tshark.jsonl, made by shared/corpus/make-expected.sh) name for name.
 */
const cases = readdirSync(FIXTURES).filter((d) => existsSync(`${FIXTURES}/${d}/input.pcap`));

type Obs = { kind: string; name: string; src: string; dst: string; sport: number; dport: number; rrtype?: string; data?: string };
const key = (o: Obs): string => [o.kind, o.name, o.src, o.dst, o.sport, o.dport, o.rrtype ?? '', o.data ?? ''].join('|');

describe('bundled real-client captures', () => {
  test('every fixture is covered', () => {
    expect(cases).toEqual(expect.arrayContaining(['demo', 'chromium-split-hello', 'dns-tcp', 'dns-fragmented', 'quic-chromium']));
  });

  test.for(cases)('%s: names prints exactly the golden observations', (c) => {
    const r = kasmon(['names', `${FIXTURES}/${c}/input.pcap`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(readFileSync(`${FIXTURES}/${c}/expected.names.jsonl`, 'utf8'));
  });

  test.for(cases)('%s: names agrees with tshark on every observation', (c) => {
    const r = kasmon(['names', `${FIXTURES}/${c}/input.pcap`]);
    const ours = (lines(r.stdout) as Obs[]).map(key).sort();
    const want = (lines(readFileSync(`${FIXTURES}/${c}/tshark.jsonl`, 'utf8')) as Obs[])
      .filter((o) => o.kind !== 'dns_answer' || ['A', 'AAAA', 'CNAME'].includes(o.rrtype ?? ''))
      .map(key)
      .sort();
    expect(ours.length).toBeGreaterThan(0);
    expect(ours).toEqual(want);
  });
});
