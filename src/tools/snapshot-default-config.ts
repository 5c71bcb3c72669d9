/**
 * Build step (`npm run build`, after tsc): parse config/default.yaml once and write
 * dist/default-config.json, which lets a default run skip `yaml` (see config-snapshot.ts).
 * Then check the result: the snapshot must be accepted and give exactly the Config a YAML
 * parse gives, or the build fails.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { DEFAULT_CONFIG_PATH, DEFAULT_SNAPSHOT_PATH, parseConfig, parseConfigBody, readDefaultConfig } from '../config/load.js';
import { loadConfigSnapshot, saveConfigSnapshot, sha256 } from '../config/snapshot.js';

const text = readFileSync(DEFAULT_CONFIG_PATH, 'utf8');
const name = relative(process.cwd(), DEFAULT_CONFIG_PATH);
saveConfigSnapshot(DEFAULT_SNAPSHOT_PATH, text, parseConfigBody(text, name, null));

if (loadConfigSnapshot(DEFAULT_SNAPSHOT_PATH, text) === undefined) {
  throw new Error(`${DEFAULT_SNAPSHOT_PATH}: written but not accepted by loadConfigSnapshot`);
}
const viaSnapshot = readDefaultConfig();
if (!isDeepStrictEqual(viaSnapshot, parseConfig(text, viaSnapshot.files[0] ?? name, null))) {
  throw new Error(`${DEFAULT_SNAPSHOT_PATH}: the config read from it differs from a parse of ${name}`);
}
console.log(`${relative(process.cwd(), DEFAULT_SNAPSHOT_PATH)}: snapshot of ${name} (sha256 ${sha256(text).slice(0, 12)})`);
