import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, test } from 'vitest';
import { FIXTURES, kasmon, lines } from './cli.js';

/**
 * replay and analyze --since/--until/--client: the report and the alerts cover the contacts in
 * the window of the client networks, and say so. The demo capture has clients 198.18.0.11 and
 * fd00::11 contacting Kaspersky before and after the cutoff, and 198.18.0.13 before it only.
 */
const DEMO = `${FIXTURES}/demo/input.pcap`;
const ATTR = `${FIXTURES}/attribution/input.pcap`;
const tmp = mkdtempSync(`${tmpdir()}/kasmon-scope-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Rep {
  scope?: { since: string | null; until: string | null; clients: string[]; observations_outside: number };
  clients: Array<{ client: string; first_seen: string; last_seen: string; before_cutoff: number; after_cutoff: number }>;
  totals: { alerts: number };
}
const json = (args: string[]): { rep: Rep; alerts: Array<{ source: { ip: string }; '@timestamp': string }> } => {
  const alerts = `${tmp}/alerts-${Math.random().toString(36).slice(2)}.ndjson`;
  const r = kasmon(['replay', '--format', 'json', '--alerts', alerts, ...args]);
  expect(r.status, r.stderr).toBe(0);
  return { rep: JSON.parse(r.stdout) as Rep, alerts: lines(readFileSync(alerts, 'utf8')) as never };
};

describe('replay --since/--until/--client', () => {
  const all = json([DEMO]);

  test('without them the report has no scope field and every client', () => {
    expect(all.rep.scope).toBeUndefined();
    expect(all.rep.clients.map((c) => c.client).sort()).toEqual(['198.18.0.11', '198.18.0.13', 'fd00::11']);
  });

  test('--client limits clients and alerts to the network; a bare address is its own /32 or /128', () => {
    const v4 = json(['--client', '198.18.0.0/24', DEMO]);
    expect(v4.rep.clients.map((c) => c.client).sort()).toEqual(['198.18.0.11', '198.18.0.13']);
    expect(v4.alerts.length).toBeGreaterThan(0);
    expect(v4.alerts.every((a) => a.source.ip.startsWith('198.18.0.'))).toBe(true);
    expect(v4.rep.scope).toMatchObject({ since: null, until: null, clients: ['198.18.0.0/24'] });
    expect(v4.rep.scope!.observations_outside).toBeGreaterThan(0);
    const one = json(['--client', 'fd00::11', '--client', '198.18.0.13', DEMO]);
    expect(one.rep.clients.map((c) => c.client).sort()).toEqual(['198.18.0.13', 'fd00::11']);
    expect(one.rep.scope!.clients).toEqual(['fd00::11/128', '198.18.0.13/32']);
    // The clients kept are reported exactly as without the filter.
    for (const c of one.rep.clients) expect(c).toEqual(all.rep.clients.find((x) => x.client === c.client));
  });

  test('--since/--until keep the contacts of the window: from --since inclusive to --until exclusive', () => {
    const c11 = all.rep.clients.find((c) => c.client === '198.18.0.11')!;
    // From the first contact after the cutoff on: the contacts before the cutoff are gone.
    const firstAfter = json(['--since', '2024-10-01T00:00:00Z', DEMO]);
    expect(firstAfter.rep.clients.map((c) => c.client).sort()).toEqual(['198.18.0.11', 'fd00::11']);
    expect(firstAfter.rep.clients.every((c) => c.before_cutoff === 0 && c.first_seen >= '2024-10-01')).toBe(true);
    expect(firstAfter.rep.clients.find((c) => c.client === '198.18.0.11')!.after_cutoff).toBe(c11.after_cutoff);
    expect(firstAfter.alerts.length).toBeGreaterThan(0);
    expect(firstAfter.alerts.every((a) => a['@timestamp'] >= '2024-10-01T00:00:00Z')).toBe(true);
    // --until at the last contact itself leaves it out; a microsecond later keeps it.
    const last = c11.last_seen;
    const upTo = json(['--client', '198.18.0.11', '--until', last, DEMO]);
    expect(upTo.rep.clients[0]!.last_seen < last).toBe(true);
    const micro = new Date(Date.parse(last.slice(0, 23) + 'Z')).toISOString().slice(0, 23) + String(Number(last.slice(23, 26)) + 1).padStart(3, '0') + 'Z';
    const through = json(['--client', '198.18.0.11', '--until', micro, DEMO]);
    expect(through.rep.clients[0]!.last_seen).toBe(last);
    expect(through.rep.scope).toMatchObject({ until: micro, clients: ['198.18.0.11/32'] });
    // Alerts only for contacts in the window.
    const before = json(['--until', '2024-09-29T04:00:00Z', DEMO]);
    expect(before.alerts).toEqual([]);
    expect(before.rep.clients.every((c) => c.after_cutoff === 0)).toBe(true);
  });

  test('the table and the HTML say what the report is limited to', () => {
    const t = kasmon(['replay', '--since', '2024-10-01T00:00:00Z', '--client', '198.18.0.0/24', DEMO]);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/^scope: contacts from 2024-10-01T00:00:00Z on \(packet time\) of clients in 198\.18\.0\.0\/24; \d+ observations outside it not analysed$/m);
    const h = kasmon(['replay', '--format', 'html', '--until', '2024-10-01T00:00:00Z', DEMO]);
    expect(h.stdout).toMatch(/<p class="meta" id="scope">Limited to contacts before 2024-10-01T00:00:00Z \(packet time\) of every client; \d+ observations? outside it not analysed\.<\/p>/);
  });

  test('-j 2 and analyze give the same scoped report as a serial replay', () => {
    const args = ['--since', '2024-10-01T00:00:00Z', '--client', '198.18.0.0/15'];
    const serial = kasmon(['replay', '-j', '1', '--format', 'json', ...args, DEMO, ATTR]);
    const par = kasmon(['replay', '-j', '2', '--format', 'json', ...args, DEMO, ATTR]);
    expect(serial.status).toBe(0);
    expect(par.stdout).toBe(serial.stdout);
    const obs = `${tmp}/obs.ndjson`;
    const n = kasmon(['names', '--matched', DEMO]);
    writeFileSync(obs, n.stdout);
    const viaAnalyze = kasmon(['analyze', '--format', 'json', ...args, obs]);
    const viaReplay = kasmon(['replay', '--format', 'json', ...args, DEMO]);
    const strip = (s: string): unknown => {
      const r = JSON.parse(s) as { clients: unknown; scope: unknown; totals: { alerts: number } };
      return { clients: r.clients, scope: r.scope, alerts: r.totals.alerts };
    };
    expect(strip(viaAnalyze.stdout)).toEqual(strip(viaReplay.stdout));
  });

  test('bad values are usage errors that name the flag and the fix (exit 2)', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--since', '2024-10-01'], /--since: "2024-10-01" is not an ISO 8601 timestamp/],
      [['--until', '2024-10-01T00:00:00'], /--until: .*has no UTC offset/],
      [['--since', '2024-10-02T00:00:00Z', '--until', '2024-10-01T00:00:00Z'], /--since 2024-10-02T00:00:00Z is not before --until 2024-10-01T00:00:00Z/],
      [['--client', '198.18.0.1/24'], /--client "198\.18\.0\.1\/24": host bits are set after \/24/],
      [['--client', 'printer'], /--client "printer": expected ADDRESS\/PREFIX/],
    ];
    for (const [args, why] of cases) {
      const r = kasmon(['replay', ...args, DEMO]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stdout).toBe('');
    }
  });
});
