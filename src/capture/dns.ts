import dnsPacket from 'dns-packet';
import { u16be } from './bytes.js';
import { defineIssue, type DecodeIssue } from './issues.js';

/**
 * DNS messages (RFC 1035 §4.1) through dns-packet. dns-packet throws on malformed input
 * and keeps names' case, so this file is the one adapter that catches and normalises.
 * Only the question and answer sections are decoded (authority/additional never carry an
 * observation), one record at a time, so a damaged later record still leaves the earlier
 * ones reported, as tshark does.
 */
export const DNS_HEADER_LEN = 12;
/** RFC 1035 §2.3.4: 255 octets on the wire, 253 characters as text. */
export const MAX_NAME_LEN = 253;

export const DNS_TRUNCATED_HEADER = defineIssue('dns', 'truncated', 'header');
export const DNS_BAD_QUESTION = defineIssue('dns', 'invalid', 'question');
export const DNS_BAD_ANSWER = defineIssue('dns', 'invalid', 'answer');
export const DNS_BAD_NAME = defineIssue('dns', 'invalid', 'name');
export const DNS_TCP_LENGTH = defineIssue('dns', 'invalid', 'tcp_length_zero');

/** dns-packet's per-section codecs (exported by the package, missing from @types/dns-packet). */
interface SectionCodec<T> {
  decode: ((buf: Buffer, offset: number) => T) & { bytes: number };
}
const codecs = dnsPacket as unknown as {
  question: SectionCodec<dnsPacket.Question>;
  answer: SectionCodec<dnsPacket.Answer>;
};

export interface DnsSink {
  query(name: string, qtype: string): void;
  answer(name: string, rrtype: 'A' | 'AAAA' | 'CNAME', data: string): void;
}

function normName(n: string): string | undefined {
  if (n === '.') return '';
  let s = n.toLowerCase();
  if (s.endsWith('.')) s = s.slice(0, -1);
  return s.length <= MAX_NAME_LEN ? s : undefined;
}

/** Cheap header sanity check before paying for dns-packet (used for heuristic ports). */
export function looksLikeDns(b: Uint8Array, off: number, end: number): boolean {
  if (end - off < DNS_HEADER_LEN) return false;
  const flags = u16be(b, off + 2);
  const opcode = (flags >> 11) & 0xf;
  const qd = u16be(b, off + 4);
  const an = u16be(b, off + 6);
  return opcode <= 5 && qd >= 1 && qd <= 16 && an <= 256;
}

/** Decodes one DNS message occupying exactly `msg`; returns the first problem, if any. */
export function decodeDns(msg: Uint8Array, sink: DnsSink): DecodeIssue | undefined {
  if (msg.length < DNS_HEADER_LEN) return DNS_TRUNCATED_HEADER;
  const buf = Buffer.from(msg.buffer, msg.byteOffset, msg.length);
  const isResponse = (msg[2]! & 0x80) !== 0;
  const qd = u16be(msg, 4);
  const an = u16be(msg, 6);
  let off = DNS_HEADER_LEN;
  for (let i = 0; i < qd; i++) {
    let q: dnsPacket.Question;
    try {
      q = codecs.question.decode(buf, off);
    } catch {
      return DNS_BAD_QUESTION;
    }
    off += codecs.question.decode.bytes;
    // The question echoed in a response is not a new query (DESIGN.md: QR=0 only).
    if (!isResponse) {
      const name = normName(q.name);
      if (name === undefined) return DNS_BAD_NAME;
      sink.query(name, String(q.type));
    }
  }
  for (let i = 0; i < an; i++) {
    let a: dnsPacket.Answer;
    try {
      a = codecs.answer.decode(buf, off);
    } catch {
      return DNS_BAD_ANSWER;
    }
    off += codecs.answer.decode.bytes;
    const t = a.type;
    if (t !== 'A' && t !== 'AAAA' && t !== 'CNAME') continue;
    const name = normName(a.name);
    if (name === undefined) return DNS_BAD_NAME;
    const raw = (a as { data: unknown }).data;
    if (typeof raw !== 'string') continue;
    const data = t === 'CNAME' ? normName(raw) : raw;
    if (data === undefined) return DNS_BAD_NAME;
    sink.answer(name, t, data);
  }
  return undefined;
}
