import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { KasmonError } from '../errors.js';

/**
 * NDJSON sink (one JSON object per line, `\n`-terminated, like pino): a file or stdout.
 * Writes are buffered in memory and flushed per chunk of input and at close, so nothing
 * collected is lost on SIGINT/SIGTERM as long as close() is awaited.
 *
 * A write that fails (a full disk, a closed pipe) never stops analysis: the sink remembers the
 * first error, counts the lines it could not write from then on, and `failure` says so for the
 * command to report (with the report still written).
 */
export class NdjsonSink {
  private buf: string[] = [];
  private readonly out: NodeJS.WritableStream;
  private readonly file: WriteStream | undefined;
  private error: Error | undefined;
  /** Lines handed to the stream; lines not written because of an error. */
  written = 0;
  lost = 0;

  /** `flags`: 'w' truncates (a replay's alerts file), 'a' appends (a sensor's, reopened after logrotate). */
  constructor(
    readonly target: string,
    flags: 'w' | 'a' = 'w',
  ) {
    if (target === '-') {
      this.out = process.stdout;
    } else {
      let fd: number;
      try {
        fd = openSync(target, flags);
      } catch (e) {
        const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        throw new KasmonError('ERR_OUTPUT', `${target}: cannot open for writing (${why}); check the directory exists and is writable`);
      }
      this.file = createWriteStream(target, { fd });
      this.file.on('error', (e) => (this.error ??= e));
      this.out = this.file;
    }
  }

  /** Lines waiting for the next flush. */
  get buffered(): number {
    return this.buf.length;
  }

  write(obj: unknown): void {
    if (this.error !== undefined) {
      this.lost++;
      return;
    }
    this.buf.push(JSON.stringify(obj) + '\n');
  }

  /** Hands buffered lines to the stream; waits for drain only when the stream asks. Never throws. */
  async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    if (this.error !== undefined) {
      this.lost += this.buf.length;
      this.buf = [];
      return;
    }
    const text = this.buf.join('');
    const n = this.buf.length;
    this.buf = [];
    this.written += n;
    if (!this.out.write(text)) {
      // Both listeners go once either fires (else every full buffer would leave one behind).
      const done = new AbortController();
      const opts = { signal: done.signal };
      await Promise.race([once(this.out, 'drain', opts), once(this.out, 'error', opts)]).catch(() => undefined);
      done.abort();
    }
  }

  /** Flushes and closes; afterwards `failure` tells whether every line reached the file. */
  async close(): Promise<void> {
    await this.flush();
    if (this.file && !this.file.closed) {
      this.file.end();
      await once(this.file, 'close').catch(() => undefined);
    }
  }

  /** One line for the operator when writing failed, else undefined. */
  get failure(): string | undefined {
    if (this.error === undefined) return undefined;
    const code = (this.error as NodeJS.ErrnoException).code;
    const lost = this.lost > 0 ? `; ${this.lost} later alert event${this.lost === 1 ? ' was' : 's were'} not written` : '';
    return `${this.target}: cannot write alerts (${code ?? this.error.message})${lost}; the report is complete`;
  }
}
