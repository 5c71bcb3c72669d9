import { accessSync, constants } from 'node:fs';
import { Analyzer, type AnalyzerHooks } from '../analyze/analyzer.js';
import { Matcher } from '../analyze/hostnames.js';
import { Decoder } from '../capture/decoder.js';
import type { Observation, ObservationKind } from '../capture/observation.js';
import { readCapture, type ReadResult } from '../capture/read/source.js';
import type { Config } from '../config/load.js';
import { EXIT, KasmonError } from '../errors.js';

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
  /** Inputs cut short or damaged part-way (what came before was processed). */
  damaged: string[];
  /** Inputs that turned out not to be captures: skipped, the others still processed. */
  rejected: string[];
}

/**
 * Reads every input in turn into one decoder (flows continue across files, as across
 * rotated captures). Paths are checked before anything is read, so a typo fails fast; an
 * input that opens but is not a capture is reported and skipped, and the rest still counts.
 */
export async function readAll(inputs: readonly string[], decoder: Decoder, opts: RunOptions = {}): Promise<RunResult> {
  for (const input of inputs) {
    if (input === '-') continue;
    try {
      accessSync(input, constants.R_OK);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new KasmonError('ERR_INPUT_UNREADABLE', `${input}: cannot read capture (${why}); check the path and permissions`);
    }
  }
  const reads: ReadResult[] = [];
  const damaged: string[] = [];
  const rejected: string[] = [];
  const onFrame = decoder.onFrame.bind(decoder);
  for (const input of inputs) {
    if (opts.signal?.aborted) break;
    decoder.setSource(inputs.length > 1 ? input : undefined);
    let r: ReadResult;
    try {
      r = await readCapture(input, onFrame, opts);
    } catch (e) {
      if (inputs.length > 1 && e instanceof KasmonError && e.exitCode === EXIT.usage) {
        rejected.push(e.message);
        continue;
      }
      throw e;
    }
    reads.push(r);
    if (r.damaged !== undefined) damaged.push(r.damaged);
  }
  decoder.finish();
  return { reads, damaged, rejected };
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
  return new Decoder(emit, { dnsPorts: config.dns.ports, limits: config.limits, ...(accept ? { accept, nameRoots: m.rootNames() } : {}) });
}
