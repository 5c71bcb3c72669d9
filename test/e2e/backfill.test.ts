import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Sensor } from '../../src/engine/sensor.js';
import { families } from '../../src/export/backfill.js';
import { buildMetrics } from '../../src/export/metrics.js';
import { FIXTURES, kasmon, until } from './cli.js';

/**
 * `replay --openmetrics`: the file loads with the real promtool, a real Prometheus serves the
 * blocks, and a historical value comes back through its HTTP API. Prometheus listens on a free
 * loopback port of its own, in a temporary directory, and is stopped at the end.
 */
const dir = mkdtempSync(join(tmpdir(), 'kasmon-backfill-'));
let prom: ChildProcess | undefined;
afterAll(() => {
  prom?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

describe('OpenMetrics backfill', () => {
  test('promtool builds blocks from it; Prometheus on them answers a historical query with the replay\'s numbers', async () => {
    const om = join(dir, 'demo.om');
    const r = kasmon(['replay', `${FIXTURES}/demo/input.pcap`, '--format', 'json', '--observer', 'demo', '--openmetrics', om, '--openmetrics-step', '60']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { totals: { frames: number }; matches: Array<{ kind: string; category: string; phase: string; count: number }> };
    const text = readFileSync(om, 'utf8');
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(text).toMatch(/^# TYPE kasmon_matches counter$/m);
    // promtool: the OpenMetrics file becomes TSDB blocks
    const data = join(dir, 'data');
    const p = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', om, data], { encoding: 'utf8', timeout: 60_000 });
    expect(p.stderr + p.stdout).not.toMatch(/error/i);
    expect(p.status).toBe(0);
    // a real Prometheus on those blocks (retention long enough for 2024)
    const port = await freePort();
    writeFileSync(join(dir, 'prometheus.yml'), 'global: {}\n');
    prom = spawn('prometheus', [`--storage.tsdb.path=${data}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=100y', `--config.file=${join(dir, 'prometheus.yml')}`], { stdio: 'ignore' });
    const base = `http://127.0.0.1:${port}`;
    let ready = false;
    const poll = setInterval(() => {
      fetch(`${base}/-/ready`, { signal: AbortSignal.timeout(1000) })
        .then((x) => (ready = x.ok))
        .catch(() => undefined);
    }, 200);
    try {
      await until(() => ready, 'Prometheus ready', 30_000);
    } finally {
      clearInterval(poll);
    }
    // 2024-10-03T14:31:00Z: after the last packet of the demo (14:30:00.8), at the final sample
    const at = Date.parse('2024-10-03T14:31:00Z') / 1000;
    const q = async (expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
      const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}&time=${at}`, { signal: AbortSignal.timeout(5000) });
      const j = (await res.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      expect(j.status).toBe('success');
      return j.data.result;
    };
    const updateAfter = report.matches.filter((m) => m.category === 'update' && m.phase === 'after').reduce((n, m) => n + m.count, 0);
    expect(updateAfter).toBeGreaterThan(0);
    expect(Number((await q('sum(kasmon_matches_total{category="update",phase="after"})'))[0]!.value[1])).toBe(updateAfter);
    expect(Number((await q('kasmon_packets_total'))[0]!.value[1])).toBe(report.totals.frames);
    expect(Number((await q('kasmon_clients_after_cutoff'))[0]!.value[1])).toBe(2);
    // before the cutoff, on the first day: no after-cutoff clients yet, and fewer packets
    const early = Date.parse('2024-09-20T08:01:00Z') / 1000;
    const res = await fetch(`${base}/api/v1/query?query=kasmon_clients_after_cutoff&time=${early}`, { signal: AbortSignal.timeout(5000) });
    const j = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
    expect(j.data.result[0]!.value[1]).toBe('0');
  }, 120_000);

  test('the same names, types, help and label names as the sensor\'s /metrics', async () => {
    const config = loadConfig();
    const sensor = new Sensor({ config, interfaces: [], read: `${FIXTURES}/demo/input.pcap`, log: { info() {}, warn() {}, error() {} }, onAlert() {} });
    await sensor.start();
    await until(() => sensor.reader?.state !== 'reading', 'the sensor read the demo');
    const text = await buildMetrics({ sensor, version: '9.9.9' }).prometheus.metrics();
    await sensor.stop();
    for (const f of families(config, '9.9.9')) {
      expect(text, f.name).toContain(`# TYPE ${f.name} ${f.type}\n`);
      expect(text, f.name).toContain(`# HELP ${f.name} ${f.help}\n`);
    }
    // and the label names of each backfilled series exist on /metrics too
    const om = join(dir, 'labels.om');
    kasmon(['replay', `${FIXTURES}/demo/input.pcap`, '--openmetrics', om]);
    const labelSets = new Set([...readFileSync(om, 'utf8').matchAll(/^(kasmon_\w+)\{([^}]*)\}/gm)].map((m) => `${m[1]}{${[...m[2]!.matchAll(/(\w+)="/g)].map((x) => x[1]).join(',')}}`));
    const live = new Set([...text.matchAll(/^(kasmon_\w+)\{([^}]*)\}/gm)].map((m) => `${m[1]}{${[...m[2]!.matchAll(/(\w+)="/g)].map((x) => x[1]).join(',')}}`));
    for (const l of labelSets) expect(live, l).toContain(l);
  }, 60_000);
});
