import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { KasmonError } from '../errors.js';

/**
 * NDJSON sink (one JSON object per line, `\n`-terminated, like pino): a file or stdout.
 * Writes are buffered in memory and flushed per chunk of input and at close, so nothing
 * collected is lost on SIGINT/SIGTERM as long as close() is awaited.
 */
export class NdjsonSink {
  private buf: string[] = [];
  private readonly out: NodeJS.WritableStream;
  private readonly file: WriteStream | undefined;
  private error: Error | undefined;

  constructor(readonly target: string) {
    if (target === '-') {
      this.out = process.stdout;
    } else {
      let fd: number;
      try {
        fd = openSync(target, 'w');
      } catch (e) {
        const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        throw new KasmonError('ERR_OUTPUT', `${target}: cannot open for writing (${why}); check the directory exists and is writable`);
      }
      this.file = createWriteStream(target, { fd });
      this.file.on('error', (e) => (this.error = e));
      this.out = this.file;
    }
  }

  write(obj: unknown): void {
    const line = JSON.stringify(obj) + '\n';
    this.buf.push(line);
  }

  /** Hands buffered lines to the stream; waits for drain only when the stream asks. */
  async flush(): Promise<void> {
    if (this.error) throw new KasmonError('ERR_OUTPUT', `${this.target}: cannot write alerts (${this.error.message})`);
    if (this.buf.length === 0) return;
    const text = this.buf.join('');
    this.buf = [];
    if (!this.out.write(text)) await once(this.out, 'drain');
  }


  async close(): Promise<void> {
    await this.flush();
    if (this.file) {
      this.file.end();
      await once(this.file, 'close');
      if (this.error) throw new KasmonError('ERR_OUTPUT', `${this.target}: cannot write alerts (${this.error.message})`);
    }
  }
}
