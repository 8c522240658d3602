import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  isSecretKey,
  loadEnvFile,
  parseEnvFile,
  secretValues,
} from '../../../src/playbooks/probes/env-file.js';
import { fingerprint } from '../../../src/playbooks/redact.js';
import {
  decideNodeEnv,
  decideSecrets,
  decideUrls,
  isDenylisted,
  secretKeysOf,
} from '../../../src/playbooks/login/rules/config.js';
import { decideCookieFlags } from '../../../src/playbooks/login/rules/cookies.js';

const STRONG_JWT = 'k3Jv9pQm2Lx8Rt6Yw4Zb1Nc7Hd5Fg0Sa-jwt-x';
const STRONG_COOKIE = 'Vb8Nm2Qw4Er6Ty1Ui3Op5As7Df9Gh0Jk-cookie';

describe('env file parsing', () => {
  it('reads KEY=VALUE with comments, blank lines, export, quotes and inline comments', () => {
    const { vars, badLines } = parseEnvFile(
      [
        '# production',
        '',
        'NODE_ENV=production',
        'export TRUST_PROXY=1',
        'JWT_SECRET="quoted # not a comment"',
        "COOKIE_SECRET='single $literal \\n'",
        'CLIENT_URL=https://app.example.com # the web client',
        'EMPTY=',
        'MULTI="line one',
        'line two"',
        'ESCAPED="a\\nb \\"q\\""',
        'hash=value#kept',
        'not a line',
        '  SPACED  =  padded  ',
      ].join('\n'),
    );
    expect(vars).toEqual({
      NODE_ENV: 'production',
      TRUST_PROXY: '1',
      JWT_SECRET: 'quoted # not a comment',
      COOKIE_SECRET: 'single $literal \\n',
      CLIENT_URL: 'https://app.example.com',
      EMPTY: '',
      MULTI: 'line one\nline two',
      ESCAPED: 'a\nb "q"',
      hash: 'value#kept',
      SPACED: 'padded',
    });
    expect(badLines).toEqual([13]);
  });

  it('handles CRLF, a BOM and an unterminated quote (reported by line number only)', () => {
    const { vars, badLines } = parseEnvFile('\uFEFFA=1\r\nB="open\r\n');
    expect(vars).toEqual({ A: '1' });
    expect(badLines).toEqual([2]);
  });

  it('knows which keys are secret and finds passwords inside URLs', () => {
    for (const k of [
      'JWT_SECRET',
      'COOKIE_SECRET',
      'DB_PASSWORD',
      'API_KEY',
      'DATA_ENCRYPTION_KEY',
      'GH_TOKEN',
    ])
      expect(isSecretKey(k), k).toBe(true);
    for (const k of ['CLIENT_URL', 'OAUTH_SERVER_URL', 'VITE_OAUTH_PORTAL_URL', 'NODE_ENV', 'TRUST_PROXY'])
      expect(isSecretKey(k), k).toBe(false);
    const secrets = secretValues({
      JWT_SECRET: 'abc',
      DATABASE_URL: 'mysql://app:p%40ss@db:3306/app',
      CLIENT_URL: 'https://app.example.com',
    });
    expect(secrets).toContain('abc');
    expect(secrets).toContain('p@ss');
    expect(secrets).not.toContain('https://app.example.com');
  });

  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('loads the .env.example beside the env file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'guardia-env-'));
    dirs.push(dir);
    await writeFile(path.join(dir, 'app.env'), 'JWT_SECRET=x\n');
    await writeFile(path.join(dir, '.env.example'), 'JWT_SECRET=replace-with-a-long-random-value\n');
    const loaded = await loadEnvFile(path.join(dir, 'app.env'));
    expect(loaded.vars.JWT_SECRET).toBe('x');
    expect(loaded.example?.vars.JWT_SECRET).toBe('replace-with-a-long-random-value');
    const alone = await mkdtemp(path.join(tmpdir(), 'guardia-env-'));
    dirs.push(alone);
    await writeFile(path.join(alone, '.env'), 'A=1\n');
    expect((await loadEnvFile(path.join(alone, '.env'))).example).toBeUndefined();
  });
});

describe('login.node_env', () => {
  it('passes on production and fails otherwise, also when the running app disagrees', () => {
    expect(decideNodeEnv({ NODE_ENV: 'production' }, 'production').status).toBe('pass');
    expect(decideNodeEnv({ NODE_ENV: 'development' }).status).toBe('fail');
    expect(decideNodeEnv({}).summary.en).toContain('unset');
    const stale = decideNodeEnv({ NODE_ENV: 'production' }, 'development');
    expect(stale.status).toBe('fail');
    expect(stale.summary.en).toContain('not restarted');
    expect(decideNodeEnv(undefined, undefined).status).toBe('skip');
    expect(decideNodeEnv(undefined, 'production').status).toBe('pass');
  });
});

describe('login.secrets', () => {
  it('passes strong, distinct secrets and shows only lengths and fingerprints', () => {
    const d = decideSecrets({ JWT_SECRET: STRONG_JWT, COOKIE_SECRET: STRONG_COOKIE });
    expect(d.status).toBe('pass');
    const text = JSON.stringify(d);
    expect(text).not.toContain(STRONG_JWT);
    expect(text).not.toContain(STRONG_COOKIE);
    expect(text).toContain(fingerprint(STRONG_JWT));
    expect(d.evidence.secrets).toEqual([
      {
        key: 'JWT_SECRET',
        present: true,
        length_bytes: STRONG_JWT.length,
        fingerprint: fingerprint(STRONG_JWT),
        problems: [],
      },
      {
        key: 'COOKIE_SECRET',
        present: true,
        length_bytes: STRONG_COOKIE.length,
        fingerprint: fingerprint(STRONG_COOKIE),
        problems: [],
      },
    ]);
  });

  it('fails missing, short, denylisted, .env.example and repeated secrets, naming the key and the problem', () => {
    const enc = 'E'.repeat(10) + 'ncryption-key-long-enough-1234567';
    const d = decideSecrets(
      {
        JWT_SECRET: 'changeme',
        DATA_ENCRYPTION_KEY: enc,
        FIELD_ENCRYPTION_KEY: enc,
        SESSION_KEY_UNRELATED: 'x',
      },
      { COOKIE_SECRET: 'example-cookie-secret-0123456789abcdef' },
    );
    expect(d.status).toBe('fail');
    expect(secretKeysOf({ DATA_ENCRYPTION_KEY: 'a', X: 'b' })).toEqual([
      'JWT_SECRET',
      'COOKIE_SECRET',
      'DATA_ENCRYPTION_KEY',
    ]);
    const byKey = Object.fromEntries(
      (d.evidence.secrets as { key: string; problems: string[] }[]).map((s) => [s.key, s.problems]),
    );
    expect(byKey.JWT_SECRET).toEqual(['shorter than 32 bytes', 'a known placeholder value']);
    expect(byKey.COOKIE_SECRET).toEqual(['missing']);
    expect(byKey.DATA_ENCRYPTION_KEY).toEqual(['same value as FIELD_ENCRYPTION_KEY']);
    expect(byKey.FIELD_ENCRYPTION_KEY).toEqual(['same value as DATA_ENCRYPTION_KEY']);
    expect(JSON.stringify(d)).not.toContain('changeme');
    expect(JSON.stringify(d)).not.toContain(enc);
    expect(d.mitigation?.es).toContain('Confirmar variables en producción');

    const fromExample = decideSecrets(
      { JWT_SECRET: STRONG_JWT, COOKIE_SECRET: 'example-cookie-secret-0123456789abcdef' },
      { COOKIE_SECRET: 'example-cookie-secret-0123456789abcdef' },
    );
    expect(fromExample.status).toBe('fail');
    expect(fromExample.summary.en).toContain(
      'COOKIE_SECRET equals the value of COOKIE_SECRET in .env.example',
    );
  });

  it('refuses the usual placeholders', () => {
    for (const v of ['changeme', 'SECRET', 'secret', 'changeme-changeme-changeme-changeme', 'x'.repeat(40)])
      expect(isDenylisted(v), v).toBe(true);
    expect(isDenylisted(STRONG_JWT)).toBe(false);
  });

  it('measures bytes, not characters', () => {
    const d = decideSecrets({ JWT_SECRET: 'ñá'.repeat(8), COOKIE_SECRET: STRONG_COOKIE });
    expect(d.status).toBe('pass');
    expect((d.evidence.secrets as { length_bytes: number }[])[0]!.length_bytes).toBe(32);
  });
});

describe('login.cookie_flags', () => {
  it('fails SameSite=None without Secure and passes the coherent settings', () => {
    const bad = decideCookieFlags({
      NODE_ENV: 'production',
      COOKIE_SAMESITE: 'none',
      COOKIE_SECURE: 'false',
    });
    expect(bad.status).toBe('fail');
    expect(bad.summary.en).toContain('SameSite=None');
    expect(bad.mitigation?.es).toContain('COOKIE_SECURE');
    expect(
      decideCookieFlags({ NODE_ENV: 'production', COOKIE_SAMESITE: 'None', COOKIE_SECURE: 'true' }).status,
    ).toBe('pass');
    // COOKIE_SECURE defaults to true in production (the app's contract).
    expect(decideCookieFlags({ NODE_ENV: 'production', COOKIE_SAMESITE: 'none' }).status).toBe('pass');
    expect(decideCookieFlags({ COOKIE_SAMESITE: 'none' }).status).toBe('fail');
    expect(decideCookieFlags({ NODE_ENV: 'production' }).status).toBe('pass');
    expect(decideCookieFlags({ NODE_ENV: 'production', COOKIE_SECURE: 'false' }).status).toBe('warn');
    expect(decideCookieFlags({ NODE_ENV: 'production', COOKIE_SAMESITE: 'loose' }).status).toBe('fail');
  });
});

describe('login.urls', () => {
  it('requires https origins for the keys present and notes the absent ones', () => {
    const ok = decideUrls({
      CLIENT_URL: 'https://app.example.com',
      VITE_API_URL: 'https://api.example.com/',
    });
    expect(ok.status).toBe('pass');
    expect(ok.summary.en).toContain('VITE_OAUTH_PORTAL_URL, OAUTH_SERVER_URL not set');
    const bad = decideUrls({
      CLIENT_URL: 'https://app.example.com/login',
      VITE_API_URL: 'http://api.example.com',
      OAUTH_SERVER_URL: 'not a url',
      VITE_OAUTH_PORTAL_URL: 'https://user:pw@portal.example.com',
    });
    expect(bad.status).toBe('fail');
    expect(bad.summary.en).toContain('VITE_API_URL scheme is http, not https');
    expect(bad.summary.en).toContain('CLIENT_URL is not a bare origin');
    expect(bad.summary.en).toContain('OAUTH_SERVER_URL does not parse');
    expect(bad.summary.en).toContain('VITE_OAUTH_PORTAL_URL carries credentials');
    expect(JSON.stringify(bad)).not.toContain('pw@');
    expect(decideUrls({}).status).toBe('skip');
  });
});
