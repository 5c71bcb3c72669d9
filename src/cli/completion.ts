/**
 * bash and zsh completion scripts, generated from the option tables (options.ts): the
 * commands, each command's options (with their short forms), option values (choices,
 * files, directories, interfaces) and positional arguments.
 */
import { COMMANDS, GLOBAL_OPTIONS, HELP_OPTION, type CommandSpec, type Completion, type OptionSpec } from './options.js';

const CAPTURE_GLOB = '*.@(pcap|pcapng|cap|gz)';

/** Quote for a single-quoted shell word. */
function sq(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function completionOf(o: OptionSpec): Completion {
  return o.complete ?? (o.choices !== undefined ? { words: o.choices } : 'none');
}

function allOptions(c: CommandSpec): OptionSpec[] {
  return [...c.options, HELP_OPTION];
}

function flags(o: OptionSpec): string[] {
  return o.short !== undefined ? [`--${o.name}`, `-${o.short}`] : [`--${o.name}`];
}

// ─── bash ────────────────────────────────────────────────────────────────────────────────

function bashValue(c: Completion): string {
  // IFS is a newline in the function (file names with spaces), so words are one a line.
  if (typeof c === 'object') return `COMPREPLY=($(compgen -W ${sq(c.words.join('\n'))} -- "$cur"))`;
  switch (c) {
    case 'file':
      return 'COMPREPLY=($(compgen -f -- "$cur"))';
    case 'capture':
      return `COMPREPLY=($(compgen -f -X '!${CAPTURE_GLOB}' -- "$cur") $(compgen -d -- "$cur"))`;
    case 'yaml':
      return `COMPREPLY=($(compgen -f -X '!*.@(yaml|yml)' -- "$cur") $(compgen -d -- "$cur"))`;
    case 'dir':
      return 'COMPREPLY=($(compgen -d -- "$cur"))';
    case 'interface':
      return 'COMPREPLY=($(compgen -W "$(command ls /sys/class/net 2>/dev/null)" -- "$cur"))';
    case 'none':
      return 'COMPREPLY=()';
  }
}

export function bashCompletion(commands: readonly CommandSpec[] = COMMANDS): string {
  const L: string[] = [
    '# bash completion for kasmon (generated from its option tables; do not edit)',
    '_kasmon() {',
    '  local cur prev cmd i',
    '  cur="${COMP_WORDS[COMP_CWORD]}"',
    '  prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  cmd=""',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break ;; esac',
    '  done',
    '  local IFS=$\'\\n\'',
    '  shopt -s extglob',
    '  if [[ -z "$cmd" ]]; then',
    `    COMPREPLY=($(compgen -W ${sq([...commands.map((c) => c.name), ...GLOBAL_OPTIONS.flatMap(flags)].join('\n'))} -- "$cur"))`,
    '    return',
    '  fi',
    '  case "$cmd" in',
  ];
  for (const c of commands) {
    L.push(`    ${c.name})`);
    const valued = c.options.filter((o) => o.type === 'string');
    if (valued.length > 0) {
      L.push('      case "$prev" in');
      for (const o of valued) L.push(`        ${flags(o).join('|')}) ${bashValue(completionOf(o))}; return ;;`);
      L.push('      esac');
    }
    L.push(`      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W ${sq(allOptions(c).flatMap(flags).join('\n'))} -- "$cur")); return; fi`);
    L.push(`      ${bashValue(c.positionals.complete)}`);
    L.push('      ;;');
  }
  L.push('  esac', '}', 'complete -o filenames -o bashdefault -F _kasmon kasmon', '');
  return L.join('\n');
}

// ─── zsh ─────────────────────────────────────────────────────────────────────────────────

/** Escape for the inside of an _arguments spec ([...] descriptions, : separators). */
function zq(s: string): string {
  return s.replaceAll('\\', '\\\\').replaceAll("'", `'\\''`).replaceAll('[', '\\[').replaceAll(']', '\\]').replaceAll(':', '\\:');
}

function zshAction(c: Completion): string {
  if (typeof c === 'object') return `(${c.words.join(' ')})`;
  switch (c) {
    case 'file':
      return '_files';
    case 'capture':
      return '_files -g "*.(pcap|pcapng|cap|gz)(-.)"';
    case 'yaml':
      return '_files -g "*.(yaml|yml)(-.)"';
    case 'dir':
      return '_files -/';
    case 'interface':
      return '_net_interfaces';
    case 'none':
      return ' ';
  }
}

function zshSpec(o: OptionSpec): string[] {
  const desc = zq(o.help);
  const value = o.type === 'string' ? `:${zq(o.arg ?? 'value')}:${zshAction(completionOf(o))}` : '';
  const rep = o.multiple === true ? '*' : '';
  if (o.short === undefined) return [`'${rep}--${o.name}[${desc}]${value}'`];
  const excl = o.multiple === true ? '' : `(-${o.short} --${o.name})`;
  return [`'${excl}${rep}'{-${o.short},--${o.name}}'[${desc}]${value}'`];
}

export function zshCompletion(commands: readonly CommandSpec[] = COMMANDS): string {
  const L: string[] = [
    '#compdef kasmon',
    '# zsh completion for kasmon (generated from its option tables; do not edit)',
    '',
    '_kasmon() {',
    '  local curcontext="$curcontext" state line',
    '  typeset -A opt_args',
    '  local -a commands',
    '  commands=(',
    ...commands.map((c) => `    '${c.name}:${zq(c.summary)}'`),
    '  )',
    '  _arguments -C \\',
    ...GLOBAL_OPTIONS.flatMap(zshSpec).map((s) => `    ${s} \\`),
    "    '1:command:->command' \\",
    "    '*::argument:->argument'",
    '  case $state in',
    '    command) _describe -t commands "kasmon command" commands ;;',
    '    argument)',
    '      case $line[1] in',
  ];
  for (const c of commands) {
    const pos = c.positionals;
    const action = zshAction(pos.complete);
    const posSpec = pos.max === 1 || pos.max === 0 ? `'1:${zq(c.args)}:${action}'` : `'*:${zq(c.args)}:${action}'`;
    const specs = [...allOptions(c).flatMap(zshSpec), ...(pos.max === 0 ? [] : [posSpec])];
    L.push(`        ${c.name})`);
    L.push('          _arguments \\');
    specs.forEach((s, i) => L.push(`            ${s}${i < specs.length - 1 ? ' \\' : ''}`));
    L.push('          ;;');
  }
  // Autoloaded from $fpath, the file is _kasmon's body: run it. Sourced, register it.
  L.push('      esac', '      ;;', '  esac', '}', '');
  L.push('if [[ "${funcstack[1]}" == _kasmon ]]; then _kasmon "$@"; else compdef _kasmon kasmon; fi', '');
  return L.join('\n');
}
