import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * A sink's spool: the notifications it has not delivered yet, on disk in the state directory,
 * so that a restart or a crash (kill -9) re-sends them. One append-only journal per sink,
 * `journal.ndjson`: a line per record written (`{"v":1,"key",...,"body"}`; a newer record with
 * the same key replaces the older) and a line per record removed (`{"v":1,"del":KEY}`). What was
 * asked for in one turn of the event loop goes out in one write, so spooling costs a few
 * microseconds per notification, not a file each (measured: ~70 µs of CPU per notification
 * with a file per record, bench/README.md line h). At start the journal is read back and
 * rewritten with only the live records; while running it is rewritten the same way whenever it
 * has grown to more than twice what is live (and past COMPACT_MIN_BYTES).
 *
 * Appends reach the kernel before `put` resolves, so they survive kill -9; there is no fsync
 * per write, so a power cut can lose the last ones. A line cut short by a crash mid-write is
 * skipped (and counted) when read back. Errors (a full disk) never throw out of here: they are
 * counted and the last one kept, and the notification stays in memory.
 */
export interface SpoolRecord<B> {
  /** Line format. */
  readonly v: 1;
  readonly key: string;
  /** Order of first queueing (the oldest is dropped first). */
  readonly seq: number;
  /** Removed once delivered (a webhook event, a resolved alert); else kept while it is active. */
  readonly final: boolean;
  readonly body: B;
}

export interface SpoolLoad<B> {
  readonly records: SpoolRecord<B>[];
  /** Lines that could not be read back (cut short, not JSON, wrong shape). */
  readonly unreadable: number;
}

export const JOURNAL = 'journal.ndjson';
/** The journal is compacted once it is larger than this and than twice the live records. */
const COMPACT_MIN_BYTES = 1 << 20;

export class Spool {
  /** Bytes of each live record's line, by key. */
  private readonly sizes = new Map<string, number>();
  private file: FileHandle | undefined;
  private fileBytes = 0;
  private pending: string[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled: Promise<void> | undefined;
  /** Bytes of the live records. */
  bytes = 0;
  errors = 0;
  lastError: string | undefined;

  /** `note`: written to `dir/SINK`, for an operator looking at the state directory. */
  constructor(
    readonly dir: string,
    private readonly note = '',
  ) {}

  get path(): string {
    return join(this.dir, JOURNAL);
  }

  /** Creates the directory, reads back every live record (oldest first), rewrites the journal with them only. */
  async open<B>(): Promise<SpoolLoad<B>> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (this.note !== '') await writeFile(join(this.dir, 'SINK'), this.note);
    const { live, unreadable } = await readJournal<B>(this.path);
    const records = [...live.values()].sort((a, b) => a.seq - b.seq);
    await this.rewrite(records.map((r) => JSON.stringify(r)));
    this.sizes.clear();
    this.bytes = 0;
    for (const r of records) this.account(r.key, Buffer.byteLength(JSON.stringify(r)) + 1);
    return { records, unreadable };
  }

  /** A record as it is written (its length is what it takes in the journal). */
  static serialise<B>(r: SpoolRecord<B>): string {
    return Spool.record(r.key, r.seq, r.final, JSON.stringify(r.body));
  }

  /** The same from the body's JSON text, which need not be made again. */
  static record(key: string, seq: number, final: boolean, bodyJson: string): string {
    return `{"v":1,"key":${JSON.stringify(key)},"seq":${seq},"final":${final},"body":${bodyJson}}`;
  }

  /** Appends the record `text` (from serialise) under `key`; resolves once it is written (or failed, counted). */
  put(key: string, text: string): Promise<void> {
    this.account(key, Buffer.byteLength(text) + 1);
    return this.append(text);
  }

  /** Removes a record (delivered, or dropped). */
  remove(key: string): Promise<void> {
    if (!this.sizes.has(key)) return Promise.resolve();
    this.account(key, 0);
    return this.append(JSON.stringify({ v: 1, del: key }));
  }

  has(key: string): boolean {
    return this.sizes.has(key);
  }

  /** Resolves when everything asked for so far is written. */
  async settled(): Promise<void> {
    while (this.scheduled !== undefined || this.flushing !== undefined) await (this.scheduled ?? this.flushing);
  }

  /** Closes the journal (after what is pending is written). */
  async close(): Promise<void> {
    await this.settled();
    await this.file?.close().catch(() => undefined);
    this.file = undefined;
  }

  private account(key: string, size: number): void {
    this.bytes += size - (this.sizes.get(key) ?? 0);
    if (size > 0) this.sizes.set(key, size);
    else this.sizes.delete(key);
  }

  /** Queues a line; all lines queued in this turn of the event loop go out in one write. */
  private append(line: string): Promise<void> {
    this.pending.push(line);
    this.scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.scheduled = undefined;
      const run = (this.flushing ?? Promise.resolve()).then(() => this.flush());
      this.flushing = run;
      return run.finally(() => {
        if (this.flushing === run) this.flushing = undefined;
      });
    });
    return this.scheduled;
  }

  private async flush(): Promise<void> {
    const lines = this.pending;
    this.pending = [];
    if (lines.length === 0) return;
    try {
      this.file ??= await open(this.path, 'a', 0o600);
      const text = lines.join('\n') + '\n';
      await this.file.write(text);
      this.fileBytes += Buffer.byteLength(text);
      if (this.fileBytes > COMPACT_MIN_BYTES && this.fileBytes > 2 * this.bytes) await this.compact();
    } catch (e) {
      this.errors++;
      this.lastError = `${this.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
  }

  /** Rewrites the journal with its live records only (read back from it: nothing else is kept in memory). */
  private async compact(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
    const { live } = await readJournal<unknown>(this.path);
    const keep = [...live.values()].filter((r) => this.sizes.has(r.key)).sort((a, b) => a.seq - b.seq);
    await this.rewrite(keep.map((r) => JSON.stringify(r)));
  }

  private async rewrite(lines: string[]): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const text = lines.length > 0 ? lines.join('\n') + '\n' : '';
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, this.path);
    this.fileBytes = Buffer.byteLength(text);
  }
}

/** The live records of a journal (last write of each key, unless removed after it); missing file = none. */
export async function readJournal<B>(path: string): Promise<{ live: Map<string, SpoolRecord<B>>; unreadable: number }> {
  const live = new Map<string, SpoolRecord<B>>();
  let unreadable = 0;
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (!exists) return { live, unreadable };
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === '') continue;
    let r: Partial<SpoolRecord<B>> & { del?: unknown };
    try {
      r = JSON.parse(line) as Partial<SpoolRecord<B>> & { del?: unknown };
    } catch {
      unreadable++;
      continue;
    }
    if (r.v === 1 && typeof r.del === 'string') {
      live.delete(r.del);
    } else if (r.v === 1 && typeof r.key === 'string' && typeof r.seq === 'number' && typeof r.final === 'boolean' && r.body !== undefined) {
      live.delete(r.key); // re-inserted: keeps the order of the latest write (sorted by seq anyway)
      live.set(r.key, r as SpoolRecord<B>);
    } else {
      unreadable++;
    }
  }
  return { live, unreadable };
}
