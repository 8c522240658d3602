// Runs before `npm start`: rebuilds dist/ only when a source file is newer than the last build, so a fresh start
// is instant after `npm install` (which builds) and still correct after pulling or editing sources.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const stamp = 'dist/.tsbuildinfo';

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
const sources = Math.max(
  newestMtime('src'),
  fs.statSync('tsconfig.json').mtimeMs,
  fs.statSync('package-lock.json').mtimeMs,
);
if (sources > built) {
  process.stderr.write('Building Guardia (sources changed since the last build)…\n');
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], {
    stdio: 'inherit',
  });
}
