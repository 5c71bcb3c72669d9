/**
 * JA4 of our own real-client captures, checked against an independent implementation: kasmon's
 * `ja4` on every tls_sni observation (the full pipeline: readAll into an Engine with the default
 * config, as `kasmon names` runs it) must equal what the `read-tls-client-hello` package computes
 * from the same ClientHello bytes, extracted and TCP-reassembled by tshark rather than by us.
 *
 * About the reference: read-tls-client-hello writes version '13' whenever supported_versions is
 * present (instead of the highest version offered) and does not cap the cipher/extension counts
 * at 99. Both are right for these hellos: all are TLS 1.3 hellos offering 0x0304, with far fewer
 * than 99 ciphers or extensions. It also reads only the first TLS record, which holds the whole
 * hello in these captures (tshark's reassembled data starts at that record).
 */
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { calculateJa4, readTlsClientHello } from 'read-tls-client-hello';
import { describe, expect, test } from 'vitest';
import type { Observation } from '../../src/capture/observation.js';
import { loadConfig } from '../../src/config/load.js';
import { Engine, engineLimits } from '../../src/engine/engine.js';
import { readAll } from '../../src/engine/inputs.js';
import { policyFrom } from '../../src/engine/policy.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

interface Hello {
  frame: number;
  bytes: Buffer;
}

/**
 * Every ClientHello in `file` according to tshark, on the frame that completes it: the
 * reassembled TCP data when the hello spans segments, else the segment's payload.
 */
function tsharkHellos(file: string): Hello[] {
  const r = spawnSync(
    'tshark',
    ['-r', file, '-Y', 'tls.handshake.type==1', '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.reassembled.data', '-e', 'tcp.payload'],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (r.error !== undefined || r.status !== 0) throw new Error(`tshark failed (is it installed? npm run test:deps): ${r.error?.message ?? r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [frame = '', reassembled = '', payload = ''] = line.split('\t');
      // A field may hold several comma-separated values (several PDUs): the hello is the first.
      const hex = (reassembled !== '' ? reassembled : payload).split(',')[0]!.replace(/:/g, '');
      return { frame: Number(frame), bytes: Buffer.from(hex, 'hex') };
    });
}

async function referenceJa4(hello: Buffer): Promise<string> {
  return calculateJa4(await readTlsClientHello(Readable.from([hello], { objectMode: false })));
}

async function kasmonTlsSni(file: string): Promise<Observation[]> {
  const out: Observation[] = [];
  const config = loadConfig();
  const engine = new Engine(policyFrom(config), { mode: 'names', ageing: 'packet', limits: engineLimits(config), onObservation: (o) => out.push(o) });
  const run = await readAll([file], engine);
  expect(run.damaged).toEqual([]);
  return out.filter((o) => o.kind === 'tls_sni');
}

describe('JA4 of real-client captures agrees with read-tls-client-hello on tshark-extracted hellos', () => {
  test.for([
    { fixture: 'demo', hellos: 12 },
    { fixture: 'chromium-split-hello', hellos: 2 },
  ])('$fixture: one tls_sni per ClientHello, same frame, same JA4', async ({ fixture, hellos }) => {
    const file = `${FIXTURES}${fixture}/input.pcap`;
    const ours = await kasmonTlsSni(file);
    const theirs = tsharkHellos(file);
    expect(theirs).toHaveLength(hellos);
    expect(ours.map((o) => o.frame)).toEqual(theirs.map((h) => h.frame));
    const want = await Promise.all(theirs.map(async (h) => ({ frame: h.frame, ja4: await referenceJa4(h.bytes) })));
    expect(ours.map((o) => ({ frame: o.frame, ja4: o.ja4 }))).toEqual(want);
  });

  test('chromium-split-hello: each hello spans 2 segments, and its JA4 says TLS 1.3 over TCP, SNI, ALPN h2', async () => {
    const file = `${FIXTURES}chromium-split-hello/input.pcap`;
    const hellos = tsharkHellos(file);
    // tshark needed reassembly for both: the hello is longer than the 1448-byte first segment.
    expect(hellos.map((h) => h.bytes.length > 1448)).toEqual([true, true]);
    const ours = await kasmonTlsSni(file);
    expect(ours).toHaveLength(2);
    for (const o of ours) {
      expect(o.ja4).toMatch(/^t13d\d{4}h2_[0-9a-f]{12}_[0-9a-f]{12}$/);
      expect(o.alpn?.[0]).toBe('h2');
    }
  });
});
