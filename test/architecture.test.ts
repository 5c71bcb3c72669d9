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
/**
 * What each part may import (besides node: and packages). common/ holds helpers every stage
 * shares (bytes, LRU, time and address formatting); errors.ts is shared too. The engine wires
 * capture and analyze under one policy; export turns their state into outputs; cli/ wires
 * everything and is the only place that knows about the process (argv, stdio, exit codes).
 */
const allowed: Record<string, string[]> = {
  common: ['common', 'errors.js'],
  capture: ['capture', 'common', 'errors.js'],
  analyze: ['analyze', 'capture', 'common', 'errors.js'],
  config: ['config', 'analyze', 'common', 'errors.js'],
  engine: ['engine', 'capture', 'analyze', 'config', 'common', 'errors.js'],
  export: ['export', 'engine', 'analyze', 'capture', 'config', 'common', 'errors.js'],
  tools: ['tools', 'cli', 'config', 'common', 'errors.js'],
};

describe('import direction', () => {
  test.for(files(SRC).map((f) => relative(SRC, f)))('%s', (f) => {
    const ok = allowed[layer(f)];
    const bad = ok === undefined ? [] : imports(join(SRC, f)).filter((i) => !ok.includes(layer(i)));
    expect(bad).toEqual([]);
  });
});
