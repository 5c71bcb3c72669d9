import { CATEGORIES, SEVERITIES } from '../analyze/rules.js';
import type { Analyzer } from '../analyze/analyzer.js';
import { issueRows } from '../engine/decode-totals.js';
import type { Config } from '../config/load.js';
import type { DecodeTotals } from '../engine/decode-totals.js';
import type { EngineErrors } from '../engine/engine.js';
import type { Policy } from '../engine/policy.js';

/**
 * `kasmon replay --openmetrics FILE`: the sensor's metrics as they would have been scraped
 * while the capture was recorded, one sample per series every `step` seconds of packet time,
 * in the OpenMetrics text format that `promtool tsdb create-blocks-from openmetrics` loads. The
 * dashboards then show a replay's history as if a sensor had watched it live.
 *
 * Same names, labels and meanings as `GET /metrics` (README "Metrics";
 * test/export/backfill.test.ts compares the two). Left out, because a replay has no such
 * thing: the wall-clock gauges (`kasmon_last_packet_timestamp_seconds`,
 * `kasmon_checkpoint_timestamp_seconds`), tcpdump's `kasmon_capture_*`, config reloads, the
 * sinks' and prom-client's `process_*`/`nodejs_*` metrics.
 *
 * Samples are taken when network time (engine/clock.ts) crosses a multiple of the step, before
 * the frame that crossed it is read, and once more at the end (the last step boundary at or
 * after the last packet). A stretch with no packets gets no samples, so Prometheus shows the
 * gap instead of a flat line. OpenMetrics wants each family's samples together, so they are
 * kept per series (a number and a time per sample) and written at the end.
 */
type Labels = Readonly<Record<string, string>>;
type Add = (v: number, labels?: Labels) => void;

/** What the metrics are read from: a replay's state so far (its inputs' totals, the input being read, the analyzer). */
export interface MetricsView {
  readonly policy: Policy;
  readonly analyzer: Analyzer | undefined;
  readonly errors: EngineErrors;
  /** Decode totals of every input so far, the one being read included. */
  totals(): DecodeTotals;
  /** Bytes the decoder's tables hold now (the input being read). */
  memory(): Record<string, number>;
  /** Network time now (µs; NaN before the first packet). */
  now(): number;
}

interface Snapshot {
  readonly v: MetricsView;
  readonly t: DecodeTotals;
}

interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly read: (s: Snapshot, add: Add) => void;
}

/** The families, as metrics.ts declares them (name with `_total` for counters, as /metrics shows). */
export function families(config: Config, version: string): readonly Family[] {
  const counter = (name: string, help: string, read: Family['read']): Family => ({ name, type: 'counter', help, read });
  const gauge = (name: string, help: string, read: Family['read']): Family => ({ name, type: 'gauge', help, read });
  return [
    gauge('kasmon_build_info', 'kasmon build: always 1', (_e, add) => add(1, { version, node: process.version })),
    gauge('kasmon_config_info', 'the rule list in force: always 1', (s, add) => add(1, { rules_sha256: s.v.policy.rulesHash, observer: s.v.policy.observer })),
    gauge('kasmon_cutoff_timestamp_seconds', 'the cutoff in force (packet time)', (s, add) => add(s.v.policy.cutoffMicros / 1e6)),
    counter('kasmon_packets_total', 'frames read', (s, add) => add(s.t.frames)),
    counter('kasmon_bytes_total', 'bytes of frames read', (s, add) => add(s.t.bytes)),
    gauge('kasmon_network_time_seconds', "the capture's network time (packet time; 0 before the first packet)", (s, add) => add(Number.isFinite(s.v.now()) ? s.v.now() / 1e6 : 0)),
    counter('kasmon_observations_total', 'hostnames decoded, by kind', (s, add) => {
      for (const [kind, n] of Object.entries(s.t.observations)) add(n, { kind });
    }),
    counter('kasmon_matches_total', 'observations that matched a Kaspersky rule', (s, add) => {
      for (const m of s.v.analyzer?.matches() ?? []) add(m.count, { category: m.category, kind: m.kind, phase: m.phase });
    }),
    counter('kasmon_alerts_total', 'alerts raised', (s, add) => {
      (s.v.analyzer?.alertCounts ?? []).forEach((n, i) => {
        if (n > 0) add(n, { category: CATEGORIES[Math.floor(i / SEVERITIES.length)]!, severity: SEVERITIES[i % SEVERITIES.length]! });
      });
    }),
    counter('kasmon_alerts_suppressed_total', 'post-cutoff contacts folded into an earlier alert', (s, add) => add(s.v.analyzer?.alertsSuppressed ?? 0)),
    gauge('kasmon_clients', 'clients in the live table', (s, add) => add(s.v.analyzer?.clients.size ?? 0)),
    gauge('kasmon_clients_after_cutoff', 'clients in the live table that contacted Kaspersky at or after the cutoff', (s, add) => {
      let n = 0;
      for (const c of s.v.analyzer?.clients.clients() ?? []) if (c.after > 0 && !c.appliance) n++;
      add(n);
    }),
    gauge('kasmon_last_match_timestamp_seconds', 'packet time of the latest match, by category', (s, add) => {
      s.v.analyzer?.lastMatchMicros.forEach((us, i) => {
        if (Number.isFinite(us)) add(us / 1e6, { category: CATEGORIES[i]! });
      });
    }),
    counter('kasmon_decode_issues_total', 'what could not be decoded; layer "name": names lost, with why', (s, add) => {
      for (const r of issueRows(s.t)) add(r.count, { layer: r.layer, kind: r.kind, reason: r.reason });
    }),
    counter('kasmon_evictions_total', 'entries dropped from a bounded table', (s, add) => {
      const a = s.v.analyzer;
      add(a?.clients.evictions ?? 0, { table: 'clients' });
      add(a?.clients.expired ?? 0, { table: 'clients_idle' });
      add(a?.clients.namesDropped ?? 0, { table: 'client_names' });
      add(a?.dns.evictions ?? 0, { table: 'dns_answers' });
      for (const [table, n] of Object.entries(s.t.evictions)) add(n, { table });
    }),
    gauge('kasmon_table_bytes', 'bytes a state table holds', (s, add) => {
      add(s.v.analyzer?.clients.bytes ?? 0, { table: 'clients' });
      add(s.v.analyzer?.dns.bytes ?? 0, { table: 'dns_answers' });
      for (const [table, n] of Object.entries(s.v.memory())) add(n, { table });
    }),
    gauge('kasmon_table_budget_bytes', "a state table's byte budget (limits.memory)", (_e, add) => {
      const m = config.limits.memory;
      add(m.clients, { table: 'clients' });
      add(m.dnsAnswers, { table: 'dns_answers' });
      add(m.tcpFlows, { table: 'tcp_flows' });
      add(m.ipFragments, { table: 'ip_fragments' });
      add(m.quic, { table: 'quic' });
    }),
    counter('kasmon_clock_steps_total', "real jumps of the capture's clock", (s, add) => {
      add(s.t.clock.stepsForward, { direction: 'forward' });
      add(s.t.clock.stepsBackward, { direction: 'backward' });
    }),
    counter('kasmon_errors_total', "kasmon's own failures (should stay 0)", (s, add) => {
      add(s.v.errors.analysis, { where: 'analysis' });
      add(s.v.errors.output, { where: 'output' });
    }),
  ];
}

interface Series {
  readonly labels: string;
  readonly values: number[];
  readonly times: number[];
}

/** OpenMetrics label value escaping: backslash, double quote, line feed. */
const escLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function labelText(l: Labels | undefined): string {
  if (l === undefined) return '';
  const keys = Object.keys(l);
  return keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${escLabel(l[k]!)}"`).join(',')}}`;
}

/** OpenMetrics numbers: integers as they are, others with enough digits to round-trip. */
const num = (v: number): string => (Number.isInteger(v) ? String(v) : String(v));

export class Backfill {
  private readonly fams: readonly Family[];
  private readonly series: Array<Map<string, Series>>;
  /** Samples taken (one per step crossed, plus the last). */
  steps = 0;
  private lastT = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly view: MetricsView,
    config: Config,
    version: string,
    readonly stepSeconds: number,
  ) {
    this.fams = families(config, version);
    this.series = this.fams.map(() => new Map<string, Series>());
  }

  /** Takes one sample of every series at `tSec` (packet time, a multiple of the step). */
  sample(tSec: number): void {
    if (tSec <= this.lastT) return;
    this.lastT = tSec;
    this.steps++;
    const snap: Snapshot = { v: this.view, t: this.view.totals() };
    this.fams.forEach((f, i) => {
      const m = this.series[i]!;
      f.read(snap, (v, labels) => {
        const key = labelText(labels);
        let s = m.get(key);
        if (s === undefined) {
          s = { labels: key, values: [], times: [] };
          m.set(key, s);
        }
        s.values.push(v);
        s.times.push(tSec);
      });
    });
  }

  /** The file, in pieces: family by family, series by series, ending with `# EOF`. */
  *render(): Generator<string> {
    for (let i = 0; i < this.fams.length; i++) {
      const f = this.fams[i]!;
      const m = this.series[i]!;
      if (m.size === 0) continue;
      const base = f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
      let out = `# HELP ${base} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${base} ${f.type}\n`;
      for (const s of [...m.values()].sort((a, b) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0))) {
        for (let k = 0; k < s.values.length; k++) {
          out += `${f.name}${s.labels} ${num(s.values[k]!)} ${s.times[k]}\n`;
          if (out.length > 1 << 16) {
            yield out;
            out = '';
          }
        }
      }
      yield out;
    }
    yield '# EOF\n';
  }
}
