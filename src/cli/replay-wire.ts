/**
 * How `replay -j` workers hand judged observations to the main thread: a batch is one JSON
 * array of rows, each row the observation's fields in a fixed order, and one string crosses
 * the thread boundary. postMessage of the objects themselves (the structured clone, one object
 * and its strings at a time on both sides) cost each worker ~0.6 s per 1.2 M-packet input and
 * the main thread its GC (bench/README.md, "replay -j"); JSON is the engine's fastest
 * serialiser, and the rows rebuild every observation with all its fields in one order, the
 * one shape the analyzer is compiled for (Decoder.analysisObservation).
 */
import type { Observation } from '../capture/observation.js';
import type { PacketTime } from '../common/time.js';

export type Judged = [o: Observation, at: number, time: PacketTime];

type Cell = string | number | boolean | string[] | null;

/** Undefined as null (JSON has no undefined inside an array). */
const v = (x: Cell | undefined): Cell => (x === undefined ? null : x);
const u = <T>(x: T | null): T | undefined => (x === null ? undefined : x);

export function encodeJudged(batch: readonly Judged[]): string {
  const rows: Cell[][] = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const [o, at, t] = batch[i]!;
    const ot = o.time;
    rows[i] = [
      o.kind, o.name, ot.sec, ot.nsec, ot.digits, o.tsMicros, o.frame, o.src, o.dst, o.sport, o.dport, o.transport,
      v(o.rrtype), v(o.data), v(o.ttl), v(o.conn), v(o.qtype), v(o.alpn), v(o.ech), v(o.ja4), v(o.http_path), v(o.vlan), v(o.tunnel), v(o.source),
      at, t.sec, t.nsec, t.digits,
    ];
  }
  return JSON.stringify(rows);
}

export function decodeJudged(text: string): Judged[] {
  const rows = JSON.parse(text) as Cell[][];
  const out: Judged[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    // The rows are encodeJudged's: each cell is the type its field had when it was written.
    const o = {
      kind: r[0],
      name: r[1],
      time: { sec: r[2] as number, nsec: r[3] as number, digits: r[4] as number },
      tsMicros: r[5],
      frame: r[6],
      src: r[7],
      dst: r[8],
      sport: r[9],
      dport: r[10],
      transport: r[11],
      rrtype: u(r[12]),
      data: u(r[13]),
      ttl: u(r[14]),
      conn: u(r[15]),
      qtype: u(r[16]),
      alpn: u(r[17]),
      ech: u(r[18]),
      ja4: u(r[19]),
      http_path: u(r[20]),
      vlan: u(r[21]),
      tunnel: u(r[22]),
      source: u(r[23]),
    } as unknown as Observation;
    out[i] = [o, r[24] as number, { sec: r[25] as number, nsec: r[26] as number, digits: r[27] as number }];
  }
  return out;
}
