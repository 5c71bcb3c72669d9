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
import { hostname } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KasmonError } from '../errors.js';
import { alerts, appliances, attribution, capture, cutoff, dns, EXTENDS, limits, milestones, monitor, observer, readEndpoints, resolvers, sinks, time, updatePaths } from './schema.js';
import type { Config } from './schema.js';
import type * as Yaml from 'yaml';
import { parseSubset } from './fast-yaml.js';
import { loadConfigSnapshot } from './snapshot.js';
import { Ctx, entries, oneOf, yaml, type Entry } from './yaml-reader.js';

export type { Config } from './schema.js';

/** Works from src/ (tests) and dist/ (built): both sit one level below the package root. */
export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../config/default.yaml', import.meta.url));

/**
 * The parsed default config, written at build time (tools/snapshot-default-config) next to
 * this module: dist/default-config.json. Used only while it matches config/default.yaml
 * (see readDefaultConfig); from src/ (tests) there is none, so the YAML is parsed.
 */
export const DEFAULT_SNAPSHOT_PATH = fileURLToPath(new URL('../default-config.json', import.meta.url));

// ─── nesting ─────────────────────────────────────────────────────────────────────────────

/** A kasmon config nests at most 5 levels (endpoints → category → rule → patterns → item). */
const MAX_FLOW_DEPTH = 64;
const MAX_INDENT = 256;
const DEEP_FIX = 'the YAML is nested far deeper than any kasmon config (at most 5 levels: endpoints, category, rule, patterns, item); look for a runaway run of [ or {, or indentation that keeps growing';

/**
 * Where `text` nests deeper than a config ever does, before the YAML parser (which recurses
 * per level) runs out of stack: flow brackets opened and not closed, or indentation.
 */
export function tooDeep(text: string): { line: number; message: string } | undefined {
  // Character codes, not text[i]: this runs over every character of a large rule list.
  const NL = 0x0a;
  const SP = 0x20;
  const HASH = 0x23;
  const DQ = 0x22;
  let depth = 0;
  let line = 1;
  let col = 0;
  let quote = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === NL) {
      line++;
      col = 0;
      quote = quote === DQ ? quote : 0; // single-quoted scalars may span lines too, but rarely
      continue;
    }
    if (quote !== 0) {
      if (c === quote && text.charCodeAt(i - 1) !== 0x5c) quote = 0;
      continue;
    }
    if (c === HASH && (i === 0 || text.charCodeAt(i - 1) === SP || text.charCodeAt(i - 1) === NL)) {
      while (i + 1 < text.length && text.charCodeAt(i + 1) !== NL) i++;
      continue;
    }
    if (col === 0 && c === SP) {
      let n = 0;
      while (text.charCodeAt(i + n) === SP) n++;
      const next = text.charCodeAt(i + n);
      if (n > MAX_INDENT && next !== NL && next !== HASH) {
        return { line, message: `indented ${n} columns: ${DEEP_FIX}` };
      }
    }
    col++;
    if (c === DQ || c === 0x27) quote = c;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_FLOW_DEPTH) return { line, message: `more than ${MAX_FLOW_DEPTH} [ or { open at once: ${DEEP_FIX}` };
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  return undefined;
}

// ─── top level ───────────────────────────────────────────────────────────────────────────

const TOP_KEYS = [
  'extends',
  'cutoff',
  'observer',
  'alerts',
  'limits',
  'time',
  'monitor',
  'capture',
  'sinks',
  'dns',
  'public_dns_fallback',
  'appliances',
  'attribution',
  'update_paths',
  'milestones',
  'endpoints',
] as const;

/**
 * The YAML document and its line counter: from the subset reader when the text is within the
 * subset kasmon configs use (fast-yaml.ts), else from `yaml` itself. Same nodes, same
 * positions either way. `subset: false` forces `yaml` (tests compare the two).
 */
export function parseYaml(text: string, subset = true): { doc: Yaml.Document; lc: Yaml.LineCounter; subset: boolean } {
  const Y = yaml();
  if (subset) {
    const fast = parseSubset(Y, text);
    if (fast.ok) return { doc: fast.doc, lc: fast.lc, subset: true };
  }
  const lc = new Y.LineCounter();
  return { doc: Y.parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true }), lc, subset: false };
}

/** Non-text bytes (C0 controls other than tab/LF/CR): YAML would read them as scalars. */
const BINARY = /[\u0000-\u0008\u000e-\u001f]/;

/**
 * Parse config text. `base` is the config it is laid over: the built-in default unless
 * given; `null` means "this is a complete file" (how the default itself is read). `subset:
 * false` reads the YAML with the `yaml` package even when the fast reader could (tests).
 */
export function parseConfig(text: string, fileName: string, base: Config | null = defaultConfig(), subset = true): Config {
  return finish(parseConfigBody(text, fileName, base, subset), [...(base?.files ?? []), fileName]);
}

/**
 * What a config file says, before the parts that depend on where and how kasmon runs: no
 * `files` (display paths are relative to the working directory) and `observer.name` as
 * written (empty means the host name, filled in by `finish`). Plain data that survives
 * JSON: this is what the build-time snapshot of the default config holds.
 */
export type ConfigBody = Omit<Config, 'files'>;

/** parseConfig without `finish`. @internal For the default-config snapshot (tools/snapshot-default-config). */
export function parseConfigBody(text: string, fileName: string, base: Config | null, subset = true): ConfigBody {
  const deep = tooDeep(text);
  if (deep !== undefined) throw new KasmonError('ERR_CONFIG', `invalid config ${fileName}: 1 problem\n${fileName}:${deep.line}: ${deep.message}`);
  let parsed: ReturnType<typeof parseYaml>;
  try {
    parsed = parseYaml(text, subset);
  } catch (e) {
    // tooDeep catches what a config can plausibly hold; this is the last guard.
    if (e instanceof RangeError) throw new KasmonError('ERR_CONFIG', `invalid config ${fileName}: 1 problem\n${fileName}:1: ${DEEP_FIX}`);
    throw e;
  }
  const { doc, lc } = parsed;
  const ctx = new Ctx(fileName, lc, doc, !parsed.subset); // the subset has no aliases to follow
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
  const cfgTime = section('time', time, b?.time);
  const cfgMonitor = section('monitor', monitor, b?.monitor);
  const cfgCapture = section('capture', capture, b?.capture);
  const cfgSinks = section('sinks', sinks, b?.sinks);
  const cfgDns = section('dns', dns, b?.dns);
  const cfgResolvers = section('public_dns_fallback', resolvers, b?.publicDnsFallback);
  const cfgAppliances = section('appliances', appliances, b?.appliances);
  const cfgAttribution = section('attribution', attribution, b?.attribution);
  const cfgUpdatePaths = section('update_paths', updatePaths, b?.updatePaths);
  const cfgMilestones = section('milestones', milestones, b?.milestones);
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
    cfgTime === undefined ||
    cfgMonitor === undefined ||
    cfgCapture === undefined ||
    cfgSinks === undefined ||
    cfgDns === undefined ||
    cfgResolvers === undefined ||
    cfgAppliances === undefined ||
    cfgAttribution === undefined ||
    cfgUpdatePaths === undefined ||
    cfgMilestones === undefined ||
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
    time: cfgTime,
    monitor: cfgMonitor,
    capture: cfgCapture,
    sinks: cfgSinks,
    dns: cfgDns,
    publicDnsFallback: cfgResolvers,
    appliances: cfgAppliances,
    attribution: cfgAttribution,
    updatePaths: cfgUpdatePaths,
    milestones: cfgMilestones,
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
    time: body.time,
    monitor: body.monitor,
    capture: body.capture,
    sinks: body.sinks,
    dns: body.dns,
    publicDnsFallback: body.publicDnsFallback,
    appliances: body.appliances,
    attribution: body.attribution,
    updatePaths: body.updatePaths,
    milestones: body.milestones,
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
    for (const k in v) deepFreeze(v[k]); // for-in, not Object.values: no array per object (large rule lists)
    Object.freeze(v);
  }
  return v;
}

