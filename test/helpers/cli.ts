/**
 * Running the real `guardia` CLI as a child process from the TypeScript sources (tsx), the way a person runs it.
 * Every process started here is tracked so a test file can kill leftovers in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_MAIN = path.join(ROOT, 'src/cli/main.ts');
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

/**
 * The test process's environment without Guardia's own settings (and any other variables named), plus `extra`:
 * a CLI under test must see only what the test gives it.
 */
export function cleanEnv(
  extra: Record<string, string> = {},
  drop: (name: string) => boolean = () => false,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GUARDIA_') && !drop(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Starts `guardia ARGS` (tracked); stdio as given. */
export function spawnGuardia(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; stdio?: ('ignore' | 'pipe')[] },
): ChildProcess {
  const proc = spawn(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: (options.stdio ?? ['ignore', 'pipe', 'pipe']) as [
      'ignore' | 'pipe',
      'ignore' | 'pipe',
      'ignore' | 'pipe',
    ],
  });
  children.add(proc);
  proc.once('close', () => children.delete(proc));
  return proc;
}

/** Runs `guardia ARGS` to completion and returns its exit code and output; SIGKILLs it after `timeoutMs`. */
export function runGuardia(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CliRun> {
  const proc = spawnGuardia(args, options);
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise<CliRun>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`timed out: guardia ${args.join(' ')}`));
    }, options.timeoutMs ?? 60_000);
    proc.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Kills every CLI process still running (afterAll). */
export function killAllGuardia(): void {
  for (const child of children) child.kill('SIGKILL');
}
