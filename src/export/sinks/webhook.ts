import { createHash, createHmac } from 'node:crypto';
import type { AlertDecision } from '../../analyze/alerts.js';
import type { AlertEvent, AlertSink, SinkStatus } from '../alert-sinks.js';
import { Delivery } from './delivery.js';
import type { PostOutcome } from './http.js';
import type { NetworkSinkParts } from './network.js';

/**
 * Webhook sink: POSTs alert events as JSON to a URL (README "Webhooks" is the reference):
 *
 *   { "version": 1, "sent_at": ISO, "sender": { "product": "kasmon", "version": ... },
 *     "events": [ ECS alert event, ... ] }
 *
 * Each event is the NDJSON line's event (ecs.ts) with an `event.id`, stable across re-sends,
 * so a receiver can drop the duplicates at-least-once delivery allows. With a secret
 * (sinks.webhook.secret_file) each request carries
 * `X-Kasmon-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`. Delivery (queue, spool,
 * retries) is delivery.ts.
 */
export const WEBHOOK_VERSION = 1;
export const SIGNATURE_HEADER = 'x-kasmon-signature';

export interface WebhookBody {
  readonly version: typeof WEBHOOK_VERSION;
  readonly sent_at: string;
  readonly sender: { readonly product: 'kasmon'; readonly version: string };
  readonly events: readonly AlertEvent[];
}

export interface WebhookOptions {
  readonly maxBatch: number;
  /** HMAC key (from sinks.webhook.secret_file); undefined = unsigned. */
  readonly secret: () => string | undefined;
}

/** `sha256=<hex>` of `body` under `secret`. */
export function signature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A stable id for an alert event: the same alert re-sent after a restart keeps it. */
export function eventId(event: AlertEvent, d: AlertDecision): string {
  const observer = (event['observer'] as { name?: string } | undefined)?.name ?? '';
  return createHash('sha256').update(`${observer}\u0000${d.client}\u0000${d.category}\u0000${d.sequence}\u0000${d.at}`).digest('hex').slice(0, 32);
}

/**
 * An alert event with its id, and its JSON, made once however many webhook sinks it goes to
 * (they are handed the same event object).
 */
const prepared = new WeakMap<AlertEvent, { readonly event: AlertEvent; readonly json: string }>();

function prepare(event: AlertEvent, d: AlertDecision): { readonly event: AlertEvent; readonly json: string } {
  let p = prepared.get(event);
  if (p === undefined) {
    const ev = event['event'] as Record<string, unknown> | undefined;
    const withId = { ...event, event: { ...ev, id: eventId(event, d) } };
    p = { event: withId, json: JSON.stringify(withId) };
    prepared.set(event, p);
  }
  return p;
}

export class WebhookSink implements AlertSink {
  readonly name: string;
  private readonly delivery: Delivery<AlertEvent>;

  constructor(
    private readonly parts: NetworkSinkParts,
    private readonly o: WebhookOptions,
  ) {
    this.name = parts.name;
    this.delivery = new Delivery<AlertEvent>({
      ...parts.delivery,
      name: parts.name,
      maxBatch: o.maxBatch,
      send: (batch, signal) => this.send(batch.map((e) => (e.json ??= JSON.stringify(e.body))), signal),
    });
  }

  /** Reads the spool back and starts delivering. */
  async start(): Promise<number> {
    const n = (await this.delivery.load()).length;
    this.delivery.start();
    return n;
  }

  offer(event: AlertEvent, d: AlertDecision): void {
    const p = prepare(event, d);
    this.delivery.add(p.event, true, p.json);
  }

  /** The body (WebhookBody), put together from the events' JSON. */
  private send(events: string[], signal: AbortSignal): Promise<PostOutcome> {
    const head = { version: WEBHOOK_VERSION, sent_at: new Date().toISOString(), sender: { product: 'kasmon', version: this.parts.version } } satisfies Omit<WebhookBody, 'events'>;
    const text = `${JSON.stringify(head).slice(0, -1)},"events":[${events.join(',')}]}`;
    const secret = this.o.secret();
    return this.parts.poster.post(text, secret !== undefined ? { [SIGNATURE_HEADER]: signature(secret, text) } : {}, signal);
  }

  async flush(): Promise<void> {}

  async reopen(): Promise<void> {
    this.parts.reload();
  }

  async close(graceMs = 2000): Promise<void> {
    await this.delivery.close(graceMs);
    this.parts.poster.close();
  }

  status(): SinkStatus {
    return this.parts.status('webhook', this.delivery);
  }
}
