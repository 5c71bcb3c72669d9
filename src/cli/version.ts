import { readFileSync } from 'node:fs';

/** package.json's version: src/cli and dist/cli both sit two levels below the package root. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}
