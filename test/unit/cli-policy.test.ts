import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, it, expect } from 'vitest';
import { DEFAULT_POLICY_YAML } from '../../src/domain/policy/default-policy.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
/** `--import tsx`, resolved from the repository so the CLI can run with any working directory. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs the real CLI in a child process. `cwd` defaults to a fresh empty directory (no guardia.yaml). */
function guardia(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const env = { ...process.env, ...options.env };
  if (!options.env || !('GUARDIA_POLICY' in options.env)) delete env.GUARDIA_POLICY;
  const result = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: options.cwd ?? tempDir(),
    env,
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'guardia-cli-'));
  tempDirs.push(dir);
  return dir;
}

/** 1-based line:col of the first occurrence of `needle`. */
function lineCol(text: string, needle: string): string {
  const before = text.slice(0, text.indexOf(needle)).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

const BAD_POLICY = DEFAULT_POLICY_YAML.replace(
  '  sev2:\n    name: Sev-2',
  '  sevv2:\n    name: Sev-2',
).replace('ack: 5m', 'ack: -5m');

describe('guardia policy check', () => {
  it('reports every problem as FILE:LINE:COL on stderr and exits 1', () => {
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(file, BAD_POLICY);
    const { code, stdout, stderr } = guardia(['policy', 'check', file]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${file}:${lineCol(BAD_POLICY, '-5m')}: must be positive`);
    expect(stderr).toContain(`${file}:${lineCol(BAD_POLICY, 'sevv2')}: unknown key "sevv2" in severities`);
    expect(stderr).toContain('(hint: did you mean "sev2"?)');
  });

  it('prints the problems as JSON with --json', () => {
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(file, BAD_POLICY);
    const { code, stdout } = guardia(['policy', 'check', file, '--json']);
    expect(code).toBe(1);
    const result = JSON.parse(stdout) as { valid: boolean; file: string; problems: { path: string }[] };
    expect(result.valid).toBe(false);
    expect(result.file).toBe(file);
    expect(result.problems.map((p) => p.path)).toEqual(['severities.sev1.ack', 'severities.sevv2']);
  });

  it('accepts a valid file and exits 0', () => {
    const file = join(tempDir(), 'good.yaml');
    writeFileSync(file, DEFAULT_POLICY_YAML);
    const { code, stdout } = guardia(['policy', 'check', file]);
    expect(code).toBe(0);
    expect(stdout).toBe(`${file}: policy is valid (3 people, 3 roles, 10 integrations, 4 routes)\n`);
  });

  it('checks $GUARDIA_POLICY, then ./guardia.yaml, then the built-in default', () => {
    const dir = tempDir();
    expect(guardia(['policy', 'check'], { cwd: dir }).stdout).toMatch(/^<default policy>: policy is valid/);
    writeFileSync(join(dir, 'guardia.yaml'), BAD_POLICY);
    expect(guardia(['policy', 'check'], { cwd: dir })).toMatchObject({ code: 1 });
    const good = join(dir, 'good.yaml');
    writeFileSync(good, DEFAULT_POLICY_YAML);
    expect(guardia(['policy', 'check'], { cwd: dir, env: { GUARDIA_POLICY: good } })).toMatchObject({
      code: 0,
    });
  });

  it('exits 2 when the named file does not exist', () => {
    const file = join(tempDir(), 'missing.yaml');
    const { code, stderr } = guardia(['policy', 'check', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(`policy file not found: ${file}`);
  });
});

describe('guardia init', () => {
  it('writes the default policy, which then passes policy check', () => {
    const dir = tempDir();
    const init = guardia(['init'], { cwd: dir });
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('Wrote guardia.yaml');
    expect(init.stdout).toContain('guardia policy check guardia.yaml');
    expect(readFileSync(join(dir, 'guardia.yaml'), 'utf8')).toBe(DEFAULT_POLICY_YAML);

    const check = guardia(['policy', 'check', 'guardia.yaml'], { cwd: dir });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('guardia.yaml: policy is valid');
  });

  it('refuses to overwrite without --force (exit 2), overwrites with it', () => {
    const dir = tempDir();
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, 'mine\n');
    const refused = guardia(['init', '--path', file], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${file} already exists; run with --force to overwrite it`);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');

    expect(guardia(['init', '--path', file, '--force'], { cwd: dir }).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(DEFAULT_POLICY_YAML);
  });
});

describe('guardia policy render', () => {
  it('prints the runbook as Markdown', () => {
    const { code, stdout } = guardia(['policy', 'render']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^# SRE Operations Runbook \(Enterprise\)\n/);
    expect(stdout).toContain('ack <= 5 min, mitigation <= 30 min');
    expect(stdout).toContain('ack <= 4 h, mitigation <= 1 business day');
  });

  it('writes the Markdown with --out', () => {
    const dir = tempDir();
    const out = join(dir, 'docs', 'RUNBOOK.md');
    const { code } = guardia(['policy', 'render', '--out', out], { cwd: dir });
    expect(code).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(readFileSync(out, 'utf8')).toContain('ack <= 15 min, mitigation <= 2 h');
  });

  it('exits 1 with the problems for an invalid policy', () => {
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(file, BAD_POLICY);
    const { code, stdout, stderr } = guardia(['policy', 'render', file]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${file}:${lineCol(BAD_POLICY, '-5m')}:`);
  });
});
