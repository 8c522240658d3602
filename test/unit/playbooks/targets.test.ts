/**
 * Playbook targets: the policy's `playbooks` section (defaults, validation errors at FILE:LINE:COL), flags over
 * policy, `${ENV}` secrets resolved at run time (unset → recorded, not a crash), and the secrets of a run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_YAML } from '../../../src/domain/policy/default-policy.js';
import { loadPolicy, parsePolicyText } from '../../../src/domain/policy/load.js';
import { renderPolicyMarkdown } from '../../../src/domain/policy/render.js';
import { DEFAULT_TARGETS, missingTarget } from '../../../src/playbooks/check.js';
import {
  envFileSecrets,
  parseEnvFile,
  resolveLanguage,
  resolveTargets,
  urlSecrets,
} from '../../../src/playbooks/targets.js';
import { GuardiaError } from '../../../src/shared/errors.js';

/** The default policy with a `playbooks:` section of our own in place of the default one. */
function withPlaybooks(section: string): string {
  const cut = DEFAULT_POLICY_YAML.indexOf('\nplaybooks:');
  return `${DEFAULT_POLICY_YAML.slice(0, cut)}\n${section}`;
}

function parse(section: string) {
  return parsePolicyText(withPlaybooks(section), 'guardia.yaml');
}

/** 1-based line:col of the first occurrence of `needle` in the playbooks section of `text`. */
function lineCol(text: string, needle: string): string {
  const offset = text.indexOf(needle, text.indexOf('\nplaybooks:'));
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

describe('policy section playbooks', () => {
  it('defaults to the runbook: 0040/0041, the thresholds, no addresses', () => {
    const { targets, secrets } = resolveTargets(loadPolicy(), {}, {});
    expect(targets).toEqual(DEFAULT_TARGETS);
    expect(secrets).toEqual([]);
  });

  it('a policy without the section gets the same defaults', () => {
    const { policy, problems } = parse('');
    expect(problems).toEqual([]);
    expect(resolveTargets(policy!, {}, {}).targets).toEqual(DEFAULT_TARGETS);
  });

  it("the default policy's commented examples are valid once uncommented", () => {
    const cut = DEFAULT_POLICY_YAML.indexOf('\nplaybooks:');
    const section = DEFAULT_POLICY_YAML.slice(cut)
      .replace('targets: {}', 'targets:')
      .replace('tenant_queries: []', 'tenant_queries:')
      .replace(/^ {2}# language: es/m, '  language: es')
      .replace(/^ {2}# {3}/gm, '    ');
    const { policy, problems } = parsePolicyText(DEFAULT_POLICY_YAML.slice(0, cut) + section, 'g.yaml');
    expect(problems).toEqual([]);
    const { targets, secrets } = resolveTargets(
      policy!,
      {},
      { APP_LOGIN_PASSWORD: 'pw-123456', APP_MYSQL_DSN: 'mysql://u:p4ss-w0rd@db/app' },
    );
    expect(targets).toMatchObject({
      appUrl: 'http://10.0.0.5:3000',
      login: { email: 'guardia-probe@example.com', tenantId: '1' },
      tenantQueries: [{ name: 'leads list' }],
      unresolved: { redisUrl: 'APP_REDIS_URL', sentry: 'SENTRY_AUTH_TOKEN' },
    });
    expect(secrets).toEqual(expect.arrayContaining(['pw-123456', 'p4ss-w0rd']));
  });

  it('reads every key (snake_case) into the targets', () => {
    const section = `playbooks:
  language: es
  targets:
    app_url: http://10.0.0.5:3000
    proxy_url: https://app.example.com
    instances: [http://10.0.0.5:3000, http://10.0.0.6:3000]
    env_file: /srv/app/.env
    login: { email: probe@example.com, password: "\${APP_LOGIN_PASSWORD}", tenant_id: 1 }
    mysql_dsn: \${APP_MYSQL_DSN}
    redis_url: redis://cache.internal:6379/0
    log_file: /var/log/app.json
    sentry: { api_url: https://sentry.example.com, org: acme, token: "\${SENTRY_TOKEN}" }
  tenant_column: org_id
  tenant_queries:
    - { name: leads, sql: "SELECT * FROM leads WHERE org_id = :tenant" }
  index_migrations: ["0050"]
  migrations_table: { table: migrations, column: name }
  queues: [campaigns]
  queue_prefix: app
  thresholds: { connections_warn: 0.7, connections_fail: 0.95, redis_ping_warn_ms: 10, redis_ping_fail_ms: 200, full_scan_rows: 500, queue_waiting_warn: 50 }
  errors_window: 30m
`;
    const { policy, problems } = parse(section);
    expect(problems).toEqual([]);
    const env = {
      APP_LOGIN_PASSWORD: 'login-pass-123456',
      APP_MYSQL_DSN: 'mysql://app:db%23pass-7890@db.internal:3306/app',
      SENTRY_TOKEN: 'sntrys_token_abcdef',
    };
    const { targets, secrets } = resolveTargets(policy!, {}, env, () => {
      throw new Error('ENOENT');
    });
    expect(targets).toEqual({
      appUrl: 'http://10.0.0.5:3000',
      proxyUrl: 'https://app.example.com',
      instances: ['http://10.0.0.5:3000', 'http://10.0.0.6:3000'],
      envFile: '/srv/app/.env',
      login: { email: 'probe@example.com', password: 'login-pass-123456', tenantId: '1' },
      mysqlDsn: env.APP_MYSQL_DSN,
      redisUrl: 'redis://cache.internal:6379/0',
      logFile: '/var/log/app.json',
      sentry: { apiUrl: 'https://sentry.example.com', org: 'acme', token: 'sntrys_token_abcdef' },
      tenantColumn: 'org_id',
      tenantQueries: [{ name: 'leads', sql: 'SELECT * FROM leads WHERE org_id = :tenant' }],
      indexMigrations: ['0050'],
      migrationsTable: { table: 'migrations', column: 'name' },
      queues: ['campaigns'],
      queuePrefix: 'app',
      thresholds: {
        connectionsWarn: 0.7,
        connectionsFail: 0.95,
        redisPingWarnMs: 10,
        redisPingFailMs: 200,
        fullScanRows: 500,
        queueWaitingWarn: 50,
      },
      errorsWindowMs: 30 * 60_000,
    });
    expect(secrets).toEqual(
      expect.arrayContaining(['db%23pass-7890', 'db#pass-7890', 'login-pass-123456', 'sntrys_token_abcdef']),
    );
    expect(resolveLanguage(undefined, policy!)).toBe('es');
    expect(resolveLanguage('en', policy!)).toBe('en');
  });

  it('reports mistakes at FILE:LINE:COL with hints, never echoing a literal secret as accepted', () => {
    const section = `playbooks:
  targets:
    app_url: ftp://app
    mysql_dsn: mysql://root:hunter22@db:3306/app
    login: { email: a@b.c, password: hunter22 }
    redsi_url: redis://x
  index_migrations: [0040]
  thresholds: { connections_warn: 0.95 }
  tenant_queries: [{ name: q, sql: "SELECT 1" }]
  errors_window: 1 business day
`;
    const text = withPlaybooks(section);
    const { policy, problems } = parsePolicyText(text, 'guardia.yaml');
    expect(policy).toBeUndefined();
    const at = (needle: string) => problems.find((p) => `${p.line}:${p.col}` === lineCol(text, needle));
    expect(at('ftp://app')?.message).toContain('expected an http(s) URL');
    expect(at('mysql://root')).toMatchObject({
      path: 'playbooks.targets.mysql_dsn',
      hint: 'set the secret in an environment variable and write mysql_dsn: "${APP_MYSQL_DSN}"',
    });
    expect(at('mysql://root')!.message).toContain('this URL carries a password');
    expect(at('hunter22 }')).toMatchObject({ path: 'playbooks.targets.login.password' });
    expect(at('redsi_url')).toMatchObject({ hint: 'did you mean "redis_url"?' });
    expect(at('0040]')!.message).toContain('"0040"');
    expect(at('0.95')!.message).toContain('must not be above connections_fail');
    expect(at('"SELECT 1"')!.message).toContain(':tenant');
    expect(at('1 business day')!.message).toContain('wall-clock');
  });
});

describe('resolveTargets', () => {
  const { policy } = parse(`playbooks:
  targets:
    app_url: http://app.internal:3000
    login: { email: probe@example.com, password: "\${APP_LOGIN_PASSWORD}" }
    mysql_dsn: \${APP_MYSQL_DSN}
    redis_url: \${APP_REDIS_URL}
    sentry: { org: acme }
`);

  it('an unset variable leaves the target out and names the variable; nothing throws', () => {
    const { targets, secrets } = resolveTargets(policy!, {}, {});
    expect(targets.login).toBeUndefined();
    expect(targets.mysqlDsn).toBeUndefined();
    expect(targets.sentry).toBeUndefined();
    expect(targets.unresolved).toEqual({
      login: 'APP_LOGIN_PASSWORD',
      mysqlDsn: 'APP_MYSQL_DSN',
      redisUrl: 'APP_REDIS_URL',
      sentry: 'SENTRY_AUTH_TOKEN',
    });
    expect(secrets).toEqual([]);
    expect(missingTarget(targets, 'mysqlDsn').en).toBe(
      'no MySQL DSN: playbooks.targets.mysql_dsn refers to ${APP_MYSQL_DSN}, which is not set',
    );
    expect(missingTarget(targets, 'mysqlDsn').es).toContain('${APP_MYSQL_DSN}');
    expect(missingTarget(targets, 'logFile').en).toBe(
      'no log file configured: pass --log-file or set playbooks.targets.log_file in guardia.yaml',
    );
  });

  it('flags override the policy, and their secrets are collected', () => {
    const { targets, secrets } = resolveTargets(
      policy!,
      {
        appUrl: 'http://127.0.0.1:4000',
        instances: ['http://127.0.0.1:4000', 'http://127.0.0.1:4001'],
        mysqlDsn: 'mysql://root:flag-pass-1234@127.0.0.1:3306/app',
        redisUrl: 'redis://:redis-pass-5678@127.0.0.1:6379/0',
        sentryUrl: 'http://127.0.0.1:9000',
        sentryOrg: 'other',
        errorsWindowMs: 5 * 60_000,
      },
      { SENTRY_AUTH_TOKEN: 'sentry-token-abcd' },
    );
    expect(targets).toMatchObject({
      appUrl: 'http://127.0.0.1:4000',
      instances: ['http://127.0.0.1:4000', 'http://127.0.0.1:4001'],
      mysqlDsn: 'mysql://root:flag-pass-1234@127.0.0.1:3306/app',
      redisUrl: 'redis://:redis-pass-5678@127.0.0.1:6379/0',
      sentry: { apiUrl: 'http://127.0.0.1:9000', org: 'other', token: 'sentry-token-abcd' },
      errorsWindowMs: 300_000,
      unresolved: { login: 'APP_LOGIN_PASSWORD' },
    });
    expect(secrets).toEqual(
      expect.arrayContaining(['flag-pass-1234', 'redis-pass-5678', 'sentry-token-abcd']),
    );
  });

  it('refuses flags that cannot be right, naming the flag but not echoing a DSN', () => {
    const attempt = () =>
      resolveTargets(policy!, { appUrl: 'app.internal', mysqlDsn: 'postgres://u:leaky-pass@h/db' }, {});
    expect(attempt).toThrow(GuardiaError);
    try {
      attempt();
    } catch (err) {
      const e = err as GuardiaError;
      expect(e.code).toBe('invalid_input');
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain('--app-url');
      expect(e.message).toContain('--mysql-dsn');
      expect(e.message).not.toContain('leaky-pass');
    }
  });

  it('collects every secret-looking value of the env file, and passwords inside URLs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'guardia-targets-'));
    const file = join(dir, '.env.production');
    writeFileSync(
      file,
      [
        '# production',
        'NODE_ENV=production',
        'JWT_SECRET=jwt-secret-value-0123456789abcdef0123',
        'export COOKIE_SECRET="cookie secret with spaces 0123456789"',
        "ENCRYPTION_KEY='enc-key-value-abcdef'",
        'STRIPE_API_TOKEN=tok_live_123456',
        'SMTP_PASSWORD=smtp-pass-9876',
        'DATABASE_URL=mysql://app:url-pass-5555@db:3306/app',
        'CLIENT_URL=https://app.example.com',
        'EMPTY_SECRET=',
        'TRUST_PROXY=1',
      ].join('\n'),
    );
    const { secrets } = resolveTargets(policy!, { envFile: file }, {});
    expect(secrets.sort()).toEqual(
      [
        'jwt-secret-value-0123456789abcdef0123',
        'cookie secret with spaces 0123456789',
        'enc-key-value-abcdef',
        'tok_live_123456',
        'smtp-pass-9876',
        'url-pass-5555',
      ].sort(),
    );
    expect(envFileSecrets(join(dir, 'missing.env'), (p) => readOrThrow(p))).toEqual([]);
  });

  it('parses env files the way Node does, with export lines', () => {
    expect(parseEnvFile('A=1\n# c\nexport B="x y"\nC=\'q#z\' # note\n')).toEqual({
      A: '1',
      B: 'x y',
      C: 'q#z',
    });
    expect(urlSecrets('redis://:p%40ss@h:6379')).toEqual(['p%40ss', 'p@ss']);
    expect(urlSecrets('redis://h:6379')).toEqual([]);
    expect(urlSecrets('not a url')).toEqual([]);
  });

  it('language: the flag, else the policy, else English; anything else is refused', () => {
    expect(resolveLanguage(undefined, policy!)).toBe('en');
    expect(resolveLanguage('es')).toBe('es');
    expect(() => resolveLanguage('fr')).toThrow('--lang must be en or es');
  });
});

describe('policy render', () => {
  it('prints a Playbooks section with the three playbooks in the runbook words', () => {
    const markdown = renderPolicyMarkdown(loadPolicy());
    expect(markdown).toContain('\n## Playbooks\n');
    expect(markdown).toContain(
      '### Incident playbook: "No se puede iniciar sesión" (`guardia diagnose login`)',
    );
    expect(markdown).toContain('### Incident playbook: "La app está lenta" (`guardia diagnose slow`)');
    expect(markdown).toContain(
      '### Incident playbook: "Error 500 frecuente en módulo X" (`guardia diagnose errors`)',
    );
    expect(markdown).toContain('Confirmar que migraciones de índices (`0040`, `0041`) están aplicadas.');
    expect(markdown).toContain(
      '- Si hay token inválido: rotar sesión del usuario y verificar consistencia de secretos entre instancias.',
    );
    expect(markdown).toContain('- Documentar RCA con causa raíz + acción preventiva');
    expect(markdown).toContain('warn at 80 %, fail at 90 %');
    expect(markdown).toContain('Redis PING p99: warn at 5 ms, fail at 100 ms');
  });
});

function readOrThrow(path: string): string {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
}
