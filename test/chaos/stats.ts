/**
 * The numbers a chaos run reports (kills survived, alerts checked, faults injected, retries, duplicates): one
 * `CHAOS <name> <json>` line on the console per test, and the same line appended to $GUARDIA_CHAOS_REPORT, which
 * the global setup (test/chaos/global-setup.ts) creates and summarises at the end of `npm run test:chaos`.
 */
import fs from 'node:fs';

export type ChaosStats = Record<string, number | string | boolean>;

export function recordChaos(name: string, stats: ChaosStats): void {
  const line = `CHAOS ${name} ${JSON.stringify(stats)}`;
  console.log(line);
  const file = process.env.GUARDIA_CHAOS_REPORT;
  if (file) fs.appendFileSync(file, `${JSON.stringify({ name, ...stats })}\n`);
}
