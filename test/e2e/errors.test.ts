import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { FIXTURES, kasmon, lines, ROOT } from './cli.js';

/** Bad input gets one clear line naming the file and the fix, and a documented exit code. */
const tmp = mkdtempSync(`${tmpdir()}/kasmon-err-`);
const DEMO = `${FIXTURES}/demo/input.pcap`;

function oneLine(stderr: string): string {
  const l = stderr.trimEnd().split('\n');
  expect(l).toHaveLength(1);
  return l[0]!;
}

describe('exit codes and error messages', () => {
  test('missing file: exit 2, names the file', () => {
    const r = kasmon(['replay', `${tmp}/nope.pcap`]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/nope\.pcap: cannot read capture \(ENOENT\)/);
  });

  test('a file that is not a capture: exit 2, says so', () => {
    const f = `${tmp}/notes.txt`;
    writeFileSync(f, 'hello, this is not a pcap\n');
    const r = kasmon(['names', f]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/notes\.txt: not a pcap or pcapng capture/);
  });

  test('an empty file: exit 2', () => {
    const f = `${tmp}/empty.pcap`;
    writeFileSync(f, '');
    const r = kasmon(['names', f]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/empty file/);
  });

  test('a directory: exit 2', () => {
    const r = kasmon(['names', tmp]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/EISDIR/);
  });

  test('a capture cut short mid-record: exit 3, everything before is reported', () => {
    const pcap = readFileSync(DEMO);
    const f = `${tmp}/cut.pcap`;
    writeFileSync(f, pcap.subarray(0, Math.floor(pcap.length * 0.6)));
    const full = lines(kasmon(['names', DEMO]).stdout);
    const r = kasmon(['names', f]);
    expect(r.status).toBe(3);
    const got = lines(r.stdout);
    expect(got.length).toBeGreaterThan(10);
    expect(got).toEqual(full.slice(0, got.length));
    expect(oneLine(r.stderr)).toMatch(/cut\.pcap: cut short in the middle of a record after frame \d+/);
  });

  test('--fail-on-alert wins over a damaged input (4, not 3)', () => {
    const pcap = readFileSync(DEMO);
    const f = `${tmp}/cut2.pcap`;
    writeFileSync(f, pcap.subarray(0, pcap.length - 10));
    expect(kasmon(['replay', f, '--fail-on-alert']).status).toBe(4);
    expect(kasmon(['replay', f]).status).toBe(3);
  });

  test('a bad config names file, line and field: exit 2', () => {
    const f = `${tmp}/bad.yaml`;
    writeFileSync(f, 'cutoff: 2024-09-29T04:00:00Z\nalerts:\n  suppress_seconds: -5\n');
    const r = kasmon(['replay', '--config', f, DEMO]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${f}:3`);
    expect(r.stderr).toContain('suppress_seconds');
  });

  test('a cutoff without a zone is refused: exit 2', () => {
    const r = kasmon(['replay', DEMO, '--cutoff', '2024-09-29 00:00']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cutoff/);
  });

  test('usage errors: unknown flag, unknown command, no input, bad format', () => {
    for (const args of [['replay', '--bogus', DEMO], ['frobnicate'], ['replay'], ['replay', DEMO, '--format', 'xml'], []]) {
      const r = kasmon(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
    }
  });

  test('--alerts into a missing directory: exit 2 before reading anything', () => {
    const r = kasmon(['replay', DEMO, '--alerts', `${tmp}/no/such/dir/a.ndjson`]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/cannot open for writing \(ENOENT\)/);
  });

  test('--alerts onto a full disk (/dev/full): the report is still written, one line says what was lost, exit 1', () => {
    const r = kasmon(['replay', DEMO, '--format', 'json', '--alerts', '/dev/full']);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout) as { totals: { alerts: number; clients_after_cutoff: number } };
    expect(report.totals).toMatchObject({ alerts: 5, clients_after_cutoff: 2 });
    expect(oneLine(r.stderr)).toMatch(/^kasmon: \/dev\/full: cannot write alerts \(ENOSPC\).*the report is complete$/);
  });

  test('check-config prints the effective settings', () => {
    const r = kasmon(['check-config']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^config OK/);
    expect(r.stdout).toContain('"cutoff": "2024-09-29T04:00:00Z"');
  });
});

describe('output', () => {
  test('a reader that goes away (| head) ends kasmon quietly with exit 0', () => {
    // 30 copies of the demo: far more output than a pipe buffer holds.
    const files = Array.from({ length: 30 }, () => DEMO).join(' ');
    const r = spawnSync('bash', ['-c', `node dist/cli.js names ${files} | head -n 1 > /dev/null; echo "status \${PIPESTATUS[0]}"`], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('status 0');
    expect(r.stderr).toBe('');
  });
});

describe('several inputs', () => {
  test('a missing path fails fast, before anything is read', () => {
    const r = kasmon(['replay', DEMO, `${tmp}/missing.pcap`]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(oneLine(r.stderr)).toMatch(/missing\.pcap: cannot read capture \(ENOENT\)/);
  });

  test('an input that is not a capture is skipped and named; the others are still reported (exit 2)', () => {
    const notes = `${tmp}/notes2.txt`;
    writeFileSync(notes, 'not a capture at all\n');
    const r = kasmon(['replay', '--format', 'json', DEMO, notes, `${FIXTURES}/dns-tcp/input.pcap`]);
    expect(r.status).toBe(2);
    const rep = JSON.parse(r.stdout) as { inputs: Array<{ file: string }>; clients: unknown[] };
    expect(rep.inputs.map((i) => i.file)).toEqual([DEMO, `${FIXTURES}/dns-tcp/input.pcap`]);
    expect(rep.clients.length).toBeGreaterThan(0);
    expect(oneLine(r.stderr)).toMatch(/notes2\.txt: not a pcap or pcapng capture .*\(skipped; the other inputs were processed\)/);
  });
});
