/** Cutoff phases on packet time (never the wall clock): a replay is judged by when it was recorded. */
export type Phase = 'before' | 'after';

/** 2024-09-29T04:00:00Z — 12:00 AM EDT, 29 September 2024 (US Commerce Department, BIS final determination). */
export const DEFAULT_CUTOFF_MICROS = Date.UTC(2024, 8, 29, 4, 0, 0) * 1000;

/** A packet exactly at the cutoff is already after it. */
export function phaseOf(tsMicros: number, cutoffMicros: number): Phase {
  return tsMicros >= cutoffMicros ? 'after' : 'before';
}
