/**
 * The `slow.index_migrations` check: the runbook's index migrations (0040, 0041) are applied.
 */
import type { CheckContext, CheckDefinition } from '../check.js';
import { quoteIdent } from '../probes/mysql.js';
import {
  GROUPS,
  RUNBOOK,
  draft,
  fromDecision,
  mitigation,
  mysqlCheck,
  noDatabase,
  type CheckMeta,
  type Decision,
} from './common.js';

// ---------------------------------------------------------------------------------------------------------------
// slow.index_migrations

/** Whether an applied migration version is the wanted one: `0040` matches `0040`, `0040_tenant_indexes`,
 *  `0040-tenant-indexes` and the number 40. */
export function migrationMatches(applied: string, wanted: string): boolean {
  const a = applied.trim();
  const w = wanted.trim();
  if (a === w || a.startsWith(`${w}_`) || a.startsWith(`${w}-`) || a.startsWith(`${w}.`)) return true;
  return /^\d+$/.test(a) && /^\d+$/.test(w) && Number(a) === Number(w);
}

export function judgeMigrations(
  applied: readonly string[],
  wanted: readonly string[],
  where: string,
): Decision {
  const missing = wanted.filter((w) => !applied.some((a) => migrationMatches(a, w)));
  const present = wanted.filter((w) => !missing.includes(w));
  const evidence = {
    migrations_table: where,
    required: wanted,
    applied_required: present,
    missing,
    applied_count: applied.length,
  };
  if (missing.length)
    return {
      status: 'fail',
      summary: {
        en: `index ${missing.length === 1 ? 'migration' : 'migrations'} ${missing.join(', ')} not applied (not in ${where})`,
        es: `${missing.length === 1 ? 'la migración de índices' : 'las migraciones de índices'} ${missing.join(', ')} no ${missing.length === 1 ? 'está aplicada' : 'están aplicadas'} (no figura${missing.length === 1 ? '' : 'n'} en ${where})`,
      },
      evidence,
      mitigation: mitigation(
        {
          en: `Apply migration${missing.length === 1 ? '' : 's'} ${missing.join(', ')} (the app's migrate command), then re-run guardia verify tenant-indexes.`,
          es: `Aplicar ${missing.length === 1 ? 'la migración' : 'las migraciones'} ${missing.join(', ')} (el comando de migración de la app) y repetir guardia verify tenant-indexes.`,
        },
        RUNBOOK.indexes,
      ),
    };
  return {
    status: 'pass',
    summary: {
      en: `index migrations ${wanted.join(', ')} are applied`,
      es: `las migraciones de índices ${wanted.join(', ')} están aplicadas`,
    },
    evidence,
  };
}

const MIGRATIONS: CheckMeta = {
  id: 'slow.index_migrations',
  group: GROUPS.migrations,
  title: { en: 'Index migrations applied', es: 'Migraciones de índices aplicadas' },
};

export const migrationsCheck: CheckDefinition = {
  ...MIGRATIONS,
  run: async (ctx: CheckContext) => {
    const wanted = ctx.targets.indexMigrations;
    if (wanted.length === 0)
      return draft(
        MIGRATIONS,
        'skip',
        {
          en: 'no index migrations configured: list them in playbooks.index_migrations (the runbook names 0040 and 0041)',
          es: 'no hay migraciones de índices configuradas: defínelas en playbooks.index_migrations (el runbook nombra 0040 y 0041)',
        },
        {},
      );
    return mysqlCheck(ctx, MIGRATIONS, async (session) => {
      if (!session.database) return noDatabase(MIGRATIONS, session.target);
      const { table, column } = ctx.targets.migrationsTable;
      const where = `${table}.${column}`;
      ctx.probing?.(`${where} on ${session.target}`);
      let applied: string[];
      try {
        const rows = await session.query<{ v: unknown }>(
          `SELECT ${quoteIdent(column)} AS v FROM ${quoteIdent(table)}`,
        );
        applied = rows.map((r) => String(r.v));
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'ER_NO_SUCH_TABLE' && code !== 'ER_BAD_FIELD_ERROR') throw err;
        return draft(
          MIGRATIONS,
          'fail',
          {
            en: `the migrations table ${where} does not exist in ${session.database}, so index migrations ${wanted.join(', ')} cannot be applied: ${(err as Error).message}`,
            es: `la tabla de migraciones ${where} no existe en ${session.database}, así que las migraciones de índices ${wanted.join(', ')} no pueden estar aplicadas: ${(err as Error).message}`,
          },
          { migrations_table: where, required: wanted, missing: wanted, error: (err as Error).message },
          mitigation(
            {
              en: "Run the app's migrations (or set playbooks.migrations_table to where it records them).",
              es: 'Ejecutar las migraciones de la app (o define playbooks.migrations_table donde las registra).',
            },
            RUNBOOK.indexes,
          ),
        );
      }
      return fromDecision(MIGRATIONS, judgeMigrations(applied, wanted, where), { target: session.target });
    });
  },
};
