/**
 * The PROXY protocol header (HAProxy, "The PROXY protocol" versions 1 and 2): a load balancer
 * writes it at the very start of a TCP connection, before the client's own bytes (a
 * ClientHello, an HTTP request), to pass on the original addresses. It is skipped to reach
 * what follows; the observation keeps the addresses of the TCP connection it travelled on.
 *
 *   v1: "PROXY " ("TCP4" | "TCP6" | "UNKNOWN") ... CRLF, 107 bytes at most
 *   v2: \r\n\r\n\0\r\nQUIT\n (12), version 2 and command (1), family (1), length (2), length bytes
 */
const V1_PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]; // "PROXY "
const V1_MAX = 107;
const V2_SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const V2_HEADER = 16;
/** A v2 header this long is no PROXY header (addresses and TLVs fit in far less). */
const V2_MAX_LENGTH = 4096;

/** The header's length at `p`: > 0 a complete PROXY header, 0 none, NEED_MORE its start only. */
export const PROXY_NEED_MORE = -1;

export function proxyHeaderLength(b: Uint8Array, p: number, end: number): number {
  const c = b[p];
  if (c === 0x50) {
    if (!startsWith(b, p, end, V1_PREFIX)) return 0;
    if (end - p < V1_PREFIX.length) return PROXY_NEED_MORE;
    const lim = Math.min(end, p + V1_MAX);
    for (let i = p + V1_PREFIX.length; i < lim; i++) {
      if (b[i] === 0x0a) return b[i - 1] === 0x0d ? i + 1 - p : 0;
    }
    return end - p < V1_MAX ? PROXY_NEED_MORE : 0;
  }
  if (c === 0x0d) {
    if (!startsWith(b, p, end, V2_SIG)) return 0;
    if (end - p < V2_HEADER) return PROXY_NEED_MORE;
    if (b[p + 12]! >> 4 !== 2) return 0;
    const len = (b[p + 14]! << 8) | b[p + 15]!;
    if (len > V2_MAX_LENGTH) return 0;
    return end - p >= V2_HEADER + len ? V2_HEADER + len : PROXY_NEED_MORE;
  }
  return 0;
}

/** b[p..] matches `prefix` as far as the bytes go. */
function startsWith(b: Uint8Array, p: number, end: number, prefix: readonly number[]): boolean {
  const n = Math.min(prefix.length, end - p);
  for (let i = 0; i < n; i++) if (b[p + i] !== prefix[i]) return false;
  return true;
}
