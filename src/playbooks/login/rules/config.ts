/**
 * Configuration decisions of the login playbook: NODE_ENV, the session secrets, the public URLs.
 * Pure: what a probe observed in, status/summary/evidence/mitigation out; no secret value in the output.
 */
import { fingerprint } from '../../redact.js';
import { both, MITIGATIONS } from '../texts.js';
import { type Decision, skip } from './common.js';

export const MIN_SECRET_BYTES = 32;
/** Values no secret may have (compared case-insensitively); any value containing "changeme" is refused too. */
export const SECRET_DENYLIST = [
  'changeme',
  'secret',
  'password',
  'default',
  'example',
  'test',
  'dev',
  'jwt_secret',
];
export const URL_KEYS = ['CLIENT_URL', 'VITE_API_URL', 'VITE_OAUTH_PORTAL_URL', 'OAUTH_SERVER_URL'] as const;
// ---------------------------------------------------------------------------------------------------------------
// NODE_ENV

export function decideNodeEnv(env: Record<string, string> | undefined, healthzNodeEnv?: string): Decision {
  const fileValue = env?.NODE_ENV;
  if (!env && healthzNodeEnv === undefined)
    return skip(
      'no env file and no /healthz node_env: set playbooks.targets.env_file (--env-file) or the app URL',
      'sin archivo env ni node_env en /healthz: configurar playbooks.targets.env_file (--env-file) o la URL de la app',
    );
  const evidence = {
    NODE_ENV: env ? (fileValue ?? 'unset') : 'env file not read',
    running_app_node_env: healthzNodeEnv ?? 'not reported',
  };
  if (env && fileValue !== 'production')
    return {
      status: 'fail',
      summary: both(
        `NODE_ENV is ${fileValue === undefined ? 'unset' : `"${fileValue}"`} in the env file, not production`,
        `NODE_ENV es ${fileValue === undefined ? 'vacío' : `"${fileValue}"`} en el archivo env, no production`,
      ),
      evidence,
      mitigation: MITIGATIONS.productionVars,
    };
  if (healthzNodeEnv !== undefined && healthzNodeEnv !== 'production')
    return {
      status: 'fail',
      summary: both(
        `the running app reports NODE_ENV="${healthzNodeEnv}"${env ? ' although the env file says production (not restarted?)' : ''}`,
        `la app en ejecución informa NODE_ENV="${healthzNodeEnv}"${env ? ' aunque el archivo env dice production (¿sin reiniciar?)' : ''}`,
      ),
      evidence,
      mitigation: MITIGATIONS.productionVars,
    };
  return { status: 'pass', summary: both('NODE_ENV=production', 'NODE_ENV=production'), evidence };
}

// ---------------------------------------------------------------------------------------------------------------
// Secrets

export function secretKeysOf(env: Record<string, string>): string[] {
  const extra = Object.keys(env)
    .filter((k) => /ENCRYPTION.*KEY/i.test(k))
    .sort();
  return ['JWT_SECRET', 'COOKIE_SECRET', ...extra.filter((k) => k !== 'JWT_SECRET' && k !== 'COOKIE_SECRET')];
}

export function isDenylisted(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (SECRET_DENYLIST.includes(v)) return true;
  if (/change[-_ ]?me|replace[-_ ]?me|your[-_ ]?secret/.test(v)) return true;
  return /^(.)\1*$/.test(v); // one character repeated
}

export interface SecretReport {
  key: string;
  present: boolean;
  length_bytes?: number;
  fingerprint?: string;
  problems: string[];
}

export function decideSecrets(env: Record<string, string>, example?: Record<string, string>): Decision {
  const keys = secretKeysOf(env);
  const exampleValues = new Map<string, string>(); // value → key in .env.example
  for (const [k, v] of Object.entries(example ?? {})) if (v) exampleValues.set(v, k);
  const reports: SecretReport[] = keys.map((key) => {
    const value = env[key];
    if (value === undefined || value === '') return { key, present: false, problems: ['missing'] };
    const problems: string[] = [];
    const len = Buffer.byteLength(value, 'utf8');
    if (len < MIN_SECRET_BYTES) problems.push(`shorter than ${MIN_SECRET_BYTES} bytes`);
    if (isDenylisted(value)) problems.push('a known placeholder value');
    const exampleKey = exampleValues.get(value);
    if (exampleKey) problems.push(`equals the value of ${exampleKey} in .env.example`);
    return { key, present: true, length_bytes: len, fingerprint: fingerprint(value), problems };
  });
  for (let i = 0; i < reports.length; i++)
    for (let j = i + 1; j < reports.length; j++) {
      const a = reports[i]!;
      const b = reports[j]!;
      if (a.present && b.present && env[a.key] === env[b.key]) {
        a.problems.push(`same value as ${b.key}`);
        b.problems.push(`same value as ${a.key}`);
      }
    }
  const bad = reports.filter((r) => r.problems.length);
  const evidence = {
    secrets: reports,
    min_bytes: MIN_SECRET_BYTES,
    env_example: example ? 'compared' : 'none beside the env file',
  };
  if (!bad.length)
    return {
      status: 'pass',
      summary: both(
        `${keys.join(', ')}: present, ≥ ${MIN_SECRET_BYTES} bytes, not placeholders, pairwise distinct`,
        `${keys.join(', ')}: presentes, ≥ ${MIN_SECRET_BYTES} bytes, no de ejemplo, distintos entre sí`,
      ),
      evidence,
    };
  const text = bad.map((r) => `${r.key} ${r.problems.join(', ')}`).join('; ');
  return {
    status: 'fail',
    summary: both(text, `secretos débiles o repetidos: ${text}`),
    evidence,
    mitigation: MITIGATIONS.secrets,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// URLs

export interface UrlReport {
  key: string;
  present: boolean;
  origin?: string;
  problems: string[];
}

/** A URL shown without user:password. */
export function safeUrl(u: URL): string {
  const copy = new URL(u.toString());
  copy.username = '';
  copy.password = '';
  return copy.toString();
}

export function checkUrl(key: string, value: string | undefined): UrlReport {
  if (value === undefined || value.trim() === '') return { key, present: false, problems: [] };
  let u: URL;
  try {
    u = new URL(value.trim());
  } catch {
    return { key, present: true, problems: ['does not parse as a URL'] };
  }
  const problems: string[] = [];
  if (u.protocol !== 'https:') problems.push(`scheme is ${u.protocol.replace(':', '')}, not https`);
  if (!u.hostname) problems.push('has no host');
  if (u.username || u.password) problems.push('carries credentials');
  if (key === 'CLIENT_URL' && (u.pathname !== '/' || u.search || u.hash))
    problems.push('is not a bare origin (the browser sends Origin without a path)');
  return { key, present: true, origin: u.origin, problems };
}

export function decideUrls(env: Record<string, string>): Decision {
  const reports = URL_KEYS.map((k) => checkUrl(k, env[k]));
  const present = reports.filter((r) => r.present);
  const absent = reports.filter((r) => !r.present).map((r) => r.key);
  const evidence = { urls: reports, not_set: absent };
  if (!present.length)
    return skip(
      `none of ${URL_KEYS.join(', ')} is set in the env file`,
      `ninguna de ${URL_KEYS.join(', ')} está en el archivo env`,
      evidence,
    );
  const bad = present.filter((r) => r.problems.length);
  const note = absent.length ? ` (${absent.join(', ')} not set: not checked)` : '';
  const nota = absent.length ? ` (${absent.join(', ')} no definidas: no se verifican)` : '';
  if (bad.length) {
    const text = bad.map((r) => `${r.key} ${r.problems.join(', ')}`).join('; ');
    return {
      status: 'fail',
      summary: both(`${text}${note}`, `${text}${nota}`),
      evidence,
      mitigation: MITIGATIONS.urls,
    };
  }
  const one = present.length === 1;
  return {
    status: 'pass',
    summary: both(
      `${present.map((r) => r.key).join(', ')} ${one ? 'is an https origin' : 'are https origins'}${note}`,
      `${present.map((r) => r.key).join(', ')} ${one ? 'es un origen https' : 'son orígenes https'}${nota}`,
    ),
    evidence,
  };
}
