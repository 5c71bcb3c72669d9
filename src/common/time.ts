/** Packet time: whole seconds plus nanoseconds, and how many fraction digits the capture has. */
export interface PacketTime {
  sec: number;
  nsec: number;
  /** Fraction digits the capture format carries: 6 (microseconds) or 9 (nanoseconds), 0-9. */
  digits: number;
}

/**
 * ISO 8601 UTC with the capture's own precision: `2024-09-30T08:15:02.123456Z`. Any
 * 32/64-bit capture timestamp formats (years past 9999 in the expanded `+YYYYYY` form, as
 * Date does), so a hostile timestamp can never make output fail.
 */
export function isoTime(t: PacketTime): string {
  const base = civil(t.sec);
  if (t.digits <= 0) return `${base}Z`;
  const frac = String(t.nsec).padStart(9, '0').slice(0, t.digits);
  return `${base}.${frac}Z`;
}

export function toMicros(t: PacketTime): number {
  return t.sec * 1_000_000 + Math.floor(t.nsec / 1000);
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Seconds since the epoch → `YYYY-MM-DDTHH:MM:SS` (proleptic Gregorian; H. Hinnant's days_from_civil inverse). */
function civil(sec: number): string {
  const days = Math.floor(sec / 86400);
  const rem = sec - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const year = y >= 0 && y <= 9999 ? String(y).padStart(4, '0') : `${y < 0 ? '-' : '+'}${String(Math.abs(y)).padStart(6, '0')}`;
  const hh = Math.floor(rem / 3600);
  const mm = Math.floor((rem % 3600) / 60);
  const ss = rem % 60;
  return `${year}-${two(m)}-${two(d)}T${two(hh)}:${two(mm)}:${two(ss)}`;
}
