/**
 * config/systemd/kasmon.service: `systemd-analyze verify` accepts it without a warning,
 * `systemd-analyze security` rates it, it has the settings the sensor needs, and tcpdump
 * captures under the credentials it gives (its user, ambient capabilities, bounding set and
 * no_new_privs, applied with setpriv).
 *
 * What cannot be run here: this machine's PID 1 is not systemd (nor is CI's), so the unit is
 * never started. Its credentials are applied with setpriv, and its SystemCallFilter=,
 * SystemCallErrorNumber= and RestrictAddressFamilies= with libseccomp from systemd's own
 * syscall lists (test/ops/unit-sandbox.py); the mount and namespace options (Protect*,
 * Private*) are checked by `verify` and `security` and argued in the unit's comments, not
 * exercised. `verify` also checks that ExecStart's program exists, so it runs in a private
 * mount namespace where /opt/kasmon/bin/kasmon is the built CLI (the host's /opt is untouched).
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import dnsPacket from 'dns-packet';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CLI, freePort, ROOT, run, startChild, tempDir, tool, waitFor } from './tools.js';

const UNIT = join(ROOT, 'config/systemd/kasmon.service');
const text = readFileSync(UNIT, 'utf8');
const scratch = tempDir('systemd');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** [Section] → key → values (a key may repeat); comments and blank lines dropped. */
function parseUnit(src: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let cur: Map<string, string[]> | undefined;
  for (const raw of src.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s !== null) {
      cur = new Map();
      sections.set(s[1]!, cur);
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (kv === null || cur === undefined) throw new Error(`not a unit line: ${raw}`);
    cur.set(kv[1]!, [...(cur.get(kv[1]!) ?? []), kv[2]!]);
  }
  return sections;
}

const unit = parseUnit(text);
const service = unit.get('Service')!;
const one = (key: string): string => {
  const v = service.get(key);
  if (v?.length !== 1) throw new Error(`[Service] ${key}= should be set once, is ${JSON.stringify(v)}`);
  return v[0]!;
};

/** Runs `systemd-analyze verify FILE` where /opt/kasmon/bin/kasmon runs the built CLI. */
function verify(file: string): { status: number | null; out: string } {
  const analyze = tool('systemd-analyze');
  tool('unshare');
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs /opt',
    'mkdir -p /opt/kasmon/bin',
    `printf '#!/bin/sh\\nexec %s %s "$@"\\n' > /opt/kasmon/bin/kasmon`,
    'chmod 755 /opt/kasmon/bin/kasmon',
    '/opt/kasmon/bin/kasmon --version',
    `exec ${analyze} verify "$0"`,
  ].join('\n');
  const r = run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script.replace('%s %s', `${process.execPath} ${CLI}`), file]);
  // the first line is the CLI's --version, proof that the namespace's kasmon really runs
  const [version, ...rest] = (r.stdout + r.stderr).split('\n');
  expect(version).toMatch(/\d+\.\d+\.\d+/);
  return { status: r.status, out: rest.join('\n').trim() };
}

describe('systemd-analyze', () => {
  test('verify: the unit loads with no error and no warning', () => {
    const r = verify(UNIT);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  test('verify really reports problems (a misspelt key, an unknown syscall group)', () => {
    const broken = join(scratch, 'kasmon.service');
    writeFileSync(broken, text.replace('ProtectHome=yes', 'ProtectHomes=yes').replace('SystemCallFilter=@system-service', 'SystemCallFilter=@system-servic'));
    const r = verify(broken);
    expect(r.out).toContain("Unknown key 'ProtectHomes' in section [Service]");
    expect(r.out).toContain('Unknown system call group');
  });

  test('security: overall exposure at most 2.5 ("OK")', () => {
    const analyze = tool('systemd-analyze');
    const r = run(analyze, ['security', '--offline=yes', '--threshold=25', '--no-pager', UNIT]);
    const level = /Overall exposure level for kasmon\.service: (\d+\.\d+)/.exec(r.stdout + r.stderr);
    expect(level, r.stdout + r.stderr).not.toBeNull();
    expect(Number(level![1])).toBeLessThanOrEqual(2.5);
    expect(r.status).toBe(0);
  });
});

describe('the unit', () => {
  test('runs kasmon monitor as an unprivileged user with the state dir systemd makes for it', () => {
    expect(one('DynamicUser')).toBe('yes');
    expect(one('User')).toBe('kasmon');
    expect(one('StateDirectory')).toBe('kasmon');
    const exec = one('ExecStart');
    expect(exec).toMatch(/^\/opt\/kasmon\/bin\/kasmon monitor /);
    expect(exec).toContain(' --state-dir /var/lib/kasmon');
    expect(exec).toContain(' --config /etc/kasmon/kasmon.yaml');
  });

  test('reloads with SIGHUP, restarts on failure but not on a config error, stops kasmon first', () => {
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one('Restart')).toBe('on-failure');
    expect(one('RestartPreventExitStatus')).toBe('2');
    expect(one('KillMode')).toBe('mixed');
  });

  test('gives capture capabilities and nothing else', () => {
    const ambient = one('AmbientCapabilities').split(/\s+/).sort();
    expect(ambient).toEqual(['CAP_NET_ADMIN', 'CAP_NET_RAW']);
    expect(one('CapabilityBoundingSet').split(/\s+/).sort()).toEqual(ambient);
    expect(one('NoNewPrivileges')).toBe('yes');
  });

  test('is hardened, without the options that would break capture or Node', () => {
    for (const [key, value] of Object.entries({
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectKernelLogs: 'yes',
      ProtectControlGroups: 'yes',
      SystemCallFilter: '@system-service',
      SystemCallErrorNumber: 'EPERM',
    })) {
      expect(one(key), key).toBe(value);
    }
    // AF_PACKET for the capture socket, AF_NETLINK for interface lookups, AF_UNIX/INET for the rest.
    expect(one('RestrictAddressFamilies').split(/\s+/).sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_PACKET', 'AF_UNIX']);
    // A user namespace would make the capabilities useless on the host's interfaces; no network
    // means no interfaces; V8's JIT needs writable+executable memory.
    for (const key of ['PrivateUsers', 'PrivateNetwork', 'MemoryDenyWriteExecute', 'ProcSubset']) {
      expect(service.has(key), key).toBe(false);
    }
  });

  test('MemoryMax leaves headroom over the documented 512 MiB worst case', () => {
    const m = /^(\d+)([KMG])$/.exec(one('MemoryMax'));
    expect(m).not.toBeNull();
    const bytes = Number(m![1]) * { K: 1 << 10, M: 1 << 20, G: 1 << 30 }[m![2] as 'K' | 'M' | 'G'];
    expect(bytes).toBeGreaterThanOrEqual(1.5 * 512 * (1 << 20));
    // and the README's worst case is still 512 MiB (raise MemoryMax with it)
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('Worst case at the defaults: under 512 MiB');
  });
});

/** setpriv flags that give a process what the unit gives kasmon and its tcpdump children. */
function unitCredentials(withCaps: boolean): string[] {
  const caps = one('AmbientCapabilities')
    .split(/\s+/)
    .map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)
    .join(',');
  const bounding = one('CapabilityBoundingSet')
    .split(/\s+/)
    .map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)
    .join(',');
  // DynamicUser allocates an unprivileged uid; nobody (65534) stands in for it here.
  return [
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    ...(withCaps ? [`--inh-caps=-all,${caps}`, `--ambient-caps=-all,${caps}`] : ['--inh-caps=-all']),
    `--bounding-set=-all,${bounding}`,
    ...(one('NoNewPrivileges') === 'yes' ? ['--no-new-privs'] : []),
  ];
}

/** Debian's python3, which has python3-seccomp (a python3 elsewhere on PATH may not). */
const PYTHON = '/usr/bin/python3';
const SANDBOX = join(ROOT, 'test/ops/unit-sandbox.py');

/** argv that runs `command` as the unit would: its credentials, and with `filtered` its syscall filter and address families. */
function asTheUnit(command: string[], opts: { caps?: boolean; filtered?: boolean } = {}): string[] {
  const setpriv = tool('setpriv');
  const filter = opts.filtered === true ? [PYTHON, SANDBOX, UNIT, '--'] : [];
  return [setpriv, ...unitCredentials(opts.caps ?? true), ...filter, ...command];
}

/** Runs tcpdump on lo as the unit would while UDP datagrams go to a port of ours; returns what it wrote. */
async function captureOnLoopback(opts: { caps: boolean; filtered: boolean }): Promise<{ code: number | null; pcap: Buffer; stderr: string }> {
  const port = await freePort();
  const [cmd, ...args] = asTheUnit([tool('tcpdump'), '-i', 'lo', '-n', '-U', '-c', '3', '-w', '-', `udp and dst port ${String(port)}`], opts);
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const sock = createSocket('udp4');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + 10_000;
  while (!done && Date.now() < deadline) {
    sock.send('kasmon capture test', port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
  }
  sock.close();
  if (!done) child.kill('SIGKILL');
  const code = await exited;
  return { code, pcap: Buffer.concat(out), stderr };
}

function expectThreeDatagrams(r: { code: number | null; pcap: Buffer; stderr: string }): void {
  expect(r.stderr).toContain('3 packets captured');
  expect(r.code).toBe(0);
  // a pcap stream: global header then three records of our datagrams
  expect(r.pcap.readUInt32LE(0)).toBe(0xa1b2c3d4);
  let off = 24;
  let records = 0;
  while (off + 16 <= r.pcap.length) {
    off += 16 + r.pcap.readUInt32LE(off + 8);
    records++;
  }
  expect(records).toBe(3);
  expect(r.pcap.includes(Buffer.from('kasmon capture test'))).toBe(true);
}

describe("capture under the unit's credentials", () => {
  test("tcpdump as an unprivileged user with the unit's capabilities captures", async () => {
    expectThreeDatagrams(await captureOnLoopback({ caps: true, filtered: false }));
  });

  test('the same user without them cannot (the capabilities are what makes it work)', async () => {
    const r = await captureOnLoopback({ caps: false, filtered: false });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Operation not permitted|don't have permission/);
  });
});

describe("the unit's syscall filter and address families (applied with libseccomp)", () => {
  /**
   * Tries ptrace(PTRACE_TRACEME) (not in @system-service), sockets of families outside
   * RestrictAddressFamilies (AF_ALG, AF_VSOCK, AF_XDP: whichever this kernel has) and an
   * AF_PACKET socket (inside it); one line each.
   */
  const PROBE = [
    PYTHON,
    '-c',
    [
      'import ctypes, os, socket',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'r = libc.ptrace(0, 0, None, None)',
      'print("ptrace", "ok" if r == 0 else os.strerror(ctypes.get_errno()))',
      'for name, fam, kind in (("af_alg", 38, socket.SOCK_SEQPACKET), ("af_vsock", 40, socket.SOCK_STREAM), ("af_xdp", 44, socket.SOCK_RAW), ("af_packet", 17, socket.SOCK_RAW)):',
      '    try:',
      '        socket.socket(fam, kind, 0).close(); print(name, "ok")',
      '    except OSError as e:',
      '        print(name, e.strerror)',
    ].join('\n'),
  ];
  const probe = (filtered: boolean): Map<string, string> => {
    const [cmd, ...args] = asTheUnit(PROBE, { filtered });
    const r = run(cmd!, args);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return new Map(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)] as const));
  };

  test('block what they should, and only under the sandbox', () => {
    const outside = probe(false);
    const inside = probe(true);
    expect(outside.get('ptrace')).toBe('ok');
    expect(inside.get('ptrace')).toBe('Operation not permitted');
    expect(outside.get('af_packet')).toBe('ok');
    expect(inside.get('af_packet')).toBe('ok');
    const others = ['af_alg', 'af_vsock', 'af_xdp'].filter((f) => outside.get(f) === 'ok');
    expect(others.length, 'no family outside the unit\'s list can be opened here, so none can show the restriction').toBeGreaterThan(0);
    for (const f of others) expect(inside.get(f), f).toBe('Address family not supported by protocol');
  });

  test('tcpdump still captures under them', async () => {
    expectThreeDatagrams(await captureOnLoopback({ caps: true, filtered: true }));
  });

  test('Node runs kasmon under them (a replay of the demo capture)', () => {
    const [cmd, ...args] = asTheUnit([process.execPath, CLI, 'replay', join(ROOT, 'test/fixtures/demo/input.pcap')], { filtered: true });
    const r = run(cmd!, args, { timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('CLIENTS CONTACTING KASPERSKY AFTER THE CUTOFF: 2');
    expect(r.status).toBe(0);
  });
});

describe('kasmon monitor as the unit runs it', () => {
  let dir = '';
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  test('captures on lo through tcpdump, counts a Kaspersky name, checkpoints as its user, and stops on SIGTERM', async () => {
    // What the unit gives it: a config it can read, a state directory of its own (StateDirectory=).
    dir = tempDir('unit-monitor');
    chmodSync(dir, 0o755);
    const dnsPort = await freePort();
    const config = join(dir, 'kasmon.yaml');
    writeFileSync(config, `dns:\n  ports: [${String(dnsPort)}]\n`);
    chmodSync(config, 0o644);
    const state = join(dir, 'state');
    mkdirSync(state, { mode: 0o700 });
    chownSync(state, 65534, 65534);
    const listen = `127.0.0.1:${String(await freePort())}`;
    const [cmd, ...args] = asTheUnit(
      [process.execPath, CLI, 'monitor', '--config', config, '--state-dir', state, '-i', 'lo', '--filter', `udp port ${String(dnsPort)}`, '--listen', listen],
      { filtered: true },
    );
    const kasmon = startChild(cmd!, args);
    const sock = createSocket('udp4');
    try {
      const metrics = await waitFor('kasmon to count the query', 30_000, async () => {
        if (kasmon.proc.exitCode !== null) throw new Error(`kasmon exited ${String(kasmon.proc.exitCode)}: ${kasmon.output()}`);
        sock.send(dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: 'A', name: 'dnl-01.geo.kaspersky.com' }] }), dnsPort, '127.0.0.1');
        const text = await (await fetch(`http://${listen}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
        return /^kasmon_matches_total\{category="update",kind="dns_query",phase="\w+"\} [1-9]/m.test(text) ? text : undefined;
      }, 500);
      expect(metrics).toMatch(/^kasmon_capture_up\{interface="lo"\} 1$/m);
      expect(metrics).toMatch(/^kasmon_capture_restarts_total\{interface="lo"\} 0$/m);
      expect(metrics).toMatch(/^kasmon_observations_total\{kind="dns_query"\} [1-9]/m);
      expect(metrics).toMatch(/^kasmon_errors_total\{where="analysis"\} 0$/m);
    } finally {
      sock.close();
      kasmon.proc.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((resolve) => {
      if (kasmon.proc.exitCode !== null) resolve(kasmon.proc.exitCode);
      const t = setTimeout(() => resolve(null), 15_000);
      kasmon.proc.once('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    await kasmon.stop();
    expect(kasmon.output()).not.toMatch(/"level":(50|60)/);
    expect(code).toBe(0);
    // the final checkpoint, written by the unprivileged user into its state directory
    const files = readdirSync(state);
    expect(files.length, kasmon.output()).toBeGreaterThan(0);
    for (const f of files) expect(statSync(join(state, f)).uid).toBe(65534);
  }, 60_000);
});
