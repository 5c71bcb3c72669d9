import { describe, expect, test } from 'vitest';
import { bashCompletion, zshCompletion } from '../../src/cli/completion.js';
import { commandHelp } from '../../src/cli/help.js';
import { manPage } from '../../src/cli/manpage.js';
import { COMMANDS, parseCommand, REPLAY, type CommandSpec } from '../../src/cli/options.js';

/**
 * The option tables drive parsing, help, completion and the man page. A command like the
 * coming `kasmon monitor` is added by writing its table: this one exercises what monitor
 * needs (a repeatable short option, choices, a directory, an interface, repeatable URLs).
 */
const MONITOR = {
  name: 'monitor',
  args: '',
  summary: 'capture live and serve /metrics',
  positionals: { min: 0, max: 0, complete: 'none' },
  options: [
    { name: 'interface', short: 'i', type: 'string', multiple: true, arg: 'IFACE', help: 'capture on IFACE', complete: 'interface' },
    { name: 'listen', type: 'string', arg: 'HOST:PORT', default: '127.0.0.1:9187', help: 'HTTP address' },
    { name: 'state-dir', type: 'string', arg: 'DIR', help: 'checkpoints', complete: 'dir' },
    { name: 'log-level', type: 'string', arg: 'LEVEL', choices: ['error', 'warn', 'info', 'debug'], default: 'info', help: 'log level' },
    { name: 'alertmanager', type: 'string', multiple: true, arg: 'URL', help: 'Alertmanager v2 API' },
    { name: 'webhook', type: 'string', multiple: true, arg: 'URL', help: 'generic webhook' },
    { name: 'verbose', short: 'v', type: 'boolean', help: 'more' },
  ],
} as const satisfies CommandSpec;

const usage = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect((e as { code?: string }).code).toBe('ERR_USAGE');
    return (e as Error).message;
  }
  throw new Error('no usage error');
};

describe('parseCommand', () => {
  test('a monitor-like table: repeatable short options, defaults, choices', () => {
    const { values, positionals } = parseCommand(MONITOR, ['-i', 'eth1', '--interface=eth2', '-ieth3', '--log-level', 'debug', '--webhook', 'http://[fd00::1]/a', '--webhook', 'http://[fd00::1]/b', '-v']);
    expect(positionals).toEqual([]);
    // The value types follow the table: string[] for repeatable, string with a default, boolean.
    const ifaces: string[] = values.interface;
    const listen: string = values.listen;
    const stateDir: string | undefined = values['state-dir'];
    expect([ifaces, listen, stateDir, values['log-level'], values.alertmanager, values.webhook, values.verbose]).toEqual([
      ['eth1', 'eth2', 'eth3'],
      '127.0.0.1:9187',
      undefined,
      'debug',
      [],
      ['http://[fd00::1]/a', 'http://[fd00::1]/b'],
      true,
    ]);
    expect(usage(() => parseCommand(MONITOR, ['--log-level', 'loud']))).toMatch(/^--log-level "loud" is not one of error, warn, info, debug; see kasmon monitor --help$/);
    expect(usage(() => parseCommand(MONITOR, ['extra']))).toMatch(/monitor takes at most 0 arguments/);
    expect(usage(() => parseCommand(MONITOR, ['-i']))).toMatch(/^--interface needs IFACE/);
  });

  test.for([
    [['--format', 'cap.pcap'], /^--format "cap\.pcap" is not one of table, json, csv, html \("cap\.pcap" looks like a file: put FORMAT right after --format\)/],
    [['--observer', '', 'x.pcap'], /^--observer is empty; give a sensor name/],
    [['--fromat', 'json', 'x.pcap'], /^unknown option --fromat for replay; did you mean --format\? replay takes --config, --format/],
    [['--format', 'json', '--format', 'table', 'x.pcap'], /^--format is given twice \("json", "table"\); give it once/],
    [['--alerts', '--format', 'json', 'x.pcap'], /^--alerts needs FILE\|-, but the next argument is the option --format/],
    [['--fail-on-alert=yes', 'x.pcap'], /^--fail-on-alert takes no value/],
    [[], /^replay needs at least one capture file \(or - for stdin\); see kasmon replay --help$/],
  ] as const)('replay %j', ([args, want]) => {
    expect(usage(() => parseCommand(REPLAY, args))).toMatch(want);
  });

  test('-- ends the options; - is a value', () => {
    const { values, positionals } = parseCommand(REPLAY, ['--alerts', '-', '--', '--odd-name.pcap']);
    expect(values.alerts).toBe('-');
    expect(values.format).toBe('table');
    expect(values['fail-on-alert']).toBe(false);
    expect(positionals).toEqual(['--odd-name.pcap']);
  });
});

describe('one table drives help, completion and the man page', () => {
  const all: CommandSpec[] = [...COMMANDS, MONITOR];
  test.for(all.map((c) => [c.name, c] as const))('%s', ([, c]) => {
    const help = commandHelp(c);
    const bash = bashCompletion(all);
    const zsh = zshCompletion(all);
    const man = manPage('9.9.9', '2024-09-29', all);
    for (const o of c.options) {
      expect(help).toContain(`--${o.name}`);
      expect(bash).toContain(`--${o.name}`);
      expect(zsh).toContain(o.short === undefined ? `--${o.name}[` : `{-${o.short},--${o.name}}'[`);
      expect(man).toContain(`\\-\\-${o.name.replaceAll('-', '\\-')}`);
      if (o.short !== undefined) expect(help).toContain(`-${o.short}, --${o.name}`);
    }
    expect(bash).toContain(`    ${c.name})`);
    expect(zsh).toContain(`'${c.name}:`);
  });

  test('value completion follows the table: interfaces, directories, choices', () => {
    const bash = bashCompletion([MONITOR]);
    expect(bash).toContain('--interface|-i) COMPREPLY=($(compgen -W "$(command ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;');
    expect(bash).toContain('--state-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;');
    expect(bash).toContain(`--log-level) COMPREPLY=($(compgen -W 'error\nwarn\ninfo\ndebug' -- "$cur")); return ;;`);
    const zsh = zshCompletion([MONITOR]);
    expect(zsh).toContain(`'*'{-i,--interface}'[capture on IFACE]:IFACE:_net_interfaces'`);
    expect(zsh).toContain(`'--log-level[log level]:LEVEL:(error warn info debug)'`);
  });
});
