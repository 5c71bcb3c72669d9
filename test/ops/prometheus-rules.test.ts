/**
 * config/prometheus/: the scrape config and the rules pass Debian's real promtool (check
 * config, check rules, and the unit tests in config/prometheus/tests/, where every alert is
 * shown firing and not firing), and build only on metrics that README's table documents.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { documented, metricsIn, readmeMetrics, ROOT, run, runOk, tempDir, tool, withTokenBlock } from './tools.js';

const DIR = join(ROOT, 'config/prometheus');
const RULES = join(DIR, 'kasmon-rules.yml');
const UNIT_TESTS = join(DIR, 'tests/kasmon-rules.test.yml');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface UnitTests {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: { exp_labels: Record<string, string> }[] }[] }[];
}

const rules = (parse(readFileSync(RULES, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);
const unitTests = parse(readFileSync(UNIT_TESTS, 'utf8')) as UnitTests;
const scratch = tempDir('promtool');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('promtool', () => {
  const promtool = tool('promtool');

  test('check config: the shipped prometheus.yml and the rule file it loads', () => {
    const out = runOk(promtool, ['check', 'config', join(DIR, 'prometheus.yml')]);
    expect(out).toContain('is valid prometheus config file syntax');
    expect(out).toMatch(new RegExp(`SUCCESS: ${String(rules.length)} rules found`));
  });

  test('check config: the commented bearer-token block is valid once uncommented', () => {
    const text = readFileSync(join(DIR, 'prometheus.yml'), 'utf8');
    const token = join(scratch, 'kasmon-api-token');
    writeFileSync(token, 'secret\n');
    const uncommented = withTokenBlock(text, token);
    writeFileSync(join(scratch, 'prometheus.yml'), uncommented);
    copyFileSync(RULES, join(scratch, 'kasmon-rules.yml'));
    runOk(promtool, ['check', 'config', join(scratch, 'prometheus.yml')]);
    const job = (parse(uncommented) as { scrape_configs: { job_name: string; authorization?: { credentials_file: string } }[] }).scrape_configs[0]!;
    expect(job).toMatchObject({ job_name: 'kasmon', authorization: { credentials_file: token } });
  });

  test('check rules', () => {
    expect(runOk(promtool, ['check', 'rules', RULES])).toContain(`SUCCESS: ${String(rules.length)} rules found`);
  });

  test('test rules: every alert firing and not firing (config/prometheus/tests)', () => {
    expect(unitTests.rule_files).toEqual(['../kasmon-rules.yml']);
    const out = runOk(promtool, ['test', 'rules', UNIT_TESTS], { timeoutMs: 60_000 });
    expect(out).toContain('SUCCESS');
    expect(out).not.toContain('FAILED');
  });

  test('promtool really fails a rule that does not hold (the harness can see a failure)', () => {
    // Same unit tests against rules whose drop threshold was loosened tenfold.
    const loosened = readFileSync(RULES, 'utf8').replace('kasmon_capture_kernel_drop_ratio:rate5m > 0.001', 'kasmon_capture_kernel_drop_ratio:rate5m > 0.01');
    expect(loosened).not.toBe(readFileSync(RULES, 'utf8'));
    const dir = join(scratch, 'mutant');
    runOk('mkdir', ['-p', join(dir, 'tests')]);
    writeFileSync(join(dir, 'kasmon-rules.yml'), loosened);
    copyFileSync(UNIT_TESTS, join(dir, 'tests/kasmon-rules.test.yml'));
    const r = run(promtool, ['test', 'rules', join(dir, 'tests/kasmon-rules.test.yml')], { timeoutMs: 60_000 });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('alertname: KasmonCaptureDroppingPackets');
  });
});

describe('the rules', () => {
  const alerts = rules.filter((r) => r.alert !== undefined);

  test('cover the alerts the sensor issue asks for', () => {
    const names = new Set(alerts.map((r) => r.alert));
    for (const a of [
      'KasmonKasperskyContactAfterCutoff',
      'KasmonSensorDown',
      'KasmonCaptureDroppingPackets',
      'KasmonNoPackets',
      'KasmonCaptureDown',
      'KasmonErrors',
      'KasmonTableEvicting',
      'KasmonAlertSinkFailing', // issue 11
    ]) {
      expect(names, a).toContain(a);
    }
  });

  test('every alert has a severity and is unit-tested both firing and not firing', () => {
    const cases = unitTests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const r of alerts) {
      expect(['critical', 'warning', 'info'], r.alert).toContain(r.labels?.['severity']);
      const mine = cases.filter((c) => c.alertname === r.alert);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${r.alert!} never tested quiet`).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.some((a) => a.exp_labels['severity'] === r.labels?.['severity'])),
        `${r.alert!} (severity ${r.labels?.['severity'] ?? '?'}) never tested firing`,
      ).toBe(true);
    }
  });

  test('read only metrics documented in README\'s table', () => {
    const table = readmeMetrics();
    expect(table.size).toBeGreaterThan(20);
    const used = new Set(rules.flatMap((r) => metricsIn(r.expr)));
    expect(used.size).toBeGreaterThan(10);
    const missing = [...used].filter((m) => !documented(m, table));
    expect(missing).toEqual([]);
  });
});
