import { EXIT, KasmonError } from '../errors.js';
import { bashCompletion, zshCompletion } from './completion.js';
import { commandHelp, mainHelp } from './help.js';
import { commandNamed, COMPLETION, parseCommand, wantsHelp, type CommandName } from './options.js';
import { UsageError } from './usage-error.js';
import { version } from './version.js';

/**
 * One handler per command table (options.ts): adding a table without a handler does not compile.
 * Each command's module is loaded when it runs: the sensor's HTTP server and metrics (fastify,
 * pino, prom-client: some 250 CommonJS modules) cost `replay` and `names` 0.17 s of start-up
 * when every command was imported up front.
 */
const HANDLERS: Record<CommandName, (args: string[]) => Promise<number> | number> = {
  replay: async (args) => (await import('./replay.js')).replay(args),
  names: async (args) => (await import('./names.js')).names(args),
  analyze: async (args) => (await import('./analyze.js')).analyze(args),
  monitor: async (args) => (await import('./monitor.js')).monitor(args),
  'check-config': async (args) => (await import('./check-config.js')).checkConfig(args),
  completion: (args) => {
    const { positionals } = parseCommand(COMPLETION, args);
    process.stdout.write(positionals[0] === 'zsh' ? zshCompletion() : bashCompletion());
    return EXIT.ok;
  },
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case '-h':
      case '--help':
        process.stdout.write(mainHelp());
        return EXIT.ok;
      case 'help': {
        // `kasmon help replay` = `kasmon replay --help`
        const spec = commandNamed(rest[0]);
        if (rest[0] !== undefined && spec === undefined) throw new UsageError(`unknown command "${rest[0]}"`);
        process.stdout.write(spec !== undefined ? commandHelp(spec) : mainHelp());
        return EXIT.ok;
      }
      case '--version':
        process.stdout.write(`kasmon ${version()}\n`);
        return EXIT.ok;
      case undefined:
        process.stderr.write(mainHelp());
        return EXIT.usage;
    }
    const spec = commandNamed(cmd);
    if (spec === undefined) {
      const hint = cmd.startsWith('-') ? `unknown option ${cmd}; a command comes first (replay, names, check-config)` : `unknown command "${cmd}"`;
      throw new UsageError(hint);
    }
    if (wantsHelp(rest)) {
      process.stdout.write(commandHelp(spec));
      return EXIT.ok;
    }
    return await HANDLERS[spec.name as CommandName](rest);
  } catch (e) {
    if (e instanceof KasmonError) {
      process.stderr.write(`kasmon: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
