import { QUIC_UNSUPPORTED_VERSIONS } from '../capture/app/quic.js';
import { NAME_SNAPLEN } from '../capture/unrecovered.js';
import { issueCount, type DecodeTotals } from '../engine/decode-totals.js';
import { linktypeName } from '../capture/read/linktypes.js';

/**
 * The report's coverage: how many frames kasmon could decode, and, said first and in words
 * when a large part of the input could not be read, why. "No Kaspersky traffic" means little
 * for a capture kasmon could not decode, so the summary must not let it pass for one.
 */
export interface CoverageReport {
  frames_read: number;
  frames_decoded: number;
  /** frames_decoded / frames_read (4 decimals); 1 when no frame was read. */
  ratio: number;
  /** Frames not decoded, by why (an unsupported link type names it). */
  not_decoded: Array<{ reason: string; frames: number; linktype: number | null; linktype_name: string | null }>;
  /** Frames captured shorter than on the wire, and the snap length they were cut at. */
  cut_by_snaplen: { frames: number; snaplen: number | null };
  /** Client QUIC packets to port 443: in a version kasmon can decrypt / in another version. */
  quic_packets: { known_version: number; unknown_version: number };
}

/** A part this large (of frames, or of QUIC packets) is said in the summary's first lines. */
export const LARGE_PART = 0.1;

const pct = (n: number, of: number): string => `${((100 * n) / of).toFixed(n === of ? 0 : 1)}%`;

function linkLabel(n: number): string {
  const name = linktypeName(n);
  return `link type ${n}${name !== undefined ? ` (${name})` : ''}`;
}

export function coverageOf(d: DecodeTotals): CoverageReport {
  const c = d.coverage;
  const read = d.frames;
  const notDecoded: CoverageReport['not_decoded'] = [];
  // Most frames first; ties in a fixed order (link type, key), whatever order inputs were read in.
  const linktypes = Object.entries(c.unsupportedLinktypes).map(([lt, n]) => [Number(lt), n] as const);
  for (const [lt, frames] of linktypes.sort((a, b) => b[1] - a[1] || a[0] - b[0])) {
    notDecoded.push({ reason: `unsupported ${linkLabel(lt)}`, frames, linktype: lt, linktype_name: linktypeName(lt) ?? null });
  }
  let undecodedFrames = 0;
  for (const [key, r] of Object.entries(c.undecoded).sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    undecodedFrames += r.count;
    if (r.reason === 'unsupported_linktype') continue; // listed by link type above
    notDecoded.push({ reason: key, frames: r.count, linktype: null, linktype_name: null });
  }
  const decoded = read - undecodedFrames;
  return {
    frames_read: read,
    frames_decoded: decoded,
    ratio: read === 0 ? 1 : Math.round((decoded / read) * 10_000) / 10_000,
    not_decoded: notDecoded,
    cut_by_snaplen: { frames: c.cutFrames, snaplen: c.cutFrames > 0 ? c.snaplen : null },
    quic_packets: { known_version: c.quicKnown, unknown_version: QUIC_UNSUPPORTED_VERSIONS.reduce((n, i) => n + issueCount(d, i.key), 0) },
  };
}

/** True when frames were read and not one could be decoded (exit code 5). */
export function nothingDecoded(c: CoverageReport): boolean {
  return c.frames_read > 0 && c.frames_decoded === 0;
}

/** The summary's first lines: each large part of the input that could not be read, in words. */
export function coverageWarnings(c: CoverageReport, d: DecodeTotals): string[] {
  const out: string[] = [];
  const read = c.frames_read;
  if (nothingDecoded(c)) out.push(`Not one of the ${read} frames could be decoded: nothing was analysed, and no finding here means anything.`);
  const large = (n: number, of: number): boolean => of > 0 && n > 0 && n >= LARGE_PART * of;
  for (const x of c.not_decoded) {
    if (x.linktype === null || !large(x.frames, read)) continue;
    out.push(`${x.frames} of ${read} frames (${pct(x.frames, read)}) have ${linkLabel(x.linktype)}, which kasmon cannot decode: the names in them are not in this report.`);
  }
  const other = c.not_decoded.filter((x) => x.linktype === null);
  const otherFrames = other.reduce((n, x) => n + x.frames, 0);
  if (large(otherFrames, read)) {
    const why = other.map((x) => `${x.reason} ${x.frames}`).join(', ');
    out.push(`${otherFrames} of ${read} frames (${pct(otherFrames, read)}) could not be decoded (${why}): the names in them are not in this report.`);
  }
  const cut = c.cut_by_snaplen;
  if (large(cut.frames, read)) {
    const lost = issueCount(d, NAME_SNAPLEN.key);
    out.push(
      `${cut.frames} of ${read} frames (${pct(cut.frames, read)}) were cut by the snap length (${cut.snaplen ?? 0} bytes kept): names past the cut are lost (${lost} counted under name/capture_truncated); capture with tcpdump -s 0.`,
    );
  }
  const q = c.quic_packets;
  const quic = q.known_version + q.unknown_version;
  if (large(q.unknown_version, quic)) {
    out.push(`${q.unknown_version} of ${quic} QUIC client packets to port 443 (${pct(q.unknown_version, quic)}) use a version kasmon cannot decrypt: the names in them are not in this report.`);
  }
  return out;
}
