/**
 * The effective configuration written back in the config file's own terms: snake_case keys,
 * sizes with their unit, the cutoff as ISO 8601, rules with their patterns as written. The
 * document is plain data (check-config prints it as JSON), and toYaml writes it as a YAML
 * file that check-config accepts and that reads back to the same Config (the round trip in
 * test/check-config.test.ts).
 *
 * Every setting is written out, so the file is complete: it stands on its own, whatever the
 * defaults of another kasmon version. Endpoint rules are written the way the files state them:
 * - a config made of one file (the defaults alone, or a file with `extends: none`): every
 *   rule, under `extends: none`;
 * - a file laid over the defaults (`extends: default`): that file's own rules, under
 *   `extends: default`. The merged list cannot always be one file: a user rule may list a
 *   name a default rule lists too (it wins, being later), which one file may not do, and
 *   within one file rules are ordered by category, which can change which of two equally
 *   specific wildcards wins. `kasmon check-config --format yaml` without a file prints the
 *   default rules.
 */
import { CATEGORIES } from '../analyze/rules.js';
import type { CompiledRule } from '../analyze/rules.js';
import type { ConfigBody } from './load.js';
import { alerts, appliances, attribution, capture, dns, limits, monitor, observer, resolvers, sinks, time, updatePaths } from './schema.js';
import type { Config } from './schema.js';
import { humanSize, type WriteHint } from './yaml-reader.js';

type Plain = string | number | boolean | null | readonly Plain[] | { readonly [key: string]: Plain };

/** A value as `read` reads it, written back: mapping fields by their YAML keys, sizes with a unit. */
function write(reader: unknown, value: unknown, path: string): Plain {
  const read = reader as WriteHint;
  if (read.fields !== undefined) {
    const out: Record<string, Plain> = {};
    for (const [key, [prop, field]] of Object.entries(read.fields)) out[key] = write(field, (value as Record<string, unknown>)[prop], `${path}.${key}`);
    return out;
  }
  if (read.size === true && typeof value === 'number') return humanSize(value);
  if (Array.isArray(value)) {
    const item = read.item;
    return value.map((v: unknown, i) => (item !== undefined ? write(item, v, `${path}[${i}]`) : scalar(v, `${path}[${i}]`)));
  }
  return scalar(value, path);
}

function scalar(v: unknown, path: string): Plain {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  // A reader without a write hint gave a structured value: the hint is missing (a bug, not input).
  throw new Error(`effective config: no way to write ${path} (${typeof v}); give its reader a WriteHint`);
}

/**
 * Each Config field and how it is written, in the file's order. Typed by ConfigBody, so a new
 * Config field without a line here does not compile.
 */
const SECTIONS: { readonly [K in keyof ConfigBody]: readonly [key: string, write: (c: Config) => Plain] } = {
  cutoff: ['cutoff', (c) => c.cutoff.iso],
  observer: ['observer', (c) => write(observer, c.observer, 'observer')],
  alerts: ['alerts', (c) => write(alerts, c.alerts, 'alerts')],
  limits: ['limits', (c) => write(limits, c.limits, 'limits')],
  time: ['time', (c) => write(time, c.time, 'time')],
  monitor: ['monitor', (c) => write(monitor, c.monitor, 'monitor')],
  capture: ['capture', (c) => write(capture, c.capture, 'capture')],
  sinks: ['sinks', (c) => write(sinks, c.sinks, 'sinks')],
  dns: ['dns', (c) => write(dns, c.dns, 'dns')],
  attribution: ['attribution', (c) => write(attribution, c.attribution, 'attribution')],
  updatePaths: ['update_paths', (c) => write(updatePaths, c.updatePaths, 'update_paths')],
  milestones: ['milestones', (c) => c.milestones.map((m) => ({ at: m.at.iso, label: m.label, sources: [...m.sources] }))],
  publicDnsFallback: ['public_dns_fallback', (c) => write(resolvers, c.publicDnsFallback, 'public_dns_fallback')],
  appliances: ['appliances', (c) => write(appliances, c.appliances, 'appliances')],
  endpoints: ['endpoints', () => null], // written by effectiveDocument (it depends on `extends`)
};

function ruleDoc(r: CompiledRule): Plain {
  const patterns = r.patterns.map((p) => p.source);
  return {
    id: r.id,
    ...(patterns.length === 1 ? { pattern: patterns[0] ?? '' } : { patterns }),
    severity: r.severity,
    confidence: r.confidence,
    purpose: r.purpose,
    sources: r.sources,
  };
}

/** Rules by category (the file's shape), in category order and, within one, in list order. */
export function endpointsDoc(rules: readonly CompiledRule[]): Plain {
  const out: Record<string, Plain[]> = {};
  for (const category of CATEGORIES) {
    const own = rules.filter((r) => r.category === category);
    if (own.length > 0) out[category] = own.map(ruleDoc);
  }
  return out;
}

/**
 * The rules `c` adds to `defaults`, when `c` is `defaults` with some rules replaced (by id)
 * and others added after them, as `extends: default` builds it; undefined when it is not.
 */
function addedRules(c: Config, defaults: Config): readonly CompiledRule[] | undefined {
  const base = new Set(defaults.endpoints);
  const added = c.endpoints.filter((r) => !base.has(r));
  const replaced = new Set(added.map((r) => r.id));
  const rebuilt = [...defaults.endpoints.filter((r) => !replaced.has(r.id)), ...added];
  return rebuilt.length === c.endpoints.length && rebuilt.every((r, i) => r === c.endpoints[i]) ? added : undefined;
}

/**
 * The effective settings of `c` as a config document (plain data, snake_case keys). `defaults`
 * is the config a file is laid over (loadConfig()), to tell its own rules from the defaults'.
 */
export function effectiveDocument(c: Config, defaults: Config): Record<string, Plain> {
  const added = c.files.length > 1 ? addedRules(c, defaults) : undefined;
  return { extends: added === undefined ? 'none' : 'default', ...effectiveSettings(c), endpoints: endpointsDoc(added ?? c.endpoints) };
}

/** Every section but `extends` and `endpoints`, as effectiveDocument writes them. */
export function effectiveSettings(c: Config): Record<string, Plain> {
  const doc: Record<string, Plain> = {};
  for (const [key, writeSection] of Object.values(SECTIONS)) if (key !== 'endpoints') doc[key] = writeSection(c);
  return doc;
}

// ─── YAML ────────────────────────────────────────────────────────────────────────────────

/**
 * Plain scalars that read back as the same string, in a block or inside [ ]: no indicator
 * first, no `,` `#` `[` `]` `{` `}`, no `: ` or final `:`, and not a number, bool or null.
 */
const PLAIN_SAFE = /^[A-Za-z0-9_/][A-Za-z0-9 _./()+@=:;-]*$/;
const NOT_STRING = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?(?:[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?))$/;

/** One scalar as YAML: plain when that reads back the same, else single-quoted, else (control characters) double-quoted. */
export function yamlScalar(v: Plain): string {
  if (typeof v !== 'string') return JSON.stringify(v);
  if (PLAIN_SAFE.test(v) && !v.endsWith(' ') && !v.endsWith(':') && !v.includes(': ') && !NOT_STRING.test(v)) return v;
  if (!/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(v)) return `'${v.replaceAll("'", "''")}'`;
  return JSON.stringify(v); // JSON's escapes are YAML double-quoted escapes
}

const isScalar = (v: Plain): boolean => v === null || typeof v !== 'object';

function flowSeq(v: readonly Plain[]): string {
  return `[${v.map(yamlScalar).join(', ')}]`;
}

/** `v` after `key:` or `- ` at indentation `indent`: the rest of the line and any lines below. */
function yamlValue(v: Plain, indent: number): string {
  if (isScalar(v)) return ` ${yamlScalar(v)}\n`;
  if (Array.isArray(v)) {
    const items = v as readonly Plain[];
    if (items.every(isScalar)) return ` ${flowSeq(items)}\n`;
    const item = (x: Plain): string => {
      const compact = x !== null && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length > 0;
      // `- key: value` with the item's other keys below the first: a compact mapping.
      return compact ? ` ${yamlMap(x as Record<string, Plain>, indent + 2).slice(indent + 2)}` : yamlValue(x, indent + 2);
    };
    return `\n${items.map((x) => `${' '.repeat(indent)}-${item(x)}`).join('')}`;
  }
  const map = v as Record<string, Plain>;
  return Object.keys(map).length === 0 ? ' {}\n' : `\n${yamlMap(map, indent)}`;
}

function yamlMap(m: Record<string, Plain>, indent: number): string {
  return Object.entries(m)
    .map(([k, v]) => `${' '.repeat(indent)}${yamlScalar(k)}:${yamlValue(v, indent + 2)}`)
    .join('');
}

/** A document (a mapping of plain data) as block YAML, with `header` lines as comments first. */
export function toYaml(doc: Record<string, Plain>, header: readonly string[] = []): string {
  return `${header.map((h) => `# ${h}\n`).join('')}${yamlMap(doc, 0)}`;
}
