/**
 * See a playbook find a real fault, in one command (MariaDB on 127.0.0.1:3306 and Redis on :6379 must be up):
 *
 *   npx tsx examples/reference-app/demo.ts login --fault trust-proxy
 *   npx tsx examples/reference-app/demo.ts slow --fault skip-0041 --lang es
 *   npx tsx examples/reference-app/demo.ts errors --fault throwing
 *
 * It starts the reference app (fresh database, the TLS-proxy stand-in, two instances) with one fault switch on,
 * writes the default `guardia.yaml` (`guardia init`) with its `playbooks:` section pointed at it, runs `guardia diagnose <playbook>` (from dist/,
 * built if missing) and shows its output as an on-call engineer would see it, then stops the app and drops the
 * database. Without `--fault` every switch is off and the playbook passes. Any other arguments go to `diagnose`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startReferenceApp, type ReferenceAppOptions } from '../../test/helpers/reference-app.js';

/** The runbook's failures, as the reference app's switches reproduce them (examples/reference-app/README.md). */
const FAULTS: Record<string, { about: string; options: ReferenceAppOptions }> = {
  'trust-proxy': {
    about: 'TRUST_PROXY unset behind the proxy',
    options: { env: { TRUST_PROXY: undefined } },
  },
  samesite: {
    about: 'SameSite=None without Secure',
    options: { env: { COOKIE_SAMESITE: 'none', COOKIE_SECURE: 'false' } },
  },
  secrets: {
    about: 'different secrets on the two instances',
    options: {
      instanceEnv: [{}, { JWT_SECRET: 'x'.repeat(40) + 'other-instance', COOKIE_SECRET: 'y'.repeat(48) }],
    },
  },
  cors: { about: 'CORS echoing any origin', options: { env: { FAULT_CORS_ANY_ORIGIN: '1' } } },
  'skip-0041': { about: 'migration 0041 not applied', options: { env: { FAULT_SKIP_MIGRATIONS: '0041' } } },
  'drop-index': {
    about: 'a tenant index dropped',
    options: { env: { FAULT_DROP_INDEX: 'leads.idx_leads_tenant' } },
  },
  throwing: {
    about: 'leads.import throws for some payloads',
    options: { env: { FAULT_THROWING_PROCEDURE: '1' } },
  },
  eviction: {
    about: 'Redis evicting keys (allkeys-lru)',
    options: { privateRedis: { maxmemoryPolicy: 'allkeys-lru' } },
  },
  'stalled-queue': {
    about: 'the campaign worker is not running',
    options: { env: { FAULT_STALLED_QUEUE: '1' } },
  },
};

const ROOT = path.resolve(import.meta.dirname, '../..');
const [playbook = 'login', ...rest] = process.argv.slice(2);
const faultAt = rest.indexOf('--fault');
const faultName = faultAt >= 0 ? rest.splice(faultAt, 2)[1] : undefined;
if (!['login', 'slow', 'errors'].includes(playbook) || (faultName !== undefined && !FAULTS[faultName])) {
  process.stderr.write(
    `usage: demo.ts login|slow|errors [--fault ${Object.keys(FAULTS).join('|')}] [diagnose flags]\n`,
  );
  process.exit(2);
}
const fault = faultName ? FAULTS[faultName]! : undefined;

if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js')))
  spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });

process.stderr.write(
  `starting the reference app${fault ? ` with ${fault.about}` : ' (every switch off)'} …\n`,
);
const app = await startReferenceApp({ instances: 2, ...fault?.options });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-demo-'));
try {
  await provoke(playbook);
  // The runbook's default policy, with its playbooks section pointed at this app.
  spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'init'], { cwd: dir, stdio: 'ignore' });
  const file = path.join(dir, 'guardia.yaml');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^playbooks:\n(?:[ #].*\n|\n)*/m, policy()));
  const result = spawnSync(
    process.execPath,
    [path.join(ROOT, 'dist/cli/main.js'), 'diagnose', playbook, '--policy', 'guardia.yaml', ...rest],
    {
      cwd: dir,
      stdio: 'inherit',
      env: {
        ...process.env,
        DEMO_LOGIN_PASSWORD: app.login.password,
        GUARDIA_DATABASE_URL: `sqlite:${dir}/g.db`,
      },
    },
  );
  process.stderr.write(
    `\nguardia diagnose ${playbook} exited ${result.status} (0 pass/warn, 1 fail, 2 cannot run)\n`,
  );
  process.exitCode = result.status ?? 2;
} finally {
  await app.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

/** The policy's playbooks section for this app (the DSN carries no password, so it may be written literally). */
function policy(): string {
  return `playbooks:
  targets:
    app_url: ${app.appUrl}
    proxy_url: ${app.proxyUrl}
    instances: [${app.urls.join(', ')}]
    env_file: ${app.envFile}
    login: { email: ${app.login.email}, password: "\${DEMO_LOGIN_PASSWORD}", tenant_id: ${app.login.tenantId} }
    mysql_dsn: ${app.mysqlDsn}
    redis_url: ${app.redisUrl}
    log_file: ${app.logFiles.join(',')}
  queues: [campaigns]
  queue_prefix: ${app.queuePrefix}
  tenant_queries:
    - name: leads list
      sql: SELECT id, name, email FROM leads WHERE tenant_id = :tenant ORDER BY created_at DESC LIMIT 50
    - name: chat list
      sql: SELECT id, body FROM chat_messages WHERE tenant_id = :tenant ORDER BY created_at DESC LIMIT 50
`;
}

/** Gives the playbook something to find: a failing import for `errors`, queued sends for `slow`. */
async function provoke(name: string): Promise<void> {
  const post = (proc: string, body: unknown) =>
    fetch(`${app.appUrl}/api/trpc/${proc}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': `demo-${proc}-${Date.now()}` },
      body: JSON.stringify(body),
    });
  if (name === 'errors')
    await post('leads.import', {
      tenantId: 1,
      leads: [{ name: 'Ada', email: 'ada@example.test' }, { name: 'Bob' }],
    });
  if (name === 'slow') await post('campaigns.send', { tenantId: 1, leadIds: [1, 2, 3] });
}
