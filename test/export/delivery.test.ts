import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { Delivery, type DeliveryOptions } from '../../src/export/sinks/delivery.js';
import { HttpPoster, retryAfter } from '../../src/export/sinks/http.js';
import { JOURNAL, Spool } from '../../src/export/sinks/spool.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { freePort, waitFor } from '../helpers/sensor.js';

/**
 * The delivery guarantees every network sink shares (src/export/sinks/delivery.ts), against
 * real HTTP receivers on 127.0.0.1: batches, spool written before the first attempt and
 * removed on delivery, re-sent after a restart, bounded queue and spool (oldest dropped,
 * counted), retries with capped backoff on connection errors, timeouts, 5xx and 429 (with
 * Retry-After), no retry on another 4xx (counted, the receiver's message kept).
 */
const tmp = mkdtempSync(join(tmpdir(), 'kasmon-delivery-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Body {
  n: number;
}

const receivers: Receiver[] = [];
const deliveries: Array<Delivery<Body>> = [];
afterEach(async () => {
  for (const d of deliveries.splice(0)) await d.close(0);
  for (const r of receivers.splice(0)) await r.close();
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

interface Logged {
  level: string;
  obj: object;
  msg: string;
}

let dirs = 0;
function delivery(url: string, over: Partial<DeliveryOptions<Body>> & { spoolDir?: string | null; timeoutMs?: number } = {}): { d: Delivery<Body>; logs: Logged[]; spool: Spool | undefined } {
  const logs: Logged[] = [];
  const log = (level: string) => (obj: object, msg: string) => logs.push({ level, obj, msg });
  const poster = new HttpPoster({ url: new URL(url), timeoutMs: over.timeoutMs ?? 2000 });
  const spool = over.spoolDir === null ? undefined : new Spool(over.spoolDir ?? join(tmp, `spool-${++dirs}`));
  const d = new Delivery<Body>({
    name: 'test',
    queueSize: 100,
    spool,
    spoolBytes: 1 << 20,
    retryInitialMs: 50,
    retryMaxMs: 400,
    maxBatch: 10,
    log: { info: log('info'), warn: log('warn'), error: log('error') },
    send: (batch, signal) => poster.post(JSON.stringify(batch.map((e) => e.body)), {}, signal),
    ...over,
  });
  deliveries.push(d);
  return { d, logs, spool };
}

/** The live records of a spool's journal, by key (read synchronously: receivers call it mid-request). */
function live(dir: string): Map<string, { key: string; final: boolean; body: Body }> {
  const out = new Map<string, { key: string; final: boolean; body: Body }>();
  const path = join(dir, JOURNAL);
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    const r = JSON.parse(line) as { key?: string; del?: string; final: boolean; body: Body };
    if (r.del !== undefined) out.delete(r.del);
    else out.set(r.key!, r as { key: string; final: boolean; body: Body });
  }
  return out;
}
const jsonFiles = (dir: string): string[] => [...live(dir).keys()].sort();
const delivered = (r: Receiver): number[] => (r.accepted() as Body[][]).flat().map((b) => b.n);

describe('delivery', () => {
  test('batches in order; each notification is in the spool before its first attempt and gone once delivered', async () => {
    const r = await receiver();
    const { d, spool } = delivery(r.url);
    const onDisk: string[][] = [];
    r.answer = () => {
      onDisk.push(jsonFiles(spool!.dir));
      return { status: 200 };
    };
    await d.load();
    for (let n = 1; n <= 25; n++) d.add({ n }, true);
    d.start();
    await waitFor('25 delivered', () => (d.stats.delivered === 25 ? true : undefined), 5000);
    expect(delivered(r)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(r.requests.map((q) => (JSON.parse(q.body) as Body[]).length)).toEqual([10, 10, 5]);
    // Every notification in a request was on disk when the request arrived.
    r.requests.forEach((q, i) => {
      for (const b of JSON.parse(q.body) as Body[]) expect(onDisk[i]).toContain(`n${String(b.n).padStart(15, '0')}`);
    });
    await spool!.settled();
    expect(jsonFiles(spool!.dir)).toEqual([]);
    expect(spool!.bytes).toBe(0);
    expect(d.stats).toMatchObject({ delivered: 25, rejected: 0, dropped: 0, up: true });
    expect(d.stats.lastSuccessMs).toBeGreaterThan(Date.now() - 10_000);
  });

  test('500 then 200: retried with growing waits until it works; every notification arrives once accepted', async () => {
    const r = await receiver();
    const { d, logs } = delivery(r.url, { random: () => 0.999 });
    let fails = 4;
    r.answer = () => (fails-- > 0 ? { status: 500, body: 'database locked' } : { status: 200 });
    await d.load();
    for (let n = 1; n <= 3; n++) d.add({ n }, true);
    d.start();
    await waitFor('delivered', () => (d.stats.delivered === 3 ? true : undefined), 5000);
    expect(delivered(r)).toEqual([1, 2, 3]);
    expect(r.requests).toHaveLength(5);
    expect(d.stats.retries).toEqual({ connection: 0, timeout: 0, server_error: 4, too_many_requests: 0 });
    // Waits of ~50, 100, 200, 400 ms (capped at retryMaxMs), drawn from their upper half.
    const gaps = r.requests.slice(1).map((q, i) => q.atMs - r.requests[i]!.atMs);
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[2]).toBeGreaterThanOrEqual(190);
    expect(gaps[3]).toBeGreaterThanOrEqual(390);
    expect(gaps[3]).toBeLessThan(2000);
    expect(d.stats.up).toBe(true);
    expect(logs.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['alert delivery failed, retrying with backoff: HTTP 500 Internal Server Error: database locked']);
    expect(logs.filter((l) => l.level === 'info').map((l) => l.msg)).toEqual(['alert delivery works again']);
  });

  test('up is 0 while failing, and the wait never exceeds retryMaxMs', async () => {
    const r = await receiver();
    const { d } = delivery(r.url, { random: () => 0.999, retryMaxMs: 120 });
    r.answer = { status: 503 };
    await d.load();
    d.add({ n: 1 }, true);
    d.start();
    await waitFor('6 attempts', () => (r.requests.length >= 6 ? true : undefined), 5000);
    expect(d.stats.up).toBe(false);
    expect(d.queued).toBe(1);
    const gaps = r.requests.slice(1, 6).map((q, i) => q.atMs - r.requests[i]!.atMs);
    expect(Math.max(...gaps)).toBeLessThan(1000);
    r.answer = { status: 204 };
    await waitFor('delivered', () => (d.stats.delivered === 1 ? true : undefined), 5000);
    expect(d.stats.up).toBe(true);
  });

  test('429 with Retry-After waits as long as the receiver asks (up to retryMaxMs)', async () => {
    const r = await receiver();
    const { d } = delivery(r.url, { retryMaxMs: 1500 });
    let first = true;
    r.answer = () => {
      if (!first) return { status: 200 };
      first = false;
      return { status: 429, headers: { 'retry-after': '1' } };
    };
    await d.load();
    d.add({ n: 1 }, true);
    d.start();
    await waitFor('delivered', () => (d.stats.delivered === 1 ? true : undefined), 5000);
    expect(r.requests[1]!.atMs - r.requests[0]!.atMs).toBeGreaterThanOrEqual(990);
    expect(d.stats.retries.too_many_requests).toBe(1);
    expect(retryAfter('120')).toBe(120_000);
    expect(retryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(retryAfter('soon')).toBeUndefined();
  });

  test('400 is not retried: counted as rejected, logged with what the receiver said; the next batch goes on', async () => {
    const r = await receiver();
    const { d, logs, spool } = delivery(r.url, { maxBatch: 2 });
    r.answer = (q) => ((JSON.parse(q.body) as Body[]).some((b) => b.n === 2) ? { status: 400, body: '{"error":"field source.ip: not an address"}' } : { status: 200 });
    await d.load();
    for (let n = 1; n <= 4; n++) d.add({ n }, true);
    d.start();
    await waitFor('all settled', () => (d.stats.delivered + d.stats.rejected === 4 ? true : undefined), 5000);
    expect(r.requests).toHaveLength(2); // [1,2] refused once, [3,4] delivered
    expect(d.stats).toMatchObject({ delivered: 2, rejected: 2, dropped: 0 });
    expect(Object.values(d.stats.retries).reduce((a, b) => a + b)).toBe(0);
    expect(logs.find((l) => l.level === 'error')?.msg).toBe('alert notifications rejected (not retried): HTTP 400 Bad Request: {"error":"field source.ip: not an address"}');
    await spool!.settled();
    expect(jsonFiles(spool!.dir)).toEqual([]); // refused notifications are not re-sent after a restart either
  });

  test('a receiver that never answers is a timeout; a closed port is a connection error; both retried', async () => {
    const r = await receiver();
    r.answer = 'hang';
    const slow = delivery(r.url, { timeoutMs: 200 });
    const closed = delivery(`http://127.0.0.1:${await freePort()}/`);
    for (const { d } of [slow, closed]) {
      await d.load();
      d.add({ n: 1 }, true);
      d.start();
    }
    await waitFor('2 timeouts', () => (slow.d.stats.retries.timeout >= 2 ? true : undefined), 5000);
    await waitFor('2 refusals', () => (closed.d.stats.retries.connection >= 2 ? true : undefined), 5000);
    expect(slow.d.stats.lastError).toBe('no answer within 0.2 s');
    expect(closed.d.stats.lastError).toMatch(/ECONNREFUSED/);
    expect(slow.d.queued + closed.d.queued).toBe(2);
  });

  test('a full queue drops the oldest, counted and logged; a full spool too, and its files go', async () => {
    const port = await freePort(); // nobody listens: everything stays queued
    const q = delivery(`http://127.0.0.1:${port}/`, { queueSize: 5 });
    await q.d.load();
    for (let n = 1; n <= 8; n++) q.d.add({ n }, true);
    expect([...q.d.entries()].map((e) => e.body.n)).toEqual([4, 5, 6, 7, 8]);
    expect(q.d.stats.dropped).toBe(3);
    expect(q.logs[0]?.msg).toBe('alert notifications dropped: the queue is full (sinks.queue_size 5); the oldest go first');

    const s = delivery(`http://127.0.0.1:${port}/`, { spoolBytes: 1000 });
    await s.d.load();
    for (let n = 1; n <= 40; n++) s.d.add({ n }, true);
    await s.spool!.settled();
    const kept = [...s.d.entries()].map((e) => e.body.n);
    expect(kept.at(-1)).toBe(40);
    expect(kept.length).toBeLessThan(40);
    expect(s.d.stats.dropped).toBe(40 - kept.length);
    expect(s.spool!.bytes).toBeLessThanOrEqual(1000);
    expect(jsonFiles(s.spool!.dir)).toHaveLength(kept.length);
    expect(s.logs[0]?.msg).toMatch(/the spool is full \(sinks.spool_bytes 1000\)/);
  });

  test('after a restart the spool is read back and delivered, oldest first; new notifications come after it', async () => {
    const dir = join(tmp, 'restart');
    const port = await freePort();
    const first = delivery(`http://127.0.0.1:${port}/`, { spoolDir: dir });
    await first.d.load();
    first.d.start();
    for (let n = 1; n <= 3; n++) first.d.add({ n }, true);
    await first.d.close(0);
    expect(jsonFiles(dir)).toHaveLength(3);
    appendFileSync(join(dir, JOURNAL), '{"v":1,"key":"n999","seq":'); // a line cut short by a crash
    writeFileSync(join(dir, `${JOURNAL}.tmp`), 'half');

    const r = await receiver();
    const second = delivery(r.url, { spoolDir: dir });
    const loaded = await second.d.load();
    expect(loaded.map((e) => e.body.n)).toEqual([1, 2, 3]);
    expect(second.d.stats.spoolUnreadable).toBe(1);
    expect(existsSync(join(dir, `${JOURNAL}.tmp`))).toBe(false);
    expect(readFileSync(join(dir, JOURNAL), 'utf8').split('\n').filter((l) => l !== '')).toHaveLength(3); // rewritten: the live records only
    second.d.add({ n: 4 }, true);
    second.d.start();
    await waitFor('delivered', () => (second.d.stats.delivered === 4 ? true : undefined), 5000);
    expect(delivered(r)).toEqual([1, 2, 3, 4]);
    await second.spool!.settled();
    expect(jsonFiles(dir)).toEqual([]);
  });

  test('a kept notification (not final) stays in the spool after delivery; a newer state during a request is sent again', async () => {
    const r = await receiver();
    const { d, spool } = delivery(r.url);
    let first = true;
    r.answer = () => {
      if (first) {
        first = false;
        d.put('alert-a', { n: 2 }, false); // changed while the request for n=1 is in flight
      }
      return { status: 200 };
    };
    await d.load();
    d.put('alert-a', { n: 1 }, false);
    d.start();
    await waitFor('both states', () => (r.requests.length === 2 ? true : undefined), 5000);
    expect(delivered(r)).toEqual([1, 2]);
    await waitFor('settled', () => (d.queued === 0 ? true : undefined), 5000);
    await spool!.settled();
    expect(live(spool!.dir).get('alert-a')).toMatchObject({ key: 'alert-a', final: false, body: { n: 2 } });
    d.refresh(d.get('alert-a')!);
    await waitFor('refreshed', () => (r.requests.length === 3 ? true : undefined), 5000);
    d.put('alert-a', { n: 3 }, true); // resolved: delivered, then gone
    await waitFor('final', () => (d.get('alert-a') === undefined ? true : undefined), 5000);
    await spool!.settled();
    expect(jsonFiles(spool!.dir)).toEqual([]);
  });

  test('close(): a request to a receiver that hangs is abandoned after the grace time; the notification stays spooled', async () => {
    const r = await receiver();
    r.answer = 'hang';
    const { d, spool } = delivery(r.url, { timeoutMs: 60_000 });
    await d.load();
    d.add({ n: 1 }, true);
    d.start();
    await waitFor('in flight', () => (r.requests.length === 1 ? true : undefined), 5000);
    const t0 = Date.now();
    await d.close(300);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(jsonFiles(spool!.dir)).toHaveLength(1);
    expect(d.stats.retries.connection).toBe(0); // abandoning is not a failure
  });

  test('the journal is compacted as it grows: what was delivered leaves the disk too', async () => {
    const r = await receiver();
    const { d, spool } = delivery(r.url, { maxBatch: 100, queueSize: 10_000, spoolBytes: 64 << 20 });
    await d.load();
    d.start();
    const pad = 'x'.repeat(1000);
    for (let n = 1; n <= 3000; n++) d.add({ n, pad } as Body, true);
    await waitFor('delivered', () => (d.stats.delivered === 3000 ? true : undefined), 20_000);
    await spool!.settled();
    // 3000 records of ~1 KB and their removals went through a journal that never holds them all.
    expect(statSync(join(spool!.dir, JOURNAL)).size).toBeLessThan(2.2 * 1024 * 1024);
    expect(live(spool!.dir).size).toBe(0);
    expect(spool!.bytes).toBe(0);
  });

  test('without a spool: delivered all the same, nothing on disk', async () => {
    const r = await receiver();
    const { d } = delivery(r.url, { spoolDir: null });
    expect(await d.load()).toEqual([]);
    d.add({ n: 1 }, true);
    d.start();
    await waitFor('delivered', () => (d.stats.delivered === 1 ? true : undefined), 5000);
    expect(d.spoolBytes).toBe(0);
  });
});
