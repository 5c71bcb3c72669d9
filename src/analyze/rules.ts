/**
 * Endpoint rules: the pattern language of `config/default.yaml` and its compilation into
 * forms the matcher (hostnames.ts) can index. Pure data in, pure data out: no RegExp
 * objects, so a compiled rule can be deep-frozen and printed by `check-config`.
 *
 * Pattern syntax (names are compared lower-case, without a trailing dot):
 * - `host.example.com`       exact name.
 * - `*.example.com`          any subdomain at a label boundary, one or more labels deep;
 *                            never the apex `example.com` itself.
 * - `ksn-*-geo.example.com`  `*` inside a label: one or more characters, never a dot.
 *                            A whole non-leading label `*` is "exactly one label".
 * - `s{00..19}.example.com`  zero-padded numeric range (bash rules: padded to the wider
 *                            bound when either bound has a leading zero), ascending only.
 * - `kaspersky.co.{uk,jp}`   alternatives (an alternative may be empty or contain dots).
 * Braces expand first (at most MAX_EXPANSION names per pattern, no nesting); each result is
 * then classified as exact, subdomain or label-wildcard.
 */
import { KasmonError } from '../errors.js';

export const CATEGORIES = [
  'update',
  'ksn',
  'activation',
  'certificates',
  'telemetry',
  'portals',
  'other',
  'ultraav-migration',
] as const;
export type Category = (typeof CATEGORIES)[number];

/**
 * Most severe first; the index is the rank used by `severityAtLeast`. `critical` is above any
 * name alone: findings such as a signature-update fetch after the cutoff (analyze/findings.ts).
 */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A: on an official Kaspersky page; B: function documented, name from public lists; C: one third-party source or inference. */
export const CONFIDENCES = ['A', 'B', 'C'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

/** A pattern expanding to more concrete names than this is a config error (typo guard, memory bound). */
export const MAX_EXPANSION = 10_000;
/** RFC 1035 §2.3.4: 255 octets on the wire = 253 characters in dotted text. */
export const MAX_NAME_LEN = 253;
const MAX_LABEL_LEN = 63;
/**
 * Wildcards need two literal labels at the end (`*.kaspersky.com`, not `*.com`): it keeps a
 * typo from matching a whole TLD, and lets the matcher reject most names with one lookup.
 */
const MIN_FIXED_LABELS = 2;

export function severityAtLeast(s: Severity, min: Severity): boolean {
  return SEVERITIES.indexOf(s) <= SEVERITIES.indexOf(min);
}

/** One concrete (brace-expanded) pattern, classified for indexing. `text` is the expanded pattern. */
export type PatternForm =
  | { readonly kind: 'exact'; readonly text: string }
  /** `*.suffix`: any name ending in `.suffix`. */
  | { readonly kind: 'subdomain'; readonly text: string; readonly suffix: string }
  /**
   * Label wildcard, checked only for names ending in `.suffix` (the literal labels after the
   * last `*`). `regex` is an anchored source over the whole name. `anyDepth`: the pattern
   * starts with `*.` (one or more labels). `literalChars` ranks specificity.
   */
  | {
      readonly kind: 'wildcard';
      readonly text: string;
      readonly suffix: string;
      readonly regex: string;
      readonly anyDepth: boolean;
      readonly literalChars: number;
    };

export interface CompiledPattern {
  /** The pattern as written (lower-cased, trailing dot removed): what reports and dedup keys show. */
  readonly source: string;
  readonly forms: readonly PatternForm[];
}

/** A rule as the config (or a test) states it. */
export interface RuleSpec {
  readonly id: string;
  readonly category: Category;
  readonly severity: Severity;
  readonly confidence: Confidence;
  readonly patterns: readonly string[];
  readonly purpose?: string;
  readonly sources?: readonly string[];
}

export interface CompiledRule {
  /** Stable identifier (alert `rule.name`, dedup key, replacement key for user configs). */
  readonly id: string;
  readonly category: Category;
  readonly severity: Severity;
  readonly confidence: Confidence;
  /** What the endpoint is for. */
  readonly purpose: string;
  /** Source ids from ENDPOINTS.md (K1, G1, P4 ...). */
  readonly sources: readonly string[];
  readonly patterns: readonly CompiledPattern[];
}

export type Compiled<T> = { ok: true; value: T } | { ok: false; error: string };

/** Compile one pattern; errors are returned (not thrown) so the config loader can place them. */
export function compilePattern(pattern: string): Compiled<CompiledPattern> {
  let source = pattern.trim().toLowerCase();
  if (source.endsWith('.')) source = source.slice(0, -1);
  if (source === '') return { ok: false, error: 'empty pattern' };
  const expanded = expandBraces(source);
  if (!expanded.ok) return expanded;
  const forms: PatternForm[] = [];
  for (const text of expanded.value) {
    const form = classify(text);
    if (!form.ok) {
      const where = text === source ? '' : ` (expanded "${text}")`;
      return { ok: false, error: `${form.error}${where}` };
    }
    forms.push(form.value);
  }
  return { ok: true, value: { source, forms } };
}

/** For tests and tools that build rules without a config file: throws ERR_CONFIG on a bad pattern. */
export function compileRule(spec: RuleSpec): CompiledRule {
  const patterns = spec.patterns.map((p) => {
    const c = compilePattern(p);
    if (!c.ok) throw new KasmonError('ERR_CONFIG', `rule ${spec.id}: pattern "${p}": ${c.error}`);
    return c.value;
  });
  return {
    id: spec.id,
    category: spec.category,
    severity: spec.severity,
    confidence: spec.confidence,
    purpose: spec.purpose ?? '',
    sources: spec.sources ?? [],
    patterns,
  };
}

type Group = readonly string[];

/** Shell-style brace expansion, bounded by MAX_EXPANSION; duplicates are dropped, order kept. */
export function expandBraces(p: string): Compiled<string[]> {
  if (!p.includes('{') && !p.includes('}')) return { ok: true, value: [p] }; // most patterns: nothing to expand
  const parts: (string | Group)[] = [];
  let i = 0;
  let total = 1;
  while (i < p.length) {
    const open = p.indexOf('{', i);
    const close = p.indexOf('}', i);
    if (close >= 0 && (open < 0 || close < open)) {
      return { ok: false, error: `"}" at position ${close + 1} has no matching "{"` };
    }
    if (open < 0) {
      parts.push(p.slice(i));
      break;
    }
    if (open > i) parts.push(p.slice(i, open));
    if (close < 0) return { ok: false, error: `"{" at position ${open + 1} is never closed` };
    const body = p.slice(open + 1, close);
    if (body.includes('{')) return { ok: false, error: 'nested braces are not supported; write separate patterns' };
    const group = expandGroup(body);
    if (!group.ok) return group;
    total *= group.value.length;
    if (total > MAX_EXPANSION) {
      return {
        ok: false,
        error: `expands to more than ${MAX_EXPANSION} names; narrow the ranges or use a "*" wildcard`,
      };
    }
    parts.push(group.value);
    i = close + 1;
  }
  let out = [''];
  for (const part of parts) {
    if (typeof part === 'string') out = out.map((s) => s + part);
    else out = out.flatMap((s) => part.map((alt) => s + alt));
  }
  return { ok: true, value: [...new Set(out)] };
}

const RANGE = /^(\d{1,9})\.\.(\d{1,9})$/;

function expandGroup(body: string): Compiled<Group> {
  const r = RANGE.exec(body);
  if (r !== null) {
    const [, a = '', b = ''] = r;
    const lo = Number(a);
    const hi = Number(b);
    if (lo > hi) return { ok: false, error: `range {${body}} counts down; write {${b}..${a}}` };
    if (hi - lo + 1 > MAX_EXPANSION) {
      return { ok: false, error: `range {${body}} has more than ${MAX_EXPANSION} values; use a "*" wildcard` };
    }
    // bash: a leading zero on either bound pads every number to the wider bound.
    const padded = (a.length > 1 && a.startsWith('0')) || (b.length > 1 && b.startsWith('0'));
    const width = padded ? Math.max(a.length, b.length) : 0;
    const out: string[] = [];
    for (let n = lo; n <= hi; n++) out.push(String(n).padStart(width, '0'));
    return { ok: true, value: out };
  }
  if (body.includes(',')) return { ok: true, value: body.split(',') };
  return {
    ok: false,
    error: `{${body}} is neither a range like {00..19} nor alternatives like {a,b}`,
  };
}

const LABEL_CHARS = /^[a-z0-9_*-]+$/;
/** A whole name whose labels all pass the checks below: one test instead of a split per name. */
const VALID_NAME = new RegExp(`^[a-z0-9_*-]{1,${MAX_LABEL_LEN}}(?:\\.[a-z0-9_*-]{1,${MAX_LABEL_LEN}})*$`);

function classify(text: string): Compiled<PatternForm> {
  if (text.length <= MAX_NAME_LEN && VALID_NAME.test(text) && !text.includes('*')) return { ok: true, value: { kind: 'exact', text } };
  if (text === '') return { ok: false, error: 'empty name' };
  if (text.length > MAX_NAME_LEN) return { ok: false, error: `longer than ${MAX_NAME_LEN} characters` };
  const labels = text.split('.');
  for (const label of labels) {
    if (label === '') return { ok: false, error: 'empty label (a leading dot or "..")' };
    if (label.length > MAX_LABEL_LEN) return { ok: false, error: `label "${label}" is longer than ${MAX_LABEL_LEN}` };
    if (!LABEL_CHARS.test(label)) {
      return { ok: false, error: `label "${label}" has a character outside a-z 0-9 - _ *` };
    }
  }
  if (!text.includes('*')) return { ok: true, value: { kind: 'exact', text } };

  let fixed = 0;
  while (fixed < labels.length && !(labels[labels.length - 1 - fixed] ?? '').includes('*')) fixed++;
  if (fixed < MIN_FIXED_LABELS) {
    return {
      ok: false,
      error: `a wildcard needs at least ${MIN_FIXED_LABELS} literal labels at the end (like *.kaspersky.com)`,
    };
  }
  const suffix = labels.slice(labels.length - fixed).join('.');
  const anyDepth = labels[0] === '*';
  const inner = labels.slice(anyDepth ? 1 : 0, labels.length - fixed);
  if (anyDepth && inner.length === 0) return { ok: true, value: { kind: 'subdomain', text, suffix } };

  const body = [...inner, ...labels.slice(labels.length - fixed)]
    .map((l) => l.replaceAll('*', '[^.]+'))
    .join('\\.');
  const regex = `^${anyDepth ? '(?:[^.]+\\.)+' : ''}${body}$`;
  const literalChars = (anyDepth ? text.slice(2) : text).replaceAll('*', '').length;
  return { ok: true, value: { kind: 'wildcard', text, suffix, regex, anyDepth, literalChars } };
}
