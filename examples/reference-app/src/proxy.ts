/**
 * The TLS-terminator stand-in: an HTTP reverse proxy (node:http only) that forwards everything to UPSTREAM_URL the
 * way nginx or a load balancer does after terminating TLS — adding `X-Forwarded-Proto: https`, `X-Forwarded-For`
 * and `X-Forwarded-Host` — and passes every response header (Set-Cookie included) back unchanged.
 *
 *   PROXY_PORT=0 UPSTREAM_URL=http://127.0.0.1:3000 npx tsx examples/reference-app/src/proxy.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface ProxyOptions {
  upstream: string;
  port?: number;
  host?: string;
}

export interface RunningProxy {
  url: string;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

function appendHeader(existing: string | string[] | undefined, value: string): string {
  if (existing === undefined) return value;
  return `${Array.isArray(existing) ? existing.join(', ') : existing}, ${value}`;
}

export function createProxyServer(upstream: string): http.Server {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    const clientIp = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    headers['x-forwarded-for'] = appendHeader(req.headers['x-forwarded-for'], clientIp);
    headers['x-forwarded-proto'] = 'https';
    headers['x-forwarded-host'] = req.headers.host ?? target.host;
    const upstreamReq = http.request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        agent,
      },
      (upstreamRes) => {
        const raw: string[] = [];
        for (let i = 0; i < upstreamRes.rawHeaders.length; i += 2) {
          const name = upstreamRes.rawHeaders[i] ?? '';
          if (!HOP_BY_HOP.has(name.toLowerCase())) raw.push(name, upstreamRes.rawHeaders[i + 1] ?? '');
        }
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, raw);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on('error', (err) => {
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'bad gateway', message: err.message }));
    });
    req.on('aborted', () => upstreamReq.destroy());
    req.pipe(upstreamReq);
  });
  server.on('close', () => agent.destroy());
  return server;
}

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const server = createProxyServer(options.upstream);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function main(): Promise<void> {
  const upstream = process.env.UPSTREAM_URL;
  if (!upstream) throw new Error('UPSTREAM_URL is required');
  const proxy = await startProxy({
    upstream,
    port: Number(process.env.PROXY_PORT ?? '0'),
    host: process.env.PROXY_HOST || '127.0.0.1',
  });
  process.stdout.write(`${JSON.stringify({ msg: 'listening', url: proxy.url, upstream })}\n`);
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`proxy failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
