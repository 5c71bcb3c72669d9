import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, test } from 'vitest';
import { COMMANDS } from '../../src/cli/options.js';
import { CLI, FIXTURES, kasmon, ROOT } from './cli.js';

/** The built CLI as a user meets it: version, help, completion scripts, man page. */
const tmp = mkdtempSync(`${tmpdir()}/kasmon-face-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string; man: string[]; files: string[] };

describe('version and help', () => {
  test('kasmon --version', () => {
    const r = kasmon(['--version']);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, `kasmon ${pkg.version}\n`, '']);
  });

  test.for(COMMANDS.map((c) => c.name))('kasmon %s --help, -h, and kasmon help <it>: the same text on stdout, exit 0', (name) => {
    const a = kasmon([name, '--help']);
    expect(a.status).toBe(0);
    expect(a.stderr).toBe('');
    expect(a.stdout).toMatch(new RegExp(`^usage: kasmon ${name} `));
    expect(kasmon([name, '-h']).stdout).toBe(a.stdout);
    expect(kasmon(['help', name]).stdout).toBe(a.stdout);
    // help wins over everything else on the line, as in tcpdump and git
    expect(kasmon([name, '--bogus', '--help', 'x.pcap']).stdout).toBe(a.stdout);
  });

  test('usage errors are one line naming the fix and the help to read; exit 2; nothing on stdout', () => {
    const demo = `${FIXTURES}/demo/input.pcap`;
    for (const [args, want] of [
      [['replay', '--format', demo], /^kasmon: --format ".*input\.pcap" is not one of table, json, csv, html \(.* looks like a file: put FORMAT right after --format\); see kasmon replay --help\n$/],
      [['replay', '--observer', '', demo], /^kasmon: --observer is empty; give a sensor name, or leave --observer out .*; see kasmon replay --help\n$/],
      [['frobnicate'], /^kasmon: unknown command "frobnicate"; see kasmon --help\n$/],
      [['--frob'], /^kasmon: unknown option --frob; a command comes first/],
    ] as const) {
      const r = kasmon([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(want);
    }
  });
});

describe('completion scripts', () => {
  const dir = `${tmp}/comp`;
  mkdirSync(`${dir}/sub`, { recursive: true });
  for (const f of ['a.pcap', 'b.pcapng.gz', 'notes.txt', 'my.yaml']) writeFileSync(`${dir}/${f}`, '');

  test('kasmon completion bash|zsh prints the scripts the package ships', () => {
    expect(kasmon(['completion', 'bash']).stdout).toBe(readFileSync(`${ROOT}dist/completion/kasmon.bash`, 'utf8'));
    expect(kasmon(['completion', 'zsh']).stdout).toBe(readFileSync(`${ROOT}dist/completion/_kasmon`, 'utf8'));
  });

  /** What bash offers after `line` (the last word is being completed). */
  function bash(line: string): string[] {
    const words = line.split(' ');
    const script = `source '${ROOT}dist/completion/kasmon.bash'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _kasmon; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8', timeout: 10_000 });
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter((l) => l !== '').sort();
  }

  test.for([
    ['kasmon ', ['--help', '--version', '-h', 'analyze', 'check-config', 'completion', 'monitor', 'names', 'replay']],
    ['kasmon re', ['replay']],
    ['kasmon replay --fo', ['--format']],
    ['kasmon replay --format ', ['csv', 'html', 'json', 'table']],
    ['kasmon replay ', ['a.pcap', 'b.pcapng.gz', 'sub']],
    ['kasmon replay --config ', ['my.yaml', 'sub']],
    ['kasmon replay --alerts n', ['notes.txt']],
    ['kasmon completion ', ['bash', 'zsh']],
    ['kasmon names --', ['--config', '--help', '--matched', '--stats']],
  ] as const)('bash: %s', ([line, want]) => {
    expect(bash(line)).toEqual([...want].sort());
  });

  test.for([
    ['kasmon ', ['analyze', 'check-config', 'completion', 'monitor', 'names', 'replay']],
    ['kasmon replay --fo', ['--format']],
    ['kasmon replay --format ', ['csv', 'html', 'json', 'table']],
    ['kasmon replay ', ['a.pcap', 'b.pcapng.gz', 'sub']],
    ['kasmon replay --config ', ['my.yaml', 'sub']],
    ['kasmon completion ', ['bash', 'zsh']],
  ] as const)('zsh: %s', ([line, want]) => {
    // zsh runs interactively in a pseudo-terminal with the shipped _kasmon (test/helpers/zsh-complete.zsh).
    const r = spawnSync('zsh', ['-f', `${ROOT}test/helpers/zsh-complete.zsh`, `${ROOT}dist/completion`, line], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l !== '').sort()).toEqual([...want].sort());
  });
});

describe('man page', () => {
  const page = `${ROOT}dist/man/kasmon.1`;

  test('package.json installs the generated kasmon.1', () => {
    expect(pkg.man).toEqual(['./dist/man/kasmon.1']);
    expect(pkg.files).toContain('dist');
    expect(statSync(page).size).toBeGreaterThan(1000);
  });

  test('mandoc finds no problem and renders every command and option', () => {
    const lint = spawnSync('mandoc', ['-T', 'lint', '-W', 'warning', page], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
    const r = spawnSync('mandoc', ['-T', 'ascii', '-O', 'width=200', page], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const text = r.stdout.replace(/.\x08/g, '');
    expect(text).toContain(`kasmon ${pkg.version}`);
    for (const c of COMMANDS) {
      expect(text).toContain(`kasmon ${c.name}`);
      for (const o of c.options) expect(text).toContain(`--${o.name}`);
    }
    expect(text).toMatch(/EXIT STATUS[\s\S]*130, 143/);
  });
});

describe('outputs never overwrite inputs', () => {
  const demo = readFileSync(`${FIXTURES}/demo/input.pcap`);
  const fresh = (name: string): string => {
    const f = `${tmp}/${name}`;
    writeFileSync(f, demo);
    return f;
  };

  test.for([
    ['--alerts x.pcap x.pcap (the same file)', (a: string, b: string) => ['replay', '--alerts', a, a, b], /--alerts .*cap1\.pcap is the input .*cap1\.pcap; kasmon never writes over an input: name another file; see kasmon replay --help/],
    ['--alerts cap1.pcap cap2.pcap (the alerts file forgotten)', (a: string, b: string) => ['replay', '--alerts', a, b], /--alerts .*cap1\.pcap holds a pcap capture; kasmon will not overwrite it/],
    ['the same file under another name', (a: string, b: string) => ['replay', '--alerts', `${tmp}/./cap1.pcap`, `${tmp}/../${tmp.split('/').pop()!}/cap1.pcap`, b], /is the input/],
  ] as const)('%s: exit 2, one line, the capture untouched', ([, args, want]) => {
    const a = fresh('cap1.pcap');
    const b = fresh('cap2.pcap');
    const r = kasmon(args(a, b));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(want);
    expect(readFileSync(a)).toEqual(demo);
    expect(readFileSync(b)).toEqual(demo);
  });

  test('an alerts file named like a capture is refused before it is created', () => {
    const b = fresh('cap3.pcap');
    const r = kasmon(['replay', '--alerts', `${tmp}/new.pcapng`, b]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--alerts .*new\.pcapng is named like a capture, but alerts are NDJSON/);
    expect(() => statSync(`${tmp}/new.pcapng`)).toThrow();
  });

  test('the config file is an input too', () => {
    const cfg = `${tmp}/my.yaml`;
    writeFileSync(cfg, 'alerts:\n  min_severity: low\n');
    const r = kasmon(['replay', '--config', cfg, '--alerts', cfg, fresh('cap4.pcap')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is the config file/);
    expect(readFileSync(cfg, 'utf8')).toBe('alerts:\n  min_severity: low\n');
  });

  test('standard input and output: --alerts onto the file on stdin, stdout appended to an input', () => {
    const a = fresh('cap5.pcap');
    const viaStdin = spawnSync('sh', ['-c', `'${process.execPath}' '${CLI}' replay --alerts '${a}' - < '${a}'`], { encoding: 'utf8' });
    expect(viaStdin.status).toBe(2);
    expect(viaStdin.stderr).toMatch(/--alerts .*cap5\.pcap is standard input/);
    const append = spawnSync('sh', ['-c', `'${process.execPath}' '${CLI}' names '${a}' >> '${a}'`], { encoding: 'utf8' });
    expect(append.status).toBe(2);
    expect(append.stderr).toMatch(/standard output is the input .*cap5\.pcap; kasmon never writes over an input/);
    expect(readFileSync(a)).toEqual(demo);
  });

  test('an existing alerts file of a previous run is overwritten, as tcpdump -w does', () => {
    const out = `${tmp}/alerts.ndjson`;
    writeFileSync(out, '{"old": true}\n');
    copyFileSync(`${FIXTURES}/demo/input.pcap`, `${tmp}/cap6.pcap`);
    const r = kasmon(['replay', '--alerts', out, `${tmp}/cap6.pcap`]);
    expect(r.status).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toContain('"old"');
    expect(readFileSync(out, 'utf8')).toMatch(/^\{"@timestamp":"2024-/);
  });
});

describe('--cutoff', () => {
  const demo = `${FIXTURES}/demo/input.pcap`;
  test('sub-microsecond digits: a notice says how it is used, and the report shows the microsecond', () => {
    const r = kasmon(['replay', '--format', 'json', '--cutoff', '2024-09-29T04:00:00.123456789Z', demo]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(
      'kasmon: --cutoff: packet times are compared to the microsecond: the cutoff 2024-09-29T04:00:00.123456789Z is used as 2024-09-29T04:00:00.123456Z (a packet in that microsecond counts as after it)\n',
    );
    expect((JSON.parse(r.stdout) as { cutoff: string }).cutoff).toBe('2024-09-29T04:00:00.123456Z');
  });

  test('an offset beyond ±14:00 gets its own message: exit 2', () => {
    const r = kasmon(['replay', '--cutoff', '2024-09-29T04:00:00-40:00', demo]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('has the UTC offset -40:00, outside -14:00..+14:00 where every real time zone lies; check its sign and digits');
  });
});
