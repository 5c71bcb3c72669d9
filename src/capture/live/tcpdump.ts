import { spawn, type ChildProcess } from 'node:child_process';

/**
 * One tcpdump child capturing an interface into a pcap stream on its stdout (DESIGN.md
 * "Capture as a child"): `tcpdump -i IFACE -w - -U -n -s SNAP -B KIB [-Z USER] FILTER`.
 * tcpdump does the privileged part (the packet socket, the kernel BPF filter, its ring
 * buffer); kasmon reads the stream as it reads any capture.
 *
 * tcpdump's own counters (tcpdump(1), "statistics"): on SIGUSR1 (Linux) it prints
 * `N packets captured, M packets received by filter, K packets dropped by kernel` on one line,
 * and at exit the same as separate lines, with `J packets dropped by interface` when the
 * platform counts those. They are cumulative for one tcpdump process.
 */

export interface TcpdumpOptions {
  /** tcpdump executable. @default 'tcpdump' */
  readonly path: string;
  readonly iface: string;
  /** -s: bytes captured per packet. */
  readonly snaplen: number;
  /** -B: the kernel capture buffer, KiB. */
  readonly bufferKiB: number;
  /** -Z: drop privileges to this user after opening the interface ('' = stay). */
  readonly user: string;
  /** The BPF filter expression. */
  readonly filter: string;
}

export interface TcpdumpStats {
  /** "packets received by filter": what the kernel's filter passed (before drops). */
  received: number;
  /** "packets dropped by kernel": the capture buffer was full. */
  droppedKernel: number;
  /** "packets dropped by interface": the NIC or driver dropped them (not every platform counts). */
  droppedInterface: number;
}

export function tcpdumpArgs(o: TcpdumpOptions): string[] {
  const args = ['-i', o.iface, '-w', '-', '-U', '-n', '-s', String(o.snaplen), '-B', String(o.bufferKiB)];
  if (o.user !== '') args.push('-Z', o.user);
  if (o.filter.trim() !== '') args.push(o.filter);
  return args;
}

const STATS_LINE = /(\d+) packets? received by filter/;
const KERNEL = /(\d+) packets? dropped by kernel/;
const IFACE = /(\d+) packets? dropped by interface/;

/** Reads tcpdump's counters from a stderr line (the one-line SIGUSR1 form or one of the exit lines); merges into `into`. */
export function parseStats(line: string, into: TcpdumpStats): boolean {
  let hit = false;
  const r = STATS_LINE.exec(line);
  if (r) {
    into.received = Number(r[1]);
    hit = true;
  }
  const k = KERNEL.exec(line);
  if (k) {
    into.droppedKernel = Number(k[1]);
    hit = true;
  }
  const i = IFACE.exec(line);
  if (i) {
    into.droppedInterface = Number(i[1]);
    hit = true;
  }
  return hit;
}

export interface TcpdumpExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** tcpdump's last line on stderr that was not a statistic or its start-up banner (why it stopped). */
  why: string | undefined;
  /** spawn() itself failed (no such executable). */
  spawnError: string | undefined;
}

/** A running tcpdump. `stdout` is its pcap stream; `exited` settles when it is gone. */
export class TcpdumpProcess {
  readonly stats: TcpdumpStats = { received: 0, droppedKernel: 0, droppedInterface: 0 };
  readonly exited: Promise<TcpdumpExit>;
  private readonly child: ChildProcess;
  private why: string | undefined;
  private spawnError: string | undefined;
  private stderrTail = '';

  constructor(readonly opts: TcpdumpOptions) {
    this.child = spawn(opts.path, tcpdumpArgs(opts), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => this.onStderr(chunk));
    this.exited = new Promise((resolve) => {
      this.child.once('error', (e: NodeJS.ErrnoException) => {
        this.spawnError = e.code === 'ENOENT' ? `${opts.path}: not found (install tcpdump or set capture.tcpdump)` : e.message;
      });
      this.child.once('close', (code, signal) => {
        if (this.stderrTail !== '') this.onLine(this.stderrTail);
        resolve({ code, signal, why: this.why, spawnError: this.spawnError });
      });
    });
  }

  get stdout(): NodeJS.ReadableStream & AsyncIterable<Uint8Array> {
    return this.child.stdout! as NodeJS.ReadableStream & AsyncIterable<Uint8Array>;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Asks tcpdump for its counters (they arrive on stderr into `stats`). */
  requestStats(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGUSR1');
  }

  /** Stops tcpdump (SIGTERM, then SIGKILL after `graceMs`); resolves when it is gone. */
  async stop(graceMs = 2000): Promise<TcpdumpExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      const r = await this.exited;
      clearTimeout(t);
      return r;
    }
    return this.exited;
  }

  private onStderr(chunk: string): void {
    const text = this.stderrTail + chunk;
    const lines = text.split('\n');
    this.stderrTail = lines.pop() ?? '';
    for (const l of lines) this.onLine(l);
  }

  private onLine(line: string): void {
    const l = line.trim();
    if (l === '') return;
    if (parseStats(l, this.stats) || /packets? captured$/.test(l)) return;
    if (/^(tcpdump: )?listening on /.test(l)) return;
    this.why = l.replace(/^tcpdump: /, '');
  }
}
