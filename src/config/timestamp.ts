/** Timestamps in config files and on the command line (the cutoff): ISO 8601 / RFC 3339 with a zone. */
import type { Compiled } from '../analyze/rules.js';
import type { Cutoff } from './schema.js';

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;
export const CUTOFF_EXAMPLE = 'write it like 2024-09-29T04:00:00Z or 2024-09-29T00:00:00-04:00';

/** Real time zones lie within UTC-12:00..UTC+14:00; RFC 3339 allows any offset, kasmon only these ±14:00. */
const MAX_OFFSET_MINUTES = 14 * 60;

/**
 * ISO 8601 / RFC 3339 timestamp with Z or an offset → epoch microseconds. Packet times are
 * compared to the microsecond, so digits beyond the sixth of the fraction are dropped (see
 * cutoffRounding): a packet in the same microsecond as the cutoff counts as after it.
 */
export function parseTimestamp(s: string): Compiled<Cutoff> {
  const m = ISO.exec(s.trim());
  if (m === null) return { ok: false, error: `"${s}" is not an ISO 8601 timestamp; ${CUTOFF_EXAMPLE}` };
  const [, y, mo, d, h, mi, sec = '0', frac = '', z, sign, oh = '0', om = '0'] = m;
  if (z === undefined && sign === undefined) {
    return { ok: false, error: `"${s}" has no UTC offset, so it is ambiguous; add Z (UTC) or an offset like -04:00` };
  }
  const [Y, M, D, H, Mi, S, OH, OM] = [y, mo, d, h, mi, sec, oh, om].map(Number) as [
    number, number, number, number, number, number, number, number,
  ];
  const daysInMonth = new Date(Date.UTC(2000 + (Y % 400), M, 0)).getUTCDate();
  if (sign !== undefined && (OH * 60 + OM > MAX_OFFSET_MINUTES || OM > 59)) {
    return {
      ok: false,
      error: `"${s}" has the UTC offset ${sign}${oh}:${om}, outside -14:00..+14:00 where every real time zone lies; check its sign and digits (New York in summer is -04:00)`,
    };
  }
  if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > daysInMonth || H > 23 || Mi > 59 || S > 59) {
    return { ok: false, error: `"${s}" is not a valid date and time (after 1970); ${CUTOFF_EXAMPLE}` };
  }
  const offsetMs = (sign === '-' ? -1 : 1) * (OH * 60 + OM) * 60_000;
  const ms = Date.UTC(Y, M - 1, D, H, Mi, S) - offsetMs;
  const micros = Number(frac.padEnd(6, '0').slice(0, 6));
  const iso = `${new Date(ms).toISOString().slice(0, 19)}${micros > 0 ? `.${String(micros).padStart(6, '0')}` : ''}Z`;
  return { ok: true, value: { micros: ms * 1000 + micros, iso } };
}

/**
 * What parseTimestamp dropped from `s`, as a notice, when its fraction has non-zero digits
 * beyond microseconds; undefined when nothing was dropped (or `s` is not a timestamp).
 */
export function cutoffRounding(s: string): string | undefined {
  const m = ISO.exec(s.trim());
  const frac = m?.[7] ?? '';
  if (frac.length <= 6 || /^0*$/.test(frac.slice(6))) return undefined;
  const r = parseTimestamp(s);
  if (!r.ok) return undefined;
  return `packet times are compared to the microsecond: the cutoff ${s} is used as ${r.value.iso} (a packet in that microsecond counts as after it)`;
}
