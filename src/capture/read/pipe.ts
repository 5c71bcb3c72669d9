/**
 * Inputs that are streams rather than files: pipes and sockets on standard input, and paths
 * that name a FIFO, a Unix socket or a character device. All are read without ever blocking
 * the process, so SIGINT/SIGTERM are handled at once, and all stop the same way:
 *
 * - On the first signal a stream is *drained*, not dropped: kasmon keeps reading while bytes
 *   come, and stops once the stream has been empty for DRAIN_IDLE_MS, or after DRAIN_MAX_MS
 *   in all, or at its end. In `tcpdump -w - | kasmon replay -` a Ctrl-C reaches both: tcpdump
 *   writes out what it buffered and exits, and kasmon reads it to the end of the pipe, so no
 *   packet tcpdump captured is lost (with or without tcpdump's -U).
 * - A FIFO is opened without blocking (O_NONBLOCK), so a FIFO no writer has opened yet cannot
 *   hang kasmon in open(2). Until a writer has come, an empty read means "nobody yet", not
 *   end of input; a blocking open(2) on libuv's thread pool tells when a writer arrives.
 */
import { closeSync, constants, open, openSync, readSync, type Stats } from 'node:fs';
import { isatty } from 'node:tty';
import { createRequire } from 'node:module';
import type * as Net from 'node:net';
import { KasmonError } from '../../errors.js';

/**
 * Reads into buf[off, off + len): bytes read, 0 at end of input, -1 when the run was aborted
 * (and, for a stream, its drain is over). `drains`: keep reading after an abort until this
 * returns -1 or 0 (a stream); otherwise the reader stops after the current chunk (a file).
 */
export type Fill = ((buf: Uint8Array, off: number, len: number) => Promise<number>) & { drains?: boolean };

/** An open input: how to read it and how to let go of it. */
export interface Source {
  readonly fill: Fill;
  close(): Promise<void> | void;
}

/** Longest pause between two reads of an idle stream: the most a packet waits to be read. */
export const IDLE_POLL_MS = 16;
/** After a signal, a stream that stays empty this long is taken as drained. */
export const DRAIN_IDLE_MS = 250;
/** After a signal, a stream is read at most this long (a writer that never stops). */
export const DRAIN_MAX_MS = 2_000;

const sleep = (idle: number): Promise<void> =>
  new Promise<void>((r) => (idle === 0 ? setImmediate(r) : setTimeout(r, Math.min(IDLE_POLL_MS, 1 << (idle - 1)))));

/**
 * The waiting rule every stream shares: true while it should wait for more bytes, false
 * when an abort's drain is over. `since` is when this wait began.
 */
class Drain {
  private abortedAt: number | undefined;
  constructor(private readonly signal: AbortSignal | undefined) {}
  keepWaiting(since: number): boolean {
    if (this.signal?.aborted !== true) return true;
    const now = Date.now();
    this.abortedAt ??= now;
    if (now - this.abortedAt >= DRAIN_MAX_MS) return false;
    return now - Math.max(since, this.abortedAt) < DRAIN_IDLE_MS;
  }
}

/**
 * Non-blocking reads of a descriptor in O_NONBLOCK mode (a pipe, socket or device). While it
 * is empty (EAGAIN, or `quietEof` says an empty read is not the end yet), waits abortably and
 * tries again.
 */
export function pipeFill(fd: number, name: string, signal: AbortSignal | undefined, quietEof?: (total: number) => boolean): Fill {
  let total = 0;
  const drain = new Drain(signal);
  const fill: Fill = async (buf, off, len) => {
    const since = Date.now();
    for (let idle = 0; ; idle++) {
      try {
        const n = readSync(fd, buf, off, len, null);
        if (n > 0 || quietEof === undefined || !quietEof(total)) {
          total += n;
          return n;
        }
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN') throw new KasmonError('ERR_INPUT_DAMAGED', `${name}: read failed after ${total} bytes (${code ?? (e as Error).message})`);
      }
      if (!drain.keepWaiting(since)) return -1;
      // Empty for now: give the event loop a turn (signals, output), then back off to IDLE_POLL_MS.
      await sleep(idle);
    }
  };
  fill.drains = true;
  return fill;
}

// ─── paths that are not regular files ────────────────────────────────────────────────────

const unreadable = (name: string, why: string, fix: string): KasmonError =>
  new KasmonError('ERR_INPUT_UNREADABLE', `${name}: ${why}; ${fix}`);

/** /dev/stdin, /dev/fd/N, /proc/self/fd/N: the descriptor N itself (0 for /dev/stdin). */
export function descriptorPath(path: string): number | undefined {
  if (path === '/dev/stdin') return 0;
  const m = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d{1,9})$/.exec(path);
  return m === null ? undefined : Number(m[1]);
}

/**
 * A FIFO path. Opened O_NONBLOCK (never waits for a writer). A blocking open(2) of the same
 * FIFO runs on libuv's thread pool and returns when a writer opens it: until then an empty
 * read is "no writer yet". On close, a still-blocked open is released by opening the FIFO
 * for writing for an instant (libuv joins its threads at exit, so one must not stay blocked).
 */
export function fifoSource(path: string, signal: AbortSignal | undefined): Source {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let writerCame = false;
  let waiterDone = false;
  open(path, 'r', (err, extra) => {
    waiterDone = true;
    if (err === null) {
      writerCame = true;
      closeSync(extra); // ours stays open: the writer never sees a FIFO without readers
    }
  });
  return {
    // Bytes read prove a writer came, even before the thread pool's open reports it.
    fill: pipeFill(fd, path, signal, (total) => total === 0 && !writerCame),
    async close() {
      for (let i = 0; !waiterDone && i < 200; i++) {
        try {
          closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          // ENXIO: no reader (cannot happen while fd is open); anything else: retry
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      closeSync(fd);
    },
  };
}

/** A character device: read like a pipe, unless it is a terminal. */
export function deviceSource(path: string, signal: AbortSignal | undefined): Source {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  if (isatty(fd)) {
    closeSync(fd);
    throw unreadable(path, 'is a terminal, not a capture', 'give a capture file, or pipe one in: tcpdump -U -w - | kasmon replay -');
  }
  return { fill: pipeFill(fd, path, signal), close: () => closeSync(fd) };
}

let netModule: typeof Net | undefined;
const net = (): typeof Net => (netModule ??= createRequire(import.meta.url)('node:net') as typeof Net);

/** A connected stream socket read as a pipe: what is buffered is taken, an empty buffer waited on. */
function socketFill(sock: Net.Socket, name: string, signal: AbortSignal | undefined): Fill {
  let failed: Error | undefined;
  let ended = false;
  sock.on('error', (e) => (failed = e));
  sock.on('end', () => (ended = true));
  let total = 0;
  const drain = new Drain(signal);
  const fill: Fill = async (buf, off, len) => {
    const since = Date.now();
    for (let idle = 0; ; idle++) {
      const chunk = sock.read() as Buffer | null;
      if (chunk !== null) {
        const n = Math.min(len, chunk.length);
        buf.set(chunk.subarray(0, n), off);
        if (n < chunk.length) sock.unshift(chunk.subarray(n));
        total += n;
        return n;
      }
      if (failed !== undefined) throw new KasmonError('ERR_INPUT_DAMAGED', `${name}: read failed after ${total} bytes (${(failed as NodeJS.ErrnoException).code ?? failed.message})`);
      if (ended || sock.readableEnded) return 0;
      if (!drain.keepWaiting(since)) return -1;
      await sleep(idle);
    }
  };
  fill.drains = true;
  return fill;
}

/** A Unix socket path: kasmon connects to it and reads what the listener sends. */
export async function socketSource(path: string, signal: AbortSignal | undefined): Promise<Source> {
  const sock = net().createConnection({ path });
  sock.pause();
  try {
    await new Promise<void>((resolve, reject) => {
      const stop = (): void => reject(Object.assign(new Error('interrupted'), { code: 'EINTR' }));
      sock.once('connect', () => {
        signal?.removeEventListener('abort', stop);
        resolve();
      });
      sock.once('error', reject);
      signal?.addEventListener('abort', stop, { once: true });
    });
  } catch (e) {
    sock.destroy();
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw unreadable(path, `cannot connect to this Unix socket (${code})`, 'start the program that listens on it first');
  }
  return { fill: socketFill(sock, path, signal), close: () => void sock.destroy() };
}

/** A socket already open on descriptor `fd` (a /dev/fd/N path). */
export function socketDescriptorSource(fd: number, path: string, signal: AbortSignal | undefined): Source {
  const sock = new (net().Socket)({ fd, readable: true, writable: false });
  sock.pause();
  return { fill: socketFill(sock, path, signal), close: () => void sock.destroy() };
}

/** What a path is, for the reader's choice (follows symlinks, like open). */
export function kindOf(st: Stats): 'file' | 'fifo' | 'socket' | 'device' | 'directory' | 'other' {
  if (st.isFile()) return 'file';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'device';
  if (st.isDirectory()) return 'directory';
  return 'other';
}

