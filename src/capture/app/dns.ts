import { u16be, u32be } from '../../common/bytes.js';
import { ipv4Text, ipv6Text } from '../../common/address.js';
import { defineIssue, type DecodeIssue } from '../issues.js';
import type { NameFilter } from './name-filter.js';

/**
 * DNS messages (RFC 1035 §4.1): the header, the question section and the answer section's
 * A, AAAA and CNAME records. Authority/additional sections never carry an observation and
 * are not read. Names are decoded once, lower-cased as they are built, with RFC 1035 §4.1.4
 * compression. A pointer may point anywhere in the message, as resolvers accept (8.8.8.8
 * answers a question whose name points forward) and tshark decodes; loops end at
 * MAX_POINTERS, and a name is capped at 255 wire octets.
 *
 * Damage is local (tshark, Zeek): a record whose name cannot be decoded (a pointer loop, a
 * name too long, a bad label type) is counted and skipped when the end of its name can
 * still be found, and the records after it are read. A message that ends before the records
 * its header counts (cut by the snap length, or a count that lies) yields the records that
 * fit, counted as truncated.
 *
 * Names are given in the presentation format of RFC 1035 §5.1: a byte outside printable
 * ASCII becomes `\DDD` (decimal), and a dot or backslash inside a label is escaped (`\.`,
 * `\\`), so a label "kaspersky.com" is not taken for two labels.
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
/** The message ends before the records its header counts: snap length, or counts that lie. */
export const DNS_TRUNCATED = defineIssue('dns', 'truncated', 'records');
/** A question whose name cannot be decoded (pointer loop, too long, bad label type). */
export const DNS_BAD_QUESTION = defineIssue('dns', 'invalid', 'question');
/** An answer whose owner name cannot be decoded. */
export const DNS_BAD_ANSWER = defineIssue('dns', 'invalid', 'answer');
/** A CNAME whose target cannot be decoded. */
export const DNS_BAD_NAME = defineIssue('dns', 'invalid', 'name');
export const DNS_TCP_LENGTH = defineIssue('dns', 'invalid', 'tcp_length_zero');
/**
 * A query (QR=0) with records in its answer section (an inverse query, RFC 1035 §6.4; a DNS
 * UPDATE's prerequisites): they are not answers and are not reported (tshark lists them).
 */
export const DNS_ANSWERS_IN_QUERY = defineIssue('dns', 'skipped', 'answers_in_query');

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
/** The name being read, lower-cased, as bytes: one native latin1 slice makes the string. */
const scratch = Buffer.alloc(MAX_WIRE_NAME + 1);

/**
 * Per byte of a label: 0 as is, 1 upper-case letter (lower-cased), 2 needs an RFC 1035 §5.1
 * escape (outside 0x21-0x7e, or '.' or '\\'), which sends the name to the slow path.
 */
const BYTE_CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if (c >= 0x41 && c <= 0x5a) BYTE_CLASS[c] = 1;
  else if (c <= 0x20 || c >= 0x7f || c === 0x2e || c === 0x5c) BYTE_CLASS[c] = 2;
}

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
  let next = -1;
  let wire = 1;
  let pointers = 0;
  let n = 0; // bytes in scratch
  let plain = true;
  for (;;) {
    if (p >= len) return undefined;
    const l = b[p]!;
    if (l === 0) {
      if (next < 0) next = p + 1;
      break;
    }
    const tag = l & 0xc0;
    if (tag === 0xc0) {
      // Any direction: a loop ends at MAX_POINTERS (the name is then malformed).
      if (p + 1 >= len || ++pointers > MAX_POINTERS) return undefined;
      if (next < 0) next = p + 2;
      p = ((l & 0x3f) << 8) | b[p + 1]!;
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
      const k = BYTE_CLASS[c]!;
      if (k === 1) c |= 0x20;
      else if (k === 2) plain = false;
      scratch[n++] = c;
    }
    p = e;
  }
  nameNext = next;
  let name: string | null | undefined;
  if (!plain) name = escapedName(b, off);
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
 * Rare: a name with bytes that need the presentation-format escapes of RFC 1035 §5.1: `\DDD`
 * (three decimal digits) for a byte outside printable ASCII or a space, `\.` and `\\` for a
 * dot or backslash inside a label; letters lower-cased. Walks the (already validated) name again.
 */
function escapedName(b: Uint8Array, off: number): string {
  let out = '';
  let p = off;
  for (;;) {
    const l = b[p]!;
    if (l === 0) break;
    if ((l & 0xc0) === 0xc0) {
      p = ((l & 0x3f) << 8) | b[p + 1]!;
      continue;
    }
    if (out.length > 0) out += '.';
    for (let i = p + 1; i <= p + l; i++) {
      const c = b[i]!;
      const k = BYTE_CLASS[c]!;
      if (k === 0) out += String.fromCharCode(c);
      else if (k === 1) out += String.fromCharCode(c | 0x20);
      else if (c === 0x2e || c === 0x5c) out += '\\' + String.fromCharCode(c);
      else out += '\\' + (c < 10 ? '00' : c < 100 ? '0' : '') + c;
    }
    p += 1 + l;
  }
  return out;
}

/**
 * Where a name that could not be decoded ends in its record (RFC 1035 §4.1.4: at a zero
 * label or just past a pointer), so the records after it can still be read; -1 when it runs
 * past the message, -2 at an extended label type whose length is unknown.
 */
function nameEnd(b: Uint8Array, off: number, len: number): number {
  let p = off;
  for (;;) {
    if (p >= len) return -1;
    const l = b[p]!;
    if (l === 0) return p + 1;
    const tag = l & 0xc0;
    if (tag === 0xc0) return p + 2 <= len ? p + 2 : -1;
    if (tag !== 0) return -2;
    p += 1 + l;
  }
}

/**
 * Decodes one DNS message occupying exactly `msg`; returns the first problem, if any. The
 * records before a problem are reported, and after a record that only has an undecodable
 * name, the ones that follow it too.
 */
export function decodeDns(msg: Uint8Array, sink: DnsSink): DecodeIssue | undefined {
  const len = msg.length;
  if (len < DNS_HEADER_LEN) return DNS_TRUNCATED_HEADER;
  const isResponse = (msg[2]! & 0x80) !== 0;
  const qd = u16be(msg, 4);
  const an = u16be(msg, 6);
  const filter = sink.nameFilter;
  let off = DNS_HEADER_LEN;
  let issue: DecodeIssue | undefined;
  resetNameCache();
  // RFC 1035 §4.1.2: QNAME, QTYPE (2), QCLASS (2)
  for (let i = 0; i < qd; i++) {
    const name = readName(msg, off, len, filter);
    const next = name === undefined ? nameEnd(msg, off, len) : nameNext;
    if (next === -2) return issue ?? DNS_BAD_QUESTION;
    if (next < 0 || next + 4 > len) return issue ?? DNS_TRUNCATED;
    off = next + 4;
    if (name === undefined) {
      issue ??= DNS_BAD_QUESTION;
      continue;
    }
    // The question echoed in a response is not a new query (DESIGN.md: QR=0 only).
    if (isResponse) continue;
    if (name === null || (filter !== undefined && !filter.wants('dns_query', name, undefined))) sink.filtered('dns_query');
    else sink.query(name, typeName(u16be(msg, next)));
  }
  // Answers count only from responses (DESIGN.md: QR=1): a query carrying answer records
  // (or a DNS UPDATE's prerequisites) must not be able to plant names for attribution.
  if (!isResponse) return issue ?? (an > 0 ? DNS_ANSWERS_IN_QUERY : undefined);
  // RFC 1035 §4.1.3: NAME, TYPE (2), CLASS (2), TTL (4), RDLENGTH (2), RDATA
  // Targets of the CNAMEs passed so far in this message (rare: only messages with a wanted CNAME).
  let chain: string[] | undefined;
  for (let i = 0; i < an; i++) {
    const owner = off;
    const ownerOff = owner;
    const name = readName(msg, off, len, filter);
    const next = name === undefined ? nameEnd(msg, off, len) : nameNext;
    if (next === -2) return issue ?? DNS_BAD_ANSWER;
    if (next < 0 || next + 10 > len) return issue ?? DNS_TRUNCATED;
    const type = u16be(msg, next);
    const rdlen = u16be(msg, next + 8);
    const ttl = u32be(msg, next + 4);
    const rd = next + 10;
    if (rd + rdlen > len) return issue ?? DNS_TRUNCATED;
    off = rd + rdlen;
    if (name === undefined) {
      issue ??= DNS_BAD_ANSWER;
      continue;
    }
    if ((type === T_A && rdlen === 4) || (type === T_AAAA && rdlen === 16)) {
      // The address of a CNAME target passed earlier in this message stands for the name the
      // chain started at (a Kaspersky name behind a CDN): it is passed too, whatever its owner.
      let owner = name;
      if (owner === null && chain !== undefined) owner = readName(msg, ownerOff, len, undefined) ?? null;
      const chained = owner !== null && chain !== undefined && chain.includes(owner);
      if (owner === null || (!chained && filter !== undefined && !filter.wants('dns_answer', owner, undefined))) sink.filtered('dns_answer');
      // Through the address cache: the same addresses come back in answer after answer, and
      // the same string object lets the analyzer's lookups and list scans compare pointers.
      else sink.answer(owner, type === T_A ? 'A' : 'AAAA', type === T_A ? ipv4Text(msg, rd) : ipv6Text(msg, rd), ttl);
    } else if (type === T_CNAME) {
      // The target may be compressed against other names in the message.
      const target = readName(msg, rd, rd + rdlen, filter);
      if (target === undefined) {
        issue ??= DNS_BAD_NAME;
        continue;
      }
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
  return issue;
}

/** Ports where a DNS-shaped message is another protocol: NetBIOS name/datagram, mDNS, LLMNR. */
const NOT_DNS_PORTS = new Set([137, 138, 5353, 5355]);

/**
 * Is this UDP payload a DNS message, on a port not configured for DNS? tshark's heuristic
 * (packet-dns.c dissect_dns_heur) checks the header only: more than a header, opcode 0
 * (standard query), a query with one question and no answer or authority records, a
 * response with at most one question, 100 answers and 10 authority records, at most 10
 * additional ones. On top of that the question must decode: a name of valid labels ending
 * in the message without compression (nothing precedes it to point at), a QTYPE other than
 * 0 and a QCLASS of IN, CH, HS, NONE or ANY. Ports where such messages are another protocol
 * (NetBIOS, mDNS, LLMNR) are left alone; configure them as DNS ports to read them.
 */
export function looksLikeDns(b: Uint8Array, o: number, end: number, sport: number, dport: number): boolean {
  if (end - o <= DNS_HEADER_LEN + 4 || NOT_DNS_PORTS.has(sport) || NOT_DNS_PORTS.has(dport)) return false;
  const flags = u16be(b, o + 2);
  if ((flags & 0x7800) !== 0) return false;
  const qd = u16be(b, o + 4);
  const an = u16be(b, o + 6);
  const ns = u16be(b, o + 8);
  if (qd !== 1 || u16be(b, o + 10) > 10) return false;
  if ((flags & 0x8000) === 0 ? an !== 0 || ns !== 0 : an > 100 || ns > 10) return false;
  let p = o + DNS_HEADER_LEN;
  let wire = 1;
  for (;;) {
    if (p >= end) return false;
    const l = b[p]!;
    if (l === 0) break;
    if (l > 63) return false;
    wire += l + 1;
    if (wire > MAX_WIRE_NAME) return false;
    p += 1 + l;
  }
  if (p + 5 > end) return false;
  const qtype = u16be(b, p + 1);
  const qclass = u16be(b, p + 3);
  return qtype !== 0 && (qclass === 1 || qclass === 3 || qclass === 4 || qclass === 254 || qclass === 255);
}
