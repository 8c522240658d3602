/**
 * `guardia serve` (what `npm start` runs): the HTTP server with JSON logs on stdout, a short human banner on
 * stderr (where it listens, which store and policy, which integrations still need their secret, how to get a
 * token), and a graceful shutdown on SIGTERM/SIGINT that finishes in-flight requests before closing the store.
 */
import type { Command } from 'commander';
import { loadConfig, loadSecretKey } from '../config.js';
import { loadPolicy, resolveSecret } from '../domain/policy/load.js';
import { startEngineThread } from '../engine/thread.js';
import { buildApp } from '../server/app.js';
import { createServices } from '../server/context.js';
import { createLogger } from '../server/logger.js';
import { systemClock } from '../shared/clock.js';
import { openStore } from '../store/db.js';
import { newWriteLock } from '../store/sqlite-write-lock.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the Guardia server')
    .option('--host <host>', 'listen address (default: $GUARDIA_HOST or 127.0.0.1)')
    .option('--port <port>', 'listen port (default: $GUARDIA_PORT or 8080)')
    .option('--database <url>', 'database URL (default: $GUARDIA_DATABASE_URL or sqlite:./data/guardia.db)')
    .option(
      '--policy <file>',
      'policy file (default: $GUARDIA_POLICY, ./guardia.yaml, or the built-in runbook)',
    )
    .action(async (options: { host?: string; port?: string; database?: string; policy?: string }) => {
      const config = loadConfig({
        host: options.host,
        port: options.port,
        databaseUrl: options.database,
        policy: options.policy,
      });
      const policy = loadPolicy({ path: config.policyPath });
      const secretKey = loadSecretKey(config);
      // The HTTP thread and the engine thread share SQLite through one write lock (unused on PostgreSQL).
      const writeLock = newWriteLock();
      const store = await openStore({ url: config.databaseUrl, writeLock });
      const logger = createLogger(config.logLevel);
      const services = createServices(store, policy, systemClock, process.env, {
        secretKey,
        publicUrl: config.publicUrl,
      });
      const app = await buildApp(services, {
        logger,
        bodyLimit: config.bodyLimit,
        rateLimits: config.rateLimits,
      });
      // The engine executes escalation steps and delivers notifications on its own thread (engine/thread.ts);
      // commits here wake it at once.
      const engine = await startEngineThread(
        {
          databaseUrl: config.databaseUrl,
          policyPath: config.policyPath,
          logLevel: config.logLevel,
          secretKey: services.settings.secretKey,
          publicUrl: services.settings.publicUrl,
          writeLock,
        },
        { onError: (err) => logger.error({ err }, 'escalation engine thread failed') },
      );
      services.scheduler.onCommit(() => engine.wake());
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;

      const banner = [
        `Guardia is serving on http://${config.host}:${port}`,
        `  store:  ${store.description}`,
        `  policy: ${config.policyPath ?? 'built-in default (the SRE Operations Runbook); `guardia init` writes it to guardia.yaml'}`,
      ];
      for (const integration of policy.integrations) {
        const ready = resolveSecret(integration.secret, process.env) !== undefined;
        banner.push(
          `  integration ${integration.name} (${integration.type}): ${ready ? 'ready' : `refusing alerts until ${integration.secret.env} is set`}`,
        );
      }
      if (!process.env.SLACK_SIGNING_SECRET)
        banner.push('  slack buttons: refused until SLACK_SIGNING_SECRET is set');
      const tokens = await services.tokens.list();
      if (!tokens.some((t) => t.revoked_at === null)) {
        banner.push(
          '',
          'To log in to the API, create a token:  npx guardia tokens create --role admin --name <you>',
        );
      }
      process.stderr.write(banner.join('\n') + '\n');

      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        await app.close();
        await engine.stop();
        await store.close();
        logger.flush();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
      // Keep the command alive until a signal arrives.
      await new Promise<never>(() => undefined);
    });
}
