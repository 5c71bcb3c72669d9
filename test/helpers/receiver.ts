import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real HTTP(S) receiver on 127.0.0.1 for alert-delivery tests: it records every request
 * (headers, raw body, arrival time) and answers as the test says — a status (with a body and
 * headers), or not at all (`'hang'`: the request is held until the receiver closes).
 */
export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly atMs: number;
}

export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly requests: Received[];
  /** How the next requests are answered (default 200); a function sees each request first. */
  answer: Answer | ((r: Received) => Answer);
  /** Parsed JSON bodies of the requests answered 2xx. */
  accepted(): unknown[];
  close(): Promise<void>;
}

export async function startReceiver(opts: { port?: number; tls?: { key: string; cert: string } } = {}): Promise<Receiver> {
  const held: ServerResponse[] = [];
  const sockets = new Set<Socket>();
  const answered = new Map<Received, number>();
  const r: Receiver = {
    url: '',
    port: 0,
    requests: [],
    answer: { status: 200 },
    accepted: () => r.requests.filter((q) => (answered.get(q) ?? 0) >= 200 && (answered.get(q) ?? 0) < 300).map((q) => JSON.parse(q.body) as unknown),
    close: async () => {
      for (const res of held) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const got: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, atMs: Date.now() };
      r.requests.push(got);
      const a = typeof r.answer === 'function' ? r.answer(got) : r.answer;
      if (a === 'hang') {
        held.push(res);
        return;
      }
      answered.set(got, a.status);
      res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
      res.end(a.body ?? '');
    });
  };
  const server: Server = opts.tls !== undefined ? createHttps({ key: opts.tls.key, cert: opts.tls.cert }, handle) : createHttp(handle);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  Object.assign(r, { port, url: `${opts.tls !== undefined ? 'https' : 'http'}://127.0.0.1:${port}` });
  return r;
}
