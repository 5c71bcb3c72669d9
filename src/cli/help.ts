/** `--help` text, made from the option tables (options.ts). */
import { COMMANDS, EXIT_CODES, GLOBAL_OPTIONS, HELP_OPTION, type CommandSpec, type OptionSpec } from './options.js';

/** `--name ARG` / `-n, --name ARG`, as help and the man page list an option. */
export function optionLabel(o: OptionSpec): string {
  const long = `--${o.name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
  return o.short !== undefined ? `-${o.short}, ${long}` : long;
}

/** The help line of an option, with its default and whether it repeats. */
export function optionHelp(o: OptionSpec): string {
  const extras: string[] = [];
  if (o.default !== undefined) extras.push(`default: ${o.default}`);
  if (o.multiple === true) extras.push('repeatable');
  return extras.length > 0 ? `${o.help} (${extras.join('; ')})` : o.help;
}

function columns(rows: ReadonlyArray<readonly [string, string]>, indent = 2): string[] {
  const width = Math.min(28, Math.max(...rows.map(([a]) => a.length)) + 2);
  return rows.map(([a, b]) => {
    const pad = a.length + 2 > width ? `\n${' '.repeat(indent + width)}` : ' '.repeat(width - a.length);
    return `${' '.repeat(indent)}${a}${pad}${b}`;
  });
}

export function synopsis(c: CommandSpec): string {
  return `kasmon ${c.name}${c.options.length > 0 ? ' [options]' : ''} ${c.args}`;
}

/** `kasmon VERB --help`. */
export function commandHelp(c: CommandSpec): string {
  const L = [`usage: ${synopsis(c)}`, '', `${c.summary[0]?.toUpperCase() ?? ''}${c.summary.slice(1)}.`, ''];
  L.push('options:');
  L.push(...columns([...c.options, HELP_OPTION].map((o) => [optionLabel(o), optionHelp(o)] as const)));
  if (c.examples !== undefined && c.examples.length > 0) {
    L.push('', 'examples:');
    for (const [cmd, what] of c.examples) L.push(`  ${cmd}`, `      ${what}`);
  }
  L.push('', `exit codes: ${EXIT_CODES.map(([code]) => code).join(', ')} (see kasmon --help, man kasmon)`);
  return L.join('\n') + '\n';
}

/** `kasmon --help`. */
export function mainHelp(): string {
  const L = ['usage: kasmon <command> [options] [arguments]', '       kasmon --version', '', 'commands:'];
  L.push(...columns(COMMANDS.map((c) => [`${c.name} ${c.args}`, c.summary] as const)));
  L.push('', 'options:');
  L.push(...columns(GLOBAL_OPTIONS.map((o) => [optionLabel(o), o.help] as const)));
  L.push('', 'kasmon <command> --help lists the options of a command.', '', 'exit codes:');
  L.push(...columns(EXIT_CODES, 2));
  return L.join('\n') + '\n';
}
