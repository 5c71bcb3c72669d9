import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';

/**
 * The architecture stays visible: src/capture turns bytes into observations, src/analyze
 * turns observations into matches and alerts, src/export turns those into outputs. Imports
 * point that way only (DESIGN.md "Dependencies point left to right only").
 */
const SRC = new URL('../src/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"](\.[^'"]+)['"]/gm)].map((m) => relative(SRC, join(file, '..', m[1]!)));
}

const layer = (p: string): string => p.split('/')[0]!;
const forbidden: Record<string, string[]> = {
  capture: ['analyze', 'export', 'config.ts', 'pipeline.ts', 'cli.ts'],
  analyze: ['export', 'config.ts', 'pipeline.ts', 'cli.ts'],
  export: ['config.ts', 'pipeline.ts', 'cli.ts'],
};

describe('import direction', () => {
  test.for(files(SRC).map((f) => relative(SRC, f)))('%s', (f) => {
    const bad = (forbidden[layer(f)] ?? []).filter((l) => imports(join(SRC, f)).some((i) => layer(i) === l || i === l));
    expect(bad).toEqual([]);
  });
});
