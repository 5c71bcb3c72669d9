#!/usr/bin/env node
/** The `kasmon` executable: runs a command (cli/main.ts) and owns the process's exit. */
import { EXIT } from './errors.js';
import { main } from './cli/main.js';

// A reader that went away (`kasmon names big.pcap | head`) is not an error: stop quietly,
// as tcpdump and tshark do. Any other output failure is reported once, with exit 1.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
  process.stderr.write(`kasmon: cannot write to stdout (${e.code ?? e.message})\n`);
  process.exit(EXIT.runtime);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`kasmon: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = EXIT.runtime;
  },
);
