/**
 * Reading YAML with source positions: the `yaml` package's document tree, and small typed
 * readers (string, whole number, one-of, list, mapping with fixed keys, IP address) that turn a
 * node into a value or record a problem with its line and dotted field path. Every problem is
 * collected, so one run reports them all (fastify's initial-config-validation does the same).
 */
import { createRequire } from 'node:module';
import type * as Net from 'node:net';
import type * as Yaml from 'yaml';
import { KasmonError } from '../errors.js';

// ─── yaml, loaded on first use ───────────────────────────────────────────────────────────

// `yaml` is slow to import (README, "Dependency notes"), and the default config usually comes from the snapshot, so
// it is loaded only when YAML text is parsed. parseConfig is synchronous, hence require (the
// package ships a CommonJS build for node).
let yamlModule: typeof Yaml | undefined;
// node:net (for isIP) pulls in sockets and streams at start-up; only addresses in a parsed
// config need it.
let netModule: typeof Net | undefined;
const net = (): typeof Net => (netModule ??= createRequire(import.meta.url)('node:net') as typeof Net);
export const yaml = (): typeof Yaml => (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml);

export const isAlias = (v: unknown): v is Yaml.Alias => yaml().isAlias(v);
export const isMap = (v: unknown): v is Yaml.YAMLMap => yaml().isMap(v);
export const isScalar = (v: unknown): v is Yaml.Scalar => yaml().isScalar(v);
export const isSeq = (v: unknown): v is Yaml.YAMLSeq => yaml().isSeq(v);

// ─── problems ────────────────────────────────────────────────────────────────────────────

interface Problem {
  readonly line: number;
  readonly path: string;
  readonly message: string;
  /** Another file the problem is in (a rule's patterns_file); the config file when absent. */
  readonly file?: string;
}

/** Anything with a source range: yaml nodes. */
type Located = { range?: readonly number[] | null | undefined } | null | undefined;

export class Ctx {
  readonly problems: Problem[] = [];
  /** `aliases`: the document may hold `*alias` nodes (false for the subset reader's, which never do). */
  constructor(
    readonly file: string,
    private readonly lc: Yaml.LineCounter,
    private readonly doc: Yaml.Document,
    private readonly aliases = true,
  ) {}

  lineAt(offset: number): number {
    return Math.max(1, this.lc.linePos(offset).line);
  }

  at(node: unknown, path: string, message: string): void {
    const off = (node as Located)?.range?.[0];
    this.problems.push({ line: off === undefined ? 1 : this.lineAt(off), path, message });
  }

  /** A problem at `line` of another file the config names (a patterns_file). */
  inFile(file: string, line: number, path: string, message: string): void {
    this.problems.push({ file, line, path, message });
  }

  line(node: unknown): number {
    const off = (node as Located)?.range?.[0];
    return off === undefined ? 1 : this.lineAt(off);
  }

  /** Follow `*alias` references to the anchored node. */
  deref(v: unknown): unknown {
    return this.aliases && isAlias(v) ? v.resolve(this.doc) : v;
  }

  error(): KasmonError {
    // The config file's problems by line, then each other file's, in the order they were met.
    const files = [...new Set(this.problems.map((p) => p.file ?? ''))].sort((a, b) => Number(a !== '') - Number(b !== ''));
    const rank = (p: Problem): number => files.indexOf(p.file ?? '');
    const sorted = [...this.problems].sort((a, b) => rank(a) - rank(b) || a.line - b.line);
    const n = sorted.length;
    const lines = sorted.map((p) => `${p.file ?? this.file}:${p.line}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`);
    const head = `invalid config ${this.file}: ${n} problem${n === 1 ? '' : 's'}`;
    return new KasmonError('ERR_CONFIG', [head, ...lines].join('\n'));
  }
}

export const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

export function describe(v: unknown): string {
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

/** Reads a node at `path`; `base` is the value it is laid over (a nested mapping merges key by key). */
export type Reader<T> = (ctx: Ctx, v: unknown, path: string, base?: T) => T | undefined;

/**
 * What a reader says about how its value is written back (config/effective.ts prints the
 * effective config as YAML the readers accept): a mapping's fields, a list's item reader, a
 * size's unit. Readers without it take a scalar, or a list of scalars, written as it is.
 */
export interface WriteHint {
  readonly fields?: Readonly<Record<string, readonly [prop: string, read: unknown]>>;
  readonly item?: unknown;
  readonly size?: true;
}

export interface Entry {
  readonly key: unknown;
  readonly value: unknown;
}

/** A mapping's entries by key, reporting unknown keys. An empty value (`alerts:`) is an empty mapping. */
export function entries(ctx: Ctx, v: unknown, path: string, allowed: readonly string[]): Map<string, Entry> | undefined {
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

export const str: Reader<string> = (ctx, v, path) => {
  if (isScalar(v) && typeof v.value === 'string') return v.value;
  ctx.at(v, path, `expected a string, got ${describe(v)}`);
  return undefined;
};

export const bool: Reader<boolean> = (ctx, v, path) => {
  if (isScalar(v) && typeof v.value === 'boolean') return v.value;
  ctx.at(v, path, `expected true or false, got ${describe(v)}`);
  return undefined;
};

export function int(min: number, max: number): Reader<number> {
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

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/;
const UNIT = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;

/** A size in bytes: a whole number of bytes, or a number with a binary unit (`64MiB`, `1.5 GiB`). */
export function size(min: number, max: number): Reader<number> {
  const read: Reader<number> = (ctx, v, path) => {
    const raw = isScalar(v) ? v.value : undefined;
    let n: number | undefined;
    if (typeof raw === 'number' && Number.isInteger(raw)) n = raw;
    else if (typeof raw === 'string') {
      const m = SIZE.exec(raw.trim());
      if (m !== null) n = Math.floor(Number(m[1]) * UNIT[(m[2] ?? 'B') as keyof typeof UNIT]);
    }
    if (n === undefined) {
      const hint = typeof raw === 'string' && /^\d+(\.\d+)?\s*[kmgKMG][bB]?$/.test(raw.trim()) ? ' (binary units: KiB, MiB, GiB)' : '';
      ctx.at(v, path, `expected a size like 64MiB (a number with B, KiB, MiB or GiB), got ${describe(v)}${hint}`);
      return undefined;
    }
    if (n >= min && n <= max) return n;
    ctx.at(v, path, `${humanSize(n)} is out of range; use a size from ${humanSize(min)} to ${humanSize(max)}`);
    return undefined;
  };
  return Object.assign(read, { size: true } as const);
}

/** A byte count in the largest binary unit that divides it (`128MiB`), else bytes (`1000`). */
export function humanSize(n: number): string {
  return n % UNIT.GiB === 0 ? `${n / UNIT.GiB}GiB` : n % UNIT.MiB === 0 ? `${n / UNIT.MiB}MiB` : n % UNIT.KiB === 0 ? `${n / UNIT.KiB}KiB` : `${n}`;
}

export function oneOf<T extends string>(values: readonly T[]): Reader<T> {
  return (ctx, v, path) => {
    const s = isScalar(v) ? v.value : undefined;
    if (typeof s === 'string' && (values as readonly string[]).includes(s)) return s as T;
    const hint = typeof s === 'string' ? suggest(s, values) : undefined;
    const dym = hint !== undefined ? `; did you mean "${hint}"?` : '';
    ctx.at(v, path, `${describe(v)} is not one of ${values.join(', ')}${dym}`);
    return undefined;
  };
}

export function list<T>(item: Reader<T>, minItems = 0): Reader<readonly T[]> {
  const read: Reader<readonly T[]> = (ctx, v, path) => {
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
  return Object.assign(read, { item });
}

export const ip: Reader<string> = (ctx, v, path) => {
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
export type Fields<T> = Record<string, { [K in keyof T]-?: readonly [K, Reader<T[K]>] }[keyof T]>;

/**
 * A mapping with fixed keys. Missing keys take `base`'s value when there is a base (user
 * file), and are errors when there is none (the complete default file).
 */
export function object<T extends object>(fields: Fields<T>): Reader<T> & WriteHint {
  const read: Reader<T> = (ctx, v, path, base) => {
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
      const value = read(ctx, e.value, join(path, key), base?.[prop]);
      if (value === undefined) ok = false;
      else out[prop] = value;
    }
    // Every key of T was filled above (the Fields type lists them all).
    return ok ? (out as T) : undefined;
  };
  return Object.assign(read, { fields: fields as unknown as NonNullable<WriteHint['fields']> });
}
