/**
 * A real local HTTP peer whose every answer is scripted: slow (answers after a delay), failing (any status and
 * headers), or dropping the connection. Stands in for Slack, GitHub or a webhook receiver in the fault tests.
 * It records each request when it ARRIVES (so a request the client gave up on is still counted: the provider
 * may have acted on it) and how many are in flight.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultyRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Real time of arrival (ms). */
  at: number;
  /** 0-based index among all requests. */
  index: number;
}

export interface Behaviour {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Answer only after this long. */
  delayMs?: number;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
}

export interface FaultySink {
  url: string;
  port: number;
  requests: FaultyRequest[];
  /** Requests received and not yet answered. */
  inFlight(): number;
  /** Decides each answer; default 200 "ok" at once. */
  behave: (req: FaultyRequest) => Behaviour;
  close(): Promise<void>;
}

export async function startFaultySink(port = 0): Promise<FaultySink> {
  const timers = new Set<NodeJS.Timeout>();
  let pending = 0;
  const sink: FaultySink = {
    url: '',
    port: 0,
    requests: [],
    inFlight: () => pending,
    behave: () => ({ status: 200, body: 'ok' }),
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record: FaultyRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
        index: sink.requests.length,
      };
      sink.requests.push(record);
      const answer = sink.behave(record);
      pending++;
      const respond = () => {
        pending--;
        if (answer.reset) {
          req.socket.destroy();
          return;
        }
        if (res.destroyed || req.socket.destroyed) return;
        res.writeHead(answer.status ?? 200, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? '');
      };
      if (!answer.delayMs) return respond();
      const timer = setTimeout(() => {
        timers.delete(timer);
        respond();
      }, answer.delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  sink.port = (server.address() as AddressInfo).port;
  sink.url = `http://127.0.0.1:${sink.port}`;
  sink.close = () =>
    new Promise((resolve) => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return sink;
}
