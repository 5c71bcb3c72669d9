import client from 'prom-client';
import { CATEGORIES, SEVERITIES } from '../analyze/rules.js';
import type { Sensor } from '../engine/sensor.js';
import type { SinkStatus } from './alert-sinks.js';
import { RETRY_REASONS } from './sinks/http.js';

/**
 * The sensor's Prometheus metrics (README "Metrics" is the reference). Pull, not push: every
 * metric is computed at scrape time by a `collect()` callback that reads the engine's own
 * counters (DESIGN.md "Pull metrics"), so the hot path never touches prom-client. Counters are
 * set to the engine's running totals (reset + inc in collect), which never go down while the
 * process lives. Labels come only from closed sets (kind, category, phase, severity, layer,
 * reason, table, interface): never a client address or a hostname.
 *
 * Two registries with the same metrics: Prometheus text and OpenMetrics (prom-client fixes a
 * registry's format, and renames counters in place for OpenMetrics, so one cannot serve both).
 */
export interface MetricsSource {
  readonly sensor: Sensor;
  readonly version: string;
  /** Alert sinks' state: the NDJSON file and every network sink (README "Metrics"). */
  sinks?(): readonly SinkStatus[];
}

export interface SensorMetrics {
  readonly prometheus: client.Registry;
  readonly openMetrics: client.Registry<client.OpenMetricsContentType>;
}

export function buildMetrics(src: MetricsSource): SensorMetrics {
  const prometheus = new client.Registry();
  const openMetrics = new client.Registry<client.OpenMetricsContentType>();
  openMetrics.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
  register(prometheus, src);
  client.collectDefaultMetrics({ register: prometheus });
  register(openMetrics, src);
  client.collectDefaultMetrics({ register: openMetrics });
  return { prometheus, openMetrics };
}

type Labels = Record<string, string>;
const MS = 1000;

function register(reg: client.Registry<client.RegistryContentType>, src: MetricsSource): void {
  const s = src.sensor;
  const e = (): typeof s.engine => s.engine;
  const gauge = (name: string, help: string, labelNames: string[], read: (set: (v: number, labels?: Labels) => void) => void): void => {
    new client.Gauge({
      name,
      help,
      labelNames,
      registers: [reg],
      collect() {
        this.reset();
        read((v, labels) => (labels ? this.set(labels, v) : this.set(v)));
      },
    });
  };
  const counter = (name: string, help: string, labelNames: string[], read: (add: (v: number, labels?: Labels) => void) => void): void => {
    new client.Counter({
      name,
      help,
      labelNames,
      registers: [reg],
      collect() {
        this.reset();
        read((v, labels) => (labels ? this.inc(labels, v) : this.inc(v)));
      },
    });
  };

  gauge('kasmon_build_info', 'kasmon build: always 1', ['version', 'node'], (set) => set(1, { version: src.version, node: process.version }));
  gauge('kasmon_config_info', 'the rule list in force: always 1', ['rules_sha256', 'observer'], (set) =>
    set(1, { rules_sha256: e().policy.rulesHash, observer: e().policy.observer }),
  );
  counter('kasmon_config_reloads_total', 'config reloads (SIGHUP) by result', ['result'], (add) => {
    add(s.reloads.success, { result: 'success' });
    add(s.reloads.failure, { result: 'failure' });
  });
  gauge('kasmon_cutoff_timestamp_seconds', 'the cutoff in force (packet time)', [], (set) => set(e().policy.cutoffMicros / 1e6));
  counter('kasmon_packets_total', 'frames read', [], (add) => add(e().decoder.stats.frames));
  counter('kasmon_bytes_total', 'bytes of frames read', [], (add) => add(e().decoder.stats.bytes));
  gauge('kasmon_last_packet_timestamp_seconds', 'wall-clock time the last frame was read (0: none yet)', [], (set) => set((s.lastPacketWallMs ?? 0) / MS));
  gauge('kasmon_network_time_seconds', "the capture's network time (packet time; 0 before the first packet)", [], (set) => {
    const now = e().clock.now;
    set(Number.isFinite(now) ? now / 1e6 : 0);
  });
  counter('kasmon_observations_total', 'hostnames decoded, by kind', ['kind'], (add) => {
    for (const [kind, n] of Object.entries(e().decoder.stats.observations)) add(n, { kind });
  });
  counter('kasmon_matches_total', 'observations that matched a Kaspersky rule', ['category', 'kind', 'phase'], (add) => {
    for (const m of e().analyzer?.matches() ?? []) add(m.count, { category: m.category, kind: m.kind, phase: m.phase });
  });
  counter('kasmon_alerts_total', 'alerts raised', ['category', 'severity'], (add) => {
    const counts = e().analyzer?.alertCounts ?? [];
    counts.forEach((n, i) => {
      if (n > 0) add(n, { category: CATEGORIES[Math.floor(i / SEVERITIES.length)]!, severity: SEVERITIES[i % SEVERITIES.length]! });
    });
  });
  counter('kasmon_alerts_suppressed_total', 'post-cutoff contacts folded into an earlier alert', [], (add) => add(e().analyzer?.alertsSuppressed ?? 0));
  gauge('kasmon_clients', 'clients in the live table', [], (set) => set(e().analyzer?.clients.size ?? 0));
  gauge('kasmon_clients_after_cutoff', 'clients in the live table that contacted Kaspersky at or after the cutoff', [], (set) => {
    let n = 0;
    for (const c of e().analyzer?.clients.clients() ?? []) if (c.after > 0 && !c.appliance) n++;
    set(n);
  });
  gauge('kasmon_last_match_timestamp_seconds', 'packet time of the latest match, by category', ['category'], (set) => {
    e().analyzer?.lastMatchMicros.forEach((us, i) => {
      if (Number.isFinite(us)) set(us / 1e6, { category: CATEGORIES[i]! });
    });
  });
  counter('kasmon_decode_issues_total', 'what could not be decoded; layer "name": names lost, with why', ['layer', 'kind', 'reason'], (add) => {
    for (const r of e().decoder.issues.rows()) add(r.count, { layer: r.layer, kind: r.kind, reason: r.reason });
  });
  counter('kasmon_evictions_total', 'entries dropped from a bounded table', ['table'], (add) => {
    const a = e().analyzer;
    add(a?.clients.evictions ?? 0, { table: 'clients' });
    add(a?.clients.expired ?? 0, { table: 'clients_idle' });
    add(a?.clients.namesDropped ?? 0, { table: 'client_names' });
    add(a?.dns.evictions ?? 0, { table: 'dns_answers' });
    for (const [table, n] of Object.entries(e().decoder.evictions())) add(n, { table });
  });
  gauge('kasmon_table_bytes', 'bytes a state table holds', ['table'], (set) => {
    set(e().analyzer?.clients.bytes ?? 0, { table: 'clients' });
    set(e().analyzer?.dns.bytes ?? 0, { table: 'dns_answers' });
    for (const [table, n] of Object.entries(e().decoder.memory())) set(n, { table });
  });
  gauge('kasmon_table_budget_bytes', "a state table's byte budget (limits.memory)", ['table'], (set) => {
    const m = s.config.limits.memory;
    set(m.clients, { table: 'clients' });
    set(m.dnsAnswers, { table: 'dns_answers' });
    set(m.tcpFlows, { table: 'tcp_flows' });
    set(m.ipFragments, { table: 'ip_fragments' });
    set(m.quic, { table: 'quic' });
  });
  counter('kasmon_clock_steps_total', "real jumps of the capture's clock", ['direction'], (add) => {
    add(e().clock.stepsForward, { direction: 'forward' });
    add(e().clock.stepsBackward, { direction: 'backward' });
  });
  counter('kasmon_errors_total', "kasmon's own failures (should stay 0)", ['where'], (add) => {
    add(e().errors.analysis, { where: 'analysis' });
    add(e().errors.output, { where: 'output' });
  });
  gauge('kasmon_capture_up', "1 while an interface's tcpdump runs", ['interface'], (set) => {
    for (const c of s.captureStatus()) set(c.up ? 1 : 0, { interface: c.interface });
  });
  counter('kasmon_capture_packets_received_total', "tcpdump's packets received by filter, summed over restarts", ['interface'], (add) => {
    for (const c of s.captureStatus()) add(c.received, { interface: c.interface });
  });
  counter('kasmon_capture_packets_dropped_total', "tcpdump's drop counters, summed over restarts", ['interface', 'where'], (add) => {
    for (const c of s.captureStatus()) {
      add(c.droppedKernel, { interface: c.interface, where: 'kernel' });
      add(c.droppedInterface, { interface: c.interface, where: 'interface' });
    }
  });
  counter('kasmon_capture_restarts_total', 'tcpdump exits and failures to start', ['interface'], (add) => {
    for (const c of s.captureStatus()) add(c.restarts, { interface: c.interface });
  });
  gauge('kasmon_checkpoint_timestamp_seconds', 'wall-clock time of the last state checkpoint (0: none)', [], (set) => set((s.lastCheckpoint?.atMs ?? 0) / MS));
  if (src.sinks !== undefined) {
    const sinks = src.sinks;
    counter('kasmon_sink_notifications_total', 'alert notifications by sink and final result: delivered, rejected (a 4xx, not retried), dropped (a full queue or spool)', ['sink', 'result'], (add) => {
      for (const k of sinks()) {
        add(k.delivered, { sink: k.name, result: 'delivered' });
        add(k.rejected, { sink: k.name, result: 'rejected' });
        add(k.dropped, { sink: k.name, result: 'dropped' });
      }
    });
    counter('kasmon_sink_retries_total', 'failed requests that are retried, by why: connection, timeout, server_error (5xx), too_many_requests (429)', ['sink', 'reason'], (add) => {
      for (const k of sinks()) if (k.kind !== 'ndjson') for (const r of RETRY_REASONS) add(k.retries[r], { sink: k.name, reason: r });
    });
    gauge('kasmon_sink_queue_length', 'notifications waiting to be sent', ['sink'], (set) => {
      for (const k of sinks()) set(k.queued, { sink: k.name });
    });
    gauge('kasmon_sink_queue_capacity', 'the most notifications a sink holds (sinks.queue_size)', ['sink'], (set) => {
      for (const k of sinks()) if (k.queueCapacity > 0) set(k.queueCapacity, { sink: k.name });
    });
    gauge('kasmon_sink_spool_bytes', 'bytes of undelivered notifications in the spool (state directory)', ['sink'], (set) => {
      for (const k of sinks()) if (k.spoolLimitBytes > 0) set(k.spoolBytes, { sink: k.name });
    });
    gauge('kasmon_sink_spool_limit_bytes', 'the bound of the spool (sinks.spool_bytes)', ['sink'], (set) => {
      for (const k of sinks()) if (k.spoolLimitBytes > 0) set(k.spoolLimitBytes, { sink: k.name });
    });
    gauge('kasmon_sink_last_success_timestamp_seconds', 'wall-clock time of the last delivery (0: none yet)', ['sink'], (set) => {
      for (const k of sinks()) set((k.lastSuccessMs ?? 0) / MS, { sink: k.name });
    });
    gauge('kasmon_sink_up', '1 while a sink delivers; 0 from a failed request (or a refusal) until the next success', ['sink'], (set) => {
      for (const k of sinks()) set(k.up ? 1 : 0, { sink: k.name });
    });
    gauge('kasmon_sink_alerts_firing', 'Alertmanager sinks: findings (client x category) kept firing there', ['sink'], (set) => {
      for (const k of sinks()) if (k.firing !== undefined) set(k.firing, { sink: k.name });
    });
  }
}
