/**
 * Global set-up of `npm run test:chaos`: a report file the tests append their numbers to (summarised at the
 * end), and — because test/chaos/pg-restart.test.ts restarts the shared PostgreSQL — a last check that
 * PostgreSQL is up again whatever happened (started and waited for when it is not).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensurePostgresRunning } from '../helpers/postgres-service.js';

export default function setup(): () => Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-chaos-report-'));
  const file = path.join(dir, 'report.jsonl');
  fs.writeFileSync(file, '');
  process.env.GUARDIA_CHAOS_REPORT = file;
  return async () => {
    await ensurePostgresRunning();
    const lines = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    if (lines.length > 0) {
      process.stdout.write(`\nChaos report (${lines.length} runs):\n`);
      for (const { name, ...stats } of lines)
        process.stdout.write(
          `  ${String(name)}: ${Object.entries(stats)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(' ')}\n`,
        );
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
