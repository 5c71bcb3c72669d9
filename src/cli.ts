#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { Observation } from './capture/observation.js';
import { isoTime } from './capture/timefmt.js';
import { loadConfig, parseConfig, type Config } from './config.js';
import { EXIT, exitForSignal, KasmonError } from './errors.js';
import { alertEvent } from './export/ecs.js';
import { NdjsonSink } from './export/ndjson.js';
import { renderTable } from './export/report-table.js';
import { createAnalyzer, createDecoder, readAll, report, type RunResult } from './pipeline.js';

const USAGE = `usage: kasmon <command> [options]

commands:
  replay <capture...|->   analyse pcap/pcapng captures (or stdin) and print the per-client report
  names <capture...|->    print every hostname observation as one JSON object per line
  check-config [file]     validate a config file and print the effective settings

replay options:
  --config FILE           endpoint list and settings (default: config/default.yaml)
  --format table|json     report format (default: table)
  --alerts FILE|-         write alert events (ECS NDJSON) to FILE or stdout
  --cutoff TIMESTAMP      override the cutoff, e.g. 2024-09-29T00:00:00-04:00
  --observer NAME         sensor name in alerts and reports (default: config, else host name)
  --fail-on-alert         exit 4 when any client contacted Kaspersky at or after the cutoff

names options:
  --config FILE           (DNS ports)
  --stats                 print decode issues and unrecovered-name reasons to stderr

exit codes: 0 done; 2 usage error, bad config or unreadable/non-capture input;
            3 an input was cut short or damaged part-way (what came before was processed);
            4 --fail-on-alert and post-cutoff Kaspersky traffic was found (takes precedence over 2 and 3).
`;

class UsageError extends KasmonError {
  constructor(message: string) {
    super('ERR_USAGE', `${message}; see kasmon --help`);
  }
}

/** Buffered stdout that honours backpressure once per chunk of input. */
class Stdout {
  private parts: string[] = [];
  private size = 0;
  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
  }
  get pending(): number {
    return this.size;
  }
  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!process.stdout.write(text)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
  }
}

/** The observation contract's field order (DESIGN.md), extras after. */
export function observationJson(o: Observation, withFile: boolean): string {
  const j: Record<string, unknown> = {
    ts: isoTime(o.time),
    frame: o.frame,
    kind: o.kind,
    name: o.name,
    src: o.src,
    dst: o.dst,
    sport: o.sport,
    dport: o.dport,
  };
  if (o.rrtype !== undefined) j['rrtype'] = o.rrtype;
  if (o.data !== undefined) j['data'] = o.data;
  j['transport'] = o.transport;
  if (o.qtype !== undefined) j['qtype'] = o.qtype;
  if (o.alpn !== undefined) j['alpn'] = o.alpn;
  if (o.ech) j['ech'] = true;
  if (o.ja4 !== undefined) j['ja4'] = o.ja4;
  if (o.http_path !== undefined) j['http_path'] = o.http_path;
  if (o.vlan !== undefined) j['vlan'] = o.vlan;
  if (o.tunnel !== undefined) j['tunnel'] = o.tunnel;
  if (withFile && o.source !== undefined) j['file'] = o.source;
  return JSON.stringify(j);
}

function interruptible(): AbortController {
  const ac = new AbortController();
  const stop = (sig: NodeJS.Signals): void => {
    process.stderr.write(`kasmon: ${sig}: stopping after the current chunk; flushing what was collected\n`);
    ac.abort(sig);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac;
}

function interruptedCode(ac: AbortController): number | undefined {
  if (!ac.signal.aborted) return undefined;
  return exitForSignal(ac.signal.reason);
}

/** Reports inputs that were skipped or cut short (one line each) and picks the exit code. */
function problems(run: RunResult): number {
  for (const m of run.rejected) process.stderr.write(`kasmon: ${m} (skipped; the other inputs were processed)\n`);
  for (const d of run.damaged) process.stderr.write(`kasmon: ${d}\n`);
  if (run.rejected.length > 0) return EXIT.usage;
  return run.damaged.length > 0 ? EXIT.damaged : EXIT.ok;
}

/** The config file, with --cutoff/--observer laid over it through the same validation. */
function loadWithOverrides(file: string | undefined, cutoff: string | undefined, observer: string | undefined): Config {
  const config = loadConfig(file);
  if (cutoff === undefined && observer === undefined) return config;
  const over = [
    cutoff !== undefined ? `cutoff: ${JSON.stringify(cutoff)}` : '',
    observer !== undefined ? `observer:\n  name: ${JSON.stringify(observer)}` : '',
  ].join('\n');
  return parseConfig(over, 'command line (--cutoff/--observer)', config);
}

async function replay(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      format: { type: 'string', default: 'table' },
      alerts: { type: 'string' },
      cutoff: { type: 'string' },
      observer: { type: 'string' },
      'fail-on-alert': { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) throw new UsageError('replay needs at least one capture file (or - for stdin)');
  if (values.format !== 'table' && values.format !== 'json') throw new UsageError(`--format ${values.format}: use table or json`);
  const config = loadWithOverrides(values.config, values.cutoff, values.observer);
  const sink = values.alerts !== undefined ? new NdjsonSink(values.alerts) : undefined;
  const ctx = { observerName: config.observer.name, cutoffIso: config.cutoff.iso };
  const analyzer = createAnalyzer(config, { onAlert: (a, c) => sink?.write(alertEvent(a, c, ctx)) });
  const decoder = createDecoder(config, (o) => analyzer.onObservation(o), true);
  const ac = interruptible();
  let run;
  try {
    run = await readAll(positionals, decoder, { signal: ac.signal, afterChunk: () => sink?.flush() });
  } finally {
    await sink?.close();
  }
  const r = report(config, decoder, analyzer, run);
  const out = values.format === 'json' ? JSON.stringify(r, null, 2) + '\n' : renderTable(r);
  // When alerts go to stdout too, keep the report off it (stderr) so the NDJSON stays clean.
  if (values.alerts === '-') process.stderr.write(out);
  else process.stdout.write(out);
  const interrupted = interruptedCode(ac);
  if (interrupted !== undefined) return interrupted;
  if (values['fail-on-alert'] && r.totals.clients_after_cutoff > 0) return EXIT.alert;
  return problems(run);
}

async function names(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: 'string' }, stats: { type: 'boolean', default: false } },
  });
  if (positionals.length === 0) throw new UsageError('names needs at least one capture file (or - for stdin)');
  const config = loadConfig(values.config);
  const out = new Stdout();
  const withFile = positionals.length > 1;
  const decoder = createDecoder(config, (o) => out.write(observationJson(o, withFile) + '\n'));
  const ac = interruptible();
  const run = await readAll(positionals, decoder, { signal: ac.signal, afterChunk: () => (out.pending > 0 ? out.flush() : undefined) });
  await out.flush();
  if (values.stats) {
    const s = decoder.stats;
    const lines = [`frames ${s.frames}, bytes ${s.bytes}`, `observations ${JSON.stringify(s.observations)}`];
    for (const d of decoder.issues.rows()) lines.push(`${d.layer}/${d.kind}/${d.reason} ${d.count}`);
    for (const [k, n] of Object.entries(decoder.evictions())) lines.push(`evictions ${k} ${n}`);
    const pend = decoder.pending();
    lines.push(`pending flows ${pend.flows}, fragment trains ${pend.fragmentTrains}, quic connections ${pend.quicConnections}`);
    lines.push(`peak rss ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
    process.stderr.write(lines.join('\n') + '\n');
  }
  return interruptedCode(ac) ?? problems(run);
}

function checkConfig(args: string[]): number {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length > 1) throw new UsageError('check-config takes at most one file');
  const c = loadConfig(positionals[0]);
  const rules = c.endpoints.reduce<Record<string, number>>((m, r) => ((m[r.category] = (m[r.category] ?? 0) + 1), m), {});
  const effective = {
    files: c.files,
    cutoff: c.cutoff.iso,
    observer: c.observer.name,
    alerts: c.alerts,
    limits: c.limits,
    dns: c.dns,
    public_dns_fallback: c.publicDnsFallback,
    appliances: c.appliances,
    rules_by_category: rules,
  };
  process.stdout.write(`config OK\n${JSON.stringify(effective, null, 2)}\n`);
  return EXIT.ok;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'replay':
        return await replay(rest);
      case 'names':
        return await names(rest);
      case 'check-config':
        return checkConfig(rest);
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        return EXIT.ok;
      case undefined:
        process.stderr.write(USAGE);
        return EXIT.usage;
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof KasmonError) {
      process.stderr.write(`kasmon: ${e.message}\n`);
      return e.exitCode;
    }
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`kasmon: ${(e as Error).message}; see kasmon --help\n`);
      return EXIT.usage;
    }
    throw e;
  }
}

// A reader that went away (`kasmon names big.pcap | head`) is not an error: stop quietly,
// as tcpdump and tshark do. Any other output failure is reported once, with exit 1.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
  process.stderr.write(`kasmon: cannot write to stdout (${e.code ?? e.message})\n`);
  process.exit(EXIT.runtime);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`kasmon: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = EXIT.runtime;
  },
);
