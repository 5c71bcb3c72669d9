import { latin1, latin1Lower } from '../../common/bytes.js';
import { defineIssue, type DecodeIssue } from '../issues.js';

/**
 * HTTP/1.x requests (RFC 9112 §3, §3.2 Host): the request line is
 *   method SP request-target SP HTTP-version CRLF
 * followed by header fields until an empty line. Several requests may share a segment
 * (pipelining); a body is skipped by Content-Length.
 */
export const HTTP_TRUNCATED_HEADERS = defineIssue('http', 'truncated', 'headers');
export const HTTP_NO_HOST = defineIssue('http', 'skipped', 'no_host');
export const HTTP_BAD_HOST = defineIssue('http', 'invalid', 'host');
export const HTTP_BAD_REQUEST_LINE = defineIssue('http', 'invalid', 'request_line');
/** Header blocks longer than this are not looked at further (a named limit, counted). */
export const MAX_HEADER_BYTES = 16_384;
const MAX_METHOD = 16;
const MAX_PATH = 256;

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;

/** method token (upper-case letters, '-' or '_') followed by SP: the cheap content probe. */
export function looksLikeHttpRequest(b: Uint8Array, off: number, end: number): boolean {
  const c0 = b[off];
  if (c0 === undefined || c0 < 0x41 || c0 > 0x5a) return false;
  const lim = Math.min(end, off + MAX_METHOD + 1);
  for (let i = off + 1; i < lim; i++) {
    const c = b[i]!;
    if (c === SP) return i - off >= 3;
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x5f)) return false;
  }
  return false;
}

export interface HttpSink {
  request(host: string, path: string): void;
}

function indexOfCrlf(b: Uint8Array, from: number, end: number): number {
  for (let i = from; i + 1 < end; i++) if (b[i] === CR && b[i + 1] === LF) return i;
  return -1;
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
  /** Bytes consumed by complete requests (header block and any Content-Length body). */
  consumed: number;
  /** The last request's header block was incomplete: more bytes are needed. */
  needMore: boolean;
  /** Body bytes (Content-Length) of the last request that lie beyond the bytes given. */
  bodyRemaining: number;
  issue?: DecodeIssue;
}

/**
 * Parses consecutive requests starting at `off`. Each complete header block with a Host
 * yields one `sink.request`. A header block cut at the end of the bytes sets `needMore`
 * (the TCP reassembler then waits for more).
 */
export function parseHttpRequests(b: Uint8Array, off: number, end: number, sink: HttpSink): HttpResult {
  let p = off;
  const res: HttpResult = { consumed: 0, needMore: false, bodyRemaining: 0 };
  while (p < end && looksLikeHttpRequest(b, p, end)) {
    const lineEnd = indexOfCrlf(b, p, Math.min(end, p + MAX_HEADER_BYTES));
    if (lineEnd < 0) {
      res.needMore = end - p < MAX_HEADER_BYTES;
      if (!res.needMore) res.issue = HTTP_BAD_REQUEST_LINE;
      break;
    }
    const sp1 = b.indexOf(SP, p);
    const sp2 = sp1 >= 0 ? b.lastIndexOf(SP, lineEnd) : -1;
    if (sp1 < 0 || sp2 <= sp1 || sp2 + 6 > lineEnd || b[sp2 + 1] !== 0x48 /* H */) {
      res.issue = HTTP_BAD_REQUEST_LINE;
      break;
    }
    let host: string | undefined;
    let hostSeen = false;
    let contentLength = 0;
    let q = lineEnd + 2;
    let complete = false;
    for (;;) {
      const e = indexOfCrlf(b, q, Math.min(end, p + MAX_HEADER_BYTES));
      if (e < 0) break;
      if (e === q) {
        complete = true;
        q += 2;
        break;
      }
      const colon = b.indexOf(0x3a, q);
      if (colon > q && colon < e) {
        if (!hostSeen && nameIs(b, q, colon, 'host')) {
          hostSeen = true;
          host = hostFromHeader(latin1Lower(b, colon + 1, e));
        } else if (nameIs(b, q, colon, 'content-length')) {
          const n = Number.parseInt(latin1Lower(b, colon + 1, e).trim(), 10);
          contentLength = Number.isFinite(n) && n > 0 ? n : 0;
        }
      }
      q = e + 2;
    }
    if (!complete) {
      res.needMore = end - p < MAX_HEADER_BYTES;
      if (!res.needMore) res.issue = HTTP_TRUNCATED_HEADERS;
      break;
    }
    if (host !== undefined) sink.request(host, pathOf(latin1(b, sp1 + 1, sp2)));
    else res.issue = hostSeen ? HTTP_BAD_HOST : HTTP_NO_HOST;
    p = q + contentLength;
    if (p > end) {
      res.bodyRemaining = p - end;
      res.consumed = end - off;
      break;
    }
    res.consumed = p - off;
  }
  // The next request may be cut inside its method ("GE|T /"): wait for the rest.
  if (!res.needMore && res.issue === undefined && res.bodyRemaining === 0 && p < end && couldBeMethodPrefix(b, p, end)) {
    res.needMore = true;
  }
  return res;
}

function couldBeMethodPrefix(b: Uint8Array, p: number, end: number): boolean {
  if (end - p > MAX_METHOD) return false;
  for (let i = p; i < end; i++) {
    const c = b[i]!;
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x5f)) return false;
  }
  return true;
}
