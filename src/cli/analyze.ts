import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AlertDecision } from '../analyze/alerts.js';
import type { ClientState } from '../analyze/clients.js';
import type { Observation } from '../capture/observation.js';
import type { ReadResult } from '../capture/read/source.js';
import { toMicros, type PacketTime } from '../common/time.js';
import { addTotals, emptyTotals, type DecodeTotals } from '../engine/decode-totals.js';
import { EngineErrors, engineLimits, sharedAnalyzer } from '../engine/engine.js';
import { checkReadable, type EachResult } from '../engine/inputs.js';
import { policyFrom, scopedPolicy } from '../engine/policy.js';
import { EXIT, KasmonError } from '../errors.js';
import { coverageOf, nothingDecoded } from '../export/coverage.js';
import { alertEvent } from '../export/ecs.js';
import { NdjsonSink } from '../export/ndjson.js';
import { buildReport, jsonReport } from '../export/report.js';
import { renderCsv } from '../export/report-csv.js';
import { renderHtml } from '../export/report-html.js';
import { renderTable } from '../export/report-table.js';
import { scopeOf } from './scope-options.js';
import { interruptedCode, interruptible, loadWithOverrides, nothingRead, problems, writeChunks } from './common.js';
import { ANALYZE, parseCommand } from './options.js';
import { refuseOverwrite, refuseStdoutOntoInput } from './outputs.js';

/**
 * `kasmon analyze OBS.ndjson...`: replay's analysis and outputs over observation files written
 * by `kasmon names --matched` (README "Replay at scale"). The files are taken in the order
 * given, each line as it comes: observations go to the analyzer with the time they are judged
 * at, input summaries add up to the decode totals the report shows. Given the files of the
 * same captures in the same order, the report and the alerts equal replay's.
 */
const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;

/** An observation file's ISO time back into a PacketTime (the capture's precision kept). */
export function parseIso(s: unknown): PacketTime | undefined {
  if (typeof s !== 'string') return undefined;
  const m = ISO.exec(s);
  if (m === null) return undefined;
  const ms = Date.parse(`${m[1]}Z`);
  if (!Number.isFinite(ms)) return undefined;
  const frac = m[2] ?? '';
  return { sec: ms / 1000, nsec: frac === '' ? 0 : Number(frac.padEnd(9, '0')), digits: frac.length };
}

const KINDS = new Set(['dns_query', 'dns_answer', 'tls_sni', 'http_host', 'quic_sni', 'ip_connection']);

/** One observation line back into an Observation, or undefined when it is not one. */
export function observationFrom(j: Record<string, unknown>): { o: Observation; at: number; time: PacketTime } | undefined {
  const time = parseIso(j['ts']);
  const kind = j['kind'];
  if (time === undefined || typeof kind !== 'string' || !KINDS.has(kind)) return undefined;
  const str = (k: string): string | undefined => (typeof j[k] === 'string' ? (j[k] as string) : undefined);
  const num = (k: string): number | undefined => (typeof j[k] === 'number' ? (j[k] as number) : undefined);
  const name = str('name');
  const src = str('src');
  const dst = str('dst');
  if (name === undefined || src === undefined || dst === undefined) return undefined;
  const o: Observation = {
    kind: kind as Observation['kind'],
    name,
    time,
    tsMicros: toMicros(time),
    frame: num('frame') ?? 0,
    src,
    dst,
    sport: num('sport') ?? 0,
    dport: num('dport') ?? 0,
    transport: j['transport'] === 'udp' ? 'udp' : 'tcp',
  };
  for (const k of ['rrtype', 'data', 'qtype', 'ja4', 'http_path', 'conn'] as const) {
    const v = str(k);
    if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  }
  const ttl = num('ttl');
  if (ttl !== undefined) o.ttl = ttl;
  if (Array.isArray(j['alpn'])) o.alpn = (j['alpn'] as unknown[]).map(String);
  if (j['ech'] === true) o.ech = true;
  const vlan = num('vlan');
  if (vlan !== undefined) o.vlan = vlan;
  if (Array.isArray(j['tunnel'])) o.tunnel = (j['tunnel'] as unknown[]).map(String);
  const file = str('file');
  if (file !== undefined) o.source = file;
  const judged = parseIso(j['judged']);
  return judged === undefined ? { o, at: o.tsMicros, time } : { o, at: toMicros(judged), time: judged };
}

/** How many inputs the files cover (their input_summary and input_rejected lines). */
async function inputCount(files: readonly string[]): Promise<number> {
  let n = 0;
  for (const f of files) {
    for await (const line of createInterface({ input: createReadStream(f), crlfDelay: Infinity })) if (line.startsWith('{"kind":"input_')) n++;
  }
  return n;
}

export async function analyze(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(ANALYZE, args);
  const paths = { inputs: positionals, config: values.config };
  refuseOverwrite('--alerts', values.alerts, paths, 'analyze');
  refuseStdoutOntoInput(paths, 'analyze');
  checkReadable(positionals);
  const config = loadWithOverrides(values.config, values.cutoff, values.observer);
  const policy = scopedPolicy(policyFrom(config), scopeOf(values, 'analyze'));
  const sink = values.alerts !== undefined ? new NdjsonSink(values.alerts) : undefined;
  const ctx = { observerName: policy.observer, cutoffIso: config.cutoff.iso };
  const errors = new EngineErrors();
  const onAlert = sink !== undefined ? (a: AlertDecision, c: ClientState): void => sink.write(alertEvent(a, c, ctx)) : undefined;
  const analyzer = sharedAnalyzer(policy, engineLimits(config), errors, onAlert);
  const ac = interruptible();
  const run: EachResult = { reads: [], damaged: [], rejected: [], totals: emptyTotals() };
  let bad = 0;
  // names --matched names every observation's file; replay does so only with several inputs.
  const several = positionals.includes('-') || (await inputCount(positionals)) > 1;
  try {
    for (const file of positionals) {
      if (ac.signal.aborted) break;
      const lines = createInterface({ input: file === '-' ? process.stdin : createReadStream(file), crlfDelay: Infinity });
      let n = 0;
      let summaries = 0;
      for await (const line of lines) {
        n++;
        if (line.trim() === '') continue;
        let j: Record<string, unknown>;
        try {
          j = JSON.parse(line) as Record<string, unknown>;
        } catch {
          bad++;
          continue;
        }
        if (j['kind'] === 'input_summary') {
          summaries++;
          const read = j['read'] as ReadResult;
          run.reads.push(read);
          if (read.damaged !== undefined) run.damaged.push(read.damaged);
          addTotals(run.totals, j['totals'] as DecodeTotals);
          continue;
        }
        if (j['kind'] === 'input_rejected') {
          run.rejected.push(String(j['message']));
          continue;
        }
        const r = observationFrom(j);
        if (r === undefined) {
          bad++;
          continue;
        }
        if (!several) delete r.o.source;
        try {
          analyzer.onObservation(r.o, r.at, r.time, 0);
        } catch (e) {
          errors.record('analysis', e);
        }
        if (n % 4096 === 0) await sink?.flush();
      }
      if (summaries === 0) process.stderr.write(`kasmon: ${file}: no input_summary line: not the whole output of kasmon names --matched? Frames and decode issues are missing from the report\n`);
    }
  } catch (e) {
    await sink?.close();
    if ((e as NodeJS.ErrnoException).code !== undefined) throw new KasmonError('ERR_INPUT_UNREADABLE', `cannot read observations (${(e as Error).message})`);
    throw e;
  }
  await sink?.close();
  if (bad > 0) process.stderr.write(`kasmon: ${bad} line${bad === 1 ? ' was' : 's were'} not observations from kasmon names --matched (skipped)\n`);
  const r = buildReport({ policy, analyzer, totals: run.totals }, run.reads);
  if (!nothingRead(run)) {
    const f = values.format;
    const text = f === 'json' ? jsonReport(r) : f === 'csv' ? renderCsv(r) : f === 'html' ? renderHtml(r) : renderTable(r);
    await writeChunks(values.alerts === '-' ? process.stderr : process.stdout, text);
  }
  let code = problems(run) || EXIT.ok;
  const c = coverageOf(run.totals);
  if (code === EXIT.ok && nothingDecoded(c)) {
    process.stderr.write(`kasmon: not one of the ${c.frames_read} frames could be decoded; nothing was analysed\n`);
    code = EXIT.undecodable;
  }
  const interrupted = interruptedCode(ac);
  if (interrupted !== undefined) return interrupted;
  if (errors.first !== undefined || sink?.failure !== undefined) {
    if (errors.first !== undefined) process.stderr.write(`kasmon: internal error: ${errors.first.error.message}\n`);
    if (sink?.failure !== undefined) process.stderr.write(`kasmon: ${sink.failure}\n`);
    return EXIT.runtime;
  }
  if (values['fail-on-alert'] && r.totals.clients_after_cutoff > 0) return EXIT.alert;
  return code;
}
