/**
 * The reference app: migrate and seed the database, start the campaign worker and the HTTP server, print
 * `{"msg":"listening","url":…}` once ready, and shut down cleanly on SIGTERM/SIGINT.
 */
import type { Queue, Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'mysql2/promise';
import { defaultInstanceId, loadConfig } from './config.js';
import { createPool, prepareDatabase } from './db.js';
import { createLogger } from './logger.js';
import type { CampaignJob } from './queue.js';

async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  let instance = config.instanceId ?? defaultInstanceId(config.port);
  const log = createLogger(config, () => instance);

  // The HTTP and queue modules (fastify, tRPC, BullMQ) load while the database migrates and seeds.
  const modules = Promise.all([import('./server.js'), import('./queue.js')]);
  modules.catch(() => {}); // awaited below; this only keeps a load error from being reported as unhandled first
  await prepareDatabase(config, log);
  const [{ buildServer }, { createCampaignQueue, startCampaignWorker }] = await modules;
  const pool: Pool = createPool(config.databaseUrl);
  const queue: Queue<CampaignJob> = createCampaignQueue(config, log);
  const worker: Worker<CampaignJob> | null = config.faults.stalledQueue
    ? null
    : startCampaignWorker(config, pool, log);
  if (!worker) log.warn('campaign worker not started (FAULT_STALLED_QUEUE)');
  const app: FastifyInstance = await buildServer({ config, log, pool, queue, instanceId: () => instance });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  instance = config.instanceId ?? defaultInstanceId(port);
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ url, startupMs: Date.now() - started }, 'listening');
  if (config.logFile) process.stdout.write(`${JSON.stringify({ msg: 'listening', url })}\n`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown took longer than 10 s, exiting');
      process.exit(1);
    }, 10_000).unref();
    try {
      await app.close();
      await worker?.close();
      await queue.close();
      await pool.end();
      log.info('stopped');
      process.exit(0);
    } catch (err) {
      log.error({ err: { type: (err as Error).name, message: (err as Error).message } }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(
    `reference app failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
