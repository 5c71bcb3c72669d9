import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'csv-parse/sync';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CSV_COLUMNS, csvCell } from '../../src/export/report-csv.js';
import { FIXTURES, kasmon } from './cli.js';

/**
 * The CSV and HTML report formats, read back by a real CSV parser and by a real browser
 * (Debian's chromium driven by playwright-core; no browser is downloaded).
 */
const DEMO = `${FIXTURES}/demo/input.pcap`;

function jsonReport(): { clients: Array<Record<string, any>>; appliances: unknown[] } {
  const r = kasmon(['replay', DEMO, '--format', 'json', '--observer', 'test-sensor']);
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe('CSV', () => {
  test('read back by csv-parse: one row per client, the columns as documented, the same values as the JSON report', () => {
    const r = kasmon(['replay', DEMO, '--format', 'csv', '--observer', 'test-sensor']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\r\n').length).toBe(5); // header, 3 clients, the empty string after the last CRLF
    const rows = parse(r.stdout, { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).toEqual([...CSV_COLUMNS]);
    const json = jsonReport();
    expect(rows.map((x) => x['client'])).toEqual(json.clients.map((c) => c['client']));
    rows.forEach((row, i) => {
      const c = json.clients[i]!;
      expect(row['after_cutoff']).toBe(String(c['after_cutoff']));
      expect(row['severity_after_cutoff']).toBe(c['severity_after_cutoff'] ?? '');
      expect(row['names']!.split('; ')).toEqual(c['names'].map((n: { name: string }) => n.name));
      expect(row['update_paths']).toBe(c['update_paths'].join('; '));
      expect(row['status']).toBe(c['after_cutoff'] > 0 ? 'after_cutoff' : 'before_cutoff_only');
    });
    expect(rows[0]).toMatchObject({ client: '198.18.0.11', severity_after_cutoff: 'critical', signature_updates_after_cutoff: '1', update_paths: 'dnl-05.geo.kaspersky.com/index/u0607g.xml' });
  });

  test.for([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', "'+1"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
  ] as const)('cell %j → %j (quoted per RFC 4180; formulas defused)', ([v, want]) => {
    expect(csvCell(v)).toBe(want);
    expect((parse(`${csvCell(v)}\r\n`) as string[][])[0]![0]).toBe(/^[=+\-@]/.test(v) ? `'${v}` : v);
  });
});

describe('HTML in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kasmon-html-'));
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the page renders the chart and the table with no console errors and no network fetch; the table sorts; a screenshot shows it', async () => {
    const r = kasmon(['replay', DEMO, '--format', 'html', '--observer', 'test-sensor']);
    expect(r.status).toBe(0);
    const file = join(dir, 'report.html');
    writeFileSync(file, r.stdout);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (q) => requests.push(q.url()));
    await page.goto(pathToFileURL(file).href, { timeout: 15_000 });
    // the chart: stacked bars for the three days with contacts, the cutoff line, the legend
    expect(await page.locator('svg#timeline rect.bar').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('svg#timeline g.milestone.cutoff line').count()).toBe(1);
    const box = await page.locator('svg#timeline').boundingBox();
    expect(box!.width).toBeGreaterThan(800);
    expect(box!.height).toBeGreaterThan(150);
    expect(await page.locator('.legend span').allTextContents()).toEqual(['update', 'ksn', 'activation', 'other']);
    // the table: one row per client, most concerning first; sorting by "before" reorders it
    const clients = (): Promise<string[]> => page.locator('#clients tbody tr td:first-child').allTextContents();
    expect(await clients()).toEqual(['198.18.0.11', 'fd00::11', '198.18.0.13']);
    await page.locator('#clients th', { hasText: /^before$/ }).click();
    expect(await clients()).toEqual(['198.18.0.11', 'fd00::11', '198.18.0.13']); // 4, 5, 10 ascending
    await page.locator('#clients th', { hasText: /^before$/ }).click();
    expect(await clients()).toEqual(['198.18.0.13', 'fd00::11', '198.18.0.11']); // descending
    expect(await page.locator('#n-after').textContent()).toBe('2');
    expect(await page.locator('#n-updates').textContent()).toBe('1');
    const shot = await page.screenshot({ fullPage: true, path: process.env['KASMON_SCREENSHOT'] ?? join(dir, 'report.png') });
    // a real picture, not a blank page: PNG, big, and not one colour
    expect(shot.subarray(1, 4).toString()).toBe('PNG');
    expect(shot.length).toBeGreaterThan(50_000);
    expect(problems).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    await ctx.close();
  }, 60_000);

  test('wire strings are escaped: a name with markup cannot inject into the page', async () => {
    const { renderHtml } = await import('../../src/export/report-html.js');
    const html = [...renderHtml({
      cutoff: '2024-09-29T04:00:00Z',
      observer: '<script>alert(1)</script>',
      warnings: ['<img src=x onerror=alert(2)>'],
      coverage: { frames_read: 1, frames_decoded: 1, ratio: 1, not_decoded: [], cut_by_snaplen: { frames: 0, snaplen: null }, quic_packets: { known_version: 0, unknown_version: 0 } },
      inputs: [{ file: '"><b>x</b>', format: 'pcap', gzip: false, frames: 1, bytes: 1, damaged: null }],
      totals: { frames: 1, bytes: 1, observations: { dns_query: 0, dns_answer: 0, tls_sni: 0, http_host: 0, quic_sni: 0 }, matched_clients: 0, clients_after_cutoff: 0, alerts: 0, alerts_suppressed: 0 },
      matches: [],
      findings: {},
      attribution: { connections_without_name: { no_sni: 0, ech: 0, ip_literal: 0, no_hello: 0, quic_undecryptable: 0 }, attributed_by_dns: 0, attributed_by_network: 0 },
      timeline: [],
      milestones: [],
      clientStates: [],
      applianceStates: [],
      names_not_recovered: {},
      decode_issues: [],
      evictions: {},
      clock: { steps_forward: 0, steps_backward: 0 },
    })].join('');
    expect(html).not.toMatch(/<script>alert|<img src=x|<b>x<\/b>/);
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });
});
