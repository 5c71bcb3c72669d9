import type { AlertDecision } from '../analyze/alerts.js';
import type { ClientState } from '../analyze/clients.js';
import { defaultFilter, captureFilter } from '../capture/live/filter.js';
import type { ReadResult } from '../capture/read/source.js';
import { NAME_PORTS } from '../capture/tcp/streams.js';
import type { Config } from '../config/load.js';
import { restoreCheckpoint, saveCheckpoint, type SaveResult } from './checkpoint.js';
import { Engine, engineLimits } from './engine.js';
import { readAll } from './inputs.js';
import { LiveCapture, type CaptureLog, type CaptureStatus } from './live-capture.js';
import { policyFrom } from './policy.js';

/**
 * The long-running sensor around one engine: live captures (one tcpdump per interface) or one
 * input stream, wall-time ageing on a one-second tick, tcpdump's counters polled, checkpoints
 * of client state on an interval and at stop, config reloads, and readiness. What the HTTP
 * endpoints and metrics show is read from here (export/server.ts, export/metrics.ts).
 */
export interface SensorLog extends CaptureLog {
  error(obj: object, msg: string): void;
}

export interface SensorOptions {
  readonly config: Config;
  /** Interfaces to capture on (live); empty with `read`. */
  readonly interfaces: readonly string[];
  /** A capture stream to read instead ('-' = stdin, or a file, FIFO or socket path). */
  readonly read: string | undefined;
  /** BPF filter replacing the default / ORed onto it (command line; the config's when undefined). */
  readonly filter?: string | undefined;
  readonly filterAdd?: string | undefined;
  /** Checkpoint directory ('' = none); the config's when undefined. */
  readonly stateDir?: string | undefined;
  readonly log: SensorLog;
  onAlert(a: AlertDecision, c: ClientState): void;
}

export interface ReaderStatus {
  input: string;
  state: 'reading' | 'ended' | 'failed';
  result: ReadResult | undefined;
  error: string | undefined;
}

const TICK_MS = 1000;

export class Sensor {
  readonly engine: Engine;
  readonly captures: LiveCapture[];
  readonly startedAtMs = Date.now();
  readonly filter: string;
  readonly stateDir: string;
  reader: ReaderStatus | undefined;
  reloads = { success: 0, failure: 0 };
  lastReloadError: string | undefined;
  /** Wall-clock ms when a frame was last read (to the tick). */
  lastPacketWallMs: number | undefined;
  lastCheckpoint: (SaveResult & { atMs: number }) | undefined;
  checkpointError: string | undefined;
  private configNow: Config;
  private framesSeen = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly abort = new AbortController();
  private readerDone: Promise<void> | undefined;
  private checkpointing: Promise<unknown> | undefined;

  constructor(private readonly opts: SensorOptions) {
    const c = opts.config;
    this.configNow = c;
    this.engine = new Engine(policyFrom(c), {
      mode: 'analyze',
      ageing: 'wall',
      limits: { ...engineLimits(c), clientIdleMicros: c.monitor.clientIdleSeconds * 1_000_000 },
      onAlert: (a, cl) => opts.onAlert(a, cl),
    });
    const base = defaultFilter({ dnsPorts: c.dns.ports, namePorts: NAME_PORTS });
    this.filter = captureFilter(base, opts.filter ?? c.capture.filter, opts.filterAdd ?? c.capture.filterAdd);
    this.stateDir = opts.stateDir ?? c.monitor.stateDir;
    this.captures = opts.interfaces.map(
      (iface) =>
        new LiveCapture(
          { path: c.capture.tcpdump, iface, snaplen: c.capture.snaplen, bufferKiB: c.capture.bufferKib, user: c.capture.user, filter: this.filter },
          this.engine,
          opts.log,
        ),
    );
  }

  get config(): Config {
    return this.configNow;
  }

  /** Restores the last checkpoint, starts capturing, starts the timers. */
  async start(): Promise<void> {
    const log = this.opts.log;
    if (this.stateDir !== '') {
      const r = await restoreCheckpoint(this.stateDir, this.engine);
      log.info({ stateDir: this.stateDir, clients: r.clients, skipped: r.skipped, writtenAt: r.writtenAt }, 'state restored');
    }
    this.engine.tick();
    for (const c of this.captures) c.start();
    if (this.opts.read !== undefined) this.startReader(this.opts.read);
    const mon = this.configNow.monitor;
    this.every(TICK_MS, () => this.tick());
    this.every(this.configNow.capture.statsSeconds * 1000, () => {
      for (const c of this.captures) c.pollStats();
    });
    if (this.stateDir !== '') this.every(mon.checkpointSeconds * 1000, () => void this.checkpoint());
  }

  /** One second passed: ageing, idle clients, the held frame, the last-packet time. */
  tick(): void {
    this.engine.tick();
    const frames = this.engine.decoder.stats.frames;
    if (frames !== this.framesSeen) {
      this.framesSeen = frames;
      this.lastPacketWallMs = Date.now();
    }
  }

  /** Swaps in a new config's policy; capture settings (interfaces, tcpdump, filter) need a restart. */
  reload(next: Config): string[] {
    this.engine.reload(policyFrom(next));
    const notes: string[] = [];
    const was = this.configNow;
    if (JSON.stringify(was.capture) !== JSON.stringify(next.capture)) notes.push('capture settings changed: they apply after a restart');
    if (JSON.stringify(was.limits) !== JSON.stringify(next.limits) || JSON.stringify(was.time) !== JSON.stringify(next.time)) {
      notes.push('limits and time settings changed: they apply after a restart');
    }
    if (was.monitor.listen !== next.monitor.listen || was.monitor.stateDir !== next.monitor.stateDir) notes.push('monitor.listen and monitor.state_dir apply after a restart');
    this.configNow = next;
    this.reloads.success++;
    return notes;
  }

  reloadFailed(why: string): void {
    this.reloads.failure++;
    this.lastReloadError = why;
  }

  captureStatus(): CaptureStatus[] {
    return this.captures.map((c) => c.status());
  }

  /** Ready: a capture is running and (a packet came within the window, or an idle link is fine). */
  readiness(nowMs = Date.now()): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    const running = this.captures.some((c) => c.status().up) || this.reader?.state === 'reading';
    if (!running) {
      if (this.reader !== undefined) reasons.push(`input ${this.reader.input} ${this.reader.state}${this.reader.error ? `: ${this.reader.error}` : ''}`);
      for (const c of this.captures) reasons.push(`capture on ${c.opts.iface} is down${c.lastError ? `: ${c.lastError}` : ''}`);
    }
    const mon = this.configNow.monitor;
    if (!mon.idleLinkOk) {
      const last = this.lastPacketWallMs ?? this.startedAtMs;
      const idle = (nowMs - last) / 1000;
      if (idle > mon.readyWindowSeconds || this.lastPacketWallMs === undefined) {
        if (this.lastPacketWallMs === undefined) reasons.push('no packet read yet');
        else reasons.push(`no packet for ${Math.round(idle)} s (monitor.ready_window_seconds ${mon.readyWindowSeconds})`);
      }
    }
    return { ready: reasons.length === 0, reasons };
  }

  /** Writes a checkpoint now (one at a time); errors are kept for status and logged, never thrown. */
  async checkpoint(): Promise<void> {
    if (this.stateDir === '') return;
    if (this.checkpointing !== undefined) {
      await this.checkpointing;
      return;
    }
    const p = saveCheckpoint(this.stateDir, this.engine)
      .then((r) => {
        this.lastCheckpoint = { ...r, atMs: Date.now() };
        this.checkpointError = undefined;
        this.opts.log.info({ clients: r.clients, bytes: r.bytes, ms: Math.round(r.ms) }, 'checkpoint written');
      })
      .catch((e: unknown) => {
        this.checkpointError = (e as Error).message;
        this.opts.log.error({ stateDir: this.stateDir, err: (e as Error).message }, 'checkpoint failed');
      });
    this.checkpointing = p;
    await p;
    this.checkpointing = undefined;
  }

  /** Stops capturing (tcpdump's last frames are read), the timers, writes a final checkpoint. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    this.abort.abort('SIGTERM');
    await Promise.all(this.captures.map((c) => c.stop()));
    await this.readerDone;
    this.tick();
    await this.checkpoint();
  }

  private startReader(input: string): void {
    const r: ReaderStatus = { input, state: 'reading', result: undefined, error: undefined };
    this.reader = r;
    this.readerDone = readAll([input], this.engine, { signal: this.abort.signal })
      .then((run) => {
        r.result = run.reads[0];
        r.state = 'ended';
        r.error = run.damaged[0] ?? run.rejected[0];
        this.tick();
        this.opts.log.info({ input, frames: r.result?.frames, damaged: r.error }, 'input ended; still serving');
      })
      .catch((e: unknown) => {
        r.state = 'failed';
        r.error = (e as Error).message;
        this.opts.log.error({ input, err: r.error }, 'input failed; still serving');
      });
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }
}
