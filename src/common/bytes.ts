/**
 * Bounded reads of raw bytes. This is the one file allowed to index a Uint8Array with a
 * non-null assertion: callers check lengths first (one check per fixed header), then read
 * at fixed offsets. Every function here is monomorphic and allocation-free.
 */

export function u8(b: Uint8Array, o: number): number {
  return b[o]!;
}

export function u16be(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function u16le(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

export function u24be(b: Uint8Array, o: number): number {
  return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
}

export function u32be(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

export function u32le(b: Uint8Array, o: number): number {
  return ((b[o + 3]! << 24) >>> 0) + ((b[o + 2]! << 16) | (b[o + 1]! << 8) | b[o]!);
}

/**
 * A cursor over a view, in the style of Go's cryptobyte: every read returns undefined when
 * the bytes run out, and `vec8/vec16/vec24` hand back a bounded sub-reader for a
 * length-prefixed field so nested lengths can never read past their parent.
 */
export class ByteReader {
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number | undefined {
    if (this.pos + 1 > this.end) return undefined;
    return this.buf[this.pos++]!;
  }

  u16(): number | undefined {
    if (this.pos + 2 > this.end) return undefined;
    const v = u16be(this.buf, this.pos);
    this.pos += 2;
    return v;
  }

  u24(): number | undefined {
    if (this.pos + 3 > this.end) return undefined;
    const v = u24be(this.buf, this.pos);
    this.pos += 3;
    return v;
  }

  u32(): number | undefined {
    if (this.pos + 4 > this.end) return undefined;
    const v = u32be(this.buf, this.pos);
    this.pos += 4;
    return v;
  }

  skip(n: number): boolean {
    if (n < 0 || this.pos + n > this.end) return false;
    this.pos += n;
    return true;
  }

  /** n bytes as a zero-copy view, or undefined if fewer remain. */
  bytes(n: number): Uint8Array | undefined {
    if (n < 0 || this.pos + n > this.end) return undefined;
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  private sub(len: number | undefined): ByteReader | undefined {
    if (len === undefined || this.pos + len > this.end) return undefined;
    const r = new ByteReader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }

  vec8(): ByteReader | undefined {
    return this.sub(this.u8());
  }

  vec16(): ByteReader | undefined {
    return this.sub(this.u16());
  }

  vec24(): ByteReader | undefined {
    return this.sub(this.u24());
  }
}

/**
 * Strings are made by one native latin1 decode of a byte range (one flat string) rather than
 * by appending a char at a time, which builds a chain of cons strings that every later hash or
 * comparison must flatten first (several times slower for a hostname looked up in a Map:
 * bench/README.md, "Measurements behind the code"). Lower-casing goes through a reused scratch buffer.
 */
const scratch = Buffer.alloc(1024);

/** Lower-cased ASCII/latin1 string of a view; built only after the caller validated it. */
export function latin1Lower(b: Uint8Array, start = 0, end = b.length): string {
  const n = end - start;
  if (n <= 0) return '';
  const out = n <= scratch.length ? scratch : Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    const c = b[start + i]!;
    out[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  return out.toString('latin1', 0, n);
}

/** latin1 string of a view, case kept (paths). */
export function latin1(b: Uint8Array, start = 0, end = b.length): string {
  if (end <= start) return '';
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}
