import type { AlertDecision } from '../analyze/alerts.js';
import type { ClientState } from '../analyze/clients.js';
import { NdjsonSink } from './ndjson.js';
import type { RetryReason } from './sinks/http.js';

/**
 * Where alerts go: the seam between analysis and delivery (DESIGN.md "Sinks never block
 * capture"). The engine hands each alert to `offer`, which neither throws nor waits: a sink
 * queues, writes or sends on its own time and keeps its own counters. Network sinks
 * (Alertmanager, webhooks) implement the same interface.
 */
export type AlertEvent = Record<string, unknown>;

export interface SinkStatus {
  /** `kind:target` (a URL's origin, never its credentials or path), the metrics' `sink` label. */
  readonly name: string;
  readonly kind: 'memory' | 'ndjson' | 'alertmanager' | 'webhook';
  /** Delivering (false after a failure until the next success). */
  readonly up: boolean;
  /** Notifications the receiver took (written, for a file). */
  readonly delivered: number;
  /** Refused by the receiver (a 4xx other than 408/429): not retried. */
  readonly rejected: number;
  /** Dropped for good: a full queue or spool, a file that could not be written. */
  readonly dropped: number;
  /** Failed requests that are retried, by why (network sinks). */
  readonly retries: Readonly<Record<RetryReason, number>>;
  /** Waiting to be sent. */
  readonly queued: number;
  readonly queueCapacity: number;
  /** Bytes in its spool, and the bound (0: no spool). */
  readonly spoolBytes: number;
  readonly spoolLimitBytes: number;
  /** Alertmanager: findings it is keeping firing there. */
  readonly firing?: number;
  readonly lastSuccessMs: number | undefined;
  readonly lastError: string | undefined;
}

export const NO_RETRIES: Readonly<Record<RetryReason, number>> = Object.freeze({ connection: 0, timeout: 0, server_error: 0, too_many_requests: 0 });

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
  private offered = 0;

  constructor(readonly capacity = 1000) {}

  offer(event: AlertEvent): void {
    if (this.ring.length < this.capacity) this.ring.push(event);
    else this.ring[this.next] = event;
    this.next = (this.next + 1) % this.capacity;
    this.offered++;
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

  /** Alerts offered since start. */
  get total(): number {
    return this.offered;
  }

  status(): SinkStatus {
    const n = this.offered;
    return { name: this.name, kind: 'memory', up: true, delivered: n, rejected: 0, dropped: 0, retries: NO_RETRIES, queued: 0, queueCapacity: this.capacity, spoolBytes: 0, spoolLimitBytes: 0, lastSuccessMs: undefined, lastError: undefined };
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
    return {
      name: this.name,
      kind: 'ndjson',
      up: f === undefined,
      delivered: this.sink.written,
      rejected: 0,
      dropped: this.sink.lost,
      retries: NO_RETRIES,
      queued: this.sink.buffered,
      queueCapacity: 0,
      spoolBytes: 0,
      spoolLimitBytes: 0,
      lastSuccessMs: this.lastSuccessMs,
      lastError: f,
    };
  }
}
