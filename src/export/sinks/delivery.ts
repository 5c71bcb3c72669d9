import type { PostOutcome, RetryReason } from './http.js';
import { Spool } from './spool.js';

/**
 * Delivery for one network sink (an Alertmanager, a webhook URL): the guarantees every network
 * sink shares (README "Alerts to Alertmanager and webhooks").
 *
 * - **Queue.** Notifications wait in an insertion-ordered map, at most `queueSize`; past it the
 *   oldest is dropped and counted. A notification has a key: a new one gets the next sequence
 *   number (a webhook event), or the caller names it (an Alertmanager alert, whose newer state
 *   replaces the older under the same key, keeping its place).
 * - **Spool.** With a spool (spool.ts), a notification is written to disk when queued — before
 *   its first attempt, which waits for the write — and removed once delivered; at start the
 *   spool is read back and re-sent (after a restart or kill -9). At most `spoolBytes`; past it
 *   the oldest are dropped and counted.
 * - **Retries.** One request at a time, up to `maxBatch` notifications, oldest first. A
 *   connection error, timeout, 5xx or 429 (http.ts) keeps them queued and waits: `retryInitialMs`
 *   doubled per consecutive failure up to `retryMaxMs`, each wait drawn from its upper half
 *   (jitter), or the receiver's Retry-After when longer. Another 4xx is not retried: logged
 *   with the receiver's message and counted as rejected.
 * - **Never in the way.** `put` only updates the map and starts an asynchronous write: it
 *   neither throws nor waits, so packet processing never waits for a receiver or the disk.
 *
 * A notification is `final` when delivery ends it (a webhook event, a resolved alert); one that
 * is not (an alert still firing) stays after delivery, and `refresh` queues it again.
 */
export interface DeliveryLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DeliveryOptions<B> {
  /** The sink's name (metrics label, logs). */
  readonly name: string;
  readonly queueSize: number;
  readonly spool: Spool | undefined;
  readonly spoolBytes: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly maxBatch: number;
  /** Renders and posts a batch; must not throw. */
  send(batch: ReadonlyArray<Entry<B>>, signal: AbortSignal): Promise<PostOutcome>;
  readonly log: DeliveryLog;
  /** For tests: the jitter draw in [0, 1). */
  readonly random?: () => number;
}

export class Entry<B> {
  /** Waiting to be sent (first time, again after a change, or a refresh). */
  pending = true;
  /** Bumped on every change: a change during a request keeps the entry pending. */
  version = 0;
  /** Bytes of its record in the spool (0: not spooled). */
  spoolSize = 0;
  persisting: Promise<void> | undefined;
  /** The body as JSON, when the caller had it (a webhook event shared by several sinks). */
  json: string | undefined;
  constructor(
    readonly key: string,
    readonly seq: number,
    public body: B,
    public final: boolean,
  ) {}
}

export interface DeliveryStats {
  /** Notifications the receiver accepted (2xx). */
  delivered: number;
  /** Refused with a 4xx other than 408/429: not retried. */
  rejected: number;
  /** Dropped from a full queue or spool. */
  dropped: number;
  /** Failed requests that will be retried, by why. */
  readonly retries: Record<RetryReason, number>;
  /** Unreadable spool files set aside at start. */
  spoolUnreadable: number;
  up: boolean;
  lastSuccessMs: number | undefined;
  lastError: string | undefined;
}

export class Delivery<B> {
  private readonly map = new Map<string, Entry<B>>();
  private nextSeq = 1;
  /** Bytes the spooled records take (as written or being written). */
  private spoolUsed = 0;
  private failures = 0;
  private retryAt = 0;
  private downSinceMs: number | undefined;
  private wake: (() => void) | undefined;
  private wakeForWork = false;
  private inflight: AbortController | undefined;
  private pumping: Promise<void> | undefined;
  private closing = false;
  private closeBy = 0;
  readonly stats: DeliveryStats = {
    delivered: 0,
    rejected: 0,
    dropped: 0,
    retries: { connection: 0, timeout: 0, server_error: 0, too_many_requests: 0 },
    spoolUnreadable: 0,
    up: true,
    lastSuccessMs: undefined,
    lastError: undefined,
  };

  constructor(private readonly o: DeliveryOptions<B>) {}

  /** Notifications waiting to be sent. */
  get queued(): number {
    let n = 0;
    for (const e of this.map.values()) if (e.pending) n++;
    return n;
  }

  /** Notifications held (waiting, or delivered and kept because not final). */
  get size(): number {
    return this.map.size;
  }

  get spoolBytes(): number {
    return this.o.spool?.bytes ?? 0;
  }

  get(key: string): Entry<B> | undefined {
    return this.map.get(key);
  }

  entries(): IterableIterator<Entry<B>> {
    return this.map.values();
  }

  /** Reads the spool back (before start): every record is queued again, oldest first. */
  async load(): Promise<Entry<B>[]> {
    const spool = this.o.spool;
    if (spool === undefined) return [];
    const { records, unreadable } = await spool.open<B>();
    this.stats.spoolUnreadable += unreadable;
    const out: Entry<B>[] = [];
    for (const r of records) {
      const e = new Entry(r.key, r.seq, r.body, r.final);
      e.spoolSize = Buffer.byteLength(Spool.serialise(r)) + 1;
      this.spoolUsed += e.spoolSize;
      this.map.set(r.key, e);
      this.nextSeq = Math.max(this.nextSeq, r.seq + 1);
      out.push(e);
    }
    this.bound(undefined);
    return out.filter((e) => this.map.get(e.key) === e);
  }

  /** A new notification with its own key (the next sequence number); `json`: the body as JSON, if already made. */
  add(body: B, final: boolean, json?: string): Entry<B> {
    return this.put(`n${String(this.nextSeq).padStart(15, '0')}`, body, final, json);
  }

  /** Queues `body` under `key`: a new notification, or the newer state of a queued one (spooled again). */
  put(key: string, body: B, final: boolean, json?: string): Entry<B> {
    let e = this.map.get(key);
    if (e === undefined) {
      e = new Entry(key, this.nextSeq++, body, final);
      this.map.set(key, e);
    } else {
      e.body = body;
      e.final = final;
      e.version++;
      e.pending = true;
    }
    e.json = json;
    this.persist(e);
    this.bound(e);
    this.kick();
    return e;
  }

  /** Queues a kept notification again with a new body that need not be spooled (a refresh of what the spool holds). */
  refresh(e: Entry<B>, body: B = e.body): void {
    if (this.map.get(e.key) !== e) return;
    e.body = body;
    e.version++;
    e.pending = true;
    this.kick();
  }

  /** Forgets a notification (not counted as dropped). */
  forget(key: string): void {
    const e = this.map.get(key);
    if (e !== undefined) this.discard(e);
  }

  start(): void {
    this.pumping ??= this.pump();
  }

  /**
   * Stops: a sink that is delivering gets up to `graceMs` to send what is queued; then the
   * request in flight is abandoned (its notifications stay spooled) and the spool writes finish.
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    this.closeBy = Date.now() + graceMs;
    const abort = setTimeout(() => this.inflight?.abort(), Math.max(0, graceMs));
    this.wake?.();
    await this.pumping;
    clearTimeout(abort);
    await this.o.spool?.close();
  }

  // ─── internals ─────────────────────────────────────────────────────────────────────────

  private persist(e: Entry<B>): void {
    const spool = this.o.spool;
    if (spool === undefined) return;
    const text = Spool.record(e.key, e.seq, e.final, e.json ?? JSON.stringify(e.body));
    const size = Buffer.byteLength(text) + 1;
    this.spoolUsed += size - e.spoolSize;
    e.spoolSize = size;
    e.persisting = spool.put(e.key, text);
  }

  /** Drops the oldest notifications while the queue or the spool is over its bound (never `keep`). */
  private bound(keep: Entry<B> | undefined): void {
    const spooling = this.o.spool !== undefined;
    while (this.map.size > this.o.queueSize || (spooling && this.spoolUsed > this.o.spoolBytes && this.map.size > 1)) {
      const reason = this.map.size > this.o.queueSize ? 'queue_full' : 'spool_full';
      let oldest: Entry<B> | undefined;
      for (const e of this.map.values()) {
        if (e !== keep) {
          oldest = e;
          break;
        }
      }
      if (oldest === undefined) return;
      this.discard(oldest);
      this.stats.dropped++;
      if (this.stats.dropped === 1 || this.stats.dropped % 1000 === 0) {
        this.o.log.warn({ sink: this.o.name, reason, dropped: this.stats.dropped }, `alert notifications dropped: the ${reason === 'queue_full' ? `queue is full (sinks.queue_size ${this.o.queueSize})` : `spool is full (sinks.spool_bytes ${this.o.spoolBytes})`}; the oldest go first`);
      }
    }
  }

  private discard(e: Entry<B>): void {
    this.map.delete(e.key);
    if (e.spoolSize > 0) {
      this.spoolUsed -= e.spoolSize;
      e.spoolSize = 0;
      void this.o.spool?.remove(e.key);
    }
  }

  private kick(): void {
    if (this.wakeForWork) this.wake?.();
  }

  /** Waits for `ms` (or forever), for close(), and with `forWork` for a new notification. */
  private wait(forWork: boolean, ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let t: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(t);
        this.wake = undefined;
        this.wakeForWork = false;
        resolve();
      };
      if (ms !== undefined) t = setTimeout(done, ms);
      this.wake = done;
      this.wakeForWork = forWork;
    });
  }

  private nextBatch(): Entry<B>[] {
    const out: Entry<B>[] = [];
    for (const e of this.map.values()) {
      if (!e.pending) continue;
      out.push(e);
      if (out.length >= this.o.maxBatch) break;
    }
    return out;
  }

  private async pump(): Promise<void> {
    for (;;) {
      const now = Date.now();
      const batch = this.nextBatch();
      if (this.closing && (batch.length === 0 || now >= this.closeBy || this.retryAt > now)) return;
      if (batch.length === 0) {
        await this.wait(true);
        continue;
      }
      if (this.retryAt > now) {
        await this.wait(false, this.retryAt - now);
        continue;
      }
      // Written to the spool before the first attempt.
      await Promise.all(batch.map((e) => e.persisting));
      const live = batch.filter((e) => this.map.get(e.key) === e && e.pending);
      if (live.length === 0) continue;
      const versions = live.map((e) => e.version);
      this.inflight = new AbortController();
      let out: PostOutcome;
      try {
        out = await this.o.send(live, this.inflight.signal);
      } catch (e) {
        out = { kind: 'reject', status: 0, message: `kasmon could not build the request: ${(e as Error).message}` };
      }
      const abandoned = this.inflight.signal.aborted; // close(): the notifications stay spooled
      this.inflight = undefined;
      if (abandoned) return;
      this.settle(live, versions, out);
    }
  }

  private settle(batch: Entry<B>[], versions: number[], out: PostOutcome): void {
    const s = this.stats;
    const now = Date.now();
    if (out.kind === 'retry') {
      s.retries[out.reason]++;
      this.failures++;
      const cap = Math.min(this.o.retryMaxMs, this.o.retryInitialMs * 2 ** Math.min(this.failures - 1, 30));
      const jittered = cap / 2 + ((this.o.random ?? Math.random)() * cap) / 2;
      const delay = Math.max(jittered, Math.min(out.retryAfterMs ?? 0, this.o.retryMaxMs));
      this.retryAt = now + delay;
      s.lastError = out.message;
      if (s.up) {
        this.downSinceMs = now;
        this.o.log.warn({ sink: this.o.name, reason: out.reason, queued: this.queued, retryInSeconds: Math.round(delay / 100) / 10 }, `alert delivery failed, retrying with backoff: ${out.message}`);
      }
      s.up = false;
      return;
    }
    batch.forEach((e, i) => {
      if (out.kind === 'ok') s.delivered++;
      else s.rejected++;
      if (this.map.get(e.key) !== e || e.version !== versions[i]) return; // changed meanwhile: send the new state
      if (e.final) this.discard(e);
      else e.pending = false;
    });
    if (out.kind === 'ok') {
      if (!s.up) {
        this.o.log.info({ sink: this.o.name, failedAttempts: this.failures, downSeconds: Math.round((now - (this.downSinceMs ?? now)) / 1000) }, 'alert delivery works again');
      }
      this.failures = 0;
      this.retryAt = 0;
      s.up = true;
      s.lastSuccessMs = now;
      return;
    }
    s.up = false;
    s.lastError = out.message;
    this.o.log.error({ sink: this.o.name, status: out.status, notifications: batch.length, rejected: s.rejected }, `alert notifications rejected (not retried): ${out.message}`);
  }
}
