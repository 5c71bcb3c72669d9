import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { isatty } from 'node:tty';
import { createRequire } from 'node:module';
import type * as Stream from 'node:stream';
import type * as Zlib from 'node:zlib';
import { exitForSignal, KasmonError } from '../../errors.js';
import { isPcapMagic, PcapParser, PCAP_GLOBAL_HEADER_LEN } from './pcap.js';
import { isPcapngMagic, PcapngParser } from './pcapng.js';
import type { RawFrame, RecordParser } from './frame.js';
import { descriptorPath, deviceSource, fifoSource, kindOf, pipeFill, socketDescriptorSource, socketSource, type Fill, type Source } from './pipe.js';
import type { DecodeIssue } from '../issues.js';

/**
 * Reads a capture file or stream ('-' = stdin) and hands every frame to `onFrame`,
 * synchronously, from a reused 1 MiB+ buffer. `await` happens once per chunk, never per
 * packet. The format is sniffed from the magic: pcap (either byte order, us/ns), pcapng,
 * and either of them gzip-compressed.
 */
export const READ_CHUNK = 1 << 20;

export interface ReadResult {
  input: string;
  format: 'pcap' | 'pcapng';
  gzip: boolean;
  frames: number;
  bytes: number;
  /** Link type of a classic pcap (pcapng may have several). */
  linktype?: number;
  /** Set when the input was cut short or damaged part-way: what was read before counts. */
  damaged?: string;
}

/**
 * Regular files are opened and read synchronously: a page-cache read of 1 MiB costs less than
 * the thread-pool round trip of an async read (and fs/promises costs start-up time). The read
 * loop gives the event loop a turn every YIELD_EVERY_MS (see readFrom).
 */
function fileFill(fd: number): Fill {
  return async (buf, off, len) => readSync(fd, buf, off, len, null);
}

/**
 * The longest the read loop runs chunks back to back before it gives the event loop a turn
 * (setImmediate): timers, signal handlers, HTTP requests and alert deliveries never wait
 * longer than this plus one chunk, whether the input is a file or a pipe that never runs dry.
 * bench/README.md (line f) measures the timer lag and the cost of the turns.
 */
export const YIELD_EVERY_MS = 10;

/**
 * Standard input. A file redirected onto it (`kasmon replay - < capture.pcap`) is read like
 * any file. A pipe or socket (`tcpdump -w - | kasmon replay -`) is read with readSync straight
 * into the capture buffer, after process.stdin has put the descriptor in non-blocking mode:
 * process.stdin's stream hands over one 64 KiB Buffer per promise and made the pipe several
 * times slower than the same file (bench/README.md, line c4). Reads on libuv's thread pool move raw bytes
 * about as fast, but one blocked on an idle pipe can be neither cancelled nor outlived: libuv
 * joins its threads at exit, so SIGTERM would hang until the next packet.
 */
function stdinFill(signal: AbortSignal | undefined): Fill {
  let isFile: boolean;
  try {
    isFile = fstatSync(0).isFile();
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new KasmonError('ERR_INPUT_UNREADABLE', `-: cannot read standard input (${why}); pipe a capture in, e.g. tcpdump -w - | kasmon replay -`);
  }
  if (isFile) return fileFill(0);
  if (isatty(0)) {
    throw new KasmonError('ERR_INPUT_UNREADABLE', '-: standard input is a terminal, not a capture; pipe one in, e.g. tcpdump -w - | kasmon replay -');
  }
  // Creating process.stdin opens descriptor 0 in libuv, which makes it non-blocking; the stream
  // itself never reads (it starts paused and nothing resumes it).
  void process.stdin;
  return pipeFill(0, '-', signal);
}

/** Adapts a byte stream to `Fill`, keeping the part of a chunk that did not fit. */
function streamFill(stream: AsyncIterable<Uint8Array>): Fill {
  const it = stream[Symbol.asyncIterator]();
  let rest: Uint8Array | undefined;
  return async (buf, off, len) => {
    if (rest === undefined || rest.length === 0) {
      const r = await it.next();
      if (r.done) return 0;
      rest = r.value;
    }
    const n = Math.min(len, rest.length);
    buf.set(rest.subarray(0, n), off);
    rest = rest.subarray(n);
    return n;
  };
}

async function* prefixed(head: Uint8Array, fill: Fill): AsyncGenerator<Uint8Array> {
  if (head.length > 0) yield head;
  for (;;) {
    const b = new Uint8Array(READ_CHUNK);
    const n = await fill(b, 0, b.length);
    if (n <= 0) return;
    yield b.subarray(0, n);
  }
}

async function fillAtLeast(fill: Fill, buf: Uint8Array, filled: number, want: number): Promise<number> {
  while (filled < want) {
    const n = await fill(buf, filled, buf.length - filled);
    if (n <= 0) break;
    filled += n;
  }
  return filled;
}

export interface ReadOptions {
  /** Stop early (e.g. SIGINT): checked once per chunk. */
  signal?: AbortSignal;
  /** Awaited after each chunk's frames were handled: where outputs flush and apply backpressure. */
  afterChunk?: () => Promise<void> | void;
  /** Gives the event loop a turn after this much work (ms). @default YIELD_EVERY_MS */
  yieldEveryMs?: number;
  /** Counts what the file format itself skipped (a pcapng section of an unknown version). */
  onIssue?: (i: DecodeIssue) => void;
}

export async function readCapture(
  input: string,
  onFrame: (f: RawFrame) => void,
  opts: ReadOptions = {},
): Promise<ReadResult> {
  const src: Source = input === '-' || descriptorPath(input) === 0 ? { fill: stdinFill(opts.signal), close: () => undefined } : await openPath(input, opts.signal);
  try {
    return await readFrom(input, src.fill, onFrame, opts);
  } finally {
    await src.close();
  }
}

/**
 * A path: a regular file (or block device) is read like a file; a FIFO, a Unix socket or a
 * character device like a pipe on stdin (pipe.ts), never blocking in open(2).
 */
async function openPath(input: string, signal: AbortSignal | undefined): Promise<Source> {
  const unreadable = (e: unknown): KasmonError => {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    return new KasmonError('ERR_INPUT_UNREADABLE', `${input}: cannot read capture (${why}); check the path and permissions`);
  };
  let kind: ReturnType<typeof kindOf>;
  try {
    kind = kindOf(statSync(input));
  } catch (e) {
    throw unreadable(e);
  }
  if (kind === 'directory') throw unreadable(Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
  try {
    if (kind === 'fifo') return fifoSource(input, signal);
    if (kind === 'device') return deviceSource(input, signal);
    if (kind === 'socket') {
      const fd = descriptorPath(input);
      return fd !== undefined ? socketDescriptorSource(fd, input, signal) : await socketSource(input, signal);
    }
    const fd = openSync(input, 'r');
    return { fill: fileFill(fd), close: () => closeSync(fd) };
  } catch (e) {
    if (e instanceof KasmonError) throw e;
    throw unreadable(e);
  }
}

/**
 * Reads a capture from a byte stream (a tcpdump child's stdout, a socket): the same formats,
 * checks and chunked loop as files and stdin. `name` is how messages refer to it.
 */
export async function readStream(
  name: string,
  stream: AsyncIterable<Uint8Array>,
  onFrame: (f: RawFrame) => void,
  opts: ReadOptions = {},
): Promise<ReadResult> {
  return readFrom(name, streamFill(stream), onFrame, opts);
}

async function readFrom(
  input: string,
  fill: Fill,
  onFrame: (f: RawFrame) => void,
  opts: ReadOptions,
): Promise<ReadResult> {
  let buf = new Uint8Array(2 * READ_CHUNK);
  let filled = await fillAtLeast(fill, buf, 0, PCAP_GLOBAL_HEADER_LEN);
  let gzip = false;
  if (filled >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    // gzip: decompress the rest of the stream (the head we already read included).
    gzip = true;
    // Loaded here: streams and zlib cost start-up time that plain files never need.
    const require = createRequire(import.meta.url);
    const { Readable } = require('node:stream') as typeof Stream;
    const { createGunzip } = require('node:zlib') as typeof Zlib;
    const gunzip = Readable.from(prefixed(buf.slice(0, filled), fill)).pipe(createGunzip());
    const inner = streamFill(gunzip);
    const innerFill: Fill = async (b, off, len) => {
      try {
        return await inner(b, off, len);
      } catch (e) {
        if (opts.signal?.aborted) return -1; // the compressed input was cut off by the abort
        throw new KasmonError('ERR_INPUT_DAMAGED', `${input}: gzip stream damaged (${(e as Error).message})`);
      }
    };
    innerFill.drains = fill.drains === true;
    fill = innerFill;
    buf = new Uint8Array(2 * READ_CHUNK);
    filled = await fillAtLeast(fill, buf, 0, PCAP_GLOBAL_HEADER_LEN);
  }
  if (opts.signal?.aborted && filled < PCAP_GLOBAL_HEADER_LEN) {
    const sig = String(opts.signal.reason);
    throw new KasmonError('ERR_INTERRUPTED', `${input}: ${sig} before any capture data arrived; nothing to report`, exitForSignal(sig));
  }
  if (filled === 0) {
    throw new KasmonError('ERR_INPUT_NOT_CAPTURE', `${input}: empty ${input === '-' || fill.drains === true ? 'input' : 'file'}, not a pcap or pcapng capture`);
  }

  let parser: RecordParser;
  let pos = 0;
  let format: ReadResult['format'];
  let linktype: number | undefined;
  if (isPcapMagic(buf)) {
    const p = new PcapParser(buf.subarray(0, filled), input);
    parser = p;
    linktype = p.linktype;
    format = 'pcap';
    pos = PCAP_GLOBAL_HEADER_LEN;
  } else if (isPcapngMagic(buf)) {
    parser = new PcapngParser(input, opts.onIssue);
    format = 'pcapng';
  } else {
    const magic = Array.from(buf.subarray(0, Math.min(4, filled)), (x) => x.toString(16).padStart(2, '0')).join('');
    throw new KasmonError(
      'ERR_INPUT_NOT_CAPTURE',
      `${input}: not a pcap or pcapng capture (magic 0x${magic}); convert it with editcap or give a .pcap/.pcapng file`,
    );
  }

  const { bytes, damaged } = await pump(input, fill, onFrame, opts, parser, buf, pos, filled);
  const res: ReadResult = { input, format, gzip, frames: parser.frames, bytes };
  if (linktype !== undefined) res.linktype = linktype;
  if (damaged !== undefined) res.damaged = damaged;
  return res;
}

/**
 * The read loop of readFrom, a function of its own: V8 optimises it once a capture is large
 * enough, and compiling this loop alone costs far less than compiling it inside readFrom with
 * the format sniffing and gzip set-up around it.
 */
async function pump(
  input: string,
  fill: Fill,
  onFrame: (f: RawFrame) => void,
  opts: ReadOptions,
  parser: RecordParser,
  buf: Uint8Array,
  pos: number,
  filled: number,
): Promise<{ bytes: number; damaged: string | undefined }> {
  let bytes = filled;
  let damaged: string | undefined;
  let lastTurn = performance.now();
  const turnEvery = opts.yieldEveryMs ?? YIELD_EVERY_MS;
  try {
    for (;;) {
      pos += parser.parse(buf, pos, filled, onFrame);
      if (opts.afterChunk) await opts.afterChunk();
      if (performance.now() - lastTurn >= turnEvery) {
        await new Promise<void>((r) => setImmediate(r));
        lastTurn = performance.now();
      }
      // A file stops here; a stream is drained first (its fill returns -1 once it is).
      if (opts.signal?.aborted && fill.drains !== true) break;
      // Make room: move the unparsed tail to the front, and grow for a record that is
      // larger than the buffer (pcapng blocks up to MAX_BLOCK_BYTES). The tail is less than
      // a record, which the parser has just said it cannot take: the read follows at once.
      const tail = filled - pos;
      if (parser.need + READ_CHUNK > buf.length) {
        const bigger = new Uint8Array(parser.need + READ_CHUNK);
        bigger.set(buf.subarray(pos, filled));
        buf = bigger;
        filled = tail;
        pos = 0;
      } else if (buf.length - filled < READ_CHUNK) {
        buf.copyWithin(0, pos, filled);
        filled = tail;
        pos = 0;
      }
      const n = await fill(buf, filled, buf.length - filled);
      if (n < 0) break; // aborted while waiting for input: report what came before
      if (n === 0) {
        if (tail > 0) damaged = `${input}: cut short in the middle of a record after frame ${parser.frames} (${tail} bytes left over)`;
        break;
      }
      filled += n;
      bytes += n;
    }
  } catch (e) {
    if (e instanceof KasmonError && e.code === 'ERR_INPUT_DAMAGED') damaged = e.message;
    else throw e;
  }
  return { bytes, damaged };
}
