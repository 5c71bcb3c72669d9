import { describe, expect, test } from 'vitest';
import { HTTP_BAD_CONTENT_LENGTH, HTTP_BAD_HOST, HTTP_BAD_REQUEST_LINE, HTTP_NO_HOST, HTTP_HEADERS_EXCEED_WINDOW, looksLikeHttpRequest, MAX_HEADER_BYTES, parseHttpRequests, type HttpResult } from '../../src/capture/app/http.js';
import { ascii, concat } from '../helpers/packets.js';

/** The edges of the HTTP request parser (src/capture/app/http.ts), each case at a boundary. */

describe('looksLikeHttpRequest: a method token of 3-16 characters (A-Z, -, _) then SP', () => {
  test.for([
    { text: 'GET /', want: true },
    { text: 'PUT /', want: true },
    { text: 'GE /', want: false }, // 2 characters
    { text: 'AAA /', want: true }, // 'A' is the lowest letter
    { text: 'ZZZ /', want: true }, // 'Z' the highest
    { text: '@GET /', want: false }, // 0x40, just below 'A'
    { text: '[GET /', want: false }, // 0x5b, just above 'Z'
    { text: 'G@T /', want: false },
    { text: 'G[T /', want: false },
    { text: 'M-SEARCH *', want: true },
    { text: 'X_Y /', want: true },
    { text: 'get /', want: false },
    { text: `${'A'.repeat(16)} /`, want: true },
    { text: `${'A'.repeat(17)} /`, want: false },
    { text: 'GET', want: false },
    { text: '', want: false },
  ])('$text → $want', ({ text, want }) => {
    expect(looksLikeHttpRequest(ascii(text), 0, text.length)).toBe(want);
  });

  test('only the bytes before `end` count', () => {
    const b = ascii('GET / HTTP/1.1\r\n');
    expect([looksLikeHttpRequest(b, 0, 3), looksLikeHttpRequest(b, 0, 4), looksLikeHttpRequest(concat(ascii('xxGET /'), b), 2, 7)]).toEqual([false, true, true]);
  });
});

function parse(text: string, off = 0): { hosts: string[]; r: HttpResult } {
  const b = ascii(text);
  const hosts: string[] = [];
  const r = parseHttpRequests(b, off, b.length, { request: (h, p) => hosts.push(`${h} ${p}`) });
  return { hosts, r };
}

const req = (line: string, ...headers: string[]): string => `${line}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;

describe('parseHttpRequests: the request line', () => {
  // A version field is taken for one from 6 characters on ("HTTP/1"). Without one, a method
  // tshark knows is still read (HTTP/0.9 style, zeek's http-methods trace) and any other
  // method token is refused; a version cut short still ends the target, as a whole one does.
  test.for([
    { name: 'the shortest version field accepted (6 characters), even after an unknown method', text: req('FROB / HTTP/1', 'Host: a.test'), hosts: ['a.test /'], issue: undefined },
    { name: 'a version field of 5 characters is none: an unknown method is refused', text: req('FROB / HTTP/', 'Host: a.test'), hosts: [], issue: HTTP_BAD_REQUEST_LINE },
    { name: 'an unknown method with no version at all is refused', text: req('FROB /', 'Host: a.test'), hosts: [], issue: HTTP_BAD_REQUEST_LINE },
    { name: 'a known method with a version of 5 characters: read, the target ends at the last space', text: req('GET / HTTP/', 'Host: a.test'), hosts: ['a.test /'], issue: undefined },
    { name: 'a known method with a version of 4 characters: read, the target ends at the last space', text: req('GET / HTTP', 'Host: a.test'), hosts: ['a.test /'], issue: undefined },
    { name: 'a known method with no version at all: read', text: req('GET /', 'Host: a.test'), hosts: ['a.test /'], issue: undefined },
    { name: 'a known method with one token after it: all of it is the target', text: req('GET /HTTP/1.1', 'Host: a.test'), hosts: ['a.test /HTTP/1.1'], issue: undefined },
    { name: 'a version not starting with H (another protocol\'s, even after a known method)', text: req('GET / XTTP/1.1', 'Host: a.test'), hosts: [], issue: HTTP_BAD_REQUEST_LINE },
    { name: 'a target with a space in it: the last space ends it', text: req('GET /a b HTTP/1.1', 'Host: a.test'), hosts: ['a.test /a b'], issue: undefined },
  ])('$name', ({ text, hosts, issue }) => {
    const got = parse(text);
    expect([got.hosts, got.r.issue]).toEqual([hosts, issue]);
  });

  test('a request line with no end: wait, unless it already fills MAX_HEADER_BYTES (then the window is exceeded, all bytes consumed and the name lost)', () => {
    expect(parse('GET /aaaa HTTP/1.1').r).toEqual({ consumed: 0, needMore: true, bodyRemaining: 0, chunked: false, nameLost: false });
    const long = `GET /${'a'.repeat(MAX_HEADER_BYTES)}`;
    expect(parse(long).r).toEqual({ consumed: long.length, needMore: false, bodyRemaining: 0, chunked: false, nameLost: true, issue: HTTP_HEADERS_EXCEED_WINDOW });
    // One byte short of the limit still waits; exactly at it, the window is exceeded.
    expect(parse(`GET /${'a'.repeat(MAX_HEADER_BYTES - 6)}`).r.needMore).toBe(true);
    expect(parse(`GET /${'a'.repeat(MAX_HEADER_BYTES - 5)}`).r).toMatchObject({ needMore: false, issue: HTTP_HEADERS_EXCEED_WINDOW });
  });
});

describe('parseHttpRequests: headers', () => {
  test.for([
    { name: 'Host in capitals', headers: ['HOST: a.test'], hosts: ['a.test /'], issue: undefined },
    { name: 'a header whose name only starts with host', headers: ['Hostx: b.test', 'Host: a.test'], hosts: ['a.test /'], issue: undefined },
    { name: 'a header name one letter short', headers: ['Hos: b.test'], hosts: [], issue: HTTP_NO_HOST },
    { name: 'a line without a colon is skipped', headers: ['just text', 'Host: a.test'], hosts: ['a.test /'], issue: undefined },
    { name: 'a line starting with a colon is skipped', headers: [': host', 'Host: a.test'], hosts: ['a.test /'], issue: undefined },
    { name: 'a colon only after the line end does not make a header', headers: ['Host', 'x: a.test'], hosts: [], issue: HTTP_NO_HOST },
    { name: 'an empty Host', headers: ['Host:'], hosts: [], issue: HTTP_BAD_HOST },
  ])('$name', ({ headers, hosts, issue }) => {
    const got = parse(req('GET / HTTP/1.1', ...headers));
    expect([got.hosts, got.r.issue]).toEqual([hosts, issue]);
  });

  // An invalid Content-Length frames no body, as in tshark, and is counted (RFC 9112 §6.3 rule 5).
  test.for([
    { name: 'a body of Content-Length bytes is skipped', cl: 'Content-Length: 5', body: 'GET /', issue: undefined },
    { name: 'with spaces around the value', cl: 'content-length:   5  ', body: 'GET /', issue: undefined },
    { name: 'zero: no body', cl: 'Content-Length: 0', body: '', issue: undefined },
    { name: 'negative: no body, counted as invalid', cl: 'Content-Length: -5', body: '', issue: HTTP_BAD_CONTENT_LENGTH },
    { name: 'not a number: no body, counted as invalid', cl: 'Content-Length: five', body: '', issue: HTTP_BAD_CONTENT_LENGTH },
  ])('$name', ({ cl, body, issue }) => {
    const text = `${req('POST /p HTTP/1.1', 'Host: a.test', cl)}${body}${req('GET /n HTTP/1.1', 'Host: n.test')}`;
    const got = parse(text);
    expect(got.hosts).toEqual(['a.test /p', 'n.test /n']);
    expect(got.r).toStrictEqual({ consumed: text.length, needMore: false, bodyRemaining: 0, chunked: false, nameLost: false, ...(issue && { issue }) });
  });

  test('a body running past the bytes given: consumed to the end, the rest remembered', () => {
    const text = req('POST /p HTTP/1.1', 'Host: a.test', 'Content-Length: 10') + 'abc';
    expect(parse(text).r).toEqual({ consumed: text.length, needMore: false, bodyRemaining: 7, chunked: false, nameLost: false });
    const exact = req('POST /p HTTP/1.1', 'Host: a.test', 'Content-Length: 3') + 'abc';
    expect(parse(exact).r).toEqual({ consumed: exact.length, needMore: false, bodyRemaining: 0, chunked: false, nameLost: false });
  });

  test('a header block with no end: wait, unless it is already longer than MAX_HEADER_BYTES (then the window is exceeded, all bytes consumed and, without a Host before that point, the name lost)', () => {
    expect(parse('GET / HTTP/1.1\r\nHost: a.test\r\n').r).toEqual({ consumed: 0, needMore: true, bodyRemaining: 0, chunked: false, nameLost: false });
    const long = `GET / HTTP/1.1\r\nX: ${'x'.repeat(MAX_HEADER_BYTES)}\r\n`;
    expect(parse(long).r).toEqual({ consumed: long.length, needMore: false, bodyRemaining: 0, chunked: false, nameLost: true, issue: HTTP_HEADERS_EXCEED_WINDOW });
  });

  test('parsing from an offset: consumed counts from it', () => {
    const one = req('GET /1 HTTP/1.1', 'Host: a.test');
    const got = parse(`xxxx${one}`, 4);
    expect([got.hosts, got.r.consumed]).toEqual([['a.test /1'], one.length]);
  });
});

describe('parseHttpRequests: what follows the last complete request', () => {
  // Waiting for a method cut short leaves it unconsumed; otherwise the parser is done with
  // every byte given (consumed is all of them whenever needMore is false).
  const one = req('GET /1 HTTP/1.1', 'Host: a.test');
  test.for([
    { name: 'the start of a method: wait for it', tail: 'GE', needMore: true },
    { name: 'a method with - and _: wait', tail: 'M-_', needMore: true },
    { name: 'a whole method and its space starts a new request: wait for its line', tail: 'GET ', needMore: true },
    { name: 'lower case is not a method', tail: 'ge', needMore: false },
    { name: 'a byte just outside A-Z', tail: 'G@', needMore: false },
    { name: `${16} method characters could still be one`, tail: 'A'.repeat(16), needMore: true },
    { name: `${17} cannot`, tail: 'A'.repeat(17), needMore: false },
    { name: 'nothing', tail: '', needMore: false },
  ])('$name', ({ tail, needMore }) => {
    const got = parse(one + tail);
    expect([got.hosts, got.r.needMore, got.r.consumed, got.r.issue]).toEqual([['a.test /1'], needMore, needMore ? one.length : one.length + tail.length, undefined]);
  });

  test('after an issue or inside a body, a trailing method prefix is not waited for', () => {
    expect(parse(req('GET / HTTP/1.1') + 'GE').r).toEqual({ consumed: 18 + 2, needMore: false, bodyRemaining: 0, chunked: false, nameLost: false, issue: HTTP_NO_HOST });
    expect(parse(req('POST / HTTP/1.1', 'Host: a.test', 'Content-Length: 9') + 'GE').r.needMore).toBe(false);
  });
});

describe('the path reported', () => {
  test.for([
    { target: 'http://a.test', path: '/' },
    { target: 'https://a.test/x/y?q=1', path: '/x/y' },
    { target: 'a://b/c', path: '/c' },
    { target: 'abcdefghi://h/p', path: '/p' }, // a scheme of 9 characters
    { target: 'abcdefghij://h/p', path: 'abcdefghij://h/p' }, // 10: not taken for a scheme
    { target: '://h/p', path: '://h/p' },
    { target: '/p#frag', path: '/p' },
    { target: '/p?', path: '/p' },
    { target: `/${'p'.repeat(255)}`, path: `/${'p'.repeat(255)}` },
    { target: `/${'p'.repeat(256)}`, path: `/${'p'.repeat(255)}` },
  ])('$target → $path', ({ target, path }) => {
    expect(parse(req(`GET ${target} HTTP/1.1`, 'Host: a.test')).hosts).toEqual([`a.test ${path}`]);
  });
});
