import { Analyzer, type AnalyzerHooks } from './analyze/analyzer.js';
import { Matcher } from './analyze/hostnames.js';
import { Decoder } from './capture/decoder.js';
import type { Observation, ObservationKind } from './capture/observation.js';
import { readCapture, type ReadResult } from './capture/source.js';
import type { Config } from './config.js';
import { buildReport, type ReplayReport } from './export/report.js';

/**
 * Wires capture → analyze for a list of inputs. No process globals here (the CLI owns
 * stdout, signals and exit codes), so tests drive the same code the CLI runs.
 */
export interface RunOptions {
  signal?: AbortSignal;
  /** Awaited once per chunk of input: outputs flush here. */
  afterChunk?: () => Promise<void> | void;
}

export interface RunResult {
  reads: ReadResult[];
  damaged: string[];
}

export async function readAll(inputs: readonly string[], decoder: Decoder, opts: RunOptions = {}): Promise<RunResult> {
  const reads: ReadResult[] = [];
  const damaged: string[] = [];
  const onFrame = decoder.onFrame.bind(decoder);
  for (const input of inputs) {
    if (opts.signal?.aborted) break;
    decoder.setSource(inputs.length > 1 ? input : undefined);
    const r = await readCapture(input, onFrame, opts);
    reads.push(r);
    if (r.damaged !== undefined) damaged.push(r.damaged);
  }
  decoder.finish();
  return { reads, damaged };
}

export function createAnalyzer(config: Config, hooks: AnalyzerHooks = {}): Analyzer {
  return new Analyzer(
    {
      matcher: matcherFor(config),
      cutoffMicros: config.cutoff.micros,
      suppressMicros: config.alerts.suppressSeconds * 1_000_000,
      maxClients: config.limits.maxClients,
      minAlertSeverity: config.alerts.minSeverity,
      publicDnsFallback: config.publicDnsFallback.map((r) => r.address),
      appliances: config.appliances.map((a) => a.address),
    },
    hooks,
  );
}

const matchers = new WeakMap<Config, Matcher>();
function matcherFor(config: Config): Matcher {
  let m = matchers.get(config);
  if (m === undefined) matchers.set(config, (m = new Matcher(config.endpoints)));
  return m;
}

/**
 * `onlyMatches`: build observations only for names a rule matches (replay); every name is
 * still decoded and counted.
 */
export function createDecoder(config: Config, emit: (o: Observation) => void, onlyMatches = false): Decoder {
  const m = matcherFor(config);
  const accept = onlyMatches
    ? (_k: ObservationKind, name: string, cname: string | undefined): boolean => m.match(name) !== undefined || (cname !== undefined && m.match(cname) !== undefined)
    : undefined;
  return new Decoder(emit, { dnsPorts: config.dns.ports, limits: config.limits, ...(accept ? { accept } : {}) });
}

export function report(config: Config, decoder: Decoder, analyzer: Analyzer, run: RunResult): ReplayReport {
  return buildReport({
    cutoffMicros: config.cutoff.micros,
    observer: config.observer.name,
    reads: run.reads,
    frames: decoder.stats.frames,
    bytes: decoder.stats.bytes,
    observations: decoder.stats.observations,
    analyzer,
    issues: decoder.issues,
    evictions: decoder.evictions(),
  });
}
