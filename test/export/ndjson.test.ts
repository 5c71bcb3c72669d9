import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WriteStream } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { NdjsonSink } from '../../src/export/ndjson.js';

const tmp = mkdtempSync(join(tmpdir(), 'kasmon-ndjson-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('NDJSON sink', () => {
  test('waiting for drain leaves no listener behind (it used to add an error listener per full buffer)', async () => {
    const path = join(tmp, 'alerts.ndjson');
    const sink = new NdjsonSink(path, 'w');
    const file = (sink as unknown as { file: WriteStream }).file;
    const base = { drain: file.listenerCount('drain'), error: file.listenerCount('error') };
    const big = { pad: 'x'.repeat(64 * 1024) }; // more than the stream's 16 KiB buffer: write() says wait
    for (let i = 0; i < 30; i++) {
      sink.write(big);
      await sink.flush();
    }
    expect({ drain: file.listenerCount('drain'), error: file.listenerCount('error') }).toEqual(base);
    await sink.close();
    expect(readFileSync(path, 'utf8').split('\n').filter((l) => l !== '')).toHaveLength(30);
    expect(sink.failure).toBeUndefined();
  });
});
