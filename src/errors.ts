/**
 * Operator-facing failures carry a stable code (in the style of fastify's FST_ERR_* and
 * undici's UND_ERR_*). File-level problems stop the run with `exitCode`; packet-level
 * problems are never errors, only counted (see capture/issues.ts).
 */
export type ErrorCode =
  | 'ERR_USAGE'
  | 'ERR_CONFIG'
  | 'ERR_INPUT_UNREADABLE'
  | 'ERR_INPUT_NOT_CAPTURE'
  | 'ERR_INPUT_DAMAGED'
  /** SIGINT/SIGTERM before there was anything to report (exit 130/143). */
  | 'ERR_INTERRUPTED'
  | 'ERR_OUTPUT';

export const EXIT = {
  ok: 0,
  runtime: 1,
  usage: 2,
  /** An input was cut short or damaged part-way; what came before was processed. */
  damaged: 3,
  /** `--fail-on-alert`: Kaspersky traffic was seen at or after the cutoff. */
  alert: 4,
  /** An input held frames but not one of them could be decoded (unsupported link type or encapsulation). */
  undecodable: 5,
} as const;

/** The exit code of a run stopped by `signal` (the abort reason): 128 + its number, as shells report it. */
export function exitForSignal(signal: unknown): number {
  return signal === 'SIGTERM' ? 143 : 130;
}

export class KasmonError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly exitCode: number = code === 'ERR_INPUT_DAMAGED' ? EXIT.damaged : EXIT.usage,
  ) {
    super(message);
    this.name = 'KasmonError';
  }
}
