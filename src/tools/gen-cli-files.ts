/**
 * Build step (`npm run build`, after tsc): the man page and the shell completion scripts,
 * made from the option tables (src/cli/options.ts), written where package.json ships them:
 * dist/man/kasmon.1 ("man"), dist/completion/kasmon.bash and dist/completion/_kasmon.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bashCompletion, zshCompletion } from '../cli/completion.js';
import { manPage } from '../cli/manpage.js';
import { version } from '../cli/version.js';

const dist = fileURLToPath(new URL('../', import.meta.url));
const epoch = Number(process.env['SOURCE_DATE_EPOCH'] ?? Date.now() / 1000);
const date = new Date(epoch * 1000).toISOString().slice(0, 10);
const files: Array<[string, string]> = [
  ['man/kasmon.1', manPage(version(), date)],
  ['completion/kasmon.bash', bashCompletion()],
  ['completion/_kasmon', zshCompletion()],
];
for (const [path, text] of files) {
  const full = `${dist}${path}`;
  mkdirSync(full.slice(0, full.lastIndexOf('/')), { recursive: true });
  writeFileSync(full, text);
}
console.log(`dist/: ${files.map(([p]) => p).join(', ')} (from src/cli/options.ts)`);
