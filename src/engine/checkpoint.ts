import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fromRecord, RECORD_VERSION, toRecord } from '../analyze/client-record.js';
import type { Engine } from './engine.js';

/**
 * Checkpoints of the sensor's client state (with its alert state) in the state directory, so
 * that a restart or an upgrade neither forgets who contacted Kaspersky nor re-raises every
 * alert. One NDJSON file, `clients.ndjson`: a header line, then one client per line, least
 * recently seen first (restoring in file order rebuilds the LRU order). Written to a temporary
 * file and renamed over the old one, so a crash mid-write leaves the previous checkpoint. The
 * writing yields to the event loop between batches: capture and the API keep running.
 */
export const CHECKPOINT_FILE = 'clients.ndjson';
const BATCH = 500;

export interface CheckpointHeader {
  kasmon_checkpoint: number;
  written_at: string;
  clients: number;
  rules_sha256: string;
}

export interface SaveResult {
  clients: number;
  bytes: number;
  ms: number;
}

export async function saveCheckpoint(dir: string, engine: Engine, wallNowMs = Date.now()): Promise<SaveResult> {
  const t0 = performance.now();
  const a = engine.analyzer;
  if (a === undefined) return { clients: 0, bytes: 0, ms: 0 };
  await mkdir(dir, { recursive: true });
  const states = [...a.clients.clients()]; // references only: the clients may change while we write
  const path = join(dir, CHECKPOINT_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  const f = await open(tmp, 'w', 0o600);
  let bytes = 0;
  try {
    const header: CheckpointHeader = { kasmon_checkpoint: RECORD_VERSION, written_at: new Date(wallNowMs).toISOString(), clients: states.length, rules_sha256: engine.policy.rulesHash };
    const ageNow = engine.ageMicros;
    let buf = JSON.stringify(header) + '\n';
    for (let i = 0; i < states.length; i++) {
      const c = states[i]!;
      // The wall-clock time of its last contact, from how long ago (ageing time) it was touched.
      buf += JSON.stringify(toRecord(c, wallNowMs - Math.max(0, ageNow - c.touched) / 1000)) + '\n';
      if ((i + 1) % BATCH === 0) {
        bytes += (await f.write(buf)).bytesWritten;
        buf = '';
      }
    }
    bytes += (await f.write(buf)).bytesWritten;
    await f.sync();
  } catch (e) {
    await f.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await f.close();
  await rename(tmp, path);
  return { clients: states.length, bytes, ms: performance.now() - t0 };
}

export interface RestoreResult {
  clients: number;
  /** Lines that were not a client record this version can trust. */
  skipped: number;
  writtenAt: string | undefined;
}

/** Restores the clients of the last checkpoint into a fresh engine; a missing file restores nothing. */
export async function restoreCheckpoint(dir: string, engine: Engine, wallNowMs = Date.now()): Promise<RestoreResult> {
  const a = engine.analyzer;
  const res: RestoreResult = { clients: 0, skipped: 0, writtenAt: undefined };
  if (a === undefined) return res;
  const path = join(dir, CHECKPOINT_FILE);
  let input;
  try {
    const f = await open(path, 'r');
    input = createReadStream('', { fd: f.fd, autoClose: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return res;
    throw e;
  }
  let first = true;
  let version = RECORD_VERSION;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      res.skipped++;
      continue;
    }
    if (first) {
      first = false;
      const h = v as Partial<CheckpointHeader>;
      if (h.kasmon_checkpoint !== RECORD_VERSION && h.kasmon_checkpoint !== 1) throw new Error(`${path}: not a kasmon checkpoint of version 1 or ${RECORD_VERSION} (move it away to start afresh)`);
      version = h.kasmon_checkpoint;
      res.writtenAt = h.written_at;
      continue;
    }
    const c = fromRecord(v, wallNowMs, engine.ageMicros, version);
    if (c === undefined) res.skipped++;
    else {
      a.clients.restore(c);
      res.clients++;
    }
  }
  return res;
}
