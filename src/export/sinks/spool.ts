import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A sink's spool: the notifications it has not delivered yet, on disk in the state directory,
 * so that a restart or a crash (kill -9) re-sends them. One JSON file per notification, named
 * by its key (`<key>.json`), written to a temporary name and renamed into place, so a file is
 * either whole or absent; removed once delivered. Keys are the caller's (a sequence number, or
 * an alert's fingerprint that a newer state of the same alert overwrites).
 *
 * Bytes are accounted per file; the caller (delivery.ts) decides what to drop when the spool
 * is over its bound. Operations on one key run in the order they were asked for; different
 * keys are written a few at a time. Errors (a full disk) never throw out of here: they are
 * counted and the last one kept, and the notification stays in memory.
 */
export interface SpoolRecord<B> {
  /** File format. */
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
  /** Files that could not be read back (not JSON, wrong shape): left in place, renamed *.bad. */
  readonly unreadable: number;
}

const KEY = /^[A-Za-z0-9_-]{1,128}$/;
/** Writes in flight at once. */
const CONCURRENCY = 4;

export class Spool {
  /** Bytes on disk, by key. */
  private readonly sizes = new Map<string, number>();
  private readonly chains = new Map<string, Promise<void>>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  bytes = 0;
  errors = 0;
  lastError: string | undefined;

  /** `note`: written to `dir/SINK`, for an operator looking at the state directory. */
  constructor(
    readonly dir: string,
    private readonly note = '',
  ) {}

  /** Creates the directory, removes half-written files, reads back every record (oldest first). */
  async open<B>(): Promise<SpoolLoad<B>> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (this.note !== '') await writeFile(join(this.dir, 'SINK'), this.note);
    const records: SpoolRecord<B>[] = [];
    let unreadable = 0;
    for (const f of await readdir(this.dir)) {
      const path = join(this.dir, f);
      if (f.endsWith('.tmp')) {
        await rm(path, { force: true });
        continue;
      }
      if (!f.endsWith('.json')) continue;
      const text = await readFile(path, 'utf8').catch(() => undefined);
      const r = text === undefined ? undefined : parse<B>(text);
      if (r === undefined || `${r.key}.json` !== f) {
        unreadable++;
        await rename(path, `${path}.bad`).catch(() => undefined);
        continue;
      }
      records.push(r);
      this.account(r.key, Buffer.byteLength(text ?? ''));
    }
    records.sort((a, b) => a.seq - b.seq);
    return { records, unreadable };
  }

  /** A record as it is written (its length is what it takes on disk). */
  static serialise<B>(r: SpoolRecord<B>): string {
    if (!KEY.test(r.key)) throw new RangeError(`spool key ${r.key}`);
    return JSON.stringify(r);
  }

  /** Writes (or overwrites) the record `text` (from serialise) under `key`; resolves once it is on disk (or failed, counted). */
  put(key: string, text: string): Promise<void> {
    return this.chain(key, async () => {
      const path = join(this.dir, `${key}.json`);
      const tmp = `${path}.tmp`;
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, path);
      this.account(key, Buffer.byteLength(text));
    });
  }

  /** Removes a record (delivered, or dropped). */
  remove(key: string): Promise<void> {
    return this.chain(key, async () => {
      await rm(join(this.dir, `${key}.json`), { force: true });
      this.account(key, 0);
    });
  }

  has(key: string): boolean {
    return this.sizes.has(key);
  }

  /** Resolves when every operation asked for so far has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private account(key: string, size: number): void {
    this.bytes += size - (this.sizes.get(key) ?? 0);
    if (size > 0) this.sizes.set(key, size);
    else this.sizes.delete(key);
  }

  private chain(key: string, op: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.limited(op)).catch((e: unknown) => {
      this.errors++;
      this.lastError = `${this.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    });
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  private async limited(op: () => Promise<void>): Promise<void> {
    // A finished operation hands its slot straight to the next waiting one.
    if (this.running >= CONCURRENCY) await new Promise<void>((r) => this.waiting.push(r));
    else this.running++;
    try {
      await op();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }
}

function parse<B>(text: string): SpoolRecord<B> | undefined {
  try {
    const r = JSON.parse(text) as Partial<SpoolRecord<B>>;
    if (r.v !== 1 || typeof r.key !== 'string' || typeof r.seq !== 'number' || typeof r.final !== 'boolean' || r.body === undefined) return undefined;
    return r as SpoolRecord<B>;
  } catch {
    return undefined;
  }
}
