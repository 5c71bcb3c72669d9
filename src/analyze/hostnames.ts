/**
 * Hostname → endpoint rule. Called once per observation (not per packet), up to ~100k/s.
 *
 * Precedence (the most specific rule wins; first hit in this order):
 * 1. Exact names, including every brace expansion (`s07.upd.kaspersky.com`).
 * 2. Then the name's proper label suffixes, longest first (`a.b.kaspersky.com` tries
 *    `b.kaspersky.com`, then `kaspersky.com`). At each suffix S:
 *    a. label-wildcard patterns whose literal tail is S (`ksn-*-geo.kaspersky-labs.com`
 *       under `kaspersky-labs.com`): fixed-depth before `*.`-prefixed, then more literal
 *       characters first, then the later rule first;
 *    b. the subdomain pattern `*.S`.
 * 3. No match.
 * So catch-alls like `*.kaspersky.com` only see names no specific row claims. When two rules
 * list the same concrete pattern, the later rule wins (the config puts user rules after the
 * defaults, so a user file can re-classify a default name).
 *
 * Cost per name: first a hash of the last two labels, computed over the name's characters
 * without slicing it, looked up among the roots of every rule (exact names included): this
 * rejects nearly all non-Kaspersky traffic before any string is hashed or built. Then one
 * exact lookup, and one map lookup per suffix, at most as many as the longest indexed suffix
 * has labels. Regexes run only under their own suffix.
 */
import { CATEGORIES, MAX_NAME_LEN, SEVERITIES } from './rules.js';
import type { Category, CompiledRule, Confidence, Severity } from './rules.js';

export interface RuleMatch {
  /** The rule's id (alert `rule.name`). */
  readonly id: string;
  /** The pattern as written in the config (e.g. `s{00..19}.upd.kaspersky.com`), not the expansion. */
  readonly pattern: string;
  readonly category: Category;
  readonly severity: Severity;
  readonly confidence: Confidence;
  /** Index of `category` in CATEGORIES and of `severity` in SEVERITIES (0 = high): no lookup per match. */
  readonly categoryIndex: number;
  readonly severityRank: number;
}

/** Lower-case and strip one trailing dot: the form the observation contract uses. */
export function normalizeHostname(s: string): string {
  const n = s.length;
  const t = n > 0 && s.charCodeAt(n - 1) === 0x2e ? s.slice(0, n - 1) : s;
  return t.toLowerCase();
}

interface Wild {
  readonly re: RegExp;
  readonly anyDepth: boolean;
  readonly literalChars: number;
  readonly order: number;
  readonly match: RuleMatch;
}

interface SuffixEntry {
  wild: Wild[];
  sub: RuleMatch | undefined;
}

/**
 * Index of the last '.' at or before `from`, or -1. A charCodeAt loop the JIT inlines, where
 * String.prototype.lastIndexOf is a runtime call (bench/README.md, "Measurements behind the code").
 */
function lastDot(s: string, from: number): number {
  for (let i = from; i >= 0; i--) if (s.charCodeAt(i) === 0x2e) return i;
  return -1;
}

/** Index of the dot in front of the last two labels, or -1 when there are fewer than three. */
function rootDot(s: string): number {
  const last = lastDot(s, s.length - 1);
  return last <= 0 ? -1 : lastDot(s, last - 1);
}

function lastTwoLabels(s: string): string {
  const second = rootDot(s);
  return second < 0 ? s : s.slice(second + 1);
}

/** FNV-1a over s[from..]: the key of a root, computed in place on a name. */
function hashFrom(s: string, from: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

interface Root {
  readonly text: string;
  /** Some indexed suffix (wildcard or `*.`) has these last two labels. */
  suffix: boolean;
}

export class Matcher {
  private readonly exact = new Map<string, RuleMatch>();
  private readonly bySuffix = new Map<string, SuffixEntry>();
  /**
   * Last two labels of every indexed suffix and every exact name, by hashFrom: a name whose
   * last two labels are not here cannot match anything.
   */
  private readonly roots = new Map<number, Root[]>();
  /** Labels in the longest indexed suffix: bounds the suffix walk. */
  private readonly maxSuffixLabels: number;
  /** Dot positions of the current name, reused across calls (match is synchronous). */
  private readonly dots: Int32Array;

  constructor(rules: readonly CompiledRule[]) {
    let order = 0;
    let maxLabels = 0;
    for (const rule of rules) {
      for (const p of rule.patterns) {
        // One frozen result object per (rule, pattern): match() never allocates one.
        const match: RuleMatch = Object.freeze({
          id: rule.id,
          pattern: p.source,
          category: rule.category,
          severity: rule.severity,
          confidence: rule.confidence,
          categoryIndex: CATEGORIES.indexOf(rule.category),
          severityRank: SEVERITIES.indexOf(rule.severity),
        });
        for (const f of p.forms) {
          if (f.kind === 'exact') {
            this.exact.set(f.text, match); // later rule wins
            this.addRoot(lastTwoLabels(f.text), false);
            continue;
          }
          const entry = this.entry(f.suffix);
          maxLabels = Math.max(maxLabels, f.suffix.split('.').length);
          this.addRoot(lastTwoLabels(f.suffix), true);
          if (f.kind === 'subdomain') {
            entry.sub = match;
          } else {
            const wild = { re: new RegExp(f.regex), anyDepth: f.anyDepth, literalChars: f.literalChars, order: order++, match };
            const same = entry.wild.findIndex((w) => w.re.source === wild.re.source);
            if (same >= 0) entry.wild.splice(same, 1);
            entry.wild.push(wild);
          }
        }
      }
    }
    for (const e of this.bySuffix.values()) {
      e.wild.sort(
        (a, b) =>
          Number(a.anyDepth) - Number(b.anyDepth) || b.literalChars - a.literalChars || b.order - a.order,
      );
    }
    this.maxSuffixLabels = maxLabels;
    this.dots = new Int32Array(Math.max(maxLabels, 2) + 1);
  }

  private addRoot(text: string, suffix: boolean): void {
    const h = hashFrom(text, 0);
    let list = this.roots.get(h);
    if (list === undefined) this.roots.set(h, (list = []));
    const known = list.find((r) => r.text === text);
    if (known === undefined) list.push({ text, suffix });
    else known.suffix ||= suffix;
  }

  /**
   * Every root (the last two labels of an indexed suffix or exact name): a name whose own last
   * two labels are none of these matches nothing. Decoders use it to skip names early.
   */
  rootNames(): string[] {
    return [...this.roots.values()].flatMap((list) => list.map((r) => r.text));
  }

  /** The root entry for n[from..] (n's last two labels, or all of n), if any rule has it. */
  private rootOf(n: string, from: number): Root | undefined {
    const list = this.roots.get(hashFrom(n, from));
    if (list === undefined) return undefined;
    for (const r of list) if (r.text.length === n.length - from && n.endsWith(r.text)) return r;
    return undefined;
  }

  private entry(suffix: string): SuffixEntry {
    let e = this.bySuffix.get(suffix);
    if (e === undefined) {
      e = { wild: [], sub: undefined };
      this.bySuffix.set(suffix, e);
    }
    return e;
  }

  // A two-entry memo: replay asks about the same name twice in a row (the decoder's filter,
  // then the analyzer), and about an answer's owner and its CNAME target alternately.
  private memoName0: string | undefined;
  private memoHit0: RuleMatch | undefined;
  private memoName1: string | undefined;
  private memoHit1: RuleMatch | undefined;

  /** The most specific rule for `name` (any case, optional trailing dot), or undefined. */
  match(name: string): RuleMatch | undefined {
    if (name === this.memoName0) return this.memoHit0;
    if (name === this.memoName1) return this.memoHit1;
    const hit = this.lookup(name);
    this.memoName1 = this.memoName0;
    this.memoHit1 = this.memoHit0;
    this.memoName0 = name;
    this.memoHit0 = hit;
    return hit;
  }

  private lookup(name: string): RuleMatch | undefined {
    if (name.length === 0 || name.length > MAX_NAME_LEN + 1) return undefined;
    const n = normalizeHostname(name);
    if (n.length === 0 || n.length > MAX_NAME_LEN || n.charCodeAt(0) === 0x2e) return undefined;
    const second = rootDot(n);
    const rootEntry = this.rootOf(n, second < 0 ? 0 : second + 1);
    if (rootEntry === undefined) return undefined;
    const hit = this.exact.get(n);
    if (hit !== undefined) return hit;

    // Indexed suffixes have >= 2 labels and must be proper suffixes, so the name needs >= 3.
    if (second <= 0 || !rootEntry.suffix) return undefined;
    const root = rootEntry.text;

    // dots[k] = index of the dot in front of the k-label suffix.
    const dots = this.dots;
    dots[2] = second;
    let top = 2;
    let pos = second;
    while (top < this.maxSuffixLabels) {
      const d = lastDot(n, pos - 1);
      if (d <= 0) break;
      dots[++top] = d;
      pos = d;
    }
    for (let k = top; k >= 2; k--) {
      const e = this.bySuffix.get(k === 2 ? root : n.slice((dots[k] ?? 0) + 1));
      if (e === undefined) continue;
      for (const w of e.wild) if (w.re.test(n)) return w.match;
      if (e.sub !== undefined) return e.sub;
    }
    return undefined;
  }
}
