/**
 * The shipped scrape job against a kasmon that wants a bearer token (--api-token-file): with the
 * prometheus.yml's commented authorization block uncommented, a real Prometheus scrapes it; the
 * same job without the block gets 401 and `up` 0 (so the token is what makes it work).
 */
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLI, freePort, ROOT, shippedPrometheusConfig, startChild, startPrometheus, tempDir, waitFor, withTokenBlock, type Child, type Prometheus } from './tools.js';

const dir = tempDir('scrape-token');
let kasmon: Child;
let prom: Prometheus;
let target = '';

beforeAll(async () => {
  const token = join(dir, 'api-token');
  writeFileSync(token, 'b6f1c2d0e9a84f1f\n');
  chmodSync(token, 0o600);
  target = `127.0.0.1:${String(await freePort())}`;
  kasmon = startChild(process.execPath, [CLI, 'monitor', '--read', join(ROOT, 'test/fixtures/demo/input.pcap'), '--listen', target, '--api-token-file', token]);
  await waitFor('kasmon to serve', 30_000, async () => {
    if (kasmon.proc.exitCode !== null) throw new Error(`kasmon monitor exited ${String(kasmon.proc.exitCode)}: ${kasmon.output()}`);
    const r = await fetch(`http://${target}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return r.ok ? true : undefined;
  });
  const text = withTokenBlock(readFileSync(join(ROOT, 'config/prometheus/prometheus.yml'), 'utf8'), token);
  prom = await startPrometheus(
    shippedPrometheusConfig(target, {
      text,
      edit: (c) => {
        const job = c.scrape_configs.find((j) => j.job_name === 'kasmon')!;
        const { authorization: _, ...bare } = job;
        c.scrape_configs.push({ ...bare, job_name: 'kasmon-without-token' });
      },
    }),
  );
});
afterAll(async () => {
  await prom?.stop();
  await kasmon?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the uncommented bearer-token block scrapes a kasmon that wants a token; without it, 401', async () => {
  interface Target { labels: { job: string }; health: string; lastError: string }
  const targets = await waitFor('both jobs scraped', 30_000, async () => {
    const r = (await prom.get('/api/v1/targets')) as { data: { activeTargets: Target[] } };
    const t = r.data.activeTargets;
    return t.length === 2 && t.every((x) => x.health !== 'unknown') ? t : undefined;
  });
  const byJob = new Map(targets.map((t) => [t.labels.job, t]));
  expect(byJob.get('kasmon')).toMatchObject({ health: 'up', lastError: '' });
  expect(byJob.get('kasmon-without-token')).toMatchObject({ health: 'down' });
  expect(byJob.get('kasmon-without-token')!.lastError).toContain('401');
  const r = await prom.query('kasmon_clients_after_cutoff{job="kasmon"}');
  expect(r.status === 'success' && r.data.resultType === 'vector' ? r.data.result.map((x) => x.value?.[1]) : r).toEqual(['2']);
});
