/**
 * config/grafana/kasmon-dashboard.json: a real `kasmon monitor --read` replays the demo
 * capture and keeps serving /metrics; a real Prometheus (Debian's `prometheus`, on a loopback
 * port of its own, its own storage, stopped after) scrapes it with the shipped scrape config and
 * evaluates the shipped rules. Every panel query, with the dashboard's variables substituted,
 * runs there without error, the key panels return the demo's numbers, every rule evaluates and
 * the contact alert fires. The dashboard is also checked for what Grafana needs: the data
 * source and sensor variables in every query, and only metrics README's table documents.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI, documented, freePort, metricsIn, readmeMetrics, ROOT, shippedPrometheusConfig, startChild, startPrometheus, waitFor, type Child, type Prometheus } from './tools.js';

interface Target {
  expr?: string;
  refId: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: unknown;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  templating: { list: Variable[] };
  panels: Panel[];
}

const dashboard = JSON.parse(readFileSync(join(ROOT, 'config/grafana/kasmon-dashboard.json'), 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((p) => (p.targets ?? []).flatMap((t) => (t.expr === undefined ? [] : [{ panel: p.title, refId: t.refId, expr: t.expr }])));

/**
 * What Grafana puts in for each variable: the kasmon job, every sensor (the instance
 * variable's "All"), and intervals that suit a 1 s scrape.
 */
const VALUES: Record<string, string> = { job: 'kasmon', instance: '.+', __rate_interval: '1m', __interval: '15s', __range: '1h' };
function substitute(expr: string): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (_, name: string) => {
    const v = VALUES[name];
    if (v === undefined) throw new Error(`unknown variable $${name} in ${expr}`);
    return v;
  });
}

describe('the dashboard', () => {
  test('has a Prometheus data source variable used by every panel and query', () => {
    const ds = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const p of panels.filter((p) => p.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets ?? []) expect(t.datasource, `${p.title} ${t.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  test('has an instance (sensor) variable, multi-valued with All, and every kasmon selector uses it', () => {
    const inst = dashboard.templating.list.find((v) => v.name === 'instance');
    expect(inst).toMatchObject({ type: 'query', multi: true, includeAll: true, allValue: '.+' });
    expect(JSON.stringify(inst!.query)).toContain('label_values(kasmon_build_info');
    for (const q of queries) {
      for (const m of q.expr.matchAll(/\b((?:kasmon|process|nodejs)_[a-z0-9_]+)(\{[^}]*\})?/g)) {
        expect(m[2] ?? '', `${q.panel}: ${m[1]!} without the sensor filter`).toContain('job=~"$job",instance=~"$instance"');
      }
    }
  });

  test('has the panels an operator needs', () => {
    const titles = panels.map((p) => p.title);
    for (const want of [
      'Clients after the cutoff',
      'Matches by category and phase',
      'kasmon alerts by category and severity',
      'Observations by kind',
      'Decode issues by layer and kind',
      'Names lost by reason',
      'Evictions by table',
      'Table bytes vs budget',
      'Capture received and dropped per interface',
      'Restarts',
      'Packets per second',
      'Event-loop lag',
      'Process memory',
      'Config and build',
    ]) {
      expect(titles, want).toContain(want);
    }
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  });

  test('panels do not overlap', () => {
    const cells = new Map<string, string>();
    for (const p of panels) {
      const g = p.gridPos;
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const k = `${String(x)},${String(y)}`;
          expect(cells.get(k), `${p.title} overlaps`).toBeUndefined();
          cells.set(k, p.title);
        }
      }
    }
  });

  test('reads only metrics documented in README\'s table, with known variables only', () => {
    const table = readmeMetrics();
    const used = new Set(queries.flatMap((q) => metricsIn(q.expr)));
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((m) => !documented(m, table))).toEqual([]);
    for (const q of queries) expect(() => substitute(q.expr)).not.toThrow();
  });
});

/** The demo capture: two clients contact update, ksn, activation (and other) endpoints after the cutoff. */
const DEMO = join(ROOT, 'test/fixtures/demo/input.pcap');

describe('on a real Prometheus scraping a real kasmon monitor', () => {
  let prom: Prometheus;
  let kasmon: Child;
  let target = '';

  beforeAll(async () => {
    // kasmon replays the demo capture and keeps serving /metrics on a port of its own.
    const port = await freePort();
    target = `127.0.0.1:${String(port)}`;
    kasmon = startChild(process.execPath, [CLI, 'monitor', '--read', DEMO, '--listen', target]);
    await waitFor('kasmon to have read the demo capture', 30_000, async () => {
      if (kasmon.proc.exitCode !== null) throw new Error(`kasmon monitor exited ${String(kasmon.proc.exitCode)}: ${kasmon.output()}`);
      const r = await fetch(`http://${target}/metrics`, { signal: AbortSignal.timeout(2_000) });
      return /^kasmon_packets_total 244$/m.test(await r.text()) ? true : undefined;
    });
    // The shipped scrape config and rules, scraping and evaluating every second.
    prom = await startPrometheus(shippedPrometheusConfig(target));
    // rate() and increase() need two samples in their window: wait for a few scrapes.
    await waitFor('three scrapes of kasmon', 30_000, async () => {
      const r = await prom.query('count_over_time(kasmon_packets_total{job="kasmon"}[1m]) >= 3');
      return r.status === 'success' && r.data.resultType === 'vector' && r.data.result.length === 1 ? true : undefined;
    });
  });
  afterAll(async () => {
    await prom?.stop();
    await kasmon?.stop();
  });

  test('loads the shipped rules and evaluates every one without error', async () => {
    interface RuleState { name: string; health: string; lastError?: string }
    const all = await waitFor('every rule evaluated once', 20_000, async () => {
      const r = (await prom.get('/api/v1/rules')) as { data: { groups: { rules: RuleState[] }[] } };
      const rules = r.data.groups.flatMap((g) => g.rules);
      return rules.length > 0 && rules.every((x) => x.health !== 'unknown') ? rules : undefined;
    });
    // Every rule of the shipped file (alerts and recordings), counted from it.
    const shipped = readFileSync(join(ROOT, 'config/prometheus/kasmon-rules.yml'), 'utf8').match(/^\s+- (alert|record):/gm) ?? [];
    expect(shipped.length).toBeGreaterThan(20);
    expect(all.length).toBe(shipped.length);
    expect(all.filter((x) => x.health !== 'ok').map((x) => `${x.name}: ${x.lastError ?? x.health}`)).toEqual([]);
  });

  test('the sensor variable lists the kasmon it scrapes', async () => {
    const r = (await prom.get(`/api/v1/label/instance/values?match[]=${encodeURIComponent('kasmon_build_info{job=~"kasmon"}')}`)) as { data: string[] };
    expect(r.data).toEqual([target]);
  });

  test('a broken query comes back as an error (the check below can fail)', async () => {
    const r = await prom.query(substitute('sum by (kind) (rate(kasmon_observations_total{job=~"$job",instance=~"$instance"}))'));
    expect(r).toMatchObject({ status: 'error', errorType: 'bad_data' });
  });

  test.for(queries.map((q) => [`${q.panel} ${q.refId}`, q] as const))('%s runs without error', async ([, q]) => {
    const r = await prom.query(substitute(q.expr));
    expect(r.status === 'error' ? `${r.errorType}: ${r.error}` : r.status).toBe('success');
  });

  /** The series a panel's query returns now, each as its labels and value. */
  async function panelData(title: string, refId = 'A'): Promise<{ metric: Record<string, string>; value: number }[]> {
    const q = queries.find((x) => x.panel === title && x.refId === refId);
    if (q === undefined) throw new Error(`no panel ${title} ${refId}`);
    const r = await prom.query(substitute(q.expr));
    if (r.status !== 'success' || r.data.resultType !== 'vector') throw new Error(`${title}: ${JSON.stringify(r)}`);
    return r.data.result.map((x) => ({ metric: x.metric, value: Number(x.value?.[1]) }));
  }

  test('the key panels return data', async () => {
    expect((await panelData('Clients after the cutoff')).map((x) => x.value)).toEqual([2]);
    expect((await panelData('Clients in the live table')).map((x) => x.value)).toEqual([3]);
    expect((await panelData('Cutoff in force')).map((x) => x.value)).toEqual([Date.parse('2024-09-29T04:00:00Z')]);
    const since = await panelData('Matches since start by category, kind and phase');
    expect(since.find((x) => x.metric['category'] === 'activation' && x.metric['kind'] === 'tls_sni' && x.metric['phase'] === 'after')?.value).toBe(2);
    const byCategory = await panelData('Matches by category and phase');
    expect(byCategory.map((x) => `${x.metric['category'] ?? ''} ${x.metric['phase'] ?? ''}`)).toEqual(expect.arrayContaining(['update after', 'ksn after', 'activation after', 'update before']));
    expect((await panelData('Last match by category')).map((x) => x.metric['category']).sort()).toEqual(expect.arrayContaining(['activation', 'ksn', 'update']));
    expect((await panelData('kasmon alerts by category and severity')).length).toBeGreaterThan(0);
    expect((await panelData('Observations by kind')).map((x) => x.metric['kind']).sort()).toEqual(expect.arrayContaining(['dns_answer', 'dns_query', 'http_host', 'tls_sni']));
    expect((await panelData('Packets per second')).map((x) => x.metric['instance'])).toEqual([target]);
    const age = (await panelData('Seconds since the last packet')).map((x) => x.value);
    expect(age).toHaveLength(1);
    expect(age[0]).toBeGreaterThanOrEqual(0);
    expect(age[0]).toBeLessThan(300);
    const budgets = await panelData('Table bytes vs budget', 'B');
    expect(budgets.find((x) => x.metric['table'] === 'clients')?.value).toBe(128 * 1024 * 1024);
    expect((await panelData('Table bytes vs budget', 'A')).length).toBeGreaterThan(0);
    expect((await panelData('Event-loop lag', 'B')).length).toBe(1);
    expect((await panelData('Process memory', 'A'))[0]?.value).toBeGreaterThan(10 * 1024 * 1024);
    expect((await panelData('CPU')).length).toBe(1);
    expect((await panelData('Config and build', 'A'))[0]?.metric['rules_sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect((await panelData('Config and build', 'B'))[0]?.metric['version']).toBe('0.1.0');
  });

  test('the shipped contact alert fires for the demo capture, by category and severity', async () => {
    const firing = await waitFor('KasmonKasperskyContactAfterCutoff to fire', 20_000, async () => {
      const r = await prom.query('ALERTS{alertname="KasmonKasperskyContactAfterCutoff",alertstate="firing"}');
      if (r.status !== 'success' || r.data.resultType !== 'vector') return undefined;
      return r.data.result.length >= 4 ? r.data.result : undefined;
    });
    expect(firing.map((a) => `${a.metric['category'] ?? ''} ${a.metric['severity'] ?? ''} ${a.metric['instance'] ?? ''}`).sort()).toEqual([
      `activation critical ${target}`,
      `ksn critical ${target}`,
      `other info ${target}`,
      `update critical ${target}`,
    ]);
  });
});
