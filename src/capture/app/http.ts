import { latin1, latin1Lower } from '../../common/bytes.js';
import { defineIssue, type DecodeIssue } from '../issues.js';

/**
 * HTTP/1.x requests (RFC 9112 §3, §3.2 Host): the request line is
 *   method SP request-target SP HTTP-version CRLF
 * followed by header fields until an empty line. Several requests may share a segment
 * (pipelining); a body is skipped by its framing (RFC 9112 §6.3): chunked when
 * Transfer-Encoding lists it (it wins over Content-Length), else Content-Length.
 *
 * Lenient where real clients and servers are (RFC 9112 §2.2, tshark, Zeek): a line may end
 * in a bare LF; empty lines before a request are skipped; a request line without a target
 * ("GET HTTP/1.1") still has its Host read. A Content-Length that is not a number, or too
 * large to be one (2^64-1 in request-smuggling tests), frames no body, as in tshark; it is
 * counted.
 */
export const HTTP_NO_HOST = defineIssue('http', 'skipped', 'no_host');
export const HTTP_BAD_HOST = defineIssue('http', 'invalid', 'host');
/** A Host longer than a DNS name can be (RFC 1035 §2.3.4: 253 characters): not a hostname. */
export const HTTP_HOST_TOO_LONG = defineIssue('http', 'invalid', 'host_too_long');
export const HTTP_BAD_REQUEST_LINE = defineIssue('http', 'invalid', 'request_line');
/**
 * The request line and header fields run past MAX_HEADER_BYTES (the stream window): a Host
 * among the complete lines before that point is still reported, but the requests after this
 * one on the connection cannot be found.
 */
export const HTTP_HEADERS_EXCEED_WINDOW = defineIssue('http', 'skipped', 'headers_exceed_window');
/** Content-Length is not a decimal number below 2^53, or two of them differ (RFC 9112 §6.3 rule 5). */
export const HTTP_BAD_CONTENT_LENGTH = defineIssue('http', 'invalid', 'content_length');
/** Transfer-Encoding without chunked in a request (RFC 9112 §6.3 rule 4): no body is assumed. */
export const HTTP_BAD_TRANSFER_ENCODING = defineIssue('http', 'invalid', 'transfer_encoding');
/** A chunk-size line that is not hexadecimal (RFC 9112 §7.1): the connection's framing is lost. */
export const HTTP_BAD_CHUNK = defineIssue('http', 'invalid', 'chunk');
/** Header blocks longer than this are not looked at further (a named limit, counted). */
export const MAX_HEADER_BYTES = 16_384;
/** A chunk-size line (with extensions) longer than this is malformed. */
const MAX_CHUNK_LINE = 1024;
/** Content-Length digits beyond this cannot be a real length (and lose precision as numbers). */
const MAX_LENGTH_DIGITS = 15;
const MAX_METHOD = 16;
const MAX_PATH = 256;

const SP = 0x20;
const HTAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Methods of RFC 9110 §9, WebDAV (RFC 4918, 3253, 5323), PATCH (RFC 5789) and a few more
 * tshark knows: a request line holding one of these is read even without a version (HTTP/0.9
 * style, or mangled as in zeek's http-methods trace), as tshark does. Any other method token
 * needs the request line's "HTTP/" version.
 */
const KNOWN_METHODS = new Set([
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'REPORT', 'CHECKOUT',
  'CHECKIN', 'VERSION-CONTROL', 'UNCHECKOUT', 'MKWORKSPACE', 'UPDATE', 'LABEL', 'MERGE', 'MKACTIVITY',
  'ORDERPATCH', 'ACL', 'MKCALENDAR', 'BIND', 'UNBIND', 'REBIND', 'CCM_POST', 'RPC_CONNECT', 'RPC_IN_DATA', 'RPC_OUT_DATA',
]);

function knownMethod(b: Uint8Array, s: number, e: number): boolean {
  return e - s >= 3 && e - s <= MAX_METHOD && KNOWN_METHODS.has(latin1(b, s, e));
}

/**
 * The cheap content probe: a method token (upper-case letters, '-' or '_') followed by SP,
 * or a known method alone on its line.
 */
export function looksLikeHttpRequest(b: Uint8Array, off: number, end: number): boolean {
  const c0 = b[off];
  if (c0 === undefined || c0 < 0x41 || c0 > 0x5a) return false;
  const lim = Math.min(end, off + MAX_METHOD + 1);
  for (let i = off + 1; i < lim; i++) {
    const c = b[i]!;
    if (c === SP) return i - off >= 3;
    if (c === CR || c === LF) return knownMethod(b, off, i);
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x5f)) return false;
  }
  return false;
}

export interface HttpSink {
  request(host: string, path: string): void;
}

/** Index of the next LF in [from, end), or -1. */
function indexOfLf(b: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (b[i] === LF) return i;
  return -1;
}

/** Index of the first ':' in [from, end), or -1. */
function indexOfColon(b: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (b[i] === 0x3a) return i;
  return -1;
}

/** End of the line content before the LF at `lf` (a CR before it is dropped). */
function lineEnd(b: Uint8Array, start: number, lf: number): number {
  return lf > start && b[lf - 1] === CR ? lf - 1 : lf;
}

/** Header name at [s, colon) equals `name` (lower-case ASCII), ignoring case. */
function nameIs(b: Uint8Array, s: number, colon: number, name: string): boolean {
  if (colon - s !== name.length) return false;
  for (let i = 0; i < name.length; i++) if ((b[s + i]! | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

/** tshark-compatible Host → name: brackets of an IPv6 literal and a `:port` removed, value stops at NUL. */
export function hostFromHeader(v: string): string | undefined {
  const nul = v.indexOf('\0');
  let h = (nul >= 0 ? v.slice(0, nul) : v).trim();
  if (h.startsWith('[')) {
    const e = h.indexOf(']');
    h = e > 0 ? h.slice(1, e) : h;
  } else if (h.indexOf(':') >= 0 && h.indexOf(':') === h.lastIndexOf(':')) {
    h = h.slice(0, h.indexOf(':'));
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h.length === 0 || h.length > 253) return undefined;
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return undefined;
  }
  return h;
}

function pathOf(target: string): string {
  let p = target;
  // absolute-form (proxies, RFC 9112 §3.2.2): keep the path part only
  const scheme = p.indexOf('://');
  if (scheme > 0 && scheme < 10) {
    const slash = p.indexOf('/', scheme + 3);
    p = slash >= 0 ? p.slice(slash) : '/';
  }
  const q = p.search(/[?#]/);
  if (q >= 0) p = p.slice(0, q);
  return p.length > MAX_PATH ? p.slice(0, MAX_PATH) : p;
}

export interface HttpResult {
  /**
   * Bytes consumed by complete requests (header blocks and bodies, as far as given). When
   * `needMore` is false, every byte given: the parser is done with them (after an issue, or
   * with a tail that cannot start a request, too).
   */
  consumed: number;
  /** The bytes after `consumed` start something unfinished: more bytes are needed. */
  needMore: boolean;
  /** Body bytes (Content-Length, or chunk data) of the last request that lie beyond the bytes given. */
  bodyRemaining: number;
  /** After `bodyRemaining`, the stream is still inside a chunked body (pass `chunked` next time). */
  chunked: boolean;
  /** A request's Host could not be read because its header block exceeded the window. */
  nameLost: boolean;
  issue?: DecodeIssue;
}

/**
 * A Content-Length value (RFC 9110 §8.6): 1*DIGIT (leading zeros allowed), or a list of
 * identical ones; -1 when invalid.
 */
function contentLength(b: Uint8Array, s: number, e: number): number {
  let value = -1;
  let digits = 0;
  let significant = 0;
  let n = 0;
  for (let i = s; i <= e; i++) {
    const c = i < e ? b[i]! : 0x2c;
    if (c >= 0x30 && c <= 0x39) {
      digits++;
      if ((n > 0 || c !== 0x30) && ++significant > MAX_LENGTH_DIGITS) return -1;
      n = n * 10 + (c - 0x30);
    } else if (c === 0x2c) {
      if (digits === 0 || (value >= 0 && value !== n)) return -1;
      value = n;
      n = 0;
      digits = 0;
      significant = 0;
    } else if (c !== SP && c !== HTAB) return -1;
    else if (digits > 0 && i + 1 < e && b[i + 1]! >= 0x30 && b[i + 1]! <= 0x39) return -1; // "1 2"
  }
  return value;
}

/** Does a Transfer-Encoding value list the chunked coding (RFC 9112 §7)? */
function listsChunked(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i + 7 <= e; i++) {
    if ((b[i]! | 0x20) !== 0x63 || (i > s && b[i - 1] !== SP && b[i - 1] !== HTAB && b[i - 1] !== 0x2c)) continue;
    let ok = true;
    for (let k = 1; k < 7 && ok; k++) ok = (b[i + k]! | 0x20) === 'chunked'.charCodeAt(k);
    const after = i + 7 < e ? b[i + 7]! : 0x2c;
    if (ok && (after === 0x2c || after === SP || after === HTAB || after === 0x3b)) return true;
  }
  return false;
}

const NEED_MORE = -1;
const BAD_CHUNK = -2;
/** Set by `chunkedBody` when it returns `end` inside chunk data: the data bytes still to come. */
let chunkDataLeft = 0;
/** Set by `chunkedBody` when it returns NEED_MORE: where parsing resumes with more bytes. */
let chunkResume = 0;

/**
 * RFC 9112 §7.1 chunked body from `p` (at a chunk-size line, or at the CRLF ending the previous
 * chunk's data): chunk-size [; ext] CRLF data CRLF ... last-chunk (size 0), trailer fields,
 * CRLF. Returns where the body ends; `end` with `chunkDataLeft` > 0 when it stops inside chunk
 * data; NEED_MORE (the position to resume from is in `chunkResume`) or BAD_CHUNK.
 */
function chunkedBody(b: Uint8Array, p: number, end: number): number {
  chunkDataLeft = 0;
  for (;;) {
    while (p < end && (b[p] === CR || b[p] === LF)) p++;
    chunkResume = p;
    const lf = indexOfLf(b, p, Math.min(end, p + MAX_CHUNK_LINE));
    if (lf < 0) return end - p < MAX_CHUNK_LINE ? NEED_MORE : BAD_CHUNK;
    let size = 0;
    let i = p;
    for (; i < lf; i++) {
      const c = b[i]! | 0x20;
      const v = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
      if (v < 0) break;
      if (i - p >= 13) return BAD_CHUNK; // 2^52: no real chunk is larger
      size = size * 16 + v;
    }
    if (i === p) return BAD_CHUNK;
    const after = b[i]!;
    if (i < lf && after !== 0x3b && after !== SP && after !== HTAB && after !== CR) return BAD_CHUNK;
    if (size === 0) {
      // Trailer fields, then the empty line that ends the message.
      let q = lf + 1;
      for (;;) {
        const t = indexOfLf(b, q, Math.min(end, p + MAX_HEADER_BYTES));
        if (t < 0) return end - p < MAX_HEADER_BYTES ? NEED_MORE : BAD_CHUNK;
        if (lineEnd(b, q, t) === q) return t + 1;
        q = t + 1;
      }
    }
    const dataEnd = lf + 1 + size;
    if (dataEnd > end) {
      chunkDataLeft = dataEnd - end;
      return end;
    }
    p = dataEnd;
  }
}

/**
 * Parses consecutive requests starting at `off`. Each complete header block with a Host
 * yields one `sink.request`. A request line or header block cut at the end of the bytes sets
 * `needMore` (the TCP reassembler then waits for more). `chunked`: the bytes continue a
 * chunked body (HttpResult.chunked of the previous call).
 */
export function parseHttpRequests(b: Uint8Array, off: number, end: number, sink: HttpSink, chunked = false): HttpResult {
  let p = off;
  const res: HttpResult = { consumed: 0, needMore: false, bodyRemaining: 0, chunked: false, nameLost: false };
  let inChunked = chunked;
  for (;;) {
    if (inChunked) {
      const e = chunkedBody(b, p, end);
      if (e === NEED_MORE) {
        res.consumed = chunkResume - off;
        res.needMore = true;
        res.chunked = true;
        return res;
      }
      if (e === BAD_CHUNK) {
        res.issue ??= HTTP_BAD_CHUNK;
        res.consumed = end - off;
        return res;
      }
      if (chunkDataLeft > 0) {
        res.bodyRemaining = chunkDataLeft;
        res.chunked = true;
        res.consumed = end - off;
        return res;
      }
      p = e;
      res.consumed = p - off;
      inChunked = false;
    }
    // RFC 9112 §2.2: empty lines before a request line are ignored.
    while (p < end && (b[p] === CR || b[p] === LF)) p++;
    if (p >= end) {
      res.consumed = end - off;
      return res;
    }
    if (!looksLikeHttpRequest(b, p, end)) {
      // The next request may be cut inside its method ("GE|T /"): wait for the rest.
      if (res.issue === undefined && couldBeMethodPrefix(b, p, end)) {
        res.consumed = p - off;
        res.needMore = true;
      } else {
        res.consumed = end - off;
      }
      return res;
    }
    const lim = Math.min(end, p + MAX_HEADER_BYTES);
    const lf0 = indexOfLf(b, p, lim);
    if (lf0 < 0) return incomplete(res, p, off, end, false);
    const le = lineEnd(b, p, lf0);
    // method SP [request-target SP] HTTP-version; a known method may go without the version.
    let sp1 = p;
    while (sp1 < le && b[sp1] !== SP) sp1++;
    const sp2 = sp1 < le ? b.lastIndexOf(SP, le - 1) : sp1;
    // One addition whichever way the line is split: arithmetic only a rare request line
    // reaches has no type feedback, and would deoptimise the parser the first time it ran.
    const afterSp1 = sp1 + 1;
    const version = sp2 > sp1 ? sp2 + 1 : afterSp1;
    let targetEnd = sp2 > sp1 ? sp2 : afterSp1;
    if (le - version < 6 || b[version] !== 0x48 /* H */ || b[version + 1] !== 0x54 || b[version + 4] !== 0x2f /* / */) {
      if (!knownMethod(b, p, sp1) || hasOtherVersion(b, version, le)) {
        res.issue = HTTP_BAD_REQUEST_LINE;
        res.consumed = end - off;
        return res;
      }
      // One token after the method is the target ("GET /HTTP/1.1"); with two or more, the
      // last is a version cut short or mangled ("HTTP/", "HTTP") and the target still ends at
      // the last space, as with a whole version (tshark's URI stops at a space too).
      if (sp2 === sp1) targetEnd = Math.max(sp1 + 1, le);
    }
    const target = (): string => pathOf(latin1(b, Math.min(sp1 + 1, targetEnd), targetEnd));
    let host: string | undefined;
    let hostSeen = false;
    let hostTooLong = false;
    let length = 0;
    let lengthBad = false;
    let te = 0; // 0 none, 1 chunked, 2 another coding
    let q = lf0 + 1;
    let complete = false;
    for (;;) {
      const lf = indexOfLf(b, q, lim);
      if (lf < 0) break;
      const e = lineEnd(b, q, lf);
      if (e === q) {
        complete = true;
        q = lf + 1;
        break;
      }
      const colon = indexOfColon(b, q, e);
      // A line starting with whitespace continues the previous field (obs-fold): not a field.
      if (colon > q && colon < e && b[q] !== SP && b[q] !== HTAB) {
        if (!hostSeen && nameIs(b, q, colon, 'host')) {
          hostSeen = true;
          host = hostFromHeader(latin1Lower(b, colon + 1, e));
          if (host === undefined) hostTooLong = hostValueTooLong(b, colon + 1, e);
        } else if (nameIs(b, q, colon, 'content-length')) {
          const n = contentLength(b, colon + 1, e);
          if (n < 0 || (length > 0 && n !== length)) lengthBad = true;
          else length = n;
        } else if (nameIs(b, q, colon, 'transfer-encoding')) {
          te = te === 1 || listsChunked(b, colon + 1, e) ? 1 : 2;
        }
      }
      q = lf + 1;
    }
    if (!complete) {
      // The window ended inside the header block: a Host already read still counts.
      if (end - p >= MAX_HEADER_BYTES && host !== undefined) sink.request(host, target());
      return incomplete(res, p, off, end, host !== undefined);
    }
    if (host !== undefined) sink.request(host, target());
    else res.issue = !hostSeen ? HTTP_NO_HOST : hostTooLong ? HTTP_HOST_TOO_LONG : HTTP_BAD_HOST;
    // RFC 9112 §6.3: chunked wins over Content-Length; another coding alone, or an invalid
    // Content-Length, leaves the length unknown: no body is assumed (as tshark does).
    p = q;
    res.consumed = p - off;
    if (te === 1) {
      inChunked = true;
      continue;
    }
    if (te === 2) res.issue ??= HTTP_BAD_TRANSFER_ENCODING;
    else if (lengthBad) res.issue ??= HTTP_BAD_CONTENT_LENGTH;
    else if (length > 0) {
      p += length;
      if (p > end) {
        res.bodyRemaining = p - end;
        res.consumed = end - off;
        return res;
      }
      res.consumed = p - off;
    }
  }
}

/**
 * A request line or header block without its end in the bytes given: wait for more while the
 * window allows, else give up on the connection (`hostRead`: its Host was reported anyway).
 */
function incomplete(res: HttpResult, p: number, off: number, end: number, hostRead: boolean): HttpResult {
  if (end - p < MAX_HEADER_BYTES) {
    res.needMore = true;
    res.consumed = p - off;
    return res;
  }
  res.issue = HTTP_HEADERS_EXCEED_WINDOW;
  res.nameLost = !hostRead;
  res.consumed = end - off;
  return res;
}

/** The last token of a request line is another protocol's version ("RTSP/1.0", "SIP/2.0"): not HTTP. */
function hasOtherVersion(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  while (i < e && b[i]! >= 0x41 && b[i]! <= 0x5a) i++;
  return i > s && i + 1 < e && b[i] === 0x2f && b[i + 1]! >= 0x30 && b[i + 1]! <= 0x39;
}

/** The Host value, trimmed, is longer than any DNS name (and otherwise a plain hostname). */
function hostValueTooLong(b: Uint8Array, s: number, e: number): boolean {
  while (s < e && (b[s] === SP || b[s] === HTAB)) s++;
  while (e > s && (b[e - 1] === SP || b[e - 1] === HTAB)) e--;
  if (e - s <= 253) return false;
  for (let i = s; i < e; i++) if (b[i]! <= 0x20 || b[i]! >= 0x7f) return false;
  return true;
}

function couldBeMethodPrefix(b: Uint8Array, p: number, end: number): boolean {
  if (end - p > MAX_METHOD) return false;
  for (let i = p; i < end; i++) {
    const c = b[i]!;
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x5f)) return false;
  }
  return true;
}
