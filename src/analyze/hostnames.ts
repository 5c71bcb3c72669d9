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
 * has labels. Under a suffix, the label wildcards form one trie (WildTrie), walked once over
 * the name's characters in front of the suffix: the cost depends on the name and on how many
 * `*` the patterns hold, not on how many patterns there are (50,000 wildcards under one
 * suffix cost what five do). Building is linear in the patterns' length.
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
  readonly anyDepth: boolean;
  readonly literalChars: number;
  readonly order: number;
  readonly match: RuleMatch;
}

/** Of two label wildcards that both match, the one the precedence picks (the header's 2a). */
function better(a: Wild, b: Wild | undefined): boolean {
  if (b === undefined) return true;
  if (a.anyDepth !== b.anyDepth) return !a.anyDepth;
  if (a.literalChars !== b.literalChars) return a.literalChars > b.literalChars;
  return a.order > b.order;
}

const DOT = 0x2e;
const STAR = 0x2a;

/** A node of a WildTrie: the state after reading some characters of a pattern, right to left. */
interface TrieNode {
  readonly id: number;
  /** Entered by a `*`: it also loops on every further non-dot character. */
  readonly loops: boolean;
  /** The child entered by a `*` (one or more non-dot characters). */
  star: TrieNode | undefined;
  /** A fixed-depth pattern ends here: the name's characters in front of the suffix are used up. */
  fixed: Wild | undefined;
  /** A `*.`-prefixed pattern ends here: one or more whole labels may come in front. */
  any: Wild | undefined;
  /** The walk that last put this node in its set (no node twice in one set). */
  seen: number;
}

/**
 * The label wildcards under one suffix, as a trie over their characters in front of the
 * suffix, read right to left (`ksn-*-geo` of `ksn-*-geo.kaspersky-labs.com` is stored as
 * o,e,g,-,*,-,n,s,k). A `*` is an edge that takes one or more non-dot characters and then
 * loops, so the walk keeps a set of nodes, as an NFA does; each node is in it once. Patterns
 * with the same text share one end node, the later keeping it (as the later rule wins).
 * Literal edges sit in one map keyed by node id and character code, not a map per node.
 */
class WildTrie {
  private readonly root: TrieNode;
  private readonly edges = new Map<number, TrieNode>();
  private nodes = 0;
  private walk = 0;
  private cur: TrieNode[] = [];
  private next: TrieNode[] = [];

  constructor() {
    this.root = this.node(false);
  }

  private node(loops: boolean): TrieNode {
    return { id: this.nodes++, loops, star: undefined, fixed: undefined, any: undefined, seen: 0 };
  }

  /** `body`: the pattern's characters in front of `.suffix`, without a leading `*.`. */
  add(body: string, wild: Wild): void {
    let v = this.root;
    for (let i = body.length - 1; i >= 0; i--) {
      const c = body.charCodeAt(i);
      if (c === STAR) {
        v = v.star ??= this.node(true);
        continue;
      }
      const key = v.id * 128 + c; // pattern characters are ASCII (rules.ts)
      let w = this.edges.get(key);
      if (w === undefined) this.edges.set(key, (w = this.node(false)));
      v = w;
    }
    if (wild.anyDepth) v.any = wild;
    else v.fixed = wild;
  }

  /**
   * The best pattern matching n[0, end) (the name in front of `.suffix`). `firstEmpty` is the
   * index of the first empty label's dot pair in n (`..`), or n.length: the labels a `*.` takes
   * must all be non-empty.
   */
  match(n: string, end: number, firstEmpty: number): Wild | undefined {
    let cur = this.cur;
    let next = this.next;
    let nc = 1;
    cur[0] = this.root;
    let best: Wild | undefined;
    for (let i = end - 1; i >= 0 && nc > 0; i--) {
      const c = n.charCodeAt(i);
      const walk = ++this.walk;
      let nn = 0;
      for (let k = 0; k < nc; k++) {
        const v = cur[k] as TrieNode;
        if (c < 128) {
          const w = this.edges.get(v.id * 128 + c);
          if (w !== undefined && w.seen !== walk) {
            w.seen = walk;
            next[nn++] = w;
          }
        }
        if (c !== DOT) {
          const s = v.star;
          if (s !== undefined && s.seen !== walk) {
            s.seen = walk;
            next[nn++] = s;
          }
          if (v.loops && v.seen !== walk) {
            v.seen = walk;
            next[nn++] = v;
          }
        }
      }
      [cur, next] = [next, cur];
      nc = nn;
      if (i === 0) {
        for (let k = 0; k < nc; k++) {
          const f = (cur[k] as TrieNode).fixed;
          if (f !== undefined && better(f, best)) best = f;
        }
      } else if (i >= 2 && n.charCodeAt(i - 1) === DOT && firstEmpty > i - 2) {
        // n[0, i-1) are whole non-empty labels: a `*.` pattern may end here.
        for (let k = 0; k < nc; k++) {
          const a = (cur[k] as TrieNode).any;
          if (a !== undefined && better(a, best)) best = a;
        }
      }
    }
    this.cur = cur;
    this.next = next;
    return best;
  }
}

interface SuffixEntry {
  wild: WildTrie | undefined;
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

function labelCount(s: string): number {
  let n = 1;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === DOT) n++;
  return n;
}

/** Index of the first `..` (an empty label) in s, or s.length when there is none. */
function emptyLabelAt(s: string): number {
  const i = s.indexOf('..');
  return i < 0 ? s.length : i;
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
  /** The next root with the same hash (a chain, not an array per hash: 100,000 roots are common). */
  next: Root | undefined;
}

export class Matcher {
  private readonly exact = new Map<string, RuleMatch>();
  private readonly bySuffix = new Map<string, SuffixEntry>();
  /**
   * Last two labels of every indexed suffix and every exact name, by hashFrom: a name whose
   * last two labels are not here cannot match anything.
   */
  private readonly roots = new Map<number, Root>();
  /** Labels in the longest indexed suffix: bounds the suffix walk. */
  private readonly maxSuffixLabels: number;
  /** Dot positions of the current name, reused across calls (match is synchronous). */
  private readonly dots: Int32Array;

  constructor(rules: readonly CompiledRule[]) {
    let order = 0;
    let maxLabels = 0;
    for (const rule of rules) {
      const categoryIndex = CATEGORIES.indexOf(rule.category);
      const severityRank = SEVERITIES.indexOf(rule.severity);
      for (const p of rule.patterns) {
        // One frozen result object per (rule, pattern): match() never allocates one.
        const match: RuleMatch = Object.freeze({
          id: rule.id,
          pattern: p.source,
          category: rule.category,
          severity: rule.severity,
          confidence: rule.confidence,
          categoryIndex,
          severityRank,
        });
        for (const f of p.forms) {
          if (f.kind === 'exact') {
            this.exact.set(f.text, match); // later rule wins
            this.addRoot(f.text, false);
            continue;
          }
          const entry = this.entry(f.suffix);
          maxLabels = Math.max(maxLabels, labelCount(f.suffix));
          this.addRoot(f.suffix, true);
          if (f.kind === 'subdomain') {
            entry.sub = match;
          } else {
            // The characters in front of `.suffix`, without the leading `*.` of an any-depth pattern.
            const body = f.text.slice(f.anyDepth ? 2 : 0, f.text.length - f.suffix.length - 1);
            (entry.wild ??= new WildTrie()).add(body, { anyDepth: f.anyDepth, literalChars: f.literalChars, order: order++, match });
          }
        }
      }
    }
    this.maxSuffixLabels = maxLabels;
    this.dots = new Int32Array(Math.max(maxLabels, 2) + 1);
  }

  /** Index the root of `name` (its last two labels, or all of it), hashed in place like a looked-up name. */
  private addRoot(name: string, suffix: boolean): void {
    const second = rootDot(name);
    const from = second < 0 ? 0 : second + 1;
    const known = this.rootOf(name, from);
    if (known !== undefined) {
      known.suffix ||= suffix;
      return;
    }
    const h = hashFrom(name, from);
    this.roots.set(h, { text: from === 0 ? name : name.slice(from), suffix, next: this.roots.get(h) });
  }

  /**
   * Every root (the last two labels of an indexed suffix or exact name): a name whose own last
   * two labels are none of these matches nothing. Decoders use it to skip names early.
   */
  rootNames(): string[] {
    const out: string[] = [];
    for (const first of this.roots.values()) for (let r: Root | undefined = first; r !== undefined; r = r.next) out.push(r.text);
    return out;
  }

  /** The root entry for n[from..] (n's last two labels, or all of n), if any rule has it. */
  private rootOf(n: string, from: number): Root | undefined {
    for (let r = this.roots.get(hashFrom(n, from)); r !== undefined; r = r.next) {
      if (r.text.length === n.length - from && n.endsWith(r.text)) return r;
    }
    return undefined;
  }

  private entry(suffix: string): SuffixEntry {
    let e = this.bySuffix.get(suffix);
    if (e === undefined) {
      e = { wild: undefined, sub: undefined };
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
    let firstEmpty = -1;
    for (let k = top; k >= 2; k--) {
      const dot = dots[k] ?? 0;
      const e = this.bySuffix.get(k === 2 ? root : n.slice(dot + 1));
      if (e === undefined) continue;
      if (e.wild !== undefined) {
        if (firstEmpty < 0) firstEmpty = emptyLabelAt(n);
        const w = e.wild.match(n, dot, firstEmpty);
        if (w !== undefined) return w.match;
      }
      if (e.sub !== undefined) return e.sub;
    }
    return undefined;
  }
}
