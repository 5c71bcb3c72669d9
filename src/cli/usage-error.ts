import { KasmonError } from '../errors.js';

/** A mistake on the command line: one line with the fix, then where to read more; exit 2. */
export class UsageError extends KasmonError {
  constructor(message: string, command?: string) {
    super('ERR_USAGE', `${message}; see kasmon ${command !== undefined ? `${command} ` : ''}--help`);
  }
}
