import type { AlertDecision } from '../analyze/alerts.js';
import type { ClientState } from '../analyze/clients.js';
import { NdjsonSink } from './ndjson.js';

/**
 * Where alerts go: the seam between analysis and delivery (DESIGN.md "Sinks never block
 * capture"). The engine hands each alert to `offer`, which neither throws nor waits: a sink
 * queues, writes or sends on its own time and keeps its own counters. Network sinks
 * (Alertmanager, webhooks) implement the same interface.
 */
export type AlertEvent = Record<string, unknown>;

export interface SinkStatus {
  readonly name: string;
  readonly kind: string;
  /** Delivering (false after a failure until the next success). */
  readonly up: boolean;
  readonly sent: number;
  readonly failed: number;
  /** Dropped for good (a full queue or spool, a receiver that refused it). */
  readonly dropped: number;
  readonly queued: number;
  readonly lastSuccessMs: number | undefined;
  readonly lastError: string | undefined;
}

export interface AlertSink {
  readonly name: string;
  /** One alert event (ECS) with the decision and client it came from. Never throws, never waits. */
  offer(event: AlertEvent, decision: AlertDecision, client: ClientState): void;
  /** Writes what is queued (called once per chunk of input in a replay). */
  flush(): Promise<void>;
  /** SIGHUP: reopen files (logrotate). */
  reopen?(): Promise<void>;
  /** Delivers or persists what it can and stops. */
  close(): Promise<void>;
  status(): SinkStatus;
}

/** The last alert events, newest first, for GET /api/v1/alerts. */
export class RecentAlerts implements AlertSink {
  readonly name = 'recent';
  private readonly ring: AlertEvent[] = [];
  private next = 0;
  private total = 0;

  constructor(readonly capacity = 1000) {}

  offer(event: AlertEvent): void {
    if (this.ring.length < this.capacity) this.ring.push(event);
    else this.ring[this.next] = event;
    this.next = (this.next + 1) % this.capacity;
    this.total++;
  }

  /** Up to `limit` events, newest first. */
  list(limit = this.capacity): AlertEvent[] {
    const out: AlertEvent[] = [];
    const n = this.ring.length;
    for (let i = 1; i <= Math.min(limit, n); i++) out.push(this.ring[(this.next - i + n) % n]!);
    return out;
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}

  status(): SinkStatus {
    return { name: this.name, kind: 'memory', up: true, sent: this.total, failed: 0, dropped: 0, queued: this.ring.length, lastSuccessMs: undefined, lastError: undefined };
  }
}

/** The NDJSON file (or stdout) as a sink; SIGHUP reopens the file, so logrotate can move it away. */
export class NdjsonAlertSink implements AlertSink {
  readonly name: string;
  private sink: NdjsonSink;
  private lastSuccessMs: number | undefined;

  /** A sensor appends (`a`): its alert log outlives a restart. */
  constructor(
    readonly target: string,
    flags: 'w' | 'a' = 'a',
  ) {
    this.name = `ndjson:${target}`;
    this.sink = new NdjsonSink(target, flags);
  }

  offer(event: AlertEvent): void {
    this.sink.write(event);
  }

  async flush(): Promise<void> {
    await this.sink.flush();
    if (this.sink.failure === undefined) this.lastSuccessMs = Date.now();
  }

  async reopen(): Promise<void> {
    if (this.target === '-') return;
    const old = this.sink;
    await old.close();
    this.sink = new NdjsonSink(this.target, 'a');
    this.sink.written = old.written;
    this.sink.lost = old.lost;
  }

  async close(): Promise<void> {
    await this.sink.close();
  }

  get failure(): string | undefined {
    return this.sink.failure;
  }

  status(): SinkStatus {
    const f = this.sink.failure;
    return { name: this.name, kind: 'ndjson', up: f === undefined, sent: this.sink.written, failed: 0, dropped: this.sink.lost, queued: 0, lastSuccessMs: this.lastSuccessMs, lastError: f };
  }
}
