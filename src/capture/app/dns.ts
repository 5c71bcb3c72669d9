import { u16be, u32be } from '../../common/bytes.js';
import { ipv4ToString, ipv6ToString } from '../../common/address.js';
import { defineIssue, type DecodeIssue } from '../issues.js';
import type { NameFilter } from './name-filter.js';

/**
 * DNS messages (RFC 1035 §4.1): the header, the question section and the answer section's
 * A, AAAA and CNAME records. Authority/additional sections never carry an observation and
 * are not read. Names are decoded once, lower-cased as they are built, with RFC 1035 §4.1.4
 * compression: a pointer may only point before the labels it continues (dns-packet's rule),
 * which rules out loops without a visited set, and a name is capped at 255 wire octets.
 *
 * Hand-written on the hot path rather than dns-packet: dns-packet decodes every record into
 * objects and Buffers and took 25% of `npm run bench` (about 5 µs per message); this decoder
 * allocates only the strings it returns. dns-packet stays the reference: tests build their
 * messages with it and compare both decoders on random messages (README, Dependency notes).
 */
export const DNS_HEADER_LEN = 12;
/** RFC 1035 §2.3.4: 255 octets on the wire, 253 characters as text. */
export const MAX_NAME_LEN = 253;
const MAX_WIRE_NAME = 255;
const MAX_POINTERS = 64;

export const DNS_TRUNCATED_HEADER = defineIssue('dns', 'truncated', 'header');
export const DNS_BAD_QUESTION = defineIssue('dns', 'invalid', 'question');
export const DNS_BAD_ANSWER = defineIssue('dns', 'invalid', 'answer');
export const DNS_BAD_NAME = defineIssue('dns', 'invalid', 'name');
export const DNS_TCP_LENGTH = defineIssue('dns', 'invalid', 'tcp_length_zero');

export interface DnsSink {
  query(name: string, qtype: string): void;
  /** `ttl`: the record's TTL in seconds (RFC 1035 §4.1.3), for attribution (how long the answer holds). */
  answer(name: string, rrtype: 'A' | 'AAAA' | 'CNAME', data: string, ttl: number): void;
  /**
   * Which names become observations (undefined: all). Asked before anything else is formatted
   * (addresses, type names), and names outside its roots are never even built as strings.
   */
  readonly nameFilter: NameFilter | undefined;
  /** A decoded name the filter rejected: counted, nothing else. */
  filtered(kind: 'dns_query' | 'dns_answer'): void;
}

const T_A = 1;
const T_CNAME = 5;
const T_AAAA = 28;

/** RFC 1035 §3.2.2, RFC 3596, RFC 9460 ... : the types a query report names. */
const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA',
  33: 'SRV', 35: 'NAPTR', 39: 'DNAME', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY',
  52: 'TLSA', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 252: 'AXFR', 255: 'ANY', 257: 'CAA',
};

export function typeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE${t}`;
}

/** Offset just past the name last read by `readName` (in the record, not after a pointer). */
let nameNext = 0;
const utf8 = new TextDecoder('utf-8');
/** The name being read, lower-cased, as bytes: one native latin1 slice makes the string. */
const scratch = Buffer.alloc(MAX_WIRE_NAME + 1);

/**
 * Names already decoded in the current message, by the offset they start at (reset per
 * message). Answers usually point at the question's name (0xc00c): the string built for the
 * question is handed out again, which also lets the consumer's memo and Map lookups see the
 * same string object. Tiny and round-robin: most messages hold one or two distinct names.
 */
const CACHE_SIZE = 4;
const cacheOff = new Int32Array(CACHE_SIZE);
const cachePointers = new Int32Array(CACHE_SIZE);
/** null: the name was rejected by the name filter (no string was built). */
const cacheName: Array<string | null> = ['', '', '', ''];
let cacheCount = 0;
let cacheNext = 0;

function resetNameCache(): void {
  cacheCount = 0;
  cacheNext = 0;
}

/**
 * Reads a (possibly compressed) name starting at `off`; returns it lower-cased without the
 * trailing dot ('' for the root), undefined if it is malformed, or null if it is valid but
 * `filter` rejects it (then no string is built). Sets `nameNext`.
 */
function readName(b: Uint8Array, off: number, len: number, filter: NameFilter | undefined): string | null | undefined {
  // A name that is just a pointer to one read before: the same checks would pass (the target
  // is behind `off`, and one more pointer stays within MAX_POINTERS), so reuse its string.
  if (off + 1 < len && (b[off]! & 0xc0) === 0xc0) {
    const ptr = ((b[off]! & 0x3f) << 8) | b[off + 1]!;
    for (let i = 0; i < cacheCount; i++) {
      if (cacheOff[i] === ptr && ptr < off && cachePointers[i]! < MAX_POINTERS) {
        const cached = cacheName[i]!;
        if (cached === null && filter === undefined) break; // rejected before; read it in full now
        nameNext = off + 2;
        return cached;
      }
    }
  }
  let p = off;
  let segStart = off;
  let next = -1;
  let wire = 1;
  let pointers = 0;
  let n = 0; // bytes in scratch
  let ascii = true;
  for (;;) {
    if (p >= len) return undefined;
    const l = b[p]!;
    if (l === 0) {
      if (next < 0) next = p + 1;
      break;
    }
    const tag = l & 0xc0;
    if (tag === 0xc0) {
      if (p + 1 >= len || ++pointers > MAX_POINTERS) return undefined;
      const ptr = ((l & 0x3f) << 8) | b[p + 1]!;
      if (ptr >= segStart) return undefined; // only backward: no loops
      if (next < 0) next = p + 2;
      p = segStart = ptr;
      continue;
    }
    if (tag !== 0) return undefined; // RFC 6891 §5: extended label types are obsolete
    const e = p + 1 + l;
    if (e > len) return undefined;
    wire += l + 1;
    if (wire > MAX_WIRE_NAME) return undefined;
    if (n > 0) scratch[n++] = 0x2e;
    for (let i = p + 1; i < e; i++) {
      let c = b[i]!;
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      else if (c >= 0x80) ascii = false;
      scratch[n++] = c;
    }
    p = e;
  }
  nameNext = next;
  let name: string | null | undefined;
  if (!ascii) name = nonAsciiName(b, off);
  else {
    if (n > 0 && scratch[n - 1] === 0x2e) n--;
    if (n > MAX_NAME_LEN) name = undefined;
    else if (filter !== undefined && !filter.mayWant(scratch, n)) name = null;
    else name = scratch.toString('latin1', 0, n);
  }
  if (name !== undefined) {
    cacheOff[cacheNext] = off;
    cachePointers[cacheNext] = pointers;
    cacheName[cacheNext] = name;
    cacheNext = (cacheNext + 1) % CACHE_SIZE;
    if (cacheCount < CACHE_SIZE) cacheCount++;
  }
  return name;
}

/**
 * Rare: a name with bytes >= 0x80. Labels are decoded as UTF-8 and lower-cased, as dns-packet
 * does, so both decoders agree. Walks the (already validated) name again.
 */
function nonAsciiName(b: Uint8Array, off: number): string | undefined {
  const labels: string[] = [];
  let p = off;
  for (;;) {
    const l = b[p]!;
    if (l === 0) break;
    if ((l & 0xc0) === 0xc0) {
      p = ((l & 0x3f) << 8) | b[p + 1]!;
      continue;
    }
    labels.push(utf8.decode(b.subarray(p + 1, p + 1 + l)).toLowerCase());
    p += 1 + l;
  }
  let out = labels.join('.');
  if (out.endsWith('.')) out = out.slice(0, -1);
  return out.length <= MAX_NAME_LEN ? out : undefined;
}

/** Decodes one DNS message occupying exactly `msg`; returns the first problem, if any. */
export function decodeDns(msg: Uint8Array, sink: DnsSink): DecodeIssue | undefined {
  const len = msg.length;
  if (len < DNS_HEADER_LEN) return DNS_TRUNCATED_HEADER;
  const isResponse = (msg[2]! & 0x80) !== 0;
  const qd = u16be(msg, 4);
  const an = u16be(msg, 6);
  const filter = sink.nameFilter;
  let off = DNS_HEADER_LEN;
  resetNameCache();
  // RFC 1035 §4.1.2: QNAME, QTYPE (2), QCLASS (2)
  for (let i = 0; i < qd; i++) {
    const name = readName(msg, off, len, filter);
    if (name === undefined || nameNext + 4 > len) return DNS_BAD_QUESTION;
    off = nameNext + 4;
    // The question echoed in a response is not a new query (DESIGN.md: QR=0 only).
    if (isResponse) continue;
    if (name === null || (filter !== undefined && !filter.wants('dns_query', name, undefined))) sink.filtered('dns_query');
    else sink.query(name, typeName(u16be(msg, nameNext)));
  }
  // Answers count only from responses (DESIGN.md: QR=1): a query carrying answer records
  // (or a DNS UPDATE's prerequisites) must not be able to plant names for attribution.
  if (!isResponse) return undefined;
  // RFC 1035 §4.1.3: NAME, TYPE (2), CLASS (2), TTL (4), RDLENGTH (2), RDATA
  // Targets of the CNAMEs passed so far in this message (rare: only messages with a wanted CNAME).
  let chain: string[] | undefined;
  for (let i = 0; i < an; i++) {
    const owner = off;
    const ownerOff = owner;
    const name = readName(msg, off, len, filter);
    if (name === undefined || nameNext + 10 > len) return DNS_BAD_ANSWER;
    const type = u16be(msg, nameNext);
    const rdlen = u16be(msg, nameNext + 8);
    const ttl = u32be(msg, nameNext + 4); // read now: reading further names moves nameNext
    const rd = nameNext + 10;
    if (rd + rdlen > len) return DNS_BAD_ANSWER;
    off = rd + rdlen;
    if ((type === T_A && rdlen === 4) || (type === T_AAAA && rdlen === 16)) {
      // The address of a CNAME target passed earlier in this message stands for the name the
      // chain started at (a Kaspersky name behind a CDN): it is passed too, whatever its owner.
      let owner = name;
      if (owner === null && chain !== undefined) owner = readName(msg, ownerOff, len, undefined) ?? null;
      const chained = owner !== null && chain !== undefined && chain.includes(owner);
      if (owner === null || (!chained && filter !== undefined && !filter.wants('dns_answer', owner, undefined))) sink.filtered('dns_answer');
      else sink.answer(owner, type === T_A ? 'A' : 'AAAA', type === T_A ? ipv4ToString(msg, rd) : ipv6ToString(msg, rd), ttl);
    } else if (type === T_CNAME) {
      // The target may be compressed against earlier names in the message.
      const target = readName(msg, rd, rd + rdlen, filter);
      if (target === undefined) return DNS_BAD_NAME;
      if (name === null && target === null && chain === undefined) {
        sink.filtered('dns_answer');
        continue;
      }
      // One side passed the filter: the other is needed as text too (both were valid).
      const ownerName = name ?? (readName(msg, owner, len, undefined) as string);
      const targetName = target ?? (readName(msg, rd, rd + rdlen, undefined) as string);
      const chainedCname = chain !== undefined && chain.includes(ownerName);
      if (!chainedCname && filter !== undefined && !filter.wants('dns_answer', ownerName, targetName)) sink.filtered('dns_answer');
      else {
        (chain ??= []).push(targetName);
        sink.answer(ownerName, 'CNAME', targetName, ttl);
      }
    }
  }
  return undefined;
}
