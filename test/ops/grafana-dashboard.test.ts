/**
 * config/grafana/kasmon-dashboard.json: every panel query, with the dashboard's variables
 * substituted, runs on a real Prometheus (Debian's `prometheus`, on a loopback port of its
 * own, its own storage, stopped after) without error; the shipped rules load and evaluate
 * there; and the dashboard is wired as Grafana needs it (the data source and sensor
 * variables in every query, only metrics README's table documents).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { documented, freePort, metricsIn, readmeMetrics, ROOT, startPrometheus, waitFor, type Prometheus } from './tools.js';

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

describe('on a real Prometheus', () => {
  let prom: Prometheus;

  beforeAll(async () => {
    // The shipped scrape config, scraping every second a kasmon port with nothing behind it
    // yet, and evaluating the shipped rules every second.
    const shipped = parse(readFileSync(join(ROOT, 'config/prometheus/prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: { job_name: string; scrape_interval: string; scrape_timeout: string; static_configs: { targets: string[] }[] }[];
    };
    const job = shipped.scrape_configs.find((j) => j.job_name === 'kasmon')!;
    shipped.global = { scrape_interval: '1s', evaluation_interval: '1s' };
    shipped.rule_files = shipped.rule_files.map((f) => join(ROOT, 'config/prometheus', f));
    Object.assign(job, { scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [`127.0.0.1:${String(await freePort())}`] }] });
    prom = await startPrometheus(stringify(shipped));
  });
  afterAll(async () => {
    await prom?.stop();
  });

  test('loads the shipped rules and evaluates every one without error', async () => {
    interface RuleState { name: string; health: string; lastError?: string }
    const all = await waitFor('every rule evaluated once', 20_000, async () => {
      const r = (await prom.get('/api/v1/rules')) as { data: { groups: { rules: RuleState[] }[] } };
      const rules = r.data.groups.flatMap((g) => g.rules);
      return rules.length > 0 && rules.every((x) => x.health !== 'unknown') ? rules : undefined;
    });
    expect(all.length).toBe(22);
    expect(all.filter((x) => x.health !== 'ok').map((x) => `${x.name}: ${x.lastError ?? x.health}`)).toEqual([]);
  });

  test('the scrape target is the kasmon job (and it is down: nothing listens there yet)', async () => {
    const up = await waitFor('a scrape of the kasmon job', 20_000, async () => {
      const r = await prom.query('up{job="kasmon"}');
      return r.status === 'success' && r.data.resultType === 'vector' && r.data.result.length === 1 ? r.data.result[0] : undefined;
    });
    expect(up.value?.[1]).toBe('0');
  });

  test('a broken query comes back as an error (the check below can fail)', async () => {
    const r = await prom.query(substitute('sum by (kind) (rate(kasmon_observations_total{job=~"$job",instance=~"$instance"}))'));
    expect(r).toMatchObject({ status: 'error', errorType: 'bad_data' });
  });

  test.for(queries.map((q) => [`${q.panel} ${q.refId}`, q] as const))('%s runs without error', async ([, q]) => {
    const r = await prom.query(substitute(q.expr));
    expect(r.status === 'error' ? `${r.errorType}: ${r.error}` : r.status).toBe('success');
  });
});
