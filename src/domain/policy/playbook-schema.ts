/**
 * The policy's `playbooks:` section: where the system under diagnosis is (`targets`) and the runbook's names and
 * thresholds for `guardia diagnose` / `guardia verify` (DESIGN.md §6). Everything has a default except the
 * addresses, so a policy without this section still runs every playbook: checks without a target skip and say
 * which key or flag to set.
 *
 * Secrets (the login user's password, the Sentry token, a DSN with a password) are `${ENV_VAR}` references,
 * resolved when a playbook runs (src/playbooks/targets.ts); an unset variable makes the checks that need it skip.
 */
import { z } from 'zod';
import { secretRefSchema, wallDurationSchema, type SecretRef } from './schema-parts.js';

const SECRET_LITERAL =
  'secrets are given as an environment variable reference like "${APP_MYSQL_DSN}", never as a literal value';

/** An http(s) URL. */
const httpUrl = z
  .string()
  .refine((text) => /^https?:$/.test(URL.canParse(text) ? new URL(text).protocol : ''), {
    message: 'expected an http(s) URL such as "https://app.example.com"',
  });

/**
 * A URL that may carry a password (MySQL DSN, Redis URL): a `${ENV_VAR}` reference, or a literal URL without a
 * password (`mysql://monitor@db.internal:3306/app`). A literal with a password is refused, pointing at the line.
 */
function connectionUrl(protocols: string[], example: string) {
  return z.string().transform((text, ctx): SecretRef | { value: string } => {
    if (/^\$\{[A-Z_][A-Z0-9_]*\}$/.test(text)) return { env: text.slice(2, -1) };
    if (text.startsWith('${')) {
      ctx.addIssue({
        code: 'custom',
        message: `expected an environment variable reference like "\${APP_DSN}" (upper case, digits and "_"), got "${text}"`,
      });
      return z.NEVER;
    }
    const url = URL.canParse(text) ? new URL(text) : undefined;
    if (!url || !protocols.includes(url.protocol)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a ${protocols.map((p) => p.replace(/:$/, '')).join(' or ')} URL such as "${example}", or a "\${ENV_VAR}" reference`,
      });
      return z.NEVER;
    }
    if (url.password) {
      ctx.addIssue({ code: 'custom', message: `${SECRET_LITERAL}: this URL carries a password` });
      return z.NEVER;
    }
    return { value: text };
  });
}
export type ConnectionRef = SecretRef | { value: string };

const ratio = z
  .number()
  .gt(0, 'expected a fraction between 0 and 1, e.g. 0.8 for 80 %')
  .max(1, 'expected a fraction between 0 and 1, e.g. 0.8 for 80 %');
const positiveInt = z.number().int().positive();

const targetsSchema = z
  .strictObject({
    /** The app as the proxy reaches it, e.g. http://10.0.0.5:3000. */
    app_url: httpUrl.optional(),
    /** The public URL through the TLS-terminating proxy. */
    proxy_url: httpUrl.optional(),
    /** Base URL of every app instance (their /healthz fingerprints must agree). */
    instances: z.array(httpUrl).default([]),
    /** The app's production environment file (KEY=VALUE lines). */
    env_file: z.string().min(1).optional(),
    /** A synthetic user for the login probe. */
    login: z
      .strictObject({
        email: z.string().min(1),
        password: secretRefSchema,
        tenant_id: z.union([z.string().min(1), z.number().int()]).optional(),
      })
      .optional(),
    mysql_dsn: connectionUrl(['mysql:', 'mariadb:'], 'mysql://monitor@db.internal:3306/app').optional(),
    redis_url: connectionUrl(['redis:', 'rediss:'], 'redis://redis.internal:6379/0').optional(),
    /** The app's JSON (pino) log file. */
    log_file: z.string().min(1).optional(),
    sentry: z
      .strictObject({
        api_url: httpUrl.default('https://sentry.io'),
        org: z.string().min(1),
        token: secretRefSchema.prefault('${SENTRY_AUTH_TOKEN}'),
      })
      .optional(),
  })
  .prefault({});

const thresholdsSchema = z
  .strictObject({
    /** Threads_connected / max_connections. */
    connections_warn: ratio.default(0.8),
    connections_fail: ratio.default(0.9),
    /** Redis PING p99, milliseconds. */
    redis_ping_warn_ms: z.number().positive().default(5),
    redis_ping_fail_ms: z.number().positive().default(100),
    /** EXPLAIN: a full scan over more rows than this fails. */
    full_scan_rows: positiveInt.default(1000),
    /** Jobs waiting in a queue above this warns. */
    queue_waiting_warn: positiveInt.default(1000),
  })
  .prefault({})
  .superRefine((t, ctx) => {
    if (t.connections_warn > t.connections_fail)
      ctx.addIssue({
        code: 'custom',
        path: ['connections_warn'],
        message: `connections_warn (${t.connections_warn}) must not be above connections_fail (${t.connections_fail})`,
      });
    if (t.redis_ping_warn_ms > t.redis_ping_fail_ms)
      ctx.addIssue({
        code: 'custom',
        path: ['redis_ping_warn_ms'],
        message: `redis_ping_warn_ms (${t.redis_ping_warn_ms}) must not be above redis_ping_fail_ms (${t.redis_ping_fail_ms})`,
      });
  });

const sqlIdentifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'expected a plain SQL identifier such as "tenant_id"');

export const playbooksSchema = z
  .strictObject({
    /** Language of `guardia diagnose` output when --lang is not given. */
    language: z.enum(['en', 'es']).optional(),
    targets: targetsSchema,
    tenant_column: sqlIdentifier.default('tenant_id'),
    /** Per-tenant queries explained by `verify tenant-performance`; `:tenant` stands for the tenant id. */
    tenant_queries: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          sql: z
            .string()
            .min(1)
            .refine((sql) => sql.includes(':tenant'), {
              message: 'the query must use :tenant where the tenant id goes',
            }),
        }),
      )
      .default([]),
    /** Index migrations that must be applied (the runbook's 0040 and 0041). */
    index_migrations: z
      .array(
        z.string({
          error:
            'expected a migration version in quotes such as "0040" (unquoted, YAML reads 0040 as the number 40)',
        }),
      )
      .default(['0040', '0041']),
    migrations_table: z
      .strictObject({
        table: sqlIdentifier.default('schema_migrations'),
        column: sqlIdentifier.default('version'),
      })
      .prefault({}),
    /** BullMQ queues to inspect, and BullMQ's key prefix. */
    queues: z.array(z.string().min(1)).default([]),
    queue_prefix: z.string().min(1).default('bull'),
    thresholds: thresholdsSchema,
    /** How far back `diagnose errors` reads the logs. */
    errors_window: wallDurationSchema.prefault('1h'),
  })
  .prefault({})
  .superRefine((section, ctx) => {
    const seen = new Set<string>();
    section.tenant_queries.forEach((q, i) => {
      if (seen.has(q.name))
        ctx.addIssue({
          code: 'custom',
          path: ['tenant_queries', i, 'name'],
          message: `duplicate query name "${q.name}"`,
        });
      seen.add(q.name);
    });
  });
export type PlaybooksPolicy = z.output<typeof playbooksSchema>;
