import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../config/load.js';
import { KasmonError } from '../../errors.js';
import type { SinkStatus } from '../alert-sinks.js';
import { AlertmanagerSink, type FindingSource } from './alertmanager.js';
import type { Delivery, DeliveryLog, DeliveryOptions } from './delivery.js';
import { HttpPoster } from './http.js';
import { Spool } from './spool.js';
import { WebhookSink } from './webhook.js';

/**
 * The network sinks of a sensor, built from the config (sinks.*) and the command line: one
 * AlertmanagerSink per Alertmanager URL and one WebhookSink per webhook URL, each with its own
 * queue, spool directory, retries and metrics. Credential files (password, bearer token, HMAC
 * secret) and CA files are read here, at start, so a wrong path stops kasmon with exit 2 before
 * it captures; SIGHUP reads the credential files again.
 */
export type NetworkSink = AlertmanagerSink | WebhookSink;

/** What every network sink is made of. */
export interface NetworkSinkParts {
  /** `kind:origin`, `#2`, `#3` ... for a second URL with the same origin. */
  readonly name: string;
  readonly url: URL;
  /** kasmon's version (User-Agent, the webhook body). */
  readonly version: string;
  readonly poster: HttpPoster;
  readonly delivery: Pick<DeliveryOptions<unknown>, 'queueSize' | 'spool' | 'spoolBytes' | 'retryInitialMs' | 'retryMaxMs' | 'log'>;
  readonly log: DeliveryLog;
  /** Reads the credential files again (SIGHUP); a file that fails keeps the old value, logged. */
  reload(): void;
  status(kind: 'alertmanager' | 'webhook', d: Delivery<unknown>, firing?: number): SinkStatus;
}

export interface NetworkSinksOptions {
  readonly config: Config;
  /** From the command line: replace the config's lists when given. */
  readonly alertmanagerUrls?: readonly string[] | undefined;
  readonly webhookUrls?: readonly string[] | undefined;
  /** '' = no spool (a restart loses what was not delivered). */
  readonly stateDir: string;
  readonly log: DeliveryLog;
  readonly version: string;
  /** The sensor's URL for generatorURL. */
  readonly externalUrl: string;
  /** What the Alertmanager sinks judge findings by. */
  readonly findings: FindingSource;
}

/** Spool directories live here, one per sink, named by kind and a hash of the URL. */
export const SPOOL_DIR = 'spool';

export function spoolDir(stateDir: string, kind: string, url: string): string {
  return join(stateDir, SPOOL_DIR, `${kind}-${createHash('sha256').update(url).digest('hex').slice(0, 16)}`);
}

export function buildNetworkSinks(o: NetworkSinksOptions): NetworkSink[] {
  const s = o.config.sinks;
  const am = s.alertmanager;
  const wh = s.webhook;
  const names = new Map<string, number>();
  const nameOf = (kind: string, url: URL): string => {
    const base = `${kind}:${url.origin}`;
    const n = (names.get(base) ?? 0) + 1;
    names.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  };
  const out: NetworkSink[] = [];

  const amCli = o.alertmanagerUrls !== undefined && o.alertmanagerUrls.length > 0;
  const amUrls = amCli ? (o.alertmanagerUrls ?? []) : am.urls;
  if (amUrls.length > 0) {
    const ca = am.tlsCaFile !== '' ? readFile(am.tlsCaFile, 'sinks.alertmanager.tls_ca_file', 'CA certificates') : undefined;
    const auth = (): Record<string, string> => {
      if (am.bearerTokenFile !== '') return { authorization: `Bearer ${readFile(am.bearerTokenFile, 'sinks.alertmanager.bearer_token_file', 'bearer token', true)}` };
      if (am.basicAuthUsername !== '') {
        const pw = am.basicAuthPasswordFile !== '' ? readFile(am.basicAuthPasswordFile, 'sinks.alertmanager.basic_auth_password_file', 'password', true) : '';
        return { authorization: `Basic ${Buffer.from(`${am.basicAuthUsername}:${pw}`).toString('base64')}` };
      }
      return {};
    };
    if (am.bearerTokenFile !== '' && am.basicAuthUsername !== '') {
      throw new KasmonError('ERR_CONFIG', 'sinks.alertmanager: set either basic_auth_username or bearer_token_file, not both');
    }
    for (const raw of amUrls) {
      const url = parseUrl(raw, amCli ? '--alertmanager' : 'sinks.alertmanager.urls:');
      const base = url.pathname.replace(/\/+$/, '');
      const post = new URL(url.href);
      post.pathname = base.endsWith('/api/v2/alerts') ? base : `${base}/api/v2/alerts`;
      const parts = makeParts(o, 'alertmanager', nameOf('alertmanager', url), post, am.timeoutSeconds, ca, auth);
      out.push(new AlertmanagerSink(parts, { resendMs: am.resendSeconds * 1000, externalUrl: o.externalUrl, findings: o.findings }));
    }
  }

  const whCli = o.webhookUrls !== undefined && o.webhookUrls.length > 0;
  const whUrls = whCli ? (o.webhookUrls ?? []) : wh.urls;
  if (whUrls.length > 0) {
    const ca = wh.tlsCaFile !== '' ? readFile(wh.tlsCaFile, 'sinks.webhook.tls_ca_file', 'CA certificates') : undefined;
    let secret = wh.secretFile !== '' ? readFile(wh.secretFile, 'sinks.webhook.secret_file', 'HMAC secret', true) : undefined;
    const reloadSecret = (): Record<string, string> => {
      if (wh.secretFile !== '') secret = readFile(wh.secretFile, 'sinks.webhook.secret_file', 'HMAC secret', true);
      return {};
    };
    for (const raw of whUrls) {
      const url = parseUrl(raw, whCli ? '--webhook' : 'sinks.webhook.urls:');
      const parts = makeParts(o, 'webhook', nameOf('webhook', url), url, wh.timeoutSeconds, ca, reloadSecret);
      out.push(new WebhookSink(parts, { maxBatch: wh.maxBatch, secret: () => secret }));
    }
  }
  return out;
}

function makeParts(
  o: NetworkSinksOptions,
  kind: 'alertmanager' | 'webhook',
  name: string,
  url: URL,
  timeoutSeconds: number,
  ca: string | undefined,
  credentials: () => Record<string, string>,
): NetworkSinkParts {
  const s = o.config.sinks;
  const creds = credentials();
  const userAgent = `kasmon/${o.version}`;
  const poster = new HttpPoster({ url, timeoutMs: timeoutSeconds * 1000, ca, headers: { 'user-agent': userAgent, ...creds } });
  let spool: Spool | undefined;
  if (o.stateDir !== '') {
    spool = new Spool(spoolDir(o.stateDir, kind, url.href), `${name}\nUndelivered alert notifications of this kasmon sink, one JSON file each, re-sent at start.\n`);
  }
  return {
    name,
    url,
    version: o.version,
    poster,
    log: o.log,
    delivery: { queueSize: s.queueSize, spool, spoolBytes: s.spoolBytes, retryInitialMs: s.retryInitialSeconds * 1000, retryMaxMs: s.retryMaxSeconds * 1000, log: o.log },
    reload() {
      try {
        poster.setHeaders({ 'user-agent': userAgent, ...credentials() });
      } catch (e) {
        o.log.error({ sink: name }, `${(e as Error).message}; the sink keeps the credentials it had`);
      }
    },
    status(k, d, firing) {
      const st = d.stats;
      return {
        name,
        kind: k,
        up: st.up,
        delivered: st.delivered,
        rejected: st.rejected,
        dropped: st.dropped,
        retries: { ...st.retries },
        queued: d.queued,
        queueCapacity: s.queueSize,
        spoolBytes: d.spoolBytes,
        spoolLimitBytes: spool !== undefined ? s.spoolBytes : 0,
        ...(firing !== undefined ? { firing } : {}),
        lastSuccessMs: st.lastSuccessMs,
        lastError: st.lastError,
      };
    },
  };
}

function parseUrl(raw: string, flag: string): URL {
  let u: URL | undefined;
  try {
    u = new URL(raw);
  } catch {
    u = undefined;
  }
  if (u === undefined || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') {
    throw new KasmonError('ERR_CONFIG', `${flag} ${raw}: not an http:// or https:// URL; write it like http://alertmanager.example.net:9093`);
  }
  if (u.username !== '' || u.password !== '') {
    throw new KasmonError(
      'ERR_CONFIG',
      `${flag} ${u.origin}: credentials in the URL would show in logs and metrics; leave them out (Alertmanager: sinks.alertmanager.basic_auth_* or bearer_token_file; webhooks: sinks.webhook.secret_file)`,
    );
  }
  return u;
}

/** A file's text; `secret`: one value, its trailing newline dropped, not empty. Errors are config errors (exit 2). */
function readFile(path: string, key: string, what: string, secret = false): string {
  let t: string;
  try {
    t = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KasmonError('ERR_CONFIG', `${key} ${path}: cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path and permissions`);
  }
  if (!secret) return t;
  t = t.replace(/\r?\n$/, '');
  if (t === '' || /[\r\n]/.test(t)) throw new KasmonError('ERR_CONFIG', `${key} ${path}: the ${what} must be one non-empty line`);
  return t;
}
