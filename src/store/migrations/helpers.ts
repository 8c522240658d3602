// Helpers that let one migration file describe a table for both SQLite and PostgreSQL.
import type { ColumnDataType } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/** The type of an auto-incrementing integer primary key on each dialect. */
export function idColumn(dialect: Dialect): ColumnDataType {
  return dialect === 'sqlite' ? 'integer' : 'serial';
}

/** Primary key (and, on SQLite, AUTOINCREMENT so ids are never reused) for an id column. */
export function idConstraints<T extends { primaryKey(): T; autoIncrement(): T }>(c: T, dialect: Dialect): T {
  return dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey();
}
