/**
 * The one HTTP call every HTTP channel makes: it reads headers case-insensitively (Retry-After decides the next
 * attempt) and reads at most 64 KB of an answer, so a peer that floods its error body cannot flood Guardia's memory.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpCall, retryAfterMs } from '../../src/notify/http.js';

describe('httpCall', () => {
  let server: http.Server;
  let base: string;
  let bytesSent = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/flood') {
        // 10 MB in 64 KB writes; stops as soon as the client hangs up.
        res.writeHead(500, { 'Retry-After': '7', 'X-Many': ['a', 'b'] });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let left = 160;
        const write = () => {
          while (left > 0 && !res.destroyed) {
            left--;
            bytesSent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', write);
          }
          res.end();
        };
        write();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections(); // undici keeps connections alive for the next call
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('answers status, body and headers by any case', async () => {
    const out = await httpCall({ method: 'POST', url: `${base}/ok`, body: '{}', timeoutMs: 2_000 });
    expect(out).toMatchObject({ kind: 'response', status: 200, text: 'ok' });
    if (out.kind !== 'response') throw new Error('no response');
    expect(out.headers.get('Content-Type')).toBe('text/plain');
    expect(out.headers.get('x-absent')).toBeNull();
  });

  it('reads at most 64 KB of a 10 MB answer and still gives its status and Retry-After', async () => {
    const out = await httpCall({ method: 'POST', url: `${base}/flood`, body: '{}', timeoutMs: 5_000 });
    if (out.kind !== 'response') throw new Error(`no response: ${JSON.stringify(out)}`);
    expect(out.status).toBe(500);
    expect(out.text.length).toBe(64 * 1024);
    expect(retryAfterMs(out.headers)).toBe(7_000);
    expect(out.headers.get('x-many')).toBe('a, b');
    await new Promise((r) => setTimeout(r, 100));
    expect(bytesSent, 'the server was cut off long before 10 MB').toBeLessThan(5 * 1024 * 1024);
  });
});
