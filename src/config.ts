/**
 * Configuration: YAML file → validated, defaulted, deep-frozen `Config`.
 *
 * Layering. `config/default.yaml` is complete: every key is required there. A user file is
 * partial and is laid over it key by key: a missing key keeps the default, a present mapping
 * merges key by key, a present list (`dns.ports`, `public_dns_fallback`, `appliances`)
 * replaces the default list.
 *
 * Endpoints. With `extends: default` (the default) the user's rules are added to the default
 * rules: a user rule with the same `id` as a default rule replaces it, and user rules come
 * after the defaults, so where both list the same concrete pattern the user rule wins (see
 * the precedence in analyze/hostnames.ts). With `extends: none` the user's endpoint list is
 * the whole list. `extends` concerns endpoints only: other settings always fall back to the
 * defaults, so that a partial file still yields a complete Config.
 *
 * Errors. Every problem is collected with file, line and field path, and one
 * KasmonError('ERR_CONFIG') lists them all (exit code 2). Unknown keys are errors, with a
 * "did you mean" when a known key is close. YAML keys are snake_case; the Config type is
 * camelCase.
 *
 * Start-up. A built kasmon reads the defaults from dist/default-config.json, parsed at build
 * time, as long as it was made from the current default.yaml text (config-snapshot.ts), and
 * loads `yaml` only when it parses YAML text: a default run needs neither.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Net from 'node:net';
import type * as Yaml from 'yaml';
import { CATEGORIES, CONFIDENCES, SEVERITIES, compilePattern } from './analyze/rules.js';
import type { Category, Compiled, CompiledPattern, CompiledRule, Confidence, Severity } from './analyze/rules.js';
import { loadConfigSnapshot } from './config-snapshot.js';
import { KasmonError } from './errors.js';

/** Works from src/ (tests) and dist/ (built): both sit one level below the package root. */
export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../config/default.yaml', import.meta.url));

/**
 * The parsed default config, written at build time (tools/snapshot-default-config) next to
 * this module: dist/default-config.json. Used only while it matches config/default.yaml
 * (see readDefaultConfig); from src/ (tests) there is none, so the YAML is parsed.
 */
export const DEFAULT_SNAPSHOT_PATH = fileURLToPath(new URL('default-config.json', import.meta.url));

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
}

export interface LimitsConfig {
  /** Clients tracked at once (LRU); the least recently seen is evicted and counted. @default 100000 */
  readonly maxClients: number;
  /** TCP flows tracked at once (under reassembly, or tombstones of finished ones; LRU). @default 65536 */
  readonly maxFlows: number;
  /** A flow idle this long is dropped. @default 120 */
  readonly flowIdleSeconds: number;
}

export interface DnsConfig {
  /** UDP/TCP ports decoded as DNS. @default [53] */
  readonly ports: readonly number[];
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
  readonly dns: DnsConfig;
  /** Resolvers used by the public-DNS fallback, in the order the product tries them. */
  readonly publicDnsFallback: readonly PublicResolver[];
  /** Known appliances, matched by source address. @default [] */
  readonly appliances: readonly Appliance[];
  /** Endpoint rules in precedence order for ties (later wins): default rules, then the user's. */
  readonly endpoints: readonly CompiledRule[];
}

// ─── yaml, loaded on first use ───────────────────────────────────────────────────────────

// `yaml` takes ~40 ms to import, and the default config usually comes from the snapshot, so
// it is loaded only when YAML text is parsed. parseConfig is synchronous, hence require (the
// package ships a CommonJS build for node).
let yamlModule: typeof Yaml | undefined;
// node:net (for isIP) pulls in sockets and streams at start-up; only addresses in a parsed
// config need it.
let netModule: typeof Net | undefined;
const net = (): typeof Net => (netModule ??= createRequire(import.meta.url)('node:net') as typeof Net);
const yaml = (): typeof Yaml => (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml);

const isAlias = (v: unknown): v is Yaml.Alias => yaml().isAlias(v);
const isMap = (v: unknown): v is Yaml.YAMLMap => yaml().isMap(v);
const isScalar = (v: unknown): v is Yaml.Scalar => yaml().isScalar(v);
const isSeq = (v: unknown): v is Yaml.YAMLSeq => yaml().isSeq(v);

// ─── problems ────────────────────────────────────────────────────────────────────────────

interface Problem {
  readonly line: number;
  readonly path: string;
  readonly message: string;
}

/** Anything with a source range: yaml nodes. */
type Located = { range?: readonly number[] | null | undefined } | null | undefined;

class Ctx {
  readonly problems: Problem[] = [];
  constructor(
    readonly file: string,
    private readonly lc: Yaml.LineCounter,
    private readonly doc: Yaml.Document,
  ) {}

  lineAt(offset: number): number {
    return Math.max(1, this.lc.linePos(offset).line);
  }

  at(node: unknown, path: string, message: string): void {
    const off = (node as Located)?.range?.[0];
    this.problems.push({ line: off === undefined ? 1 : this.lineAt(off), path, message });
  }

  line(node: unknown): number {
    const off = (node as Located)?.range?.[0];
    return off === undefined ? 1 : this.lineAt(off);
  }

  /** Follow `*alias` references to the anchored node. */
  deref(v: unknown): unknown {
    return isAlias(v) ? v.resolve(this.doc) : v;
  }

  error(): KasmonError {
    const sorted = [...this.problems].sort((a, b) => a.line - b.line);
    const n = sorted.length;
    const lines = sorted.map((p) => `${this.file}:${p.line}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`);
    const head = `invalid config ${this.file}: ${n} problem${n === 1 ? '' : 's'}`;
    return new KasmonError('ERR_CONFIG', [head, ...lines].join('\n'));
  }
}

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

function describe(v: unknown): string {
  if (isScalar(v)) return v.value === null ? 'nothing' : JSON.stringify(v.value);
  if (isMap(v)) return 'a mapping';
  if (isSeq(v)) return 'a list';
  return 'nothing';
}

/** Closest option within a small edit distance (or equal ignoring case, `_` and `-`). */
export function suggest(word: string, options: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of options) {
    const d = norm(o) === norm(word) ? 0 : editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestD) [best, bestD] = [o, d];
  }
  return best !== undefined && bestD <= Math.min(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("hihg" → "high" is 1). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) (d[0] ?? [])[j] = j;
  const at = (i: number, j: number): number => d[i]?.[j] ?? Infinity;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      row[j] = v;
    }
  }
  return at(a.length, b.length);
}

// ─── readers: (node, path) → value, or undefined after reporting ─────────────────────────

type Reader<T> = (ctx: Ctx, v: unknown, path: string) => T | undefined;

interface Entry {
  readonly key: unknown;
  readonly value: unknown;
}

/** A mapping's entries by key, reporting unknown keys. An empty value (`alerts:`) is an empty mapping. */
function entries(ctx: Ctx, v: unknown, path: string, allowed: readonly string[]): Map<string, Entry> | undefined {
  const out = new Map<string, Entry>();
  if (isScalar(v) && v.value === null) return out;
  if (!isMap(v)) {
    ctx.at(v, path, `expected a mapping (key: value lines), got ${describe(v)}`);
    return undefined;
  }
  for (const item of v.items) {
    const key = isScalar(item.key) ? String(item.key.value) : undefined;
    if (key === undefined) {
      ctx.at(item.key, path, 'keys must be plain names');
    } else if (!allowed.includes(key)) {
      const hint = suggest(key, allowed);
      const fix = hint !== undefined ? `did you mean "${hint}"?` : `expected one of ${allowed.join(', ')}`;
      ctx.at(item.key, join(path, key), `unknown key; ${fix}`);
    } else {
      out.set(key, { key: item.key, value: ctx.deref(item.value) });
    }
  }
  return out;
}

const str: Reader<string> = (ctx, v, path) => {
  if (isScalar(v) && typeof v.value === 'string') return v.value;
  ctx.at(v, path, `expected a string, got ${describe(v)}`);
  return undefined;
};

function int(min: number, max: number): Reader<number> {
  return (ctx, v, path) => {
    if (isScalar(v) && typeof v.value === 'number' && Number.isInteger(v.value)) {
      if (v.value >= min && v.value <= max) return v.value;
      ctx.at(v, path, `${v.value} is out of range; use a whole number from ${min} to ${max}`);
      return undefined;
    }
    const sep = isScalar(v) && typeof v.value === 'string' && /^\d[\d_]*$/.test(v.value);
    const hint = sep ? ' (YAML has no digit separators: drop the "_")' : '';
    ctx.at(v, path, `expected a whole number from ${min} to ${max}, got ${describe(v)}${hint}`);
    return undefined;
  };
}

function oneOf<T extends string>(values: readonly T[]): Reader<T> {
  return (ctx, v, path) => {
    const s = isScalar(v) ? v.value : undefined;
    if (typeof s === 'string' && (values as readonly string[]).includes(s)) return s as T;
    const hint = typeof s === 'string' ? suggest(s, values) : undefined;
    const dym = hint !== undefined ? `; did you mean "${hint}"?` : '';
    ctx.at(v, path, `${describe(v)} is not one of ${values.join(', ')}${dym}`);
    return undefined;
  };
}

function list<T>(item: Reader<T>, minItems = 0): Reader<readonly T[]> {
  return (ctx, v, path) => {
    if (isScalar(v) && v.value === null && minItems === 0) return [];
    if (!isSeq(v)) {
      ctx.at(v, path, `expected a list (lines starting with "- ", or [a, b]), got ${describe(v)}`);
      return undefined;
    }
    if (v.items.length < minItems) {
      ctx.at(v, path, `needs at least ${minItems} item${minItems === 1 ? '' : 's'}`);
      return undefined;
    }
    const out: T[] = [];
    let ok = true;
    v.items.forEach((node, i) => {
      const got = item(ctx, ctx.deref(node), `${path}[${i}]`);
      if (got === undefined) ok = false;
      else out.push(got);
    });
    return ok ? out : undefined;
  };
}

const ip: Reader<string> = (ctx, v, path) => {
  const s = str(ctx, v, path);
  if (s === undefined) return undefined;
  const family = s.includes('%') ? 0 : net().isIP(s);
  if (family === 4) return s;
  // WHATWG URL serialises IPv6 the RFC 5952 way (lower-case, longest zero run as ::).
  if (family === 6) return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  ctx.at(v, path, `"${s}" is not an IPv4 or IPv6 address (no zone ids, no prefixes)`);
  return undefined;
};

/** Each YAML key → [Config property, reader]; the reader's type is tied to the property's. */
type Fields<T> = Record<string, { [K in keyof T]-?: readonly [K, Reader<T[K]>] }[keyof T]>;

/**
 * A mapping with fixed keys. Missing keys take `base`'s value when there is a base (user
 * file), and are errors when there is none (the complete default file).
 */
function object<T extends object>(fields: Fields<T>): (ctx: Ctx, v: unknown, path: string, base?: T) => T | undefined {
  return (ctx, v, path, base) => {
    const got = entries(ctx, v, path, Object.keys(fields));
    if (got === undefined) return undefined;
    const out: Partial<Record<keyof T, unknown>> = {};
    let ok = true;
    for (const [key, [prop, read]] of Object.entries(fields)) {
      const e = got.get(key);
      if (e === undefined) {
        if (base !== undefined) out[prop] = base[prop];
        else {
          ctx.at(v, join(path, key), `missing; add "${key}:"`);
          ok = false;
        }
        continue;
      }
      const value = read(ctx, e.value, join(path, key));
      if (value === undefined) ok = false;
      else out[prop] = value;
    }
    // Every key of T was filled above (the Fields type lists them all).
    return ok ? (out as T) : undefined;
  };
}

// ─── cutoff ──────────────────────────────────────────────────────────────────────────────

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;
const CUTOFF_EXAMPLE = 'write it like 2024-09-29T04:00:00Z or 2024-09-29T00:00:00-04:00';

/** ISO 8601 / RFC 3339 timestamp with Z or an offset → epoch microseconds (fraction beyond µs dropped). */
export function parseTimestamp(s: string): Compiled<Cutoff> {
  const m = ISO.exec(s.trim());
  if (m === null) return { ok: false, error: `"${s}" is not an ISO 8601 timestamp; ${CUTOFF_EXAMPLE}` };
  const [, y, mo, d, h, mi, sec = '0', frac = '', z, sign, oh = '0', om = '0'] = m;
  if (z === undefined && sign === undefined) {
    return { ok: false, error: `"${s}" has no UTC offset, so it is ambiguous; add Z (UTC) or an offset like -04:00` };
  }
  const [Y, M, D, H, Mi, S, OH, OM] = [y, mo, d, h, mi, sec, oh, om].map(Number) as [
    number, number, number, number, number, number, number, number,
  ];
  const daysInMonth = new Date(Date.UTC(2000 + (Y % 400), M, 0)).getUTCDate();
  if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > daysInMonth || H > 23 || Mi > 59 || S > 59 || OH > 23 || OM > 59) {
    return { ok: false, error: `"${s}" is not a valid date and time (after 1970); ${CUTOFF_EXAMPLE}` };
  }
  const offsetMs = (sign === '-' ? -1 : 1) * (OH * 60 + OM) * 60_000;
  const ms = Date.UTC(Y, M - 1, D, H, Mi, S) - offsetMs;
  const micros = Number(frac.padEnd(6, '0').slice(0, 6));
  const iso = `${new Date(ms).toISOString().slice(0, 19)}${micros > 0 ? `.${String(micros).padStart(6, '0')}` : ''}Z`;
  return { ok: true, value: { micros: ms * 1000 + micros, iso } };
}

const cutoff: Reader<Cutoff> = (ctx, v, path) => {
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

const observer = object<ObserverConfig>({ name: ['name', str] });
const alerts = object<AlertsConfig>({
  suppress_seconds: ['suppressSeconds', int(0, 30 * DAY)],
  min_severity: ['minSeverity', oneOf(SEVERITIES)],
});
const limits = object<LimitsConfig>({
  max_clients: ['maxClients', int(1, MAX_TABLE)],
  max_flows: ['maxFlows', int(1, MAX_TABLE)],
  flow_idle_seconds: ['flowIdleSeconds', int(1, DAY)],
});
const ports = list(int(1, 65_535), 1);
const dns = object<DnsConfig>({
  ports: [
    'ports',
    (ctx, v, path) => {
      const got = ports(ctx, v, path);
      if (got !== undefined && new Set(got).size !== got.length) {
        ctx.at(v, path, 'lists a port twice; remove the duplicate');
        return undefined;
      }
      return got;
    },
  ],
});
const resolverItem = object<PublicResolver>({
  address: ['address', ip],
  provider: ['provider', str],
  evidence: ['evidence', oneOf(['strong', 'weak'] as const)],
});
const applianceItem = object<Appliance>({ address: ['address', ip], name: ['name', str] });
const resolvers = list<PublicResolver>((ctx, v, p) => resolverItem(ctx, v, p));
const appliances = list<Appliance>((ctx, v, p) => applianceItem(ctx, v, p));

// ─── endpoints ───────────────────────────────────────────────────────────────────────────

const RULE_KEYS = ['id', 'pattern', 'patterns', 'severity', 'confidence', 'purpose', 'sources'] as const;
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
  } else if (f.has('pattern')) {
    const one = need('pattern', pattern);
    patterns = one === undefined ? undefined : [one];
  } else if (f.has('patterns')) {
    patterns = need('patterns', list(pattern, 1));
  } else {
    ctx.at(v, join(path, 'patterns'), 'missing; add "pattern: <name>" or "patterns: [<name>, ...]"');
    ok = false;
  }
  if (!ok || id === undefined || severity === undefined || confidence === undefined) return undefined;
  if (patterns === undefined || purpose === undefined || sources === undefined) return undefined;
  return { rule: { id, category, severity, confidence, purpose, sources, patterns }, node: v };
}

const EXTENDS = ['default', 'none'] as const;

function readEndpoints(ctx: Ctx, v: unknown): CompiledRule[] | undefined {
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
  return ok && noDuplicates(ctx, rules) ? rules.map((r) => r.rule) : undefined;
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

// ─── top level ───────────────────────────────────────────────────────────────────────────

const TOP_KEYS = [
  'extends',
  'cutoff',
  'observer',
  'alerts',
  'limits',
  'dns',
  'public_dns_fallback',
  'appliances',
  'endpoints',
] as const;

/** Non-text bytes (C0 controls other than tab/LF/CR): YAML would read them as scalars. */
const BINARY = /[\u0000-\u0008\u000e-\u001f]/;

/**
 * Parse config text. `base` is the config it is laid over: the built-in default unless
 * given; `null` means "this is a complete file" (how the default itself is read).
 */
export function parseConfig(text: string, fileName: string, base: Config | null = defaultConfig()): Config {
  return finish(parseConfigBody(text, fileName, base), [...(base?.files ?? []), fileName]);
}

/**
 * What a config file says, before the parts that depend on where and how kasmon runs: no
 * `files` (display paths are relative to the working directory) and `observer.name` as
 * written (empty means the host name, filled in by `finish`). Plain data that survives
 * JSON: this is what the build-time snapshot of the default config holds.
 */
export type ConfigBody = Omit<Config, 'files'>;

/** parseConfig without `finish`. @internal For the default-config snapshot (tools/snapshot-default-config). */
export function parseConfigBody(text: string, fileName: string, base: Config | null): ConfigBody {
  const { LineCounter, parseDocument } = yaml();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const ctx = new Ctx(fileName, lc, doc);
  const binary = BINARY.exec(text);
  if (binary !== null) {
    ctx.at({ range: [binary.index] }, '', 'this is not a YAML text file (it contains control bytes)');
    throw ctx.error();
  }
  for (const e of [...doc.errors, ...doc.warnings]) {
    const msg =
      e.code === 'MULTIPLE_DOCS'
        ? 'a config file holds one document; remove the second "---" and what follows or merge them'
        : (e.message.split('\n')[0] ?? e.code);
    ctx.at({ range: e.pos }, '', `YAML syntax: ${msg}`);
  }
  if (ctx.problems.length > 0) throw ctx.error(); // the tree is unreliable past a syntax error

  const root = doc.contents ?? null;
  const top = root === null ? new Map<string, Entry>() : entries(ctx, root, '', TOP_KEYS);
  if (top === undefined) {
    throw ctx.error(); // not a mapping: nothing else to check
  }
  const b = base ?? undefined;
  type SectionReader<T> = (c: Ctx, v: unknown, p: string, base?: T) => T | undefined;
  const section = <T>(key: string, read: SectionReader<T>, fallback: T | undefined): T | undefined => {
    const e = top.get(key);
    if (e !== undefined) return read(ctx, e.value, key, fallback);
    if (fallback === undefined) ctx.at(root, key, `missing; add "${key}:"`);
    return fallback;
  };
  const ext = section('extends', oneOf(EXTENDS), 'default');
  const cfgCutoff = section('cutoff', cutoff, b?.cutoff);
  const cfgObserver = section('observer', observer, b?.observer);
  const cfgAlerts = section('alerts', alerts, b?.alerts);
  const cfgLimits = section('limits', limits, b?.limits);
  const cfgDns = section('dns', dns, b?.dns);
  const cfgResolvers = section('public_dns_fallback', resolvers, b?.publicDnsFallback);
  const cfgAppliances = section('appliances', appliances, b?.appliances);
  const own = top.has('endpoints') ? readEndpoints(ctx, top.get('endpoints')?.value) : [];
  if (b === undefined && !top.has('endpoints')) ctx.at(root, 'endpoints', 'missing; add "endpoints:"');
  if (b !== undefined && ext === 'none' && own?.length === 0) {
    const why = '"none" drops the default endpoints, but this file lists no rules';
    ctx.at(top.get('extends')?.value, 'extends', `${why}; add endpoints or remove "extends: none"`);
  }

  if (
    ctx.problems.length > 0 ||
    cfgCutoff === undefined ||
    cfgObserver === undefined ||
    cfgAlerts === undefined ||
    cfgLimits === undefined ||
    cfgDns === undefined ||
    cfgResolvers === undefined ||
    cfgAppliances === undefined ||
    own === undefined
  ) {
    throw ctx.error();
  }
  const replaced = new Set(own.map((r) => r.id));
  const endpoints =
    b === undefined || ext === 'none' ? own : [...b.endpoints.filter((r) => !replaced.has(r.id)), ...own];
  return {
    cutoff: cfgCutoff,
    observer: cfgObserver,
    alerts: cfgAlerts,
    limits: cfgLimits,
    dns: cfgDns,
    publicDnsFallback: cfgResolvers,
    appliances: cfgAppliances,
    endpoints,
  };
}

/** A parsed body → the Config: attach `files`, default `observer.name` to the host name, deep-freeze. */
function finish(body: ConfigBody, files: readonly string[]): Config {
  const name = body.observer.name.trim();
  return deepFreeze<Config>({
    files,
    cutoff: body.cutoff,
    observer: { name: name === '' ? hostname() : name },
    alerts: body.alerts,
    limits: body.limits,
    dns: body.dns,
    publicDnsFallback: body.publicDnsFallback,
    appliances: body.appliances,
    endpoints: body.endpoints,
  });
}

// ─── files ───────────────────────────────────────────────────────────────────────────────

let cachedDefault: Config | undefined;

/** The built-in defaults (config/default.yaml), read once: the result is frozen, so sharing is safe. */
function defaultConfig(): Config {
  cachedDefault ??= readDefaultConfig();
  return cachedDefault;
}

/**
 * The default config from its build-time snapshot when that was made from exactly the
 * current text of `yamlPath` (same sha256, same snapshot format), else by parsing the YAML.
 * Either way the result equals `parseConfig(<text>, <display path>, null)`.
 * @internal Exported for the snapshot tool and tests; use loadConfig().
 */
export function readDefaultConfig(yamlPath = DEFAULT_CONFIG_PATH, snapshotPath = DEFAULT_SNAPSHOT_PATH): Config {
  const text = readText(yamlPath);
  const fileName = displayPath(yamlPath);
  const body = loadConfigSnapshot(snapshotPath, text);
  return body !== undefined ? finish(body, [fileName]) : parseConfig(text, fileName, null);
}

/** Load `path` laid over the defaults, or the defaults alone when no path is given. */
export function loadConfig(path?: string): Config {
  if (path === undefined || resolve(path) === DEFAULT_CONFIG_PATH) return defaultConfig();
  return parseConfig(readText(path), path, defaultConfig());
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file; check the path, or leave it out to use the defaults'
        : code === 'EISDIR'
          ? 'it is a directory; name a .yaml file'
          : code === 'EACCES'
            ? 'permission denied; make it readable'
            : String((err as Error).message);
    throw new KasmonError('ERR_CONFIG', `cannot read config file ${path}: ${why}`);
  }
}

/** Relative to the working directory when inside it: shorter, clickable messages. */
function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
