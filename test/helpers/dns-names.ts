/**
 * Comparing the hot-path DNS decoder's names with dns-packet's (the test reference).
 *
 * The hot path gives names in the presentation format of RFC 1035 §5.1 (src/capture/app/dns.ts):
 * ASCII letters lower-cased, a byte outside 0x21-0x7e as `\DDD`, a dot or backslash inside a
 * label as `\.` or `\\`, the root as ''. dns-packet reads each label's bytes as UTF-8, escapes
 * nothing, joins the labels with dots and gives the root as '.' (as it does a single label
 * holding a dot). These helpers bring both to dns-packet's form, so that what each decoder
 * reads from the wire can be compared.
 */

/** A byte a label may hold as is: printable ASCII other than upper case, '.' and '\'. */
const PLAIN = String.raw`[\x21-\x2d\x2f-\x40\x5b\x5d-\x7e]`;
/** `\DDD` for exactly the bytes that need it: 0-32 (controls and space) and 127-255. */
const DDD = String.raw`\\(?:0[0-2]\d|03[0-2]|12[7-9]|1[3-9]\d|2[0-4]\d|25[0-5])`;
const LABEL = String.raw`(?:${PLAIN}|\\[.\\]|${DDD})+`;

/** A name in canonical presentation format: every byte escaped when it must be, and only then. */
export const PRESENTATION_NAME = new RegExp(String.raw`^(?:${LABEL}(?:\.${LABEL})*)?$`);

/**
 * The name as dns-packet decodes the same wire bytes: the escapes undone label by label, each
 * label's bytes read as UTF-8, the labels joined with dots, '.' for the root. A dot inside a
 * label reads as a dot here, as in dns-packet.
 */
export function toDnsPacketForm(name: string): string {
  const labels: string[] = [];
  let bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '.') {
      labels.push(Buffer.from(bytes).toString('utf-8'));
      bytes = [];
    } else if (c === '\\' && /^\d{3}$/.test(name.slice(i + 1, i + 4))) {
      bytes.push(Number(name.slice(i + 1, i + 4)));
      i += 3;
    } else if (c === '\\') {
      bytes.push(name.charCodeAt(++i));
    } else {
      bytes.push(name.charCodeAt(i));
    }
  }
  if (name.length === 0) return '.';
  labels.push(Buffer.from(bytes).toString('utf-8'));
  return labels.join('.');
}

/**
 * A name dns-packet decoded, with its ASCII letters lower-cased as the hot path gives them, and
 * nothing else (DNS names are case-insensitive in ASCII only, RFC 4343).
 */
export function lowerAscii(name: string): string {
  return name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}
