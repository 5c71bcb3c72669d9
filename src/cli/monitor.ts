import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import type { Config } from '../config/load.js';
import { parseListen } from '../config/schema.js';
import { Sensor } from '../engine/sensor.js';
import { EXIT, KasmonError } from '../errors.js';
import { NdjsonAlertSink, RecentAlerts, type AlertSink } from '../export/alert-sinks.js';
import { alertEvent } from '../export/ecs.js';
import { buildMetrics } from '../export/metrics.js';
import { buildServer } from '../export/server.js';
import { buildNetworkSinks } from '../export/sinks/network.js';
import { loadWithOverrides } from './common.js';
import { MONITOR, parseCommand } from './options.js';
import { refuseOverwrite } from './outputs.js';
import { UsageError } from './usage-error.js';
import { version } from './version.js';

/**
 * `kasmon monitor`: the live sensor (README "Run it as a sensor"). Wires a Sensor (engine,
 * captures, checkpoints), the alert sinks, the metrics and the HTTP server, and owns the
 * process: signals, logs, the exit code. Resolves when the sensor has stopped.
 */
const LOOPBACK = /^(127\.|localhost$|::1$|\[::1\]$)/;
/** How long a stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 10_000;

export async function monitor(args: string[]): Promise<number> {
  const { values } = parseCommand(MONITOR, args);
  const ifaces = values.interface ?? [];
  if ((ifaces.length > 0) === (values.read !== undefined)) {
    throw new UsageError('monitor needs either -i IFACE (one or more) or --read FILE|-, not both');
  }
  if (values.alerts !== undefined) refuseOverwrite('--alerts', values.alerts, { inputs: values.read !== undefined ? [values.read] : [], config: values.config }, 'monitor');
  const configFile = values.config;
  const load = (): Config => loadWithOverrides(configFile, undefined, values.observer);
  const config = load();
  const listenText = values.listen ?? config.monitor.listen;
  const listen = parseListen(listenText);
  if (listen === undefined) throw new UsageError(`--listen ${listenText}: not HOST:PORT; write it like 127.0.0.1:20929 or [::1]:20929`);
  const tokenFile = values['api-token-file'] ?? (config.monitor.apiTokenFile !== '' ? config.monitor.apiTokenFile : undefined);
  const token = tokenFile === undefined ? undefined : readToken(tokenFile);

  const log: Logger = pino({ level: values['log-level'], base: { observer: config.observer.name } }, pino.destination({ fd: 2, sync: true }));
  if (!LOOPBACK.test(listen.host) && token === undefined) {
    log.warn({ listen: listenText }, 'listening beyond loopback without a token: anyone who reaches this port sees the client list; set monitor.api_token_file');
  }

  const recent = new RecentAlerts();
  const sinks: AlertSink[] = [recent];
  if (values.alerts !== undefined) sinks.push(new NdjsonAlertSink(values.alerts));
  // The network sinks read the sensor's clock, clients and config when they run (it is made below).
  const live: { sensor?: Sensor } = {};
  const network = buildNetworkSinks({
    config,
    alertmanagerUrls: values.alertmanager,
    webhookUrls: values.webhook,
    stateDir: values['state-dir'] ?? config.monitor.stateDir,
    log,
    version: version(),
    externalUrl: config.monitor.externalUrl !== '' ? config.monitor.externalUrl : urlOf(listen),
    findings: {
      now: () => live.sensor?.engine.clock.now ?? Number.NaN,
      resolveMicros: () => (live.sensor?.config ?? config).alerts.resolveSeconds * 1_000_000,
      suppressMicros: () => (live.sensor?.config ?? config).alerts.suppressSeconds * 1_000_000,
      client: (ip) => live.sensor?.engine.analyzer?.clients.get(ip),
      observer: () => live.sensor?.engine.policy.observer ?? config.observer.name,
      cutoffIso: () => (live.sensor?.config ?? config).cutoff.iso,
    },
  });
  sinks.push(...network);
  const sensor: Sensor = new Sensor({
    config,
    interfaces: ifaces,
    read: values.read,
    filter: values.filter,
    filterAdd: values['filter-add'],
    stateDir: values['state-dir'],
    log,
    onAlert: (a, c) => {
      const ev = alertEvent(a, c, { observerName: sensor.engine.policy.observer, cutoffIso: sensor.config.cutoff.iso });
      for (const s of sinks) s.offer(ev, a, c);
    },
  });
  live.sensor = sensor;
  const metrics = buildMetrics({ sensor, version: version(), sinks: () => sinks.filter((s) => s !== recent).map((s) => s.status()) });
  const app = buildServer({ sensor, metrics, recent, version: version(), token, sinks: () => sinks.filter((s) => s !== recent).map((s) => s.status()) });
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new KasmonError('ERR_OUTPUT', `cannot listen on ${listenText} (${code}); pick another --listen or stop what uses it`, EXIT.runtime);
  }
  for (const n of network) {
    const queued = await n.start();
    if (queued > 0) log.info({ sink: n.name, notifications: queued }, 'spooled alert notifications from before the restart: sending them');
  }
  if (network.length > 0 && sensor.stateDir === '') {
    log.warn({ sinks: network.map((n) => n.name) }, 'no state directory (--state-dir, monitor.state_dir): alert notifications not yet delivered are lost on a restart');
  }
  await sensor.start();
  log.info(
    {
      version: version(),
      listen: listenText,
      interfaces: ifaces,
      read: values.read,
      stateDir: sensor.stateDir || undefined,
      rules: sensor.engine.policy.rulesHash.slice(0, 12),
      filter: ifaces.length > 0 ? sensor.filter : undefined,
      sinks: sinks.filter((k) => k !== recent).map((k) => k.name),
    },
    'sensor started',
  );
  const flush = setInterval(() => {
    for (const s of sinks) void s.flush();
  }, 1000);

  const reload = (): void => {
    let next: Config;
    try {
      next = load();
    } catch (e) {
      const msg = (e as Error).message;
      sensor.reloadFailed(msg.split('\n')[0] ?? msg);
      for (const line of msg.split('\n')) log.error({ config: configFile }, line);
      log.error({ config: configFile }, 'config reload failed: the previous config stays in force');
      return;
    }
    const was = sensor.config;
    const notes = sensor.reload(next);
    if (JSON.stringify(was.sinks) !== JSON.stringify(next.sinks) || was.monitor.externalUrl !== next.monitor.externalUrl) {
      notes.push('sinks settings and monitor.external_url apply after a restart (credential files are read again now)');
    }
    log.info({ config: configFile, rules: sensor.engine.policy.rulesHash.slice(0, 12), files: next.files }, 'config reloaded');
    for (const n of notes) log.warn({ config: configFile }, n);
  };

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const onHup = (): void => {
      reload();
      for (const s of sinks) void s.reopen?.();
    };
    const stop = (sig: NodeJS.Signals): void => {
      if (stopping) {
        log.warn({ signal: sig }, 'second signal: exiting now');
        process.exit(exitFor(sig));
      }
      stopping = true;
      log.info({ signal: sig }, 'stopping: capture, final checkpoint, alerts');
      const deadline = setTimeout(() => {
        log.error({}, `stop took longer than ${STOP_DEADLINE_MS / 1000} s: exiting`);
        process.exit(EXIT.runtime);
      }, STOP_DEADLINE_MS);
      deadline.unref();
      void (async () => {
        clearInterval(flush);
        await sensor.stop();
        await Promise.all(sinks.map((s) => s.close())); // each network sink gets up to 2 s, side by side
        await app.close();
        process.off('SIGHUP', onHup);
        const statuses = sinks.map((s) => s.status());
        // A file that could not be written is a failure; a receiver that is down is not kasmon's:
        // what it did not take is spooled for the next start.
        const failed = statuses.filter((s) => s.kind === 'ndjson' && s.lastError !== undefined);
        for (const f of failed) log.error({ sink: f.name }, f.lastError ?? '');
        for (const n of statuses.filter((s) => s.queued > 0 && (s.kind === 'alertmanager' || s.kind === 'webhook'))) {
          const kept = n.spoolLimitBytes > 0 ? 'spooled, sent after the next start' : 'lost: no state directory';
          log.warn({ sink: n.name, queued: n.queued, lastError: n.lastError }, `alert notifications not delivered at stop: ${kept}`);
        }
        log.info({ packets: sensor.engine.decoder.stats.frames, clients: sensor.engine.analyzer?.clients.size, checkpoint: sensor.lastCheckpoint?.clients }, 'stopped');
        clearTimeout(deadline);
        resolve(sensor.engine.errors.first !== undefined || failed.length > 0 ? EXIT.runtime : EXIT.ok);
      })();
    };
    process.on('SIGHUP', onHup);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** http://HOST:PORT of the listen address; the host name for a wildcard address. */
function urlOf(listen: { host: string; port: number }): string {
  const h = listen.host;
  const host = h === '0.0.0.0' || h === '::' ? hostname() : h.includes(':') ? `[${h}]` : h;
  return `http://${host}:${listen.port}`;
}

function exitFor(sig: NodeJS.Signals): number {
  return sig === 'SIGTERM' ? 143 : 130;
}

function readToken(file: string): string {
  let t: string;
  try {
    t = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new KasmonError('ERR_CONFIG', `${file}: cannot read the API token (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path and permissions`);
  }
  if (t === '' || /\s/.test(t)) throw new KasmonError('ERR_CONFIG', `${file}: the API token must be one word on one line`);
  return t;
}
