import type { PacketTime } from './observation.js';

/** ISO 8601 UTC with the capture's own precision: `2024-09-30T08:15:02.123456Z`. */
export function isoTime(t: PacketTime): string {
  const d = new Date(t.sec * 1000);
  const base = d.toISOString().slice(0, 19);
  if (t.digits <= 0) return `${base}Z`;
  const frac = String(t.nsec).padStart(9, '0').slice(0, t.digits);
  return `${base}.${frac}Z`;
}

export function toMicros(t: PacketTime): number {
  return t.sec * 1_000_000 + Math.floor(t.nsec / 1000);
}
