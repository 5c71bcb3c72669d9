/**
 * The command line as data: one table per command. Each table drives the parsing
 * (node:util parseArgs, then checks this module makes: unknown options, missing or empty
 * values, choices, repeats, positionals), the `--help` text (help.ts), the bash and zsh
 * completion (completion.ts) and the man page kasmon.1 (manpage.ts, written at build time by
 * tools/gen-cli-files.ts). A new command is a new table in COMMANDS plus its handler in
 * main.ts (the handler map is typed by COMMANDS, so a table without a handler does not
 * compile).
 *
 * Pure data and pure functions: no process globals, so the build tool and the tests load it
 * without running anything.
 */
import { parseArgs } from 'node:util';
import { EXIT } from '../errors.js';
import { suggest } from '../config/yaml-reader.js';
import { UsageError } from './usage-error.js';

/**
 * What a shell offers for a value: any file, a capture file (.pcap, .pcapng, .gz), a YAML
 * file, a directory, a network interface, one of fixed words, or nothing (free text).
 */
export type Completion = 'file' | 'capture' | 'yaml' | 'dir' | 'interface' | 'none' | { readonly words: readonly string[] };

export interface OptionSpec {
  /** Long name, without the dashes. */
  readonly name: string;
  /** One-letter alias, without the dash. */
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  /** May be given more than once (values collect in order), e.g. `-i eth1 -i eth2`. */
  readonly multiple?: boolean;
  /** Placeholder for the value in help and man page (`FILE`, `NAME`). */
  readonly arg?: string;
  /** The only values accepted (they are also what completion offers). */
  readonly choices?: readonly string[];
  /** Used when the option is absent. */
  readonly default?: string;
  /** One line for `--help`. */
  readonly help: string;
  /** Further sentences for the man page. */
  readonly more?: string;
  /** Completion of the value (string options); default 'none', or the choices. */
  readonly complete?: Completion;
  /** What to say when the value is empty (`--observer ''`): how to fix it. */
  readonly ifEmpty?: string;
}

export interface CommandSpec {
  readonly name: string;
  /** Positional arguments as the synopsis shows them (`<capture...|->`). */
  readonly args: string;
  /** One line: what the command does (help, man page, completion descriptions). */
  readonly summary: string;
  /** Paragraphs for the man page and `--help`. */
  readonly description?: readonly string[];
  readonly positionals: {
    readonly min: number;
    readonly max?: number;
    readonly complete: Completion;
    /** Said when fewer than `min` were given. */
    readonly missing?: string;
  };
  readonly options: readonly OptionSpec[];
  readonly examples?: ReadonlyArray<readonly [command: string, what: string]>;
}

// ─── shared options ──────────────────────────────────────────────────────────────────────

const config = {
  name: 'config',
  type: 'string',
  arg: 'FILE',
  help: 'a YAML file laid over config/default.yaml (see config/example.yaml)',
  more: 'Settings merge key by key; endpoint rules are added (a rule with the same id replaces the default one). Check a file with kasmon check-config FILE.',
  complete: 'yaml',
  ifEmpty: 'name a YAML file, or leave --config out to use the defaults',
} as const satisfies OptionSpec;

/** A report's scope (analyze/scope.ts), for replay and analyze. */
const since = {
  name: 'since',
  type: 'string',
  arg: 'TIMESTAMP',
  help: 'report and alert only on contacts at or after this packet time (ISO 8601 with a zone)',
  more: 'As editcap -A: the window starts at --since (inclusive) and ends before --until (exclusive); a contact is judged by its own packet time. Decoding still covers the whole input, and DNS answers outside the window still attribute connections inside it.',
  ifEmpty: 'give a time like 2024-10-01T00:00:00Z, or leave --since out',
} as const satisfies OptionSpec;
const until = {
  name: 'until',
  type: 'string',
  arg: 'TIMESTAMP',
  help: 'report and alert only on contacts before this packet time (ISO 8601 with a zone)',
  ifEmpty: 'give a time like 2024-10-08T00:00:00Z, or leave --until out',
} as const satisfies OptionSpec;
const client = {
  name: 'client',
  type: 'string',
  multiple: true,
  arg: 'CIDR',
  help: 'report and alert only on clients in CIDR, or one address',
  ifEmpty: 'give a network like 198.18.0.0/24 or an address like fd00::11',
} as const satisfies OptionSpec;

export const HELP_OPTION = { name: 'help', short: 'h', type: 'boolean', help: 'show this help and exit' } as const satisfies OptionSpec;

// ─── the commands ────────────────────────────────────────────────────────────────────────

export const REPLAY = {
  name: 'replay',
  args: '<capture...|->',
  summary: 'analyse pcap/pcapng captures (or stdin) and print the per-client report',
  description: [
    'Reads each capture in turn (classic pcap, pcapng, either gzipped; "-" is standard input, a pipe from tcpdump -U -w - for example), decodes the hostnames in DNS, TLS, HTTP and QUIC, matches them against the Kaspersky endpoint rules and prints, per client, what it contacted before and after the cutoff. Time is packet time.',
    'The report opens with what could not be decoded, in words, when that is a large part of the input (an unsupported link type, named by number and name; an unknown encapsulation; frames cut by the snap length; QUIC versions kasmon cannot decrypt), then a coverage line: frames decoded out of frames read.',
    'A path that is a FIFO, a Unix socket or a character device is read like a pipe on standard input, and never waits in open(2) for a writer. On SIGINT or SIGTERM kasmon reads what a pipe still holds (until it has been empty for 0.25 s, 2 s at most), writes the report and alerts for what was read, and exits 130 or 143.',
  ],
  positionals: { min: 1, complete: 'capture', missing: 'replay needs at least one capture file (or - for stdin)' },
  options: [
    config,
    {
      name: 'format',
      type: 'string',
      arg: 'FORMAT',
      choices: ['table', 'json', 'csv', 'html'],
      default: 'table',
      help: 'report format: table, json, csv (one row per client) or html (one self-contained page)',
      more: 'html is one file with no network fetches: a summary, a timeline chart of contacts by category with the cutoff and the other milestones of the ban, a sortable per-client table and each client\'s evidence. csv is RFC 4180 with CRLF line ends, lists joined with "; ", and cells a spreadsheet would run as formulas prefixed with an apostrophe.',
    },
    {
      name: 'alerts',
      type: 'string',
      arg: 'FILE|-',
      help: 'write ECS alert events (NDJSON) to FILE, or to stdout with - (the report then goes to stderr)',
      more: 'FILE is truncated first, so kasmon refuses a FILE that is one of the inputs, holds a capture, or is named like one (.pcap, .pcapng).',
      complete: 'file',
      ifEmpty: 'name a file, or - for stdout',
    },
    {
      name: 'cutoff',
      type: 'string',
      arg: 'TIMESTAMP',
      help: 'override the cutoff: ISO 8601 with a zone, e.g. 2024-09-29T00:00:00-04:00',
      more: 'Packet times are compared to the microsecond: digits beyond the sixth of the fraction are dropped, with a notice on stderr, and a packet in that microsecond counts as after the cutoff. The offset must lie within -14:00..+14:00.',
      ifEmpty: 'give a time like 2024-09-29T04:00:00Z, or leave --cutoff out to use the config\'s',
    },
    {
      name: 'observer',
      type: 'string',
      arg: 'NAME',
      help: 'sensor name in alerts and the report (default: the config\'s, else the host name)',
      ifEmpty: 'give a sensor name, or leave --observer out to use the config\'s (else the host name)',
    },
    {
      name: 'fail-on-alert',
      type: 'boolean',
      help: 'exit 4 when any client contacted Kaspersky at or after the cutoff',
    },
    since,
    until,
    client,
    {
      name: 'jobs',
      short: 'j',
      type: 'string',
      arg: 'N',
      help: 'decode up to N inputs at once in worker threads (default: the number of cores); the report and alerts are the same as with -j 1',
      more: 'Each input is decoded on its own (its flows, fragments, QUIC handshakes and capture clock); analysis (clients, DNS answers, alert state) takes the inputs in the order given, whatever order the workers finish in. Files that overlap in time are therefore taken one after the other, not interleaved by packet time: give them in the order you want them judged. Standard input, pipes and FIFOs are read in this thread, and --openmetrics reads the inputs one after the other.',
      ifEmpty: 'give a number of worker threads, like 2',
    },
    {
      name: 'openmetrics',
      type: 'string',
      arg: 'FILE',
      help: "also write the sensor's metrics over packet time as OpenMetrics to FILE, for promtool tsdb create-blocks-from openmetrics",
      more: 'Same metric names, labels and meanings as the sensor\'s /metrics (README "Metrics"), one sample per series every --openmetrics-step seconds of packet time while packets flow, and one at the end.',
      complete: 'file',
      ifEmpty: 'name a file',
    },
    {
      name: 'openmetrics-step',
      type: 'string',
      arg: 'SECONDS',
      default: '60',
      help: 'seconds of packet time between the samples of --openmetrics',
    },
  ],
  examples: [
    ['kasmon replay capture.pcap', 'the per-client report as a table'],
    ['kasmon replay -j 4 --format html week/*.pcap.gz > report.html', 'a week of captures, four at a time, as one HTML page'],
    ['kasmon replay --openmetrics backfill.om capture.pcap && promtool tsdb create-blocks-from openmetrics backfill.om data/', 'backfill a replay into Prometheus'],
    ['kasmon replay --format json --alerts alerts.ndjson a.pcap b.pcapng.gz', 'JSON report, alert events to a file'],
    ["tcpdump -i eth0 -U -w - 'port 53 or tcp or udp port 443' | kasmon replay -", 'live, from a pipe; Ctrl-C prints the report'],
  ],
} as const satisfies CommandSpec;

export const NAMES = {
  name: 'names',
  args: '<capture...|->',
  summary: 'print every hostname observation as one JSON object per line',
  description: [
    'The observation stream, in capture order: ts, frame, kind (dns_query, dns_answer, tls_sni, http_host, quic_sni), name, src, dst, sport, dport and optional extras. Inputs as for replay.',
  ],
  positionals: { min: 1, complete: 'capture', missing: 'names needs at least one capture file (or - for stdin)' },
  options: [
    { ...config, help: 'a YAML file laid over config/default.yaml (names reads only dns.ports from it)' },
    { name: 'stats', type: 'boolean', help: 'print decode issues and the reasons names were not recovered to stderr' },
    {
      name: 'matched',
      type: 'boolean',
      help: 'print what analysis needs, for kasmon analyze: names a rule may match, connections that showed no name, and per input a summary',
      more: 'The interchange for analysing captures across machines: run kasmon names --matched on each shard (GNU parallel, a Kubernetes Job, Slurm) and kasmon analyze on the outputs, in the order the captures would have been given to replay; the report and alerts are the same as replaying them in one place. Observations are decoded as replay decodes them (each input on its own); one judged at network time because its packet\'s stamp was out of step carries "judged"; connections without a name have kind ip_connection and "conn"; each input ends with a line of kind input_summary (its read result and decode totals).',
    },
  ],
  examples: [
    ['kasmon names capture.pcap | jq -r .name | sort | uniq -c', 'count the names in a capture'],
    ['parallel kasmon names --matched {} ">" {.}.obs.ndjson ::: day*.pcap && kasmon analyze day*.obs.ndjson', 'shard a replay, then analyse the shards'],
  ],
} as const satisfies CommandSpec;

export const ANALYZE = {
  name: 'analyze',
  args: '<observations.ndjson...|->',
  summary: 'analyse observation files from kasmon names --matched and print the per-client report',
  description: [
    'Reads the output of kasmon names --matched (one file per shard, or standard input) in the order given, and reports and alerts exactly as kasmon replay would have on the captures those files came from. Options as for replay.',
  ],
  positionals: { min: 1, complete: 'file', missing: 'analyze needs at least one observation file from kasmon names --matched (or - for stdin)' },
  options: [
    config,
    {
      name: 'format',
      type: 'string',
      arg: 'FORMAT',
      choices: ['table', 'json', 'csv', 'html'],
      default: 'table',
      help: 'report format: table, json, csv or html',
    },
    { name: 'alerts', type: 'string', arg: 'FILE|-', help: 'write ECS alert events (NDJSON) to FILE, or to stdout with - (the report then goes to stderr)', complete: 'file', ifEmpty: 'name a file, or - for stdout' },
    { name: 'cutoff', type: 'string', arg: 'TIMESTAMP', help: 'override the cutoff: ISO 8601 with a zone', ifEmpty: "give a time like 2024-09-29T04:00:00Z, or leave --cutoff out to use the config's" },
    { name: 'observer', type: 'string', arg: 'NAME', help: "sensor name in alerts and the report (default: the config's, else the host name)", ifEmpty: "give a sensor name, or leave --observer out" },
    { name: 'fail-on-alert', type: 'boolean', help: 'exit 4 when any client contacted Kaspersky at or after the cutoff' },
    since,
    until,
    client,
  ],
  examples: [['kasmon analyze --format html shard1.obs.ndjson shard2.obs.ndjson > report.html', 'one report from two shards']],
} as const satisfies CommandSpec;

export const CHECK_CONFIG = {
  name: 'check-config',
  args: '[file]',
  summary: 'validate a config file and print the effective settings',
  description: [
    'Reports every problem of the file at once (file:line: field: what is wrong and how to fix it) and exits 2, or prints the effective settings (the file laid over the defaults).',
  ],
  positionals: { min: 0, max: 1, complete: 'yaml' },
  options: [
    {
      name: 'format',
      type: 'string',
      arg: 'FORMAT',
      choices: ['text', 'yaml', 'json'],
      default: 'text',
      help: 'text: "config OK" and the settings as JSON, rules counted; yaml or json: the whole effective config, rules included',
      more: 'yaml and json print a complete config file in the file\'s own keys, which check-config and --config accept and which reads back to the same settings. Over the defaults (extends: default) it lists the file\'s own rules; kasmon check-config --format yaml without a file lists the default ones.',
    },
  ],
  examples: [
    ['kasmon check-config config/example.yaml', 'validate a file, show what it changes'],
    ['kasmon check-config --format yaml my.yaml > effective.yaml', 'every setting in force, as a config file'],
  ],
} as const satisfies CommandSpec;

export const MONITOR = {
  name: 'monitor',
  args: '(-i IFACE ... | --read FILE|-)',
  summary: 'run as a live sensor: capture, analyse, serve /metrics and the API, alert',
  description: [
    'Captures on each interface with a tcpdump child (tcpdump -i IFACE -w - -U -n -s SNAP -B KIB [-Z USER] FILTER; the default filter lets the kernel drop what cannot carry a name), or reads one capture stream with --read. Client state ages on wall time; decisions (cutoff, suppression) stay on packet time. If tcpdump exits or cannot start, kasmon logs why and restarts it with capped exponential backoff; /readyz says not ready meanwhile.',
    'Serves GET /metrics (Prometheus text or OpenMetrics), /healthz, /readyz, /api/v1/clients, /api/v1/clients/IP, /api/v1/alerts and /api/v1/status. SIGHUP reloads the config (a bad file keeps the old one, every error is logged), reopens the --alerts file and reads the sinks\' credential files again; SIGINT and SIGTERM stop tcpdump, write a final checkpoint and exit 0. Logs are JSON lines on stderr.',
    'Alerts go to the --alerts file, to Alertmanager (one alert per client and category, resolved after alerts.resolve_seconds without contact) and to webhooks; network sinks queue, spool undelivered notifications in the state directory and retry with backoff, and never slow capture.',
  ],
  positionals: { min: 0, max: 0, complete: 'none' },
  options: [
    {
      name: 'interface',
      short: 'i',
      type: 'string',
      multiple: true,
      arg: 'IFACE',
      help: 'capture on IFACE (repeat for several: -i eth1 -i eth2)',
      complete: 'interface',
      ifEmpty: 'name an interface, like eth1',
    },
    {
      name: 'read',
      type: 'string',
      arg: 'FILE|-',
      help: 'read one pcap/pcapng stream instead of capturing (- = stdin, e.g. ssh sensor tcpdump -U -w - | kasmon monitor --read -)',
      complete: 'capture',
      ifEmpty: 'name a capture file, or - for stdin',
    },
    config,
    {
      name: 'observer',
      type: 'string',
      arg: 'NAME',
      help: "sensor name in alerts, metrics and the API (default: the config's, else the host name)",
      ifEmpty: "give a sensor name, or leave --observer out to use the config's (else the host name)",
    },
    { name: 'listen', type: 'string', arg: 'HOST:PORT', help: 'HTTP listen address (default: monitor.listen, 127.0.0.1:20929)', ifEmpty: 'give HOST:PORT, like 127.0.0.1:20929' },
    { name: 'state-dir', type: 'string', arg: 'DIR', help: 'checkpoint client and alert state here (default: monitor.state_dir)', complete: 'dir', ifEmpty: 'name a directory' },
    { name: 'filter', type: 'string', arg: 'BPF', help: 'capture filter to use instead of the default (README "The capture filter")', ifEmpty: "give a BPF expression, or leave --filter out for the default" },
    { name: 'filter-add', type: 'string', arg: 'BPF', help: 'a BPF expression ORed onto the filter in force', ifEmpty: 'give a BPF expression' },
    {
      name: 'alerts',
      type: 'string',
      arg: 'FILE|-',
      help: 'append ECS alert events (NDJSON) to FILE (reopened on SIGHUP, for logrotate), or write them to stdout with -',
      complete: 'file',
      ifEmpty: 'name a file, or - for stdout',
    },
    {
      name: 'alertmanager',
      type: 'string',
      multiple: true,
      arg: 'URL',
      help: 'send findings to this Alertmanager, e.g. http://am:9093; give each of a cluster (replaces sinks.alertmanager.urls)',
      ifEmpty: 'give an Alertmanager URL, like http://127.0.0.1:9093',
    },
    {
      name: 'webhook',
      type: 'string',
      multiple: true,
      arg: 'URL',
      help: 'POST alert events as JSON to URL, signed with sinks.webhook.secret_file if set (replaces sinks.webhook.urls)',
      ifEmpty: 'give a URL, like https://hooks.example.net/kasmon',
    },
    { name: 'api-token-file', type: 'string', arg: 'FILE', help: 'require Authorization: Bearer <token from FILE> on everything but /healthz', complete: 'file', ifEmpty: 'name the token file' },
    { name: 'log-level', type: 'string', arg: 'LEVEL', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info', help: 'log level (JSON lines on stderr)' },
  ],
  examples: [
    ['kasmon monitor -i eth1 --state-dir /var/lib/kasmon', 'a sensor on one span port, state kept across restarts'],
    ['curl -s 127.0.0.1:20929/api/v1/clients?after_cutoff=true', 'who still contacts Kaspersky'],
    ['kasmon monitor -i eth1 --state-dir /var/lib/kasmon --alertmanager http://am1:9093 --alertmanager http://am2:9093', 'alerts to an Alertmanager cluster'],
  ],
} as const satisfies CommandSpec;

export const COMPLETION = {
  name: 'completion',
  args: '<bash|zsh>',
  summary: 'print a shell completion script',
  description: [
    'bash: source <(kasmon completion bash), or save it as /usr/share/bash-completion/completions/kasmon. zsh: kasmon completion zsh > "${fpath[1]}/_kasmon". The package also ships both under dist/completion/.',
  ],
  positionals: { min: 1, max: 1, complete: { words: ['bash', 'zsh'] }, missing: 'completion needs a shell: bash or zsh' },
  options: [],
} as const satisfies CommandSpec;

/** Every command, in the order help lists them. */
export const COMMANDS = [REPLAY, NAMES, ANALYZE, MONITOR, CHECK_CONFIG, COMPLETION] as const;
export type CommandName = (typeof COMMANDS)[number]['name'];

/** Options of `kasmon` itself (before a command). */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  HELP_OPTION,
  { name: 'version', type: 'boolean', help: 'print the version and exit' },
];

/** The exit codes every command shares; help, man page and README say the same. */
export const EXIT_CODES: ReadonlyArray<readonly [code: string, meaning: string]> = [
  [String(EXIT.ok), 'done (also when Kaspersky traffic was found, unless --fail-on-alert)'],
  [String(EXIT.runtime), 'an output could not be written, or an internal error'],
  [String(EXIT.usage), 'usage error, bad config, an output that would overwrite an input or a capture, or an input that is not a readable capture (the others are still processed and reported)'],
  [String(EXIT.damaged), 'an input was cut short or damaged part-way: what came before was processed and reported'],
  [String(EXIT.alert), '--fail-on-alert and post-cutoff Kaspersky traffic was found (wins over 2, 3 and 5)'],
  [String(EXIT.undecodable), 'frames were read but not one could be decoded (a link type or encapsulation kasmon does not support): nothing was analysed'],
  ['130, 143', 'interrupted by SIGINT, SIGTERM: the report and alerts for what was read are still written'],
];

export function commandNamed(name: string | undefined): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

// ─── parsed values, typed by the table ───────────────────────────────────────────────────

type ValueOf<O extends OptionSpec> = O['type'] extends 'boolean'
  ? boolean
  : O extends { readonly multiple: true }
    ? string[]
    : O extends { readonly default: string }
      ? string
      : string | undefined;

/** `{ format: string; alerts: string | undefined; 'fail-on-alert': boolean; ... }` for a table. */
export type Values<C extends CommandSpec> = { [O in C['options'][number] as O['name']]: ValueOf<O> };

export interface Parsed<C extends CommandSpec> {
  readonly values: Values<C>;
  readonly positionals: string[];
}

/** `-h`/`--help` anywhere before a `--`. */
export function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

const display = (o: OptionSpec): string => `--${o.name}`;

/**
 * Parses `args` (what follows the command name) by the command's table. Every mistake is a
 * UsageError with one line that names the option and the fix.
 */
export function parseCommand<C extends CommandSpec>(spec: C, args: readonly string[]): Parsed<C> {
  const all = [...spec.options, HELP_OPTION];
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const o of all) options[o.name] = { type: o.type, multiple: true, ...(o.short !== undefined ? { short: o.short } : {}) };
  const { tokens } = parseArgs({ args: [...args], options, allowPositionals: true, strict: false, tokens: true });
  const byName = new Map(all.map((o) => [o.name, o]));
  const values: Record<string, string | boolean | string[] | undefined> = {};
  const positionals: string[] = [];
  const cmd = spec.name;
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    if (t.kind !== 'option') continue;
    const o = byName.get(t.name);
    if (o === undefined) {
      const hint = suggest(t.name, all.map((x) => x.name));
      const dym = hint !== undefined ? `did you mean --${hint}? ` : '';
      const known = spec.options.length > 0 ? `${cmd} takes ${spec.options.map(display).join(', ')}` : `${cmd} takes no options`;
      throw new UsageError(`unknown option ${t.rawName} for ${cmd}; ${dym}${known}`, spec.name);
    }
    if (o.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`${display(o)} takes no value (got "${t.value}")`, spec.name);
      values[o.name] = true;
      continue;
    }
    const what = o.arg ?? 'a value';
    if (t.value === undefined) throw new UsageError(`${display(o)} needs ${what}`, spec.name);
    if (!t.inlineValue && t.value.startsWith('-') && t.value !== '-') {
      throw new UsageError(`${display(o)} needs ${what}, but the next argument is the option ${t.value}`, spec.name);
    }
    if (t.value.trim() === '') throw new UsageError(`${display(o)} is empty; ${o.ifEmpty ?? `give ${what}`}`, spec.name);
    if (o.choices !== undefined && !o.choices.includes(t.value)) {
      const looksLikeFile = /[./]/.test(t.value);
      const after = looksLikeFile ? ` ("${t.value}" looks like a file: put ${o.arg ?? 'the value'} right after ${display(o)})` : '';
      throw new UsageError(`${display(o)} "${t.value}" is not one of ${o.choices.join(', ')}${after}`, spec.name);
    }
    const prev = values[o.name];
    if (o.multiple === true) values[o.name] = [...((prev as string[] | undefined) ?? []), t.value];
    else if (prev !== undefined) throw new UsageError(`${display(o)} is given twice ("${String(prev)}", "${t.value}"); give it once`, spec.name);
    else values[o.name] = t.value;
  }
  for (const o of spec.options) {
    if (values[o.name] !== undefined) continue;
    values[o.name] = o.type === 'boolean' ? false : o.multiple === true ? [] : o.default;
  }
  const p = spec.positionals;
  if (positionals.length < p.min) {
    throw new UsageError(p.missing ?? `${cmd} needs ${p.min === 1 ? 'an argument' : `${p.min} arguments`}: ${spec.args}`, spec.name);
  }
  if (p.max !== undefined && positionals.length > p.max) {
    const extra = positionals.slice(p.max).join(' ');
    throw new UsageError(`${cmd} takes at most ${p.max === 1 ? 'one argument' : `${p.max} arguments`} (${spec.args}); unexpected: ${extra}`, spec.name);
  }
  if (p.max === 1 && typeof p.complete === 'object') {
    const v = positionals[0];
    if (v !== undefined && !p.complete.words.includes(v)) {
      throw new UsageError(`${cmd}: "${v}" is not one of ${p.complete.words.join(', ')}`, spec.name);
    }
  }
  return { values: values as Values<C>, positionals };
}
