/** The man page kasmon.1 (roff, man macros), made from the option tables (options.ts). */
import { optionHelp, synopsis } from './help.js';
import { COMMANDS, EXIT_CODES, GLOBAL_OPTIONS, HELP_OPTION, type CommandSpec, type OptionSpec } from './options.js';

/** Escape text for roff: backslashes, dashes (so they stay ASCII hyphen-minus), and leading dots/quotes. */
function esc(s: string): string {
  const t = s.replaceAll('\\', '\\e').replaceAll('-', '\\-');
  // One sentence per line (roff's convention: it then spaces sentences itself).
  return t
    .split(/(?<=[.;:)]) (?=[A-Z(])/)
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

function optionItem(o: OptionSpec): string[] {
  const long = `\\fB\\-\\-${esc(o.name)}\\fR${o.type === 'string' ? ` \\fI${esc(o.arg ?? 'VALUE')}\\fR` : ''}`;
  const label = o.short !== undefined ? `\\fB\\-${esc(o.short)}\\fR, ${long}` : long;
  const text = [esc(`${optionHelp(o)}.`)];
  if (o.choices !== undefined) text.push(esc(`One of: ${o.choices.join(', ')}.`));
  if (o.more !== undefined) text.push(esc(o.more));
  return ['.TP', label, ...text];
}

function commandSection(c: CommandSpec): string[] {
  const L = ['.SS ' + esc(synopsis(c)), esc(`${c.summary[0]?.toUpperCase() ?? ''}${c.summary.slice(1)}.`)];
  for (const p of c.description ?? []) L.push('.PP', esc(p));
  for (const o of [...c.options, HELP_OPTION]) L.push(...optionItem(o));
  return L;
}

/** `date`: YYYY-MM-DD for the title line (the build uses SOURCE_DATE_EPOCH when set, for reproducible builds). */
export function manPage(version: string, date: string, commands: readonly CommandSpec[] = COMMANDS): string {
  const L = [
    `.\\" kasmon.1: generated from kasmon's option tables (src/cli/options.ts); do not edit.`,
    `.TH KASMON 1 ${date} "kasmon ${esc(version)}" "User Commands"`,
    '.SH NAME',
    'kasmon \\- find machines that still contact Kaspersky endpoints, from packet captures',
    '.SH SYNOPSIS',
    ...commands.flatMap((c) => ['.nf', esc(synopsis(c)), '.fi']),
    '.nf',
    'kasmon \\-\\-help | \\-\\-version',
    '.fi',
    '.SH DESCRIPTION',
    esc(
      'kasmon reads packet captures (pcap, pcapng, either gzipped, files or standard input), decodes the hostnames machines ask for (DNS queries and answers, TLS ClientHello SNI, HTTP Host, QUIC Initial SNI), matches them against Kaspersky update, KSN, activation and other endpoints, and reports every client that contacted them before and after the US cutoff (2024-09-29T04:00:00Z by default), with alert events for contacts after it. Time is packet time: a replayed capture is judged by when it was recorded.',
    ),
    '.PP',
    esc('kasmon never writes to an input: an output path that is one of the inputs, or a file that holds a capture, is refused.'),
    '.SH COMMANDS',
    ...commands.flatMap(commandSection),
    '.SH OPTIONS',
    esc('Before a command:'),
    ...GLOBAL_OPTIONS.flatMap(optionItem),
    '.SH EXIT STATUS',
    ...EXIT_CODES.flatMap(([code, meaning]) => ['.TP', `\\fB${esc(code)}\\fR`, esc(`${meaning[0]?.toUpperCase() ?? ''}${meaning.slice(1)}.`)]),
    '.SH EXAMPLES',
    ...commands.flatMap((c) => (c.examples ?? []).flatMap(([cmd, what]) => ['.TP', `\\fB${esc(cmd)}\\fR`, esc(`${what[0]?.toUpperCase() ?? ''}${what.slice(1)}.`)])),
    '.SH FILES',
    '.TP',
    '\\fIconfig/default.yaml\\fR',
    esc('The built-in endpoint list and settings, in the package directory. A --config file is laid over it.'),
    '.TP',
    '\\fIconfig/example.yaml\\fR',
    esc('A commented example of a user config.'),
    '.SH SEE ALSO',
    '\\fBtcpdump\\fR(1), \\fBtshark\\fR(1), \\fBpcap\\-savefile\\fR(5)',
    '',
  ];
  return L.join('\n');
}
