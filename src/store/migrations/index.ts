/**
 * The ordered list of migrations. Each is a module with `up(db, dialect)`; names sort in the order they run.
 * Kept as static imports (not a folder scan) so the compiled build and the sources behave the same.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { Dialect } from './helpers.js';
import * as m0001 from './0001_incidents.js';
import * as m0002 from './0002_workflow_runs.js';
import * as m0003 from './0003_evidence_gate_audit.js';
import * as m0006 from './0006_engine.js';
import * as m0007 from './0007_oncall.js';
import * as m0008 from './0008_resolved_dedup_index.js';

type DialectMigration = { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> };

const MIGRATIONS: Record<string, DialectMigration> = {
  '0001_incidents': m0001,
  '0002_workflow_runs': m0002,
  '0003_evidence_gate_audit': m0003,
  '0006_engine': m0006,
  '0007_oncall': m0007,
  '0008_resolved_dedup_index': m0008,
};

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return Object.fromEntries(
        Object.entries(MIGRATIONS).map(([name, m]) => [
          name,
          { up: (db: Kysely<unknown>) => m.up(db, dialect) },
        ]),
      );
    },
  };
}
