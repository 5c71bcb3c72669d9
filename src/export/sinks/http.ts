import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';

/**
 * One HTTP POST of a notification, and what its outcome means for delivery:
 * - `ok`: a 2xx;
 * - `retry`: worth trying again later — the connection failed (refused, reset, DNS, TLS), the
 *   request timed out, or the receiver answered 5xx, 429 or 408 (with its Retry-After, if any);
 * - `reject`: any other status (4xx, or a redirect): sending the same body again would get the
 *   same answer, so it is not retried; `message` carries what the receiver said.
 *
 * node:http(s) rather than the built-in fetch: a sink may need its own CA certificates
 * (sinks.*.tls_ca_file), which fetch can take only through an undici Agent, and undici is not
 * a dependency; http.request takes `ca` and an AbortSignal directly, and keeps connections
 * alive through its Agent.
 */
export type RetryReason = 'connection' | 'timeout' | 'server_error' | 'too_many_requests';
export const RETRY_REASONS: readonly RetryReason[] = ['connection', 'timeout', 'server_error', 'too_many_requests'];

export type PostOutcome =
  | { readonly kind: 'ok'; readonly status: number }
  | { readonly kind: 'retry'; readonly reason: RetryReason; readonly message: string; readonly status?: number; readonly retryAfterMs?: number }
  | { readonly kind: 'reject'; readonly status: number; readonly message: string };

export interface HttpTarget {
  readonly url: URL;
  readonly timeoutMs: number;
  /** Extra CA certificates (PEM) for https. */
  readonly ca?: string | undefined;
  /** Sent with every request (authorization, user agent ...). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The most of a response body kept for a log line. */
const MAX_MESSAGE = 512;

export class HttpPoster {
  private readonly agent: HttpAgent;
  private headers: Readonly<Record<string, string>>;

  constructor(readonly target: HttpTarget) {
    this.headers = target.headers ?? {};
    const https = target.url.protocol === 'https:';
    this.agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 2, ...(target.ca !== undefined ? { ca: target.ca } : {}) }) : new HttpAgent({ keepAlive: true, maxSockets: 2 });
  }

  /** POSTs `body` (JSON) with `headers` on top of the target's; never throws. */
  post(body: string, headers: Readonly<Record<string, string>> = {}, signal?: AbortSignal): Promise<PostOutcome> {
    const t = this.target;
    const timeout = AbortSignal.timeout(t.timeoutMs);
    const both = signal === undefined ? timeout : AbortSignal.any([timeout, signal]);
    const send = t.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<PostOutcome>((resolve) => {
      let done = false;
      const finish = (o: PostOutcome): void => {
        if (!done) {
          done = true;
          resolve(o);
        }
      };
      const req = send(t.url, {
        method: 'POST',
        agent: this.agent,
        signal: both,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...this.headers, ...headers },
      });
      req.on('response', (res) => {
        readSome(res).then(
          (text) => finish(classify(res, text)),
          () => finish(classify(res, '')),
        );
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (timeout.aborted) finish({ kind: 'retry', reason: 'timeout', message: `no answer within ${t.timeoutMs / 1000} s` });
        else if (signal?.aborted === true) finish({ kind: 'retry', reason: 'connection', message: 'stopped' });
        else finish({ kind: 'retry', reason: 'connection', message: connectionMessage(e) });
      });
      req.end(body);
    });
  }

  /** Replaces the headers sent with every request (credentials read again). */
  setHeaders(h: Readonly<Record<string, string>>): void {
    this.headers = h;
  }

  close(): void {
    this.agent.destroy();
  }
}

function classify(res: IncomingMessage, text: string): PostOutcome {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return { kind: 'ok', status };
  const said = text.trim().replace(/\s+/g, ' ');
  const message = `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${said !== '' ? `: ${said}` : ''}`;
  if (status === 429 || status >= 500 || status === 408) {
    const retryAfterMs = retryAfter(res.headers['retry-after']);
    const reason: RetryReason = status === 429 ? 'too_many_requests' : status === 408 ? 'timeout' : 'server_error';
    return { kind: 'retry', reason, status, message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  const where = status >= 300 && status < 400 && typeof res.headers.location === 'string' ? ` (redirected to ${res.headers.location}: configure that URL)` : '';
  return { kind: 'reject', status, message: message + where };
}

/** Retry-After: seconds, or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfter(v: string | undefined, nowMs = Date.now()): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - nowMs) : undefined;
}

function connectionMessage(e: NodeJS.ErrnoException): string {
  const code = e.code ?? '';
  return code !== '' && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
}

/** The first MAX_MESSAGE characters of a response body; the rest is drained, not kept. */
async function readSome(res: IncomingMessage): Promise<string> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res as AsyncIterable<string>) {
    if (text.length < MAX_MESSAGE) text += chunk;
  }
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}...` : text;
}
