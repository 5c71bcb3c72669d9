import { readStream } from '../capture/read/source.js';
import { TcpdumpProcess, type TcpdumpExit, type TcpdumpOptions } from '../capture/live/tcpdump.js';
import type { Engine } from './engine.js';

/**
 * One interface of the live sensor: keeps a tcpdump child running and its pcap stream flowing
 * into the shared engine. If tcpdump cannot start or exits (the interface went away, no
 * permission, it was killed), the supervisor logs why, counts a restart and tries again after
 * a capped exponential backoff (1 s, 2 s, 4 s ... `maxBackoffMs`; back to 1 s after a run that
 * lasted a minute). Each run is a new pcap stream into the same engine, so flows and clients
 * survive a restart. tcpdump's counters are summed over its runs.
 */
export interface CaptureLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface CaptureStatus {
  interface: string;
  up: boolean;
  restarts: number;
  received: number;
  droppedKernel: number;
  droppedInterface: number;
  /** Why tcpdump last stopped or failed to start. */
  lastError: string | undefined;
  /** Wall-clock ms when the current run started (undefined while down). */
  since: number | undefined;
  pid: number | undefined;
}

const INITIAL_BACKOFF_MS = 1000;
/** A run this long resets the backoff. */
const STABLE_MS = 60_000;

export class LiveCapture {
  private proc: TcpdumpProcess | undefined;
  private stopping = false;
  private backoff = INITIAL_BACKOFF_MS;
  private wake: (() => void) | undefined;
  private done: Promise<void> | undefined;
  /** Counters of runs that ended. */
  private past = { received: 0, droppedKernel: 0, droppedInterface: 0 };
  restarts = 0;
  lastError: string | undefined;
  since: number | undefined;

  constructor(
    readonly opts: TcpdumpOptions,
    private readonly engine: Engine,
    private readonly log: CaptureLog,
    private readonly maxBackoffMs = 60_000,
  ) {}

  start(): void {
    this.done ??= this.loop();
  }

  status(): CaptureStatus {
    const cur = this.proc?.stats;
    return {
      interface: this.opts.iface,
      up: this.proc !== undefined,
      restarts: this.restarts,
      received: this.past.received + (cur?.received ?? 0),
      droppedKernel: this.past.droppedKernel + (cur?.droppedKernel ?? 0),
      droppedInterface: this.past.droppedInterface + (cur?.droppedInterface ?? 0),
      lastError: this.lastError,
      since: this.since,
      pid: this.proc?.pid,
    };
  }

  /** Asks the running tcpdump for its counters (call on an interval). */
  pollStats(): void {
    this.proc?.requestStats();
  }

  /** Stops tcpdump and the restart loop; the frames tcpdump had written are read to the end. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.proc?.stop();
    await this.done;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const started = Date.now();
      const p = new TcpdumpProcess(this.opts);
      this.proc = p;
      this.since = started;
      this.log.info({ interface: this.opts.iface, pid: p.pid }, 'capture started');
      let readError: string | undefined;
      try {
        await readStream(`tcpdump -i ${this.opts.iface}`, p.stdout, (f) => this.engine.ingest(f), { onIssue: (i) => this.engine.decoder.count(i) });
      } catch (e) {
        readError = (e as Error).message;
      }
      const exit = await p.exited;
      this.proc = undefined;
      this.since = undefined;
      this.past.received += p.stats.received;
      this.past.droppedKernel += p.stats.droppedKernel;
      this.past.droppedInterface += p.stats.droppedInterface;
      if (this.stopping) break;
      this.restarts++;
      this.lastError = describeExit(exit, readError);
      if (Date.now() - started >= STABLE_MS) this.backoff = INITIAL_BACKOFF_MS;
      this.log.warn({ interface: this.opts.iface, restarts: this.restarts, retryInMs: this.backoff, why: this.lastError }, 'capture stopped; restarting');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.backoff);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
      this.backoff = Math.min(this.backoff * 2, this.maxBackoffMs);
    }
  }
}

function describeExit(e: TcpdumpExit, readError: string | undefined): string {
  if (e.spawnError !== undefined) return e.spawnError;
  const how = e.signal !== null ? `killed by ${e.signal}` : `exit code ${e.code ?? '?'}`;
  const why = e.why ?? (readError !== undefined && !/empty input/.test(readError) ? readError : undefined);
  return why !== undefined ? `tcpdump ${how}: ${why}` : `tcpdump ${how}`;
}
