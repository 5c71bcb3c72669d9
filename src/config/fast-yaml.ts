/**
 * A fast path for the YAML that kasmon configs are written in: block mappings and sequences,
 * flow sequences and mappings on one line, plain and quoted scalars on one line, comments.
 * It builds the `yaml` package's own nodes (Scalar, YAMLMap, YAMLSeq, Pair) with the same
 * source ranges and scalar resolution, and a LineCounter with the same line starts, so the
 * readers (yaml-reader.ts, schema.ts) and every file:line message are the same whichever
 * path read the file.
 *
 * Why: the `yaml` package spends ~20 µs per line (its CST parser alone 1.5 s on a 50,000-rule
 * file); this reads the same file in well under a tenth of that. Anything outside the subset
 * — anchors and aliases, tags, block scalars (`|`, `>`), multi-line scalars or flow
 * collections, directives, several documents, tabs, CR line ends, backslash escapes, keys
 * that are not strings, duplicate keys, and every syntax error — makes parseSubset return a
 * reason instead, and the caller parses the text with `yaml` as before: the subset is only a
 * faster way to the same document, never a different reading of it.
 * test/config-fast-yaml.test.ts checks that against `yaml` on random configs and on the
 * shipped ones.
 *
 * Positions follow `yaml`: a block mapping starts at its first key, a block sequence at its
 * first `-`, a flow collection at its bracket, a scalar at its first character (the quote of a
 * quoted one); an empty value (`key:` alone) is an empty scalar placed after the indicator and
 * the spaces that follow it. Scalars carry range[0..1] as `yaml` has them (range[2], which
 * `yaml` extends over trailing comments, is range[1] here).
 */
import type * as Yaml from 'yaml';

/** The `yaml` module, passed in (it is loaded lazily by yaml-reader.ts). */
type YamlModule = typeof Yaml;

export type SubsetResult =
  | { readonly ok: true; readonly doc: Yaml.Document; readonly lc: Yaml.LineCounter }
  | { readonly ok: false; readonly reason: string };

/**
 * Characters left to `yaml`: C0 controls but LF (tab and CR among them), DEL and C1 controls,
 * the byte order mark, the Unicode line separators and the non-characters U+FFFE/U+FFFF; and
 * a surrogate that is not half of a pair. Native scans, not a test per character (the
 * surrogate check, slower, runs only when there are surrogates at all).
 */
const OUTSIDE_CHARS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\ufeff\u2028\u2029\ufffe\uffff]/;
const SURROGATE = /[\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Longest implicit key `yaml` accepts (YAML 1.2 §7.4: 1024 characters). */
const MAX_KEY = 1024;

class Outside {
  constructor(readonly reason: string) {}
}

const SP = 0x20;
const NL = 0x0a;
const HASH = 0x23;
const COLON = 0x3a;
const DASH = 0x2d;
const COMMA = 0x2c;
const DQ = 0x22;
const SQ = 0x27;
const LBRACK = 0x5b;
const RBRACK = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const BACKSLASH = 0x5c;

/**
 * First characters a plain scalar may not start with here: YAML's indicators (§5.3), plus
 * `-`, `?` and `:` (YAML allows them before a non-space; the subset leaves them to `yaml`,
 * except `-` before a non-space, as in -1).
 */
const NOT_PLAIN_START = new Set([...'[]{},#&*!|>\'"%@`?:'].map((c) => c.charCodeAt(0)));

/**
 * Characters a default scalar tag of the core schema can start with: a plain scalar starting
 * with anything else is a string without testing the tags' regexes. Null: `~ n N` (or empty);
 * bool: `t T f F`; int and float: digits, `+ - .`. The test suite checks these regexes are
 * still the schema's (a new `yaml` that changed them fails there).
 */
function mayBeNonString(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    c === 0x7e || // ~
    c === 0x6e || // n
    c === 0x4e || // N
    c === 0x74 || // t
    c === 0x54 || // T
    c === 0x66 || // f
    c === 0x46 || // F
    c === 0x2b || // +
    c === DASH ||
    c === 0x2e // .
  );
}

interface ScalarTag {
  readonly test?: RegExp;
  readonly format?: string;
  resolve(value: string, onError: (msg: string) => void, options: unknown): unknown;
}

/**
 * Scalars, pairs and collections as `yaml`'s own classes see them (`yaml.isScalar`, `instanceof Scalar`,
 * every method), built without their constructors: those define the node-type symbol on each
 * instance with Object.defineProperty, which took a third of the time on a large file. Here
 * the symbol (a registry symbol, `Symbol.for('yaml.node.type')`, which is how `yaml` itself
 * tells nodes apart) sits on a prototype below the class's, and a scalar's `range` is made
 * from two numbers when it is read (the readers read it only to place a message). A
 * collection's `schema` (non-enumerable, as yaml defines it) sits on a prototype made per
 * document.
 */
interface NodeKit {
  scalar(value: unknown, source: string, type: Yaml.Scalar.Type, start: number, end: number): Yaml.Scalar;
  pair(key: Yaml.Scalar, value: unknown): Yaml.Pair;
  /** Makers of collections for one document's schema. */
  collections(schema: Yaml.Schema): { map(): Yaml.YAMLMap; seq(): Yaml.YAMLSeq };
}

const kits = new WeakMap<YamlModule, NodeKit>();

function nodeKit(Y: YamlModule): NodeKit {
  let kit = kits.get(Y);
  if (kit !== undefined) return kit;
  const NODE_TYPE = Symbol.for('yaml.node.type');
  interface Light {
    value: unknown;
    source: string;
    type: Yaml.Scalar.Type;
    s: number;
    e: number;
  }
  const scalarProto = Object.create(Y.Scalar.prototype, {
    [NODE_TYPE]: { value: Symbol.for('yaml.scalar') },
    range: {
      get(this: Light) {
        return [this.s, this.e, this.e];
      },
      set(this: Light, r: readonly number[]) {
        this.s = r[0] ?? 0;
        this.e = r[1] ?? this.s;
      },
    },
  }) as object;
  const pairProto = Object.create(Y.Pair.prototype, { [NODE_TYPE]: { value: Symbol.for('yaml.pair') } }) as object;
  // One hidden class per kind: every field set in the same order.
  const scalar = (value: unknown, source: string, type: Yaml.Scalar.Type, start: number, end: number): Yaml.Scalar => {
    const o = Object.create(scalarProto) as Light;
    o.value = value;
    o.source = source;
    o.type = type;
    o.s = start;
    o.e = end;
    return o as unknown as Yaml.Scalar;
  };
  const pair = (key: Yaml.Scalar, value: unknown): Yaml.Pair => {
    const o = Object.create(pairProto) as { key: unknown; value: unknown };
    o.key = key;
    o.value = value;
    return o as unknown as Yaml.Pair;
  };
  const collections = (schema: Yaml.Schema): { map(): Yaml.YAMLMap; seq(): Yaml.YAMLSeq } => {
    const proto = (base: object, type: symbol): object =>
      Object.create(base, { [NODE_TYPE]: { value: type }, schema: { value: schema, writable: true, configurable: true } }) as object;
    const mapProto = proto(Y.YAMLMap.prototype, Symbol.for('yaml.map'));
    const seqProto = proto(Y.YAMLSeq.prototype, Symbol.for('yaml.seq'));
    const make = <T>(p: object): T => {
      const o = Object.create(p) as { items: unknown[] };
      o.items = [];
      return o as T;
    };
    return { map: () => make<Yaml.YAMLMap>(mapProto), seq: () => make<Yaml.YAMLSeq>(seqProto) };
  };
  kit = { scalar, pair, collections };
  kits.set(Y, kit);
  return kit;
}

/**
 * Parse `text` if it is within the subset; otherwise say why not (the caller then uses `yaml`).
 * The document has no errors or warnings: anything `yaml` would complain about is outside.
 */
export function parseSubset(Y: YamlModule, text: string): SubsetResult {
  try {
    return new SubsetParser(Y, text).parse();
  } catch (e) {
    if (e instanceof Outside) return { ok: false, reason: e.reason };
    throw e;
  }
}

class SubsetParser {
  private readonly n: number;
  /** Offset of the first character of each line (as yaml's LineCounter has them). */
  private readonly starts: number[] = [0];
  /** The line being read (0-based). */
  private line = 0;
  private readonly doc: Yaml.Document;
  private readonly tags: readonly ScalarTag[];
  private readonly keyTags: readonly ScalarTag[];
  private readonly kit: NodeKit;
  private readonly make: ReturnType<NodeKit['collections']>;
  /** Where the scalar or flow collection read last ends (the readers below return the node). */
  private end = 0;

  constructor(
    private readonly Y: YamlModule,
    private readonly text: string,
  ) {
    this.n = text.length;
    this.kit = nodeKit(Y);
    this.doc = new Y.Document(undefined, { uniqueKeys: true, prettyErrors: false });
    this.make = this.kit.collections(this.doc.schema);
    const all = this.doc.schema.tags as unknown as ReadonlyArray<ScalarTag & { default?: boolean | 'key' }>;
    this.tags = all.filter((t) => t.default === true && t.test !== undefined);
    this.keyTags = all.filter((t) => (t.default === true || t.default === 'key') && t.test !== undefined);
  }

  parse(): SubsetResult {
    this.scanLines();
    const lc = new this.Y.LineCounter();
    lc.lineStarts = this.starts; // what addNewLine would have pushed, one by one
    this.line = this.skipBlank(0);
    let marker = -1;
    if (this.line < this.lines() && this.lineIs('---')) {
      marker = (this.starts[this.line] ?? 0) + 3;
      while (this.text.charCodeAt(marker) === SP) marker++;
      this.line = this.skipBlank(this.line + 1);
    }
    if (this.line >= this.lines()) {
      // Nothing but comments: no contents, or after `---` an empty scalar (as yaml has them).
      if (marker >= 0) this.doc.contents = this.scalar(null, '', 'PLAIN', marker, marker) as Yaml.Document['contents'];
      return { ok: true, doc: this.doc, lc };
    }
    if (this.indentOf(this.line) !== 0) throw new Outside('the top level is indented');
    const first = this.starts[this.line] ?? 0;
    if (this.isSeqItem(first)) throw new Outside('the top level is a list');
    this.doc.contents = this.blockMap(0, first) as Yaml.Document['contents'];
    if (this.skipBlank(this.line) < this.lines()) throw new Outside(`line ${this.line + 1} is outside the top-level mapping`);
    return { ok: true, doc: this.doc, lc };
  }

  // ─── lines ─────────────────────────────────────────────────────────────────────────────

  /** Line starts, and the characters the subset leaves to `yaml`. */
  private scanLines(): void {
    const odd = OUTSIDE_CHARS.exec(this.text) ?? (SURROGATE.test(this.text) ? LONE_SURROGATE.exec(this.text) : null);
    if (odd !== null) throw new Outside(`character U+${(odd[0].codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
    for (let i = this.text.indexOf('\n'); i >= 0; i = this.text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  private lines(): number {
    return this.starts.length;
  }

  /** End of line `i` (the offset of its newline, or of the end of the text). */
  private endOf(i: number): number {
    const next = this.starts[i + 1];
    return next === undefined ? this.n : next - 1;
  }

  private indentOf(i: number): number {
    const s = this.starts[i] ?? this.n;
    let p = s;
    while (this.text.charCodeAt(p) === SP) p++;
    return p - s;
  }

  /** The first line at or after `i` with content (not blank, not only a comment). */
  private skipBlank(i: number): number {
    for (; i < this.lines(); i++) {
      const p = (this.starts[i] ?? 0) + this.indentOf(i);
      if (p < this.endOf(i) && this.text.charCodeAt(p) !== HASH) {
        const c = this.text.charCodeAt(p);
        // Directives and document markers belong to yaml.
        if (c === 0x25 && p === this.starts[i]) throw new Outside('a directive');
        if (p === this.starts[i] && (this.text.startsWith('...', p) || (this.text.startsWith('---', p) && i !== 0 && !this.isFirstContent(i)))) {
          throw new Outside('a document marker');
        }
        return i;
      }
    }
    return i;
  }

  /** Line `i` is the first content line (so a `---` there starts the one document). */
  private isFirstContent(i: number): boolean {
    for (let j = 0; j < i; j++) {
      const p = (this.starts[j] ?? 0) + this.indentOf(j);
      if (p < this.endOf(j) && this.text.charCodeAt(p) !== HASH) return false;
    }
    return true;
  }

  /** Line `this.line` is exactly `word`, then spaces or a comment. */
  private lineIs(word: string): boolean {
    const s = this.starts[this.line] ?? 0;
    if (!this.text.startsWith(word, s)) return false;
    const after = this.restBlank(s + word.length);
    if (!after) throw new Outside(`content after ${word}`);
    return true;
  }

  /** From `p` to the end of its line: nothing, or spaces then a comment (which needs a space before it). */
  private restBlank(p: number): boolean {
    const t = this.text;
    let q = p;
    while (t.charCodeAt(q) === SP) q++;
    if (q >= this.n || t.charCodeAt(q) === NL) return true;
    return t.charCodeAt(q) === HASH && (q > p || t.charCodeAt(q - 1) === SP);
  }

  /** `p` (the first non-space of a line) starts a sequence item: `-` then a space or the line's end. */
  private isSeqItem(p: number): boolean {
    if (this.text.charCodeAt(p) !== DASH) return false;
    const c = this.text.charCodeAt(p + 1);
    return p + 1 >= this.n || c === SP || c === NL;
  }

  // ─── block collections ─────────────────────────────────────────────────────────────────

  /** End of the last value read (for collection ranges). */
  private lastEnd = 0;

  /**
   * A block mapping whose keys sit at column `col`; its first key starts at `first` on line
   * `this.line` (after a `- ` when the mapping is a sequence item). Leaves `this.line` at the
   * first content line that is not part of it.
   */
  private blockMap(col: number, first: number): Yaml.YAMLMap {
    const map = this.make.map();
    const keys: string[] = [];
    let keySet: Set<string> | undefined;
    let p = first;
    for (;;) {
      const key = this.key(p);
      const colon = this.end;
      const ks = key.value as string;
      if (keySet === undefined) {
        if (keys.includes(ks)) throw new Outside(`the key "${ks}" repeats`);
        keys.push(ks);
        if (keys.length > 8) keySet = new Set(keys);
      } else {
        if (keySet.has(ks)) throw new Outside(`the key "${ks}" repeats`);
        keySet.add(ks);
      }
      map.items.push(this.kit.pair(key, this.valueAfter(colon + 1, col, true)));
      // this.line is now the next content line.
      if (this.line >= this.lines()) break;
      const ind = this.indentOf(this.line);
      if (ind < col) break;
      if (ind > col) throw new Outside(`line ${this.line + 1} is indented more than the keys above it`);
      p = (this.starts[this.line] ?? 0) + ind;
      if (this.isSeqItem(p)) throw new Outside(`line ${this.line + 1}: a list item among mapping keys`);
    }
    map.range = [first, this.lastEnd, this.lastEnd];
    return map;
  }

  /** A block sequence whose `-` sit at column `col`, the first on line `this.line`. */
  private blockSeq(col: number): Yaml.YAMLSeq {
    const seq = this.make.seq();
    const first = (this.starts[this.line] ?? 0) + col;
    for (;;) {
      const dash = (this.starts[this.line] ?? 0) + col;
      seq.items.push(this.valueAfter(dash + 1, col, false));
      if (this.line >= this.lines()) break;
      const ind = this.indentOf(this.line);
      if (ind < col) break;
      if (ind > col) throw new Outside(`line ${this.line + 1} is indented more than the list items above it`);
      if (!this.isSeqItem((this.starts[this.line] ?? 0) + ind)) break; // a key of the mapping this list is the value of
    }
    seq.range = [first, this.lastEnd, this.lastEnd];
    return seq;
  }

  /**
   * The value after a `key:` or a `-` (`p` is the character after the indicator) whose key or
   * dash is at column `col`. Leaves `this.line` at the next content line after the value.
   */
  private valueAfter(p: number, col: number, inMap: boolean): unknown {
    const t = this.text;
    const lineEnd = this.endOf(this.line);
    let q = p;
    while (t.charCodeAt(q) === SP) q++;
    if (q >= lineEnd || t.charCodeAt(q) === HASH) {
      // Nothing more on this line: a block collection on the next lines, or an empty value.
      this.line = this.skipBlank(this.line + 1);
      if (this.line < this.lines()) {
        const ind = this.indentOf(this.line);
        const s = (this.starts[this.line] ?? 0) + ind;
        if (ind > col) return this.isSeqItem(s) ? this.blockSeq(ind) : this.blockMap(ind, s);
        // `key:` then `- item` at the key's own column: the list is the key's value.
        if (inMap && ind === col && this.isSeqItem(s)) return this.blockSeq(ind);
      }
      this.lastEnd = q;
      return this.scalar(null, '', 'PLAIN', q, q);
    }
    if (this.isSeqItem(q)) throw new Outside(`line ${this.line + 1}: a list item after an indicator on the same line`);
    // `- key: value`: a mapping whose keys sit at this column.
    if (!inMap && this.keyAhead(q, lineEnd)) return this.blockMap(q - (this.starts[this.line] ?? 0), q);
    const c = t.charCodeAt(q);
    const node = c === LBRACK || c === LBRACE ? this.flow(q, lineEnd) : c === DQ || c === SQ ? this.quoted(q, lineEnd) : this.plainBlock(q, lineEnd);
    const end = this.end;
    if (!this.restBlank(end)) throw new Outside(`line ${this.line + 1}: text after a value`);
    this.lastEnd = end;
    const next = this.skipBlank(this.line + 1);
    if (next < this.lines() && this.indentOf(next) > col) {
      // A more-indented line after a value on the key's line: a multi-line scalar, or an error.
      throw new Outside(`line ${next + 1} continues the value of line ${this.line + 1}`);
    }
    this.line = next;
    return node;
  }

  /** Whether a `key:` (a key, then `:` and a space or the line's end) starts at `p`. */
  private keyAhead(p: number, lineEnd: number): boolean {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (c === DQ || c === SQ) {
      const close = this.quoteEnd(p, lineEnd);
      if (close < 0) return false;
      let q = close;
      while (t.charCodeAt(q) === SP) q++;
      return t.charCodeAt(q) === COLON && this.colonEnds(q + 1, lineEnd);
    }
    if (c === LBRACK || c === LBRACE) return false;
    for (let q = p; q < lineEnd; q++) {
      const d = t.charCodeAt(q);
      if (d === COLON && this.colonEnds(q + 1, lineEnd)) return true;
      if (d === HASH && t.charCodeAt(q - 1) === SP) return false;
    }
    return false;
  }

  /** A `:` followed by a space or the end of the line is a mapping indicator. */
  private colonEnds(q: number, lineEnd: number): boolean {
    return q >= lineEnd || this.text.charCodeAt(q) === SP;
  }

  /** The key at `p` on the current line, and the offset of its `:`. */
  private key(p: number): Yaml.Scalar {
    const t = this.text;
    const lineEnd = this.endOf(this.line);
    const c = t.charCodeAt(p);
    let node: Yaml.Scalar;
    let end: number;
    if (c === DQ || c === SQ) {
      node = this.quoted(p, lineEnd);
      end = this.end;
    } else {
      if (NOT_PLAIN_START.has(c) || this.isSeqItem(p)) throw new Outside(`line ${this.line + 1}: a key starting with "${t[p] ?? ''}"`);
      let q = p;
      for (; q < lineEnd; q++) {
        const d = t.charCodeAt(q);
        if (d === COLON && this.colonEnds(q + 1, lineEnd)) break;
        if (d === HASH && t.charCodeAt(q - 1) === SP) break;
      }
      end = q;
      while (end > p && t.charCodeAt(end - 1) === SP) end--;
      const src = t.slice(p, end);
      if (mayBeNonString(c)) {
        for (const tag of this.keyTags) if (tag.test?.test(src)) throw new Outside(`line ${this.line + 1}: the key ${src} is not a string`);
      }
      node = this.scalar(src, src, 'PLAIN', p, end);
    }
    if (end - p > MAX_KEY) throw new Outside(`line ${this.line + 1}: a key longer than ${MAX_KEY} characters`);
    let q = end;
    while (t.charCodeAt(q) === SP) q++;
    if (t.charCodeAt(q) !== COLON || !this.colonEnds(q + 1, lineEnd)) throw new Outside(`line ${this.line + 1}: not a "key: value" line`);
    this.end = q; // the colon
    return node;
  }

  // ─── scalars ───────────────────────────────────────────────────────────────────────────

  private scalar(value: unknown, source: string, type: Yaml.Scalar.Type, start: number, end: number, format?: string): Yaml.Scalar {
    if (value instanceof this.Y.Scalar) {
      // A tag's own node (floats carry their fraction digits): a real Scalar.
      value.range = [start, end, end];
      value.source = source;
      value.type = type;
      if (format !== undefined) value.format = format;
      return value;
    }
    const s = this.kit.scalar(value, source, type, start, end);
    if (format !== undefined) s.format = format;
    return s;
  }

  /** A plain scalar in block context: to the end of the line or a comment. */
  private plainBlock(p: number, lineEnd: number): Yaml.Scalar {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (NOT_PLAIN_START.has(c)) throw new Outside(`line ${this.line + 1}: a value starting with "${t[p]}"`);
    let q = p;
    let end = p;
    for (; q < lineEnd; q++) {
      const d = t.charCodeAt(q);
      if (d === HASH && t.charCodeAt(q - 1) === SP) break;
      if (d === COLON && this.colonEnds(q + 1, lineEnd)) throw new Outside(`line ${this.line + 1}: a ": " inside a value`);
      if (d !== SP) end = q + 1;
    }
    this.end = end;
    return this.plain(t.slice(p, end), p, end);
  }

  /** Resolve a plain scalar's text the way yaml's core schema does. */
  private plain(src: string, start: number, end: number): Yaml.Scalar {
    if (mayBeNonString(src.charCodeAt(0))) {
      for (const tag of this.tags) {
        if (tag.test?.test(src)) {
          const res = tag.resolve(src, (msg) => {
            throw new Outside(msg);
          }, this.doc.options);
          return this.scalar(res, src, 'PLAIN', start, end, tag.format);
        }
      }
    }
    return this.scalar(src, src, 'PLAIN', start, end);
  }

  /** Index just after the closing quote of the quoted scalar at `p`, or -1 when not closed on this line. */
  private quoteEnd(p: number, lineEnd: number): number {
    const t = this.text;
    const qc = t.charCodeAt(p);
    for (let q = p + 1; q < lineEnd; q++) {
      const d = t.charCodeAt(q);
      if (qc === DQ && d === BACKSLASH) return -1;
      if (d === qc) {
        if (qc === SQ && t.charCodeAt(q + 1) === SQ) {
          q++;
          continue;
        }
        return q + 1;
      }
    }
    return -1;
  }

  /** A quoted scalar on one line, without backslash escapes. */
  private quoted(p: number, lineEnd: number): Yaml.Scalar {
    const close = this.quoteEnd(p, lineEnd);
    if (close < 0) throw new Outside(`line ${this.line + 1}: a quoted value that spans lines or has a backslash escape`);
    const t = this.text;
    const body = t.slice(p + 1, close - 1);
    const double = t.charCodeAt(p) === DQ;
    const value = double ? body : body.replaceAll("''", "'");
    this.end = close;
    return this.scalar(value, value, double ? 'QUOTE_DOUBLE' : 'QUOTE_SINGLE', p, close);
  }

  // ─── flow collections (on one line) ────────────────────────────────────────────────────

  private flow(p: number, lineEnd: number): Yaml.YAMLMap | Yaml.YAMLSeq {
    const t = this.text;
    const open = t.charCodeAt(p);
    const isSeq = open === LBRACK;
    const close = isSeq ? RBRACK : RBRACE;
    const node = isSeq ? this.make.seq() : this.make.map();
    node.flow = true;
    const keys = new Set<string>();
    let q = p + 1;
    let first = true;
    for (;;) {
      while (t.charCodeAt(q) === SP) q++;
      if (q >= lineEnd) throw new Outside(`line ${this.line + 1}: a [ or { that closes on another line`);
      if (t.charCodeAt(q) === close) {
        if (!first) throw new Outside(`line ${this.line + 1}: a trailing comma`);
        q++;
        break;
      }
      if (isSeq) {
        (node as Yaml.YAMLSeq).items.push(this.flowValue(q, lineEnd));
        q = this.end;
      } else {
        const key = this.flowKey(q, lineEnd);
        const ks = key.value as string;
        if (keys.has(ks)) throw new Outside(`the key "${ks}" repeats`);
        keys.add(ks);
        q = this.end;
        while (t.charCodeAt(q) === SP) q++;
        if (t.charCodeAt(q) !== COLON || t.charCodeAt(q + 1) !== SP) throw new Outside(`line ${this.line + 1}: a flow mapping entry that is not "key: value"`);
        q += 2;
        while (t.charCodeAt(q) === SP) q++;
        (node as Yaml.YAMLMap).items.push(this.kit.pair(key, this.flowValue(q, lineEnd)));
        q = this.end;
      }
      first = false;
      while (t.charCodeAt(q) === SP) q++;
      const d = t.charCodeAt(q);
      if (d === COMMA) {
        q++;
        while (t.charCodeAt(q) === SP) q++;
        if (t.charCodeAt(q) === close) throw new Outside(`line ${this.line + 1}: a trailing comma`);
        continue;
      }
      if (d === close) {
        q++;
        break;
      }
      throw new Outside(`line ${this.line + 1}: unexpected "${t[q] ?? 'end'}" in a [ ] or { }`);
    }
    node.range = [p, q, q];
    this.end = q;
    return node;
  }

  private flowKey(q: number, lineEnd: number): Yaml.Scalar {
    const c = this.text.charCodeAt(q);
    if (c === DQ || c === SQ) return this.quoted(q, lineEnd);
    const s = this.plainFlow(q, lineEnd);
    if (typeof s.value !== 'string') throw new Outside(`line ${this.line + 1}: the key ${s.source} is not a string`);
    for (const tag of this.keyTags) if (tag.test?.test(s.source ?? '')) throw new Outside(`line ${this.line + 1}: the key ${s.source} is not a string`);
    return s;
  }

  private flowValue(q: number, lineEnd: number): unknown {
    const c = this.text.charCodeAt(q);
    if (c === LBRACK || c === LBRACE) return this.flow(q, lineEnd);
    if (c === DQ || c === SQ) {
      const s = this.quoted(q, lineEnd);
      // A quoted item followed by ":" would be a single-pair mapping.
      let r = this.end;
      while (this.text.charCodeAt(r) === SP) r++;
      if (this.text.charCodeAt(r) === COLON) throw new Outside(`line ${this.line + 1}: a pair inside [ ]`);
      return s;
    }
    return this.plainFlow(q, lineEnd);
  }

  /**
   * A plain scalar in flow context (YAML 1.2 §7.3.3): it ends at `,` `[` `]` `{` `}`, at a `:`
   * followed by a space or one of those, or at a ` #`; the caller decides what may follow.
   */
  private plainFlow(p: number, lineEnd: number): Yaml.Scalar {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (NOT_PLAIN_START.has(c) || (c === DASH && !this.safeInFlow(p + 1, lineEnd))) {
      throw new Outside(`line ${this.line + 1}: a value starting with "${t[p] ?? 'end'}" in a [ ] or { }`);
    }
    let q = p;
    let end = p;
    for (; q < lineEnd; q++) {
      const d = t.charCodeAt(q);
      if (d === COMMA || d === RBRACK || d === RBRACE || d === LBRACK || d === LBRACE) break;
      if (d === COLON && !this.safeInFlow(q + 1, lineEnd)) break;
      if (d === HASH && t.charCodeAt(q - 1) === SP) break;
      if (d !== SP) end = q + 1;
    }
    this.end = end;
    return this.plain(t.slice(p, end), p, end);
  }

  /** The character at `q` may continue a plain scalar in flow context: not a space, not a flow indicator. */
  private safeInFlow(q: number, lineEnd: number): boolean {
    if (q >= lineEnd) return false;
    const d = this.text.charCodeAt(q);
    return d !== SP && d !== COMMA && d !== LBRACK && d !== RBRACK && d !== LBRACE && d !== RBRACE;
  }
}
