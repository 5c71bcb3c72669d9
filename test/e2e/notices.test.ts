import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, test } from 'vitest';
import { CLI, FIXTURES, kasmon, ROOT, until, waitingOnStdin } from './cli.js';

/** Every problem with an input is said, whatever the exit code; all inputs skipped means no report. */
const tmp = mkdtempSync(`${tmpdir()}/kasmon-notices-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const DEMO = `${FIXTURES}/demo/input.pcap`;
const notes = `${tmp}/notes.txt`;
writeFileSync(notes, 'not a capture\n');
const cut = `${tmp}/cut.pcap`;
writeFileSync(cut, readFileSync(DEMO).subarray(0, 30_000));

describe('notices', () => {
  test('--fail-on-alert (exit 4) still names the skipped and the damaged input', () => {
    const r = kasmon(['replay', '--fail-on-alert', '--format', 'json', notes, DEMO, cut]);
    expect(r.status).toBe(4);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^kasmon: .*notes\.txt: not a pcap or pcapng capture .*\(skipped; the other inputs were processed\)$/),
      expect.stringMatching(/^kasmon: .*cut\.pcap: cut short in the middle of a record after frame \d+/),
    ]);
  });

  test('an interrupt (exit 143) still names the skipped input', async () => {
    const child = spawn(process.execPath, [CLI, 'replay', '--format', 'json', notes, '-'], { cwd: ROOT });
    let err = '';
    let out = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.write(readFileSync(DEMO));
    await until(() => waitingOnStdin(child.pid!), 'kasmon to read its stdin');
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    child.stdin.destroy();
    expect(code).toBe(143);
    expect(err).toMatch(/kasmon: .*notes\.txt: not a pcap or pcapng capture .*\(skipped; the other inputs were processed\)/);
    expect((JSON.parse(out) as { totals: { frames: number } }).totals.frames).toBe(244);
  }, 20_000);

  test('every input skipped: each named, no "other inputs were processed", no empty report, exit 2', () => {
    const r = kasmon(['replay', notes, notes]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain('other inputs');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/notes\.txt: not a pcap or pcapng capture .*\(skipped\)$/),
      expect.stringMatching(/notes\.txt: not a pcap or pcapng capture .*\(skipped\)$/),
      'kasmon: not one of the 2 inputs is a capture; nothing to report',
    ]);
  });
});
