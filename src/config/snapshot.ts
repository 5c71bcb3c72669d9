/**
 * Build-time snapshot of the parsed default config (dist/default-config.json), so that a run
 * with the defaults neither imports `yaml` nor parses config/default.yaml.
 *
 * The file holds the ConfigBody (see config.ts: the Config without the parts that depend on
 * the machine and working directory), the sha256 of the YAML text it was parsed from, and a
 * format number. A reader accepts it only when the format is SNAPSHOT_FORMAT and the hash
 * equals that of the YAML text as it is now; anything else (no file, bad JSON, an edited
 * default.yaml) means "parse the YAML", so a snapshot can be stale but never wrong.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { ConfigBody } from './load.js';

/** Bump when ConfigBody or what the parser puts in it changes shape (e.g. rules.ts pattern forms). */
export const SNAPSHOT_FORMAT = 4;

/** The keys of a ConfigBody; the type makes adding a Config field without listing it here a compile error. */
const BODY_KEYS: Record<keyof ConfigBody, true> = {
  cutoff: true,
  observer: true,
  alerts: true,
  limits: true,
  time: true,
  monitor: true,
  capture: true,
  sinks: true,
  dns: true,
  publicDnsFallback: true,
  appliances: true,
  attribution: true,
  updatePaths: true,
  milestones: true,
  endpoints: true,
};

interface SnapshotFile {
  readonly format: number;
  /** sha256 (hex) of the UTF-8 YAML text the config was parsed from. */
  readonly sourceSha256: string;
  readonly config: ConfigBody;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Write the snapshot of `config`, parsed from `sourceText`. Throws (and writes nothing) when
 * the config does not survive JSON unchanged: undefined fields, -0, NaN/Infinity, Maps, Sets,
 * Dates or class instances would otherwise come back different from a YAML parse.
 */
export function saveConfigSnapshot(path: string, sourceText: string, config: ConfigBody): void {
  const file: SnapshotFile = { format: SNAPSHOT_FORMAT, sourceSha256: sha256(sourceText), config };
  const json = JSON.stringify(file);
  if (!isDeepStrictEqual((JSON.parse(json) as SnapshotFile).config, config)) {
    const where = jsonLoss(config, 'config') ?? 'somewhere in config';
    throw new Error(`the config does not survive JSON unchanged (${where}); make it plain data or stop snapshotting it`);
  }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, json + '\n');
  renameSync(tmp, path); // readers see the old file or the new one, never half of one
}

/** The snapshot's config if `path` holds a current snapshot of `sourceText`, else undefined. */
export function loadConfigSnapshot(path: string, sourceText: string): ConfigBody | undefined {
  let file: Partial<SnapshotFile>;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as Partial<SnapshotFile>;
  } catch {
    return undefined; // missing or unreadable or not JSON
  }
  if (typeof file !== 'object' || file === null || file.format !== SNAPSHOT_FORMAT) return undefined;
  if (file.sourceSha256 !== sha256(sourceText)) return undefined;
  const c = file.config as unknown;
  if (typeof c !== 'object' || c === null || Object.keys(c).sort().join() !== Object.keys(BODY_KEYS).sort().join()) {
    return undefined;
  }
  return c as ConfigBody;
}

/** Where `v` holds something JSON would change or drop, as a path with the reason; undefined if nothing obvious. */
function jsonLoss(v: unknown, path: string): string | undefined {
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') {
    return `${path} is ${typeof v}`;
  }
  if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return `${path} is ${Object.is(v, -0) ? '-0' : v}`;
  if (typeof v !== 'object' || v === null) return undefined;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== Array.prototype) return `${path} is a ${v.constructor.name}`;
  for (const [k, x] of Object.entries(v)) {
    const loss = jsonLoss(x, Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}`);
    if (loss !== undefined) return loss;
  }
  return undefined;
}
