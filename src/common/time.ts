/**
 * Packet time and its two text forms. Every conversion in kasmon goes through this file, so
 * a timestamp prints, compares and converts the same way everywhere.
 *
 * - `PacketTime` is what a capture record says: whole seconds, nanoseconds in [0, 1e9) (the
 *   readers carry an out-of-range fraction into the seconds) and how many fraction digits the
 *   format carries (6 for microsecond pcap, 9 for nanosecond pcap, 0-9 for pcapng).
 * - Microseconds since the epoch (`toMicros`) are what analysis compares: exact integers for
 *   any time within ±285,000 years of 1970 (2^53 µs).
 * - ISO 8601 UTC with the capture's own precision (`isoTime`) is what outputs print.
 */

/** Packet time: whole seconds plus nanoseconds, and how many fraction digits the capture has. */
export interface PacketTime {
  sec: number;
  nsec: number;
  /** Fraction digits the capture format carries: 6 (microseconds) or 9 (nanoseconds), 0-9. */
  digits: number;
}

const NS_PER_SEC = 1_000_000_000;

/** Carries a fraction of a second that is out of [0, 1e9) into the seconds (a pcap record's usec field may hold any 32-bit value). */
export function carryNanos(t: { sec: number; nsec: number }): void {
  if (t.nsec >= 0 && t.nsec < NS_PER_SEC) return;
  const carry = Math.floor(t.nsec / NS_PER_SEC);
  t.sec += carry;
  t.nsec -= carry * NS_PER_SEC;
}

/**
 * ISO 8601 UTC with the capture's own precision: `2024-09-30T08:15:02.123456Z`. Any
 * 32/64-bit capture timestamp formats (years past 9999 in the expanded `+YYYYYY` form, as
 * Date does), so a hostile timestamp can never make output fail.
 */
export function isoTime(t: PacketTime): string {
  const base = civil(t.sec);
  if (t.digits <= 0) return `${base}Z`;
  const frac = String(t.nsec).padStart(9, '0').slice(0, Math.min(t.digits, 9));
  return `${base}.${frac}Z`;
}

/** Microseconds since the epoch, the fraction truncated (never rounded up into the next microsecond). */
export function toMicros(t: PacketTime): number {
  return t.sec * 1_000_000 + Math.floor(t.nsec / 1000);
}

/** The PacketTime of a microsecond count, printed with `digits` fraction digits (at most 6: a microsecond count has no more). */
export function fromMicros(us: number, digits = 6): PacketTime {
  const sec = Math.floor(us / 1_000_000);
  return { sec, nsec: (us - sec * 1_000_000) * 1000, digits: Math.min(digits, 6) };
}

/** `isoTime` of a microsecond count (6 fraction digits). */
export function isoMicros(us: number): string {
  return isoTime(fromMicros(us));
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
