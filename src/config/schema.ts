/**
 * The configuration's shape: the `Config` type every part of kasmon reads, and for each YAML
 * section the readers that check it (keys, types, ranges) with positions. YAML keys are
 * snake_case; the Config type is camelCase. How files are found, layered and frozen is
 * load.ts; how YAML nodes are read is yaml-reader.ts.
 */
import type { KasperskyNetwork } from '../analyze/attribution.js';
import { parseCidr } from '../common/cidr.js';
import type { UpdatePath } from '../analyze/findings.js';
import { CATEGORIES, CONFIDENCES, SEVERITIES, compilePattern } from '../analyze/rules.js';
import type { Category, CompiledPattern, CompiledRule, Confidence, Severity } from '../analyze/rules.js';
import { patternsFile } from './patterns-file.js';
import { CUTOFF_EXAMPLE, parseTimestamp } from './timestamp.js';
import { bool, Ctx, describe, entries, int, ip, isMap, isScalar, isSeq, join, list, object, oneOf, size, str, type Reader } from './yaml-reader.js';

export interface Cutoff {
  /** Microseconds since the epoch; an observation with `tsMicros >= micros` is after the cutoff. */
  readonly micros: number;
  /** The same instant in ISO 8601 UTC (`2024-09-29T04:00:00Z`), for reports and metrics. */
  readonly iso: string;
}

export interface ObserverConfig {
  /** Sensor name written as `observer.name` in alerts and reports. The host name when the file leaves it empty. */
  readonly name: string;
}

export interface AlertsConfig {
  /** Repeat an alert for the same client × category at most once per this many seconds. @default 3600 */
  readonly suppressSeconds: number;
  /** Alert only on matches at least this severe; weaker matches still appear in reports and metrics. @default 'medium' */
  readonly minSeverity: Severity;
  /**
   * A finding (client × category) is over once the client has not contacted that category for
   * this long, in packet time: Alertmanager is then sent it resolved. @default 3600
   */
  readonly resolveSeconds: number;
}

export interface LimitsConfig {
  /** Clients tracked at once (LRU); the least recently seen is evicted and counted. @default 100000 */
  readonly maxClients: number;
  /** TCP flows tracked at once (under reassembly, or tombstones of finished ones; LRU). @default 65536 */
  readonly maxFlows: number;
  /** A flow idle this long (ageing time) is dropped. @default 120 */
  readonly flowIdleSeconds: number;
  /** Byte budgets of the state tables. */
  readonly memory: MemoryConfig;
}

/**
 * Byte budgets (Suricata calls them memcaps), one per state table: past its budget a table
 * evicts its least recently used entries, counted. README "Limits" has the worst case at the
 * defaults.
 */
export interface MemoryConfig {
  /** Clients with their names, fingerprints, destinations and alert state. @default 128MiB */
  readonly clients: number;
  /** TCP flows with the stream bytes they hold. @default 48MiB */
  readonly tcpFlows: number;
  /** IP fragment trains waiting for their missing fragments. @default 32MiB */
  readonly ipFragments: number;
  /** QUIC connections whose ClientHello is being reassembled (keys and CRYPTO bytes). @default 16MiB */
  readonly quic: number;
  /** The DNS-answer cache: addresses and CNAME targets of Kaspersky names (analyze/attribution.ts). @default 16MiB */
  readonly dnsAnswers: number;
}

/** The live sensor (`kasmon monitor`). */
export interface MonitorConfig {
  /** HTTP listen address, HOST:PORT ([v6]:PORT). @default '127.0.0.1:20929' */
  readonly listen: string;
  /** Where checkpoints of client and alert state go ('' = none). @default '' */
  readonly stateDir: string;
  /** Seconds between checkpoints (one is also written at shutdown). @default 300 */
  readonly checkpointSeconds: number;
  /** Clients with no contact for this long (wall time) leave the live tables, counted (0 = never). @default 604800 */
  readonly clientIdleSeconds: number;
  /** /readyz is ready while a packet was read within this many seconds. @default 300 */
  readonly readyWindowSeconds: number;
  /** An idle link is fine: /readyz needs only a running capture. @default false */
  readonly idleLinkOk: boolean;
  /** A file holding the bearer token that protects everything but /healthz ('' = none). @default '' */
  readonly apiTokenFile: string;
  /** The sensor's URL as others reach it, for links in alerts (Alertmanager's generatorURL); '' = http://LISTEN. @default '' */
  readonly externalUrl: string;
}

/**
 * Alert delivery to the network (README "Alerts to Alertmanager and webhooks"). Every network
 * sink has a bounded queue, a spool in the state directory and retries with capped backoff.
 */
export interface SinksConfig {
  /** Notifications a sink holds in memory; past it the oldest is dropped, counted. @default 10000 */
  readonly queueSize: number;
  /** Bytes of undelivered notifications a sink spools in STATE_DIR/spool/; past it the oldest are dropped, counted. @default 64MiB */
  readonly spoolBytes: number;
  /** The first retry waits about this long; each failure doubles it (with jitter) up to retryMaxSeconds. @default 1 */
  readonly retryInitialSeconds: number;
  /** @default 120 */
  readonly retryMaxSeconds: number;
  readonly alertmanager: AlertmanagerSinkConfig;
  readonly webhook: WebhookSinkConfig;
}

export interface AlertmanagerSinkConfig {
  /** Alertmanager base URLs (http://am1:9093); kasmon posts to URL/api/v2/alerts, to every one. @default [] */
  readonly urls: readonly string[];
  /** Seconds one request may take. @default 10 */
  readonly timeoutSeconds: number;
  /** Active alerts are re-sent this often, with endsAt 4 intervals ahead. @default 60 */
  readonly resendSeconds: number;
  /** Basic auth user ('' = none) and a file holding the password. @default '' */
  readonly basicAuthUsername: string;
  readonly basicAuthPasswordFile: string;
  /** A file holding a bearer token ('' = none). @default '' */
  readonly bearerTokenFile: string;
  /** PEM CA certificate(s) to trust for https:// URLs besides the system's ('' = system only). @default '' */
  readonly tlsCaFile: string;
}

export interface WebhookSinkConfig {
  /** URLs that get a POST of alert events (README "Webhooks"). @default [] */
  readonly urls: readonly string[];
  /** Seconds one request may take. @default 10 */
  readonly timeoutSeconds: number;
  /** A file holding the HMAC-SHA256 secret for the X-Kasmon-Signature header ('' = unsigned). @default '' */
  readonly secretFile: string;
  /** Most events in one request. @default 100 */
  readonly maxBatch: number;
  /** As for alertmanager. @default '' */
  readonly tlsCaFile: string;
}

/** How the sensor runs tcpdump. */
export interface CaptureConfig {
  /** The tcpdump executable. @default 'tcpdump' */
  readonly tcpdump: string;
  /** -s: bytes kept per packet. @default 65535 */
  readonly snaplen: number;
  /** -B: the kernel capture buffer in KiB. @default 32768 */
  readonly bufferKib: number;
  /** -Z: user tcpdump drops privileges to after opening the interface ('' = stay). @default '' */
  readonly user: string;
  /** A BPF filter to use instead of the default (README "The capture filter"); '' = the default. @default '' */
  readonly filter: string;
  /** A BPF expression ORed onto the filter in force ('' = none). @default '' */
  readonly filterAdd: string;
  /** Seconds between asks for tcpdump's counters. @default 10 */
  readonly statsSeconds: number;
}

/** The capture clock (engine/clock.ts). */
export interface TimeConfig {
  /**
   * How far a packet's time may be from network time and still move it; a packet further
   * away is held until the next packet tells whether it was a bad stamp or the clock stepped.
   * @default 300
   */
  readonly maxSkewSeconds: number;
}

export interface DnsConfig {
  /** UDP/TCP ports decoded as DNS. @default [53] */
  readonly ports: readonly number[];
  /**
   * Also recognise DNS by content on other UDP ports (DNSCrypt certificate queries on 443,
   * resolvers on 5300 or 8053, ...), as tshark does. @default true
   */
  readonly heuristic: boolean;
  /**
   * The organisation's own resolvers. When set, a query for a Kaspersky name sent to any other
   * address is reported per client as a resolver bypass (a finding); queries the internal
   * resolvers send upstream are not. Empty: not checked. @default []
   */
  readonly internalResolvers: readonly string[];
}

/** Attribution of connections that show no name (analyze/attribution.ts). */
export interface AttributionConfig {
  /** The longest a DNS answer is remembered, whatever its TTL says. @default 86400 */
  readonly maxTtlSeconds: number;
  /**
   * Kaspersky address ranges, each with its source: a connection without a name to one of them
   * (and to no address a DNS answer gave) counts with evidence `kaspersky_network`, confidence
   * C. Empty by default: ENDPOINTS.md's ranges are third-party and change. @default []
   */
  readonly kasperskyNetworks: readonly KasperskyNetwork[];
}

/** A date of the ban, marked on the HTML report's timeline. */
export interface Milestone {
  /** The instant, as the cutoff is written. */
  readonly at: Cutoff;
  readonly label: string;
  /** Where it comes from (source ids listed at the bottom of default.yaml, or URLs). */
  readonly sources: readonly string[];
}

/** A public resolver Kaspersky products query directly when the system DNS fails (ENDPOINTS.md §Public DNS fallback). */
export interface PublicResolver {
  /** IP address (IPv6 in RFC 5952 form, as observations print it). */
  readonly address: string;
  /** Operator, for reports. */
  readonly provider: string;
  /** `strong`: a Kaspersky name sent here is itself a sign of the fallback; `weak`: the resolver is common anyway. */
  readonly evidence: 'strong' | 'weak';
}

/** A known non-endpoint source of Kaspersky traffic (e.g. a Check Point gateway): reported separately. */
export interface Appliance {
  /** Source IP address (IPv6 in RFC 5952 form). */
  readonly address: string;
  /** What it is, for reports. */
  readonly name: string;
}

export interface Config {
  /** The files this config was built from, defaults first. */
  readonly files: readonly string[];
  /** The US ban cutoff (default 2024-09-29T04:00:00Z). */
  readonly cutoff: Cutoff;
  readonly observer: ObserverConfig;
  readonly alerts: AlertsConfig;
  readonly limits: LimitsConfig;
  readonly time: TimeConfig;
  readonly monitor: MonitorConfig;
  readonly capture: CaptureConfig;
  readonly sinks: SinksConfig;
  readonly dns: DnsConfig;
  /** Resolvers used by the public-DNS fallback, in the order the product tries them. */
  readonly publicDnsFallback: readonly PublicResolver[];
  /** Known appliances, matched by source address. @default [] */
  readonly appliances: readonly Appliance[];
  readonly attribution: AttributionConfig;
  /** Request paths that are signature or update pulls, each with its source (analyze/findings.ts). */
  readonly updatePaths: readonly UpdatePath[];
  /** Dates of the ban besides the cutoff, for the report's timeline. */
  readonly milestones: readonly Milestone[];
  /** Endpoint rules in precedence order for ties (later wins): default rules, then the user's. */
  readonly endpoints: readonly CompiledRule[];
}

// ─── cutoff ──────────────────────────────────────────────────────────────────────────────

export const cutoff: Reader<Cutoff> = (ctx, v, path) => {
  const s = isScalar(v) && typeof v.value === 'string' ? v.value : undefined;
  if (s === undefined) {
    ctx.at(v, path, `expected an ISO 8601 timestamp, got ${describe(v)}; ${CUTOFF_EXAMPLE}`);
    return undefined;
  }
  const r = parseTimestamp(s);
  if (r.ok) return r.value;
  ctx.at(v, path, r.error);
  return undefined;
};

// ─── sections ────────────────────────────────────────────────────────────────────────────

const DAY = 86_400;
const MAX_TABLE = 10_000_000;

export const observer = object<ObserverConfig>({ name: ['name', str] });
export const alerts = object<AlertsConfig>({
  suppress_seconds: ['suppressSeconds', int(0, 30 * DAY)],
  min_severity: ['minSeverity', oneOf(SEVERITIES)],
  resolve_seconds: ['resolveSeconds', int(1, 30 * DAY)],
});
const MiB = 1024 * 1024;
const memory = object<MemoryConfig>({
  clients: ['clients', size(1 * MiB, 64 * 1024 * MiB)],
  tcp_flows: ['tcpFlows', size(1 * MiB, 64 * 1024 * MiB)],
  ip_fragments: ['ipFragments', size(1 * MiB, 64 * 1024 * MiB)],
  quic: ['quic', size(1 * MiB, 64 * 1024 * MiB)],
  dns_answers: ['dnsAnswers', size(1 * MiB, 64 * 1024 * MiB)],
});
export const limits = object<LimitsConfig>({
  max_clients: ['maxClients', int(1, MAX_TABLE)],
  max_flows: ['maxFlows', int(1, MAX_TABLE)],
  flow_idle_seconds: ['flowIdleSeconds', int(1, DAY)],
  memory: ['memory', memory],
});
const LISTEN = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/;

/** HOST:PORT or [v6]:PORT: a place to listen. */
export function parseListen(s: string): { host: string; port: number } | undefined {
  const m = LISTEN.exec(s.trim());
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

const listen: Reader<string> = (ctx, v, path) => {
  const s = str(ctx, v, path);
  if (s === undefined || parseListen(s) !== undefined) return s;
  ctx.at(v, path, `"${s}" is not HOST:PORT; write it like 127.0.0.1:20929, 0.0.0.0:20929 or [::1]:20929`);
  return undefined;
};

export const monitor = object<MonitorConfig>({
  listen: ['listen', listen],
  state_dir: ['stateDir', str],
  checkpoint_seconds: ['checkpointSeconds', int(5, DAY)],
  client_idle_seconds: ['clientIdleSeconds', int(0, 365 * DAY)],
  ready_window_seconds: ['readyWindowSeconds', int(1, DAY)],
  idle_link_ok: ['idleLinkOk', bool],
  api_token_file: ['apiTokenFile', str],
  external_url: ['externalUrl', (ctx: Ctx, v: unknown, path: string) => httpUrl(ctx, v, path, true)],
});

/** An http:// or https:// URL ('' too when `empty`). */
function httpUrl(ctx: Ctx, v: unknown, path: string, empty = false): string | undefined {
  const s = str(ctx, v, path);
  if (s === undefined || (empty && s === '')) return s;
  let u: URL | undefined;
  try {
    u = new URL(s);
  } catch {
    u = undefined;
  }
  if (u !== undefined && (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '') return s;
  ctx.at(v, path, `"${s}" is not an http:// or https:// URL; write it like http://alertmanager.example.net:9093`);
  return undefined;
}
const urls = list((ctx: Ctx, v: unknown, path: string) => httpUrl(ctx, v, path));

export const sinks = object<SinksConfig>({
  queue_size: ['queueSize', int(1, 1_000_000)],
  spool_bytes: ['spoolBytes', size(64 * 1024, 64 * 1024 * MiB)],
  retry_initial_seconds: ['retryInitialSeconds', int(1, 3600)],
  retry_max_seconds: ['retryMaxSeconds', int(1, DAY)],
  alertmanager: [
    'alertmanager',
    object<AlertmanagerSinkConfig>({
      urls: ['urls', urls],
      timeout_seconds: ['timeoutSeconds', int(1, 300)],
      resend_seconds: ['resendSeconds', int(1, 3600)],
      basic_auth_username: ['basicAuthUsername', str],
      basic_auth_password_file: ['basicAuthPasswordFile', str],
      bearer_token_file: ['bearerTokenFile', str],
      tls_ca_file: ['tlsCaFile', str],
    }),
  ],
  webhook: [
    'webhook',
    object<WebhookSinkConfig>({
      urls: ['urls', urls],
      timeout_seconds: ['timeoutSeconds', int(1, 300)],
      secret_file: ['secretFile', str],
      max_batch: ['maxBatch', int(1, 10_000)],
      tls_ca_file: ['tlsCaFile', str],
    }),
  ],
});

export const capture = object<CaptureConfig>({
  tcpdump: ['tcpdump', str],
  snaplen: ['snaplen', int(64, 262_144)],
  buffer_kib: ['bufferKib', int(1, 4 * 1024 * 1024)],
  user: ['user', str],
  filter: ['filter', str],
  filter_add: ['filterAdd', str],
  stats_seconds: ['statsSeconds', int(1, 3600)],
});

export const time = object<TimeConfig>({
  max_skew_seconds: ['maxSkewSeconds', int(1, DAY)],
});
const ports = list(int(1, 65_535), 1);
const uniquePorts: Reader<readonly number[]> = (ctx, v, path) => {
  const got = ports(ctx, v, path);
  if (got !== undefined && new Set(got).size !== got.length) {
    ctx.at(v, path, 'lists a port twice; remove the duplicate');
    return undefined;
  }
  return got;
};
export const dns = object<DnsConfig>({
  ports: ['ports', uniquePorts],
  heuristic: ['heuristic', bool],
  internal_resolvers: ['internalResolvers', list(ip)],
});
const resolverItem = object<PublicResolver>({
  address: ['address', ip],
  provider: ['provider', str],
  evidence: ['evidence', oneOf(['strong', 'weak'] as const)],
});
const applianceItem = object<Appliance>({ address: ['address', ip], name: ['name', str] });
const cidr: Reader<string> = (ctx, v, path) => {
  const s = str(ctx, v, path);
  if (s === undefined) return undefined;
  const c = parseCidr(s.trim());
  if (typeof c !== 'string') return s.trim();
  ctx.at(v, path, `"${s}": ${c}`);
  return undefined;
};
const networkItem = object<KasperskyNetwork>({
  cidr: ['cidr', cidr],
  source: ['source', str],
  category: ['category', oneOf(CATEGORIES)],
  severity: ['severity', oneOf(SEVERITIES)],
});
export const attribution = object<AttributionConfig>({
  max_ttl_seconds: ['maxTtlSeconds', int(1, 30 * DAY)],
  kaspersky_networks: ['kasperskyNetworks', list<KasperskyNetwork>(networkItem)],
});
const regex: Reader<string> = (ctx, v, path) => {
  const s = str(ctx, v, path);
  if (s === undefined) return undefined;
  try {
    new RegExp(s, 'i');
    return s;
  } catch (e) {
    ctx.at(v, path, `"${s}" is not a regular expression: ${(e as Error).message}`);
    return undefined;
  }
};
const updatePathItem = object<UpdatePath>({ pattern: ['pattern', regex], meaning: ['meaning', str], sources: ['sources', list(str, 1)] });
export const updatePaths = list<UpdatePath>(updatePathItem);
const milestoneItem = object<Milestone>({ at: ['at', cutoff], label: ['label', str], sources: ['sources', list(str, 1)] });
export const milestones = list<Milestone>(milestoneItem);

export const resolvers = list<PublicResolver>(resolverItem);
export const appliances = list<Appliance>(applianceItem);

// ─── endpoints ───────────────────────────────────────────────────────────────────────────

const RULE_KEYS = ['id', 'pattern', 'patterns', 'patterns_file', 'severity', 'confidence', 'purpose', 'sources'] as const;
const RULE_ID = /^[a-z0-9][a-z0-9._-]*$/;

const ruleId: Reader<string> = (ctx, v, path) => {
  const s = str(ctx, v, path);
  if (s === undefined || RULE_ID.test(s)) return s;
  ctx.at(v, path, `"${s}" is not a valid id; use lower-case letters, digits, "-", "." and "_" (like upd-snn)`);
  return undefined;
};

const pattern: Reader<CompiledPattern> = (ctx, v, path) => {
  const s = str(ctx, v, path);
  if (s === undefined) return undefined;
  const c = compilePattern(s);
  if (c.ok) return c.value;
  ctx.at(v, path, `"${s}": ${c.error}`);
  return undefined;
};

interface PlacedRule {
  readonly rule: CompiledRule;
  readonly node: unknown;
}

function readRule(ctx: Ctx, v: unknown, path: string, category: Category): PlacedRule | undefined {
  const f = entries(ctx, v, path, RULE_KEYS);
  if (f === undefined) return undefined;
  let ok = true;
  const need = <T>(key: string, read: Reader<T>, fallback?: T): T | undefined => {
    const e = f.get(key);
    if (e === undefined) {
      if (fallback === undefined) {
        ctx.at(v, join(path, key), `missing; add "${key}:"`);
        ok = false;
      }
      return fallback;
    }
    const got = read(ctx, e.value, join(path, key));
    if (got === undefined) ok = false;
    return got;
  };
  const id = need('id', ruleId);
  const severity = need<Severity>('severity', oneOf(SEVERITIES));
  const confidence = need<Confidence>('confidence', oneOf(CONFIDENCES));
  const purpose = need('purpose', str, '');
  const sources = need('sources', list(str), []);
  let patterns: readonly CompiledPattern[] | undefined;
  if (f.has('pattern') && f.has('patterns')) {
    ctx.at(f.get('patterns')?.key, join(path, 'patterns'), 'use either "pattern" or "patterns", not both');
    ok = false;
  } else if (f.has('patterns_file') && (f.has('pattern') || f.has('patterns'))) {
    ctx.at(f.get('patterns_file')?.key, join(path, 'patterns_file'), `use either "${f.has('pattern') ? 'pattern' : 'patterns'}" or "patterns_file", not both`);
    ok = false;
  } else if (f.has('pattern')) {
    const one = need('pattern', pattern);
    patterns = one === undefined ? undefined : [one];
  } else if (f.has('patterns')) {
    patterns = need('patterns', list(pattern, 1));
  } else if (f.has('patterns_file')) {
    patterns = need('patterns_file', patternsFile);
  } else {
    ctx.at(v, join(path, 'patterns'), 'missing; add "pattern: <name>" or "patterns: [<name>, ...]" (or "patterns_file: <file>", one name per line)');
    ok = false;
  }
  if (!ok || id === undefined || severity === undefined || confidence === undefined) return undefined;
  if (patterns === undefined || purpose === undefined || sources === undefined) return undefined;
  return { rule: { id, category, severity, confidence, purpose, sources, patterns }, node: v };
}

export const EXTENDS = ['default', 'none'] as const;

export function readEndpoints(ctx: Ctx, v: unknown): CompiledRule[] | undefined {
  const cats = entries(ctx, v, 'endpoints', CATEGORIES);
  if (cats === undefined) return undefined;
  const rules: PlacedRule[] = [];
  let ok = true;
  for (const category of CATEGORIES) {
    const e = cats.get(category);
    if (e === undefined) continue;
    const path = `endpoints.${category}`;
    if (isScalar(e.value) && e.value.value === null) continue;
    if (!isSeq(e.value)) {
      ctx.at(e.value, path, `expected a list of rules, got ${describe(e.value)}`);
      ok = false;
      continue;
    }
    e.value.items.forEach((node, i) => {
      const r = readRule(ctx, ctx.deref(node), `${path}[${i}]`, category);
      if (r === undefined) ok = false;
      else rules.push(r);
    });
  }
  // Rules under a category that does not exist (reported by entries) are still checked, so
  // one run shows every problem.
  if (isMap(v)) {
    for (const item of v.items) {
      const name = isScalar(item.key) ? String(item.key.value) : undefined;
      const rulesNode = ctx.deref(item.value);
      if (name === undefined || (CATEGORIES as readonly string[]).includes(name) || !isSeq(rulesNode)) continue;
      rulesNode.items.forEach((node, i) => readRule(ctx, ctx.deref(node), `endpoints.${name}[${i}]`, name as Category));
    }
  }
  // Duplicates among the rules that read well are reported whatever else is wrong.
  const unique = noDuplicates(ctx, rules);
  return ok && unique ? rules.map((r) => r.rule) : undefined;
}

/** Within one file an id or a concrete pattern may appear once: a repeat is a copy-paste slip. */
function noDuplicates(ctx: Ctx, rules: readonly PlacedRule[]): boolean {
  const ids = new Map<string, PlacedRule>();
  const texts = new Map<string, PlacedRule>();
  let ok = true;
  for (const r of rules) {
    const first = ids.get(r.rule.id);
    if (first !== undefined) {
      ctx.at(r.node, `endpoints.${r.rule.category}`, `rule id "${r.rule.id}" is already used at line ${ctx.line(first.node)}; ids must be unique`);
      ok = false;
    }
    ids.set(r.rule.id, r);
    for (const p of r.rule.patterns) {
      for (const f of p.forms) {
        const prev = texts.get(f.text);
        if (prev !== undefined && prev !== r) {
          ctx.at(r.node, `endpoints.${r.rule.category}`, `rule "${r.rule.id}": "${f.text}" is already listed by rule "${prev.rule.id}" at line ${ctx.line(prev.node)}; keep one`);
          ok = false;
        }
        texts.set(f.text, r);
      }
    }
  }
  return ok;
}

