/**
 * config/alertmanager/alertmanager.yml passes Debian's real amtool, and routes as its header
 * says: kasmon's findings and the sensors' own alerts by severity (critical → oncall, warning →
 * tickets, info → nowhere), grouped by alertname and category. The end-to-end test
 * (test/e2e/alertmanager.test.ts) runs a real Alertmanager with this file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { ALERTNAME } from '../../src/export/sinks/alertmanager.js';
import { ROOT, run, runOk, tool } from './tools.js';

const FILE = join(ROOT, 'config/alertmanager/alertmanager.yml');

describe('config/alertmanager/alertmanager.yml', () => {
  const amtool = tool('amtool');

  test('amtool check-config', () => {
    const out = runOk(amtool, ['check-config', FILE]);
    expect(out).toContain('SUCCESS');
    expect(out).toMatch(/3 receivers/);
  });

  const route = (labels: string[]): string => runOk(amtool, ['config', 'routes', 'test', `--config.file=${FILE}`, ...labels]).split('\n')[0]!.trim();

  test.for([
    [['severity=critical', 'category=update'], 'oncall'],
    [['severity=critical', 'category=activation'], 'oncall'],
    [['severity=warning', 'category=certificates'], 'tickets'],
    [['severity=info', 'category=portals'], 'null'],
  ] as const)('a finding with %j goes to %s', ([labels, want]) => {
    expect(route([`alertname=${ALERTNAME}`, 'client=198.18.0.21', ...labels])).toBe(want);
  });

  test("the sensors' own alerts (config/prometheus/kasmon-rules.yml) route by the same severities", () => {
    const rules = parse(readFileSync(join(ROOT, 'config/prometheus/kasmon-rules.yml'), 'utf8')) as { groups: { rules: { alert?: string; labels?: { severity?: string } }[] }[] };
    const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
    expect(alerts.length).toBeGreaterThan(5);
    const want: Record<string, string> = { critical: 'oncall', warning: 'tickets', info: 'null' };
    for (const a of alerts) {
      const sev = a.labels?.severity ?? '';
      expect(Object.keys(want), a.alert).toContain(sev);
      expect(route([`alertname=${a.alert!}`, `severity=${sev}`, 'instance=sensor1:20929']), a.alert).toBe(want[sev]);
    }
  });

  test('grouped by alertname and category; resolved alerts are sent', () => {
    const c = parse(readFileSync(FILE, 'utf8')) as { route: { group_by: string[] }; receivers: { name: string; webhook_configs?: { send_resolved: boolean }[] }[] };
    expect(c.route.group_by).toEqual(['alertname', 'category']);
    for (const r of c.receivers) for (const w of r.webhook_configs ?? []) expect(w.send_resolved, r.name).toBe(true);
    // A broken file is reported (the check is not a rubber stamp).
    const bad = run(amtool, ['check-config', '/dev/stdin'], { input: 'route:\n  receiver: nobody\nreceivers: []\n' });
    expect(bad.status).not.toBe(0);
  });
});
