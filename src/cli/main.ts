import { EXIT, KasmonError } from '../errors.js';
import { checkConfig } from './check-config.js';
import { UsageError } from './common.js';
import { names } from './names.js';
import { replay } from './replay.js';

const USAGE = `usage: kasmon <command> [options]

commands:
  replay <capture...|->   analyse pcap/pcapng captures (or stdin) and print the per-client report
  names <capture...|->    print every hostname observation as one JSON object per line
  check-config [file]     validate a config file and print the effective settings

replay options:
  --config FILE           endpoint list and settings (default: config/default.yaml)
  --format table|json     report format (default: table)
  --alerts FILE|-         write alert events (ECS NDJSON) to FILE or stdout
  --cutoff TIMESTAMP      override the cutoff, e.g. 2024-09-29T00:00:00-04:00
  --observer NAME         sensor name in alerts and reports (default: config, else host name)
  --fail-on-alert         exit 4 when any client contacted Kaspersky at or after the cutoff

names options:
  --config FILE           (DNS ports)
  --stats                 print decode issues and unrecovered-name reasons to stderr

exit codes: 0 done; 2 usage error, bad config or unreadable/non-capture input;
            3 an input was cut short or damaged part-way (what came before was processed);
            4 --fail-on-alert and post-cutoff Kaspersky traffic was found (takes precedence over 2 and 3).
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'replay':
        return await replay(rest);
      case 'names':
        return await names(rest);
      case 'check-config':
        return checkConfig(rest);
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        return EXIT.ok;
      case undefined:
        process.stderr.write(USAGE);
        return EXIT.usage;
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof KasmonError) {
      process.stderr.write(`kasmon: ${e.message}\n`);
      return e.exitCode;
    }
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`kasmon: ${(e as Error).message}; see kasmon --help\n`);
      return EXIT.usage;
    }
    throw e;
  }
}
