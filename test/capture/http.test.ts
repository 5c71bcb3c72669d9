import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { NAME_INCOMPLETE } from '../../src/capture/unrecovered.js';
import {
  HTTP_BAD_CHUNK,
  HTTP_BAD_CONTENT_LENGTH,
  HTTP_BAD_HOST,
  HTTP_BAD_REQUEST_LINE,
  HTTP_BAD_TRANSFER_ENCODING,
  HTTP_HEADERS_EXCEED_WINDOW,
  HTTP_HOST_TOO_LONG,
  HTTP_NO_HOST,
  MAX_HEADER_BYTES,
  hostFromHeader,
  parseHttpRequests,
  type HttpResult,
} from '../../src/capture/app/http.js';
import type { DecodeIssue } from '../../src/capture/issues.js';
import type { Observation } from '../../src/capture/observation.js';
import { ascii, concat, eth, ETH_IPV4, httpGet, httpRequest, IPPROTO_TCP, ipv4, LINKTYPE, TCP_SYN, tcp } from '../helpers/packets.js';
import { decodeAll, pcapFile, T0 } from '../helpers/pcap.js';

const CLIENT = '198.18.0.10';
const SERVER = '198.19.0.80';

function segment(payload: Uint8Array, o: { dport?: number; seq?: number; flags?: number } = {}): Uint8Array {
  return eth(
    { type: ETH_IPV4 },
    ipv4({ src: CLIENT, dst: SERVER, proto: IPPROTO_TCP }, tcp({ sport: 40002, dport: o.dport ?? 80, seq: o.seq ?? 1000, ...(o.flags === undefined ? {} : { flags: o.flags }) }, payload)),
  );
}

async function decodeSegments(frames: readonly Uint8Array[]) {
  return decodeAll(pcapFile(frames.map((data) => ({ data })), { linktype: LINKTYPE.ETHERNET }));
}

function host(name: string, path: string, extra: Partial<Observation> = {}): Observation {
  return {
    kind: 'http_host',
    name,
    http_path: path,
    time: { sec: T0, nsec: 0, digits: 6 },
    tsMicros: T0 * 1_000_000,
    frame: 1,
    src: CLIENT,
    dst: SERVER,
    sport: 40002,
    dport: 80,
    transport: 'tcp',
    ...extra,
  };
}

describe('HTTP requests in one segment', () => {
  test.for<{ name: string; payload: () => Uint8Array; want: Observation[]; dport?: number }>([
    { name: 'GET with a Host', payload: () => httpGet('dnl-01.geo.kaspersky.com', '/diffs/bases/av/kdb/i386/kdb-i386-0607g.xml'), want: [host('dnl-01.geo.kaspersky.com', '/diffs/bases/av/kdb/i386/kdb-i386-0607g.xml')] },
    { name: 'Host with a port', payload: () => httpGet('dnl-01.geo.kaspersky.com:8080', '/'), want: [host('dnl-01.geo.kaspersky.com', '/')] },
    { name: 'IPv6 literal in brackets', payload: () => httpGet('[fd00::80]', '/x'), want: [host('fd00::80', '/x')] },
    { name: 'IPv6 literal in brackets with a port', payload: () => httpGet('[fd00::80]:8080', '/x'), want: [host('fd00::80', '/x')] },
    { name: 'IPv4 literal with a port', payload: () => httpGet('198.19.0.80:8080', '/'), want: [host('198.19.0.80', '/')] },
    { name: 'upper case and a trailing dot are normalised', payload: () => httpGet('DNL-01.Geo.Kaspersky.COM.', '/'), want: [host('dnl-01.geo.kaspersky.com', '/')] },
    {
      name: 'absolute-URI request to a proxy: http_path is the path only',
      payload: () => httpRequest({ target: 'http://dnl-01.geo.kaspersky.com:80/updates/index.xml?rnd=42', host: 'dnl-01.geo.kaspersky.com' }),
      want: [host('dnl-01.geo.kaspersky.com', '/updates/index.xml')],
      dport: 3128,
    },
    { name: 'absolute-URI without a path', payload: () => httpRequest({ target: 'http://a.test', host: 'a.test' }), want: [host('a.test', '/')] },
    { name: 'query string and fragment are dropped from the path', payload: () => httpGet('a.test', '/p/q?x=1#frag'), want: [host('a.test', '/p/q')] },
    {
      name: 'lower-case "host:" header name',
      payload: () => ascii('GET /lc HTTP/1.1\r\nhost: s01.upd.kaspersky.com\r\n\r\n'),
      want: [host('s01.upd.kaspersky.com', '/lc')],
    },
    {
      name: 'mixed-case "HoSt:" after other headers',
      payload: () => ascii('GET / HTTP/1.1\r\nUser-Agent: x\r\nAccept: */*\r\nHoSt: a.test\r\n\r\n'),
      want: [host('a.test', '/')],
    },
    { name: 'optional whitespace around the value', payload: () => ascii('GET / HTTP/1.1\r\nHost: \t a.test \t\r\n\r\n'), want: [host('a.test', '/')] },
    { name: 'Host with NUL: the name stops there', payload: () => ascii('GET / HTTP/1.1\r\nHost: a.test\0.evil.test\r\n\r\n'), want: [host('a.test', '/')] },
    { name: 'two Host headers: the first counts', payload: () => ascii('GET / HTTP/1.1\r\nHost: first.test\r\nHost: second.test\r\n\r\n'), want: [host('first.test', '/')] },
    { name: 'HTTP/1.0 with a Host', payload: () => httpRequest({ target: '/', host: 'old.test', version: 'HTTP/1.0' }), want: [host('old.test', '/')] },
    { name: 'HEAD', payload: () => httpRequest({ method: 'HEAD', target: '/h', host: 'a.test' }), want: [host('a.test', '/h')] },
    { name: 'CONNECT to a proxy (authority-form)', payload: () => httpRequest({ method: 'CONNECT', target: 'ksn-a.kaspersky-labs.com:443', host: 'ksn-a.kaspersky-labs.com:443' }), want: [host('ksn-a.kaspersky-labs.com', 'ksn-a.kaspersky-labs.com:443', { dport: 3128 })], dport: 3128 },
    { name: 'on port 8080, found by content', payload: () => httpGet('a.test', '/'), want: [host('a.test', '/', { dport: 8080 })], dport: 8080 },
    { name: 'on an unusual port (5000), found by content', payload: () => httpGet('a.test', '/'), want: [host('a.test', '/', { dport: 5000 })], dport: 5000 },
    {
      name: 'pipelined: three requests in one segment, all reported',
      payload: () => concat(httpGet('one.test', '/1'), httpGet('two.test', '/2'), httpGet('three.test', '/3')),
      want: [host('one.test', '/1'), host('two.test', '/2'), host('three.test', '/3')],
    },
    {
      name: 'POST with a Content-Length body, then another request',
      payload: () => {
        // The body looks like a request; Content-Length says it is a body.
        const body = 'GET /fake HTTP/1.1\r\nHost: evil.test\r\n\r\n!!';
        return concat(
          httpRequest({ method: 'POST', target: '/ksn', host: 'ksn-a.kaspersky-labs.com', headers: [`Content-Length: ${body.length}`, 'Content-Type: text/plain'], body }),
          httpGet('after.test', '/next'),
        );
      },
      want: [host('ksn-a.kaspersky-labs.com', '/ksn'), host('after.test', '/next')],
    },
    {
      name: 'long path is cut to 256 characters',
      payload: () => httpGet('a.test', `/${'p'.repeat(400)}`),
      want: [host('a.test', `/${'p'.repeat(255)}`)],
    },
  ])('$name', async ({ payload, want, dport }) => {
    const { observations, decoder } = await decodeSegments([segment(payload(), dport === undefined ? {} : { dport })]);
    expect(observations).toStrictEqual(want.map((w) => (dport === undefined ? w : { ...w, dport })));
    expect(decoder.issues.total()).toBe(0);
  });
});

describe('HTTP requests that yield no name, counted', () => {
  test.for<{ name: string; payload: () => Uint8Array; issue: DecodeIssue; want?: string[] }>([
    { name: 'no Host header', payload: () => httpRequest({ target: '/', version: 'HTTP/1.0' }), issue: HTTP_NO_HOST },
    { name: 'empty Host value', payload: () => ascii('GET / HTTP/1.1\r\nHost: \r\n\r\n'), issue: HTTP_BAD_HOST },
    { name: 'Host of only a port', payload: () => ascii('GET / HTTP/1.1\r\nHost: :80\r\n\r\n'), issue: HTTP_BAD_HOST },
    { name: 'Host with a space inside', payload: () => ascii('GET / HTTP/1.1\r\nHost: a b.test\r\n\r\n'), issue: HTTP_BAD_HOST },
    { name: 'Host with a control character', payload: () => ascii('GET / HTTP/1.1\r\nHost: a\x01b.test\r\n\r\n'), issue: HTTP_BAD_HOST },
    { name: 'Host longer than 253 characters: not a hostname', payload: () => httpGet(`${'a'.repeat(60)}.`.repeat(5), '/'), issue: HTTP_HOST_TOO_LONG },
    { name: 'a Host that is a sentence (suricata detect-bypass)', payload: () => ascii('GET /index.html HTTP/1.0\r\nHost: This is a dummy message body\r\n\r\n'), issue: HTTP_BAD_HOST },
    {
      name: 'a request without Host between two with one: the others are reported',
      payload: () => concat(httpGet('one.test', '/'), httpRequest({ target: '/' }), httpGet('three.test', '/')),
      issue: HTTP_NO_HOST,
      want: ['one.test', 'three.test'],
    },
  ])('$name', async ({ payload, issue, want }) => {
    const { observations, decoder } = await decodeSegments([segment(payload())]);
    expect(observations.map((o) => o.name)).toEqual(want ?? []);
    expect(decoder.issues.rows()).toEqual([{ layer: issue.layer, kind: issue.kind, reason: issue.reason, count: 1 }]);
  });

  test('header block with no end (no empty line) is held, then counted as incomplete at the end of input', async () => {
    const { observations, decoder } = await decodeSegments([segment(ascii('GET / HTTP/1.1\r\nHost: s01.upd.kaspersky.com\r\nUser-Agent: x\r\n'))]);
    expect(observations).toEqual([]);
    expect(decoder.issues.rows()).toEqual([{ layer: NAME_INCOMPLETE.layer, kind: NAME_INCOMPLETE.kind, reason: NAME_INCOMPLETE.reason, count: 1 }]);
  });

  test('a request split over two segments after the SYN is put back together', async () => {
    const req = httpGet('s01.upd.kaspersky.com', '/split');
    const cut = 30; // inside the Host line
    const { observations, decoder } = await decodeSegments([
      segment(new Uint8Array(0), { seq: 999, flags: TCP_SYN }),
      segment(req.subarray(0, cut), { seq: 1000 }),
      segment(req.subarray(cut), { seq: 1000 + cut }),
    ]);
    expect(observations).toStrictEqual([host('s01.upd.kaspersky.com', '/split', { frame: 3, time: { sec: T0 + 2, nsec: 0, digits: 6 }, tsMicros: (T0 + 2) * 1_000_000 })]);
    expect(decoder.issues.total()).toBe(0);
  });

  test('two pipelined requests split at any point, inside a method token too, after the SYN: both reported', async () => {
    const first = httpGet('one.test', '/1');
    const stream = concat(first, httpGet('two.test', '/2'));
    for (let k = 1; k < stream.length; k++) {
      const { observations, decoder } = await decodeSegments([
        segment(new Uint8Array(0), { seq: 999, flags: TCP_SYN }),
        segment(stream.subarray(0, k), { seq: 1000 }),
        segment(stream.subarray(k), { seq: 1000 + k }),
      ]);
      const want = k < first.length ? ['3:one.test', '3:two.test'] : ['2:one.test', '3:two.test'];
      expect(observations.map((o) => `${o.frame}:${o.name}`), `cut at ${k}`).toEqual(want);
      expect(decoder.issues.total(), `cut at ${k}`).toBe(0);
    }
  });

  test('not HTTP: lower-case method, binary data, a response', async () => {
    const { observations, decoder } = await decodeSegments([
      segment(ascii('get / HTTP/1.1\r\nHost: a.test\r\n\r\n'), { dport: 5000 }),
      segment(Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7), { dport: 5001 }),
      segment(ascii('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), { dport: 5002 }),
    ]);
    expect(observations).toEqual([]);
    expect(decoder.issues.total()).toBe(0);
  });
});

describe('hostFromHeader', () => {
  test.for([
    { name: 'plain', v: ' a.test ', want: 'a.test' },
    { name: 'port', v: 'a.test:443', want: 'a.test' },
    { name: 'bracketed IPv6', v: '[fd00::1]', want: 'fd00::1' },
    { name: 'bracketed IPv6 with port', v: '[fd00::1]:8443', want: 'fd00::1' },
    { name: 'bare IPv6 (invalid but seen): kept whole', v: 'fd00::1', want: 'fd00::1' },
    { name: 'trailing dot', v: 'a.test.', want: 'a.test' },
    { name: 'NUL ends the value', v: 'a.test\0b', want: 'a.test' },
    { name: 'empty', v: '', want: undefined },
    { name: 'only spaces', v: '   ', want: undefined },
    { name: 'DEL character', v: 'a\x7f.test', want: undefined },
    { name: '253 characters', v: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, want: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}` },
    { name: '254 characters', v: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, want: undefined },
  ])('$name', ({ v, want }) => {
    expect(hostFromHeader(v)).toBe(want);
  });
});

describe('parseHttpRequests properties', () => {
  test('every prefix of two pipelined requests reports each request once its header block is complete (its body need not be), in order, and needs more bytes only inside a header block', () => {
    const stream = concat(httpGet('one.test', '/1'), httpRequest({ method: 'POST', target: '/2', host: 'two.test', headers: ['Content-Length: 5'], body: 'hello' }));
    const firstEnd = httpGet('one.test', '/1').length;
    const secondHeadersEnd = stream.length - 5;
    for (let k = 0; k <= stream.length; k++) {
      const got: string[] = [];
      const r = parseHttpRequests(stream, 0, k, { request: (h, p) => got.push(`${h}${p}`) });
      const want = [...(k >= firstEnd ? ['one.test/1'] : []), ...(k >= secondHeadersEnd ? ['two.test/2'] : [])];
      expect(got).toEqual(want);
      expect(r.issue).toBeUndefined();
      // Any start of a request, even a cut method ("GE"), waits for more bytes.
      const needMore = k < firstEnd ? k >= 1 : k < secondHeadersEnd ? k - firstEnd >= 1 : false;
      expect(r.needMore).toBe(needMore);
      expect(r.consumed).toBe(k >= secondHeadersEnd ? k : k >= firstEnd ? firstEnd : 0);
    }
  });

  test('random bytes after a request line never throw and never report a host with control characters', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => {
        const b = concat(ascii('GET / HTTP/1.1\r\n'), tail);
        const hosts: string[] = [];
        parseHttpRequests(b, 0, b.length, { request: (h) => hosts.push(h) });
        for (const h of hosts) {
          expect(h.length).toBeGreaterThan(0);
          expect(h.length).toBeLessThanOrEqual(253);
          expect(/^[\x21-\x7e]+$/.test(h)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test(`a header block longer than MAX_HEADER_BYTES (${MAX_HEADER_BYTES}) is given up on, not waited for`, () => {
    const b = concat(ascii('GET / HTTP/1.1\r\n'), ascii(`X-Pad: ${'x'.repeat(MAX_HEADER_BYTES)}\r\n`), ascii('Host: late.test\r\n\r\n'));
    const hosts: string[] = [];
    const r = parseHttpRequests(b, 0, b.length, { request: (h) => hosts.push(h) });
    expect(hosts).toEqual([]);
    expect(r.needMore).toBe(false);
    expect(r.issue).toBeDefined();
  });
});

/** Parses `text` (one string of requests) and lists "host path" per request, with the result. */
function parse(text: string | Uint8Array, chunked = false): { got: string[]; r: HttpResult } {
  const b = typeof text === 'string' ? ascii(text) : text;
  const got: string[] = [];
  const r = parseHttpRequests(b, 0, b.length, { request: (h, p) => got.push(`${h} ${p}`) }, chunked);
  return { got, r };
}

describe('HTTP as it is found in the wild (issue 14)', () => {
  test.for<{ name: string; text: string; want: string[]; issue?: DecodeIssue }>([
    { name: 'lines ending in a bare LF (RFC 9112 §2.2; zeek http-methods)', text: 'OPTIONS * HTTP/1.1\nHost: www.google.com\n\n', want: ['www.google.com *'] },
    { name: 'mixed CRLF and bare LF', text: 'GET /a HTTP/1.1\r\nHost: a.test\nAccept: */*\r\n\n', want: ['a.test /a'] },
    { name: 'a request line without a target (zeek http-no-uri)', text: 'GET HTTP/1.1\r\nHost: bro.org\r\n\r\n', want: ['bro.org '] },
    { name: 'a known method alone on its line (zeek http-methods)', text: 'OPTIONS\nHost: www.google.com\n\n', want: ['www.google.com '] },
    { name: 'a known method with a target and no version', text: 'GET /HTTP/1.1\r\nHost: a.test\r\n\r\n', want: ['a.test /HTTP/1.1'] },
    { name: 'a version cut short ("HTTP/1.")', text: 'CCM_POST / HTTP/1.\r\nHost: a.test\r\n\r\n', want: ['a.test /'] },
    { name: 'Content-Length with leading zeros (zeek leading_zeros)', text: 'POST / HTTP/1.1\r\nHost: target\r\nContent-Length: 00000000000000000000000000000005\r\n\r\nXXXXXGET /next HTTP/1.1\r\nHost: target\r\n\r\n', want: ['target /', 'target /next'] },
    { name: 'empty lines before and between requests are skipped', text: '\r\n\r\nGET /1 HTTP/1.1\r\nHost: one.test\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: two.test\r\n\r\n', want: ['one.test /1', 'two.test /2'] },
    {
      name: 'Transfer-Encoding: chunked wins over Content-Length (RFC 9112 §6.3; zeek te_cl_desync)',
      text: 'POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked\r\nContent-Length: 50\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: target\r\n\r\n',
      want: ['target /', 'target /smuggled'],
    },
    {
      name: 'chunked listed with another coding (zeek multi_value_te)',
      text: 'POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\nGET /smuggled-multi-te HTTP/1.1\r\nHost: target\r\n\r\n',
      want: ['target /', 'target /smuggled-multi-te'],
    },
    {
      name: 'chunks with extensions and a trailer, then the next request',
      text: 'POST /up HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: Chunked\r\n\r\n5;name=v\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\nGET /next HTTP/1.1\r\nHost: b.test\r\n\r\n',
      want: ['a.test /up', 'b.test /next'],
    },
    {
      name: 'chunk data that looks like a request is data',
      text: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n25\r\nGET /fake HTTP/1.1\r\nHost: evil.test\r\n\r\n\r\n0\r\n\r\n',
      want: ['a.test /'],
    },
    {
      name: 'Content-Length 2^64-1 frames no body, counted (zeek cl_uint64max; tshark does the same)',
      text: 'POST / HTTP/1.1\r\nHost: target\r\nContent-Length: 18446744073709551615\r\n\r\nGET /smuggled-cl-uint64max HTTP/1.1\r\nHost: target\r\n\r\n',
      want: ['target /', 'target /smuggled-cl-uint64max'],
      issue: HTTP_BAD_CONTENT_LENGTH,
    },
    { name: 'Content-Length that is not a number', text: 'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 12abc\r\n\r\nGET / HTTP/1.1\r\nHost: b.test\r\n\r\n', want: ['a.test /', 'b.test /'], issue: HTTP_BAD_CONTENT_LENGTH },
    { name: 'two different Content-Lengths', text: 'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nGET / HTTP/1.1\r\nHost: b.test\r\n\r\n', want: ['a.test /', 'b.test /'], issue: HTTP_BAD_CONTENT_LENGTH },
    { name: 'a list of equal Content-Lengths is one length (RFC 9110 §8.6)', text: 'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3, 3\r\n\r\nxyzGET / HTTP/1.1\r\nHost: b.test\r\n\r\n', want: ['a.test /', 'b.test /'] },
    { name: 'Transfer-Encoding without chunked: no body, counted', text: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: gzip\r\n\r\nGET / HTTP/1.1\r\nHost: b.test\r\n\r\n', want: ['a.test /', 'b.test /'], issue: HTTP_BAD_TRANSFER_ENCODING },
    { name: 'a chunk size that is not hex ends the connection', text: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET / HTTP/1.1\r\nHost: b.test\r\n\r\n', want: ['a.test /'], issue: HTTP_BAD_CHUNK },
    { name: 'an obs-fold line is not a header field', text: 'GET / HTTP/1.1\r\nX-A: 1\r\n Host: folded.test\r\nHost: real.test\r\n\r\n', want: ['real.test /'] },
  ])('$name', ({ text, want, issue }) => {
    const { got, r } = parse(text);
    expect(got).toEqual(want);
    expect(r.issue).toBe(issue);
    expect(r.needMore).toBe(false);
    expect(r.consumed).toBe(text.length);
  });

  test.for([
    { name: 'RTSP', text: 'DESCRIBE rtsp://cam.test/live RTSP/1.0\r\nCSeq: 2\r\n\r\n' },
    { name: 'SIP', text: 'INVITE sip:bob@b.test SIP/2.0\r\nHost: b.test\r\n\r\n' },
    { name: 'an unknown method without a version', text: 'FROB /x\r\nHost: a.test\r\n\r\n' },
  ])('another protocol in HTTP clothes is not read: $name', ({ text }) => {
    const { got, r } = parse(text);
    expect(got).toEqual([]);
    expect(r.issue).toBe(HTTP_BAD_REQUEST_LINE);
  });

  test('a chunked body cut anywhere: the parser says where to resume, and the state carries over', () => {
    const head = 'POST /up HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n';
    const body = '5\r\nhello\r\n3;x=1\r\nabc\r\n0\r\nT: 1\r\n\r\n';
    const next = 'GET /next HTTP/1.1\r\nHost: b.test\r\n\r\n';
    const all = ascii(head + body + next);
    for (let k = head.length; k <= all.length; k++) {
      // First call: bytes up to k. Then the rest, from where the parser left off (skipping any body bytes it owed).
      const got: string[] = [];
      const sink = { request: (h: string, p: string) => got.push(`${h} ${p}`) };
      const r1 = parseHttpRequests(all, 0, k, sink);
      let from = r1.consumed + r1.bodyRemaining;
      const r2 = parseHttpRequests(all, Math.min(from, all.length), all.length, sink, r1.chunked);
      from = Math.min(from, all.length) + r2.consumed;
      expect(got, `cut at ${k}`).toEqual(['a.test /up', 'b.test /next']);
      expect(r2.issue).toBeUndefined();
      expect(from).toBe(all.length);
    }
  });

  test(`headers past the window (${MAX_HEADER_BYTES} bytes): a Host read before it is reported, with a precise reason`, () => {
    const b = concat(ascii('GET /big HTTP/1.1\r\nHost: early.test\r\n'), ascii(`X-Large: ${'x'.repeat(MAX_HEADER_BYTES)}\r\n`), ascii('Accept: */*\r\n\r\n'));
    const { got, r } = parse(b);
    expect(got).toEqual(['early.test /big']);
    expect(r.issue).toBe(HTTP_HEADERS_EXCEED_WINDOW);
    expect(r.nameLost).toBe(false);
    expect(r.needMore).toBe(false);
  });

  test('headers past the window with the Host after it: the name is lost, and said so', () => {
    const b = concat(ascii('GET / HTTP/1.1\r\n'), ascii(`X-Pad: ${'x'.repeat(MAX_HEADER_BYTES)}\r\n`), ascii('Host: late.test\r\n\r\n'));
    const { got, r } = parse(b);
    expect(got).toEqual([]);
    expect(r.issue).toBe(HTTP_HEADERS_EXCEED_WINDOW);
    expect(r.nameLost).toBe(true);
  });

  test('random bytes after a chunked request never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (tail, chunked) => {
        const b = concat(ascii('POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n'), tail);
        const r = parseHttpRequests(b, 0, b.length, { request: () => {} }, chunked);
        expect(r.consumed).toBeGreaterThanOrEqual(0);
        expect(r.consumed).toBeLessThanOrEqual(b.length);
      }),
      { numRuns: 2000 },
    );
  });
});
