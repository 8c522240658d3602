/**
 * Reading the app's environment file (`KEY=VALUE` lines, the dotenv dialect): comments, blank lines, `export `,
 * single quotes (literal), double quotes (escapes \n \r \t \" \\, may span lines), unquoted values with an
 * inline ` # comment`. Parsing is pure; the reader adds the file and the `.env.example` beside it.
 *
 * Values of secret-looking keys stay in memory only: `secretValues` lists them so the runner can scrub output,
 * and findings describe them by length and fingerprint.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface EnvFile {
  vars: Record<string, string>;
  /** 1-based numbers of lines that are not `KEY=VALUE`, comments or blank (never their text: it may be a secret). */
  badLines: number[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function parseEnvFile(text: string): EnvFile {
  const vars: Record<string, string> = {};
  const badLines: number[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = (lines[i] ?? '').trim();
    if (!line || line.startsWith('#')) continue;
    if (/^export\s+/.test(line)) line = line.replace(/^export\s+/, '');
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (eq < 0 || !KEY.test(key)) {
      badLines.push(lineNo);
      continue;
    }
    let rest = line.slice(eq + 1).trimStart();
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      // Quoted: may continue over the next lines until the closing quote.
      let body = rest.slice(1);
      let close = findClosingQuote(body, quote);
      while (close < 0 && i + 1 < lines.length) {
        i++;
        body += `\n${lines[i] ?? ''}`;
        close = findClosingQuote(body, quote);
      }
      if (close < 0) {
        badLines.push(lineNo);
        continue;
      }
      const raw = body.slice(0, close);
      vars[key] = quote === '"' ? unescapeDouble(raw) : raw;
      continue;
    }
    // Unquoted: a ` #` starts a comment.
    const hash = rest.search(/\s#/);
    if (hash >= 0) rest = rest.slice(0, hash);
    vars[key] = rest.trim();
  }
  return { vars, badLines };
}

function findClosingQuote(s: string, quote: string): number {
  for (let i = 0; i < s.length; i++) {
    if (quote === '"' && s[i] === '\\') {
      i++;
      continue;
    }
    if (s[i] === quote) return i;
  }
  return -1;
}

function unescapeDouble(s: string): string {
  return s.replace(/\\([nrt"\\$])/g, (_m, c: string) =>
    c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c,
  );
}

/** Keys whose values are secrets: passwords, tokens, keys, secrets, DSNs, private material. */
export function isSecretKey(key: string): boolean {
  return /SECRET|PASSWORD|PASSWD|_PASS$|TOKEN|(^|_)KEY$|_KEY_|PRIVATE|CREDENTIAL|DSN|SALT/i.test(key);
}

/** Every secret value in the file: values of secret-looking keys, and passwords inside URL values
 *  (`mysql://user:pass@host`). Used to scrub output; never printed. */
export function secretValues(vars: Record<string, string>): string[] {
  const out = new Set<string>();
  for (const [key, value] of Object.entries(vars)) {
    if (!value) continue;
    if (isSecretKey(key)) out.add(value);
    const password = urlPassword(value);
    if (password) {
      out.add(password);
      out.add(value);
    }
  }
  return [...out];
}

/** The (decoded) password of a URL value, if it has one. */
export function urlPassword(value: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined;
  try {
    const u = new URL(value);
    return u.password ? decodeURIComponent(u.password) : undefined;
  } catch {
    return undefined;
  }
}

export interface LoadedEnvFile extends EnvFile {
  path: string;
  /** The `.env.example` beside it, when there is one: its values are placeholders a real secret must not equal. */
  example?: { path: string; vars: Record<string, string> };
}

/** Reads and parses the env file and the `.env.example` in the same directory (if present). */
export async function loadEnvFile(file: string): Promise<LoadedEnvFile> {
  const parsed = parseEnvFile(await readFile(file, 'utf8'));
  const examplePath = path.join(path.dirname(file), '.env.example');
  let example: LoadedEnvFile['example'];
  if (path.resolve(examplePath) !== path.resolve(file)) {
    try {
      example = { path: examplePath, vars: parseEnvFile(await readFile(examplePath, 'utf8')).vars };
    } catch {
      example = undefined;
    }
  }
  return { ...parsed, path: file, ...(example ? { example } : {}) };
}
