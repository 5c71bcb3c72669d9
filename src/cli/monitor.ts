import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type { Config } from '../config/load.js';
import { parseListen } from '../config/schema.js';
import { Sensor } from '../engine/sensor.js';
import { EXIT, KasmonError } from '../errors.js';
import { NdjsonAlertSink, RecentAlerts, type AlertSink } from '../export/alert-sinks.js';
import { alertEvent } from '../export/ecs.js';
import { buildMetrics } from '../export/metrics.js';
import { buildServer } from '../export/server.js';
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
  const metrics = buildMetrics({ sensor, version: version(), sinks: () => sinks.filter((s) => s !== recent).map((s) => s.status()) });
  const app = buildServer({ sensor, metrics, recent, version: version(), token, sinks: () => sinks.filter((s) => s !== recent).map((s) => s.status()) });
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new KasmonError('ERR_OUTPUT', `cannot listen on ${listenText} (${code}); pick another --listen or stop what uses it`, EXIT.runtime);
  }
  await sensor.start();
  log.info(
    { version: version(), listen: listenText, interfaces: ifaces, read: values.read, stateDir: sensor.stateDir || undefined, rules: sensor.engine.policy.rulesHash.slice(0, 12), filter: ifaces.length > 0 ? sensor.filter : undefined },
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
    const notes = sensor.reload(next);
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
        for (const s of sinks) await s.close();
        await app.close();
        process.off('SIGHUP', onHup);
        const failed = sinks.map((s) => s.status()).filter((s) => s.lastError !== undefined);
        for (const f of failed) log.error({ sink: f.name }, f.lastError ?? '');
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
