/**
 * Statements built by Kysely once per database and then run with new values. Building and compiling a Kysely
 * query costs 10–20 µs — as much as SQLite takes to run it — and the ingest and engine paths run the same dozen
 * statements for every alert. So the hot statements are built once with placeholder objects where the values go,
 * the compiled SQL is kept (per dialect adapter: tests run SQLite and PostgreSQL in one process), and each run
 * only maps its values onto the compiled parameters. The SQL text is then also the same every time, which is
 * what the SQLite statement cache keys on.
 */
import { CompiledQuery, SqliteAdapter, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

/** Stands where a value goes while a template is built; compiled parameters that are one name their value. */
class Slot {
  constructor(readonly index: number) {}
}

interface Template {
  sql: string;
  /** Per compiled parameter: the index of the value that fills it, or the constant the query builder put there. */
  params: ({ slot: number } | { constant: unknown })[];
}

const templates = new WeakMap<object, Map<string, Template>>();

function templateFor(db: Db, key: string, build: (slot: (index: number) => never) => Compilable): Template {
  const adapter = db.getExecutor().adapter;
  let byKey = templates.get(adapter);
  if (!byKey) templates.set(adapter, (byKey = new Map()));
  let template = byKey.get(key);
  if (!template) {
    const compiled = build((index) => new Slot(index) as never).compile();
    template = {
      sql: compiled.sql,
      params: compiled.parameters.map((p) => (p instanceof Slot ? { slot: p.index } : { constant: p })),
    };
    // Row shapes (column lists) are part of the key; bound the cache in case a caller varies them freely.
    if (byKey.size >= 500) byKey.clear();
    byKey.set(key, template);
  }
  return template;
}

function run<R>(db: Db, template: Template, values: readonly unknown[]): Promise<QueryResult<R>> {
  const parameters = template.params.map((p) => ('slot' in p ? values[p.slot] : p.constant));
  return db.executeQuery<R>(CompiledQuery.raw(template.sql, parameters));
}

/**
 * A statement of fixed shape whose arguments are only ever used as values (never to choose the query's shape:
 * the builder runs once, with placeholders). Returns a function that runs it with the given values.
 */
export function statement<A extends unknown[], R>(
  name: string,
  build: (db: Db, ...args: A) => Compilable<R>,
): (db: Db, ...args: A) => Promise<QueryResult<R>> {
  return (db, ...args) =>
    run<R>(
      db,
      templateFor(db, name, (slot) => build(db, ...(args.map((_, i) => slot(i)) as unknown as A))),
      args,
    );
}

/** The insert template a table used last, per adapter: the ingest path inserts the same shapes over and over. */
interface LastInsert {
  columns: string[];
  rowCount: number;
  returning: string;
  template: Template;
}
const lastInserts = new WeakMap<object, Map<string, LastInsert>>();

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Inserts rows (all with the same columns, in any order) with one statement; `returning` as in Kysely.
 * The statement is built once per table, column list, row count and returning clause.
 *
 * One row `returning 'id'` on SQLite is a plain insert whose id is the statement's last insert rowid: RETURNING
 * makes SQLite buffer the result and the driver build rows from it, for a value it reports anyway.
 */
export async function insertRows<T extends keyof Database, R = Record<string, unknown>>(
  db: Db,
  table: T,
  rows: readonly Record<string, unknown>[],
  returning: 'id' | 'all' | 'none' = 'none',
): Promise<QueryResult<R>> {
  // As in Kysely, an undefined value means "not given": the column is left out.
  const defined = (row: Record<string, unknown>) => Object.keys(row).filter((k) => row[k] !== undefined);
  const columns = defined(rows[0] ?? {});
  const adapter = db.getExecutor().adapter;
  const idFromRowid = returning === 'id' && rows.length === 1 && adapter instanceof SqliteAdapter;
  const clause = idFromRowid ? 'rowid' : returning;
  let byTable = lastInserts.get(adapter);
  if (!byTable) lastInserts.set(adapter, (byTable = new Map()));
  const last = byTable.get(table);
  let template: Template;
  if (
    last &&
    last.rowCount === rows.length &&
    last.returning === clause &&
    sameColumns(last.columns, columns)
  ) {
    // The same shape as last time: no key string to build and hash.
    template = last.template;
  } else {
    const key = `insert ${table} (${columns.join(',')}) x${rows.length} returning ${clause}`;
    template = templateFor(db, key, (slot) => {
      const values = rows.map((_, r) =>
        Object.fromEntries(columns.map((c, k) => [c, slot(r * columns.length + k)])),
      );
      const insert = db.insertInto(table).values(values as never);
      if (clause === 'id') return insert.returning('id' as never);
      if (clause === 'all') return insert.returningAll();
      return insert;
    });
    byTable.set(table, { columns, rowCount: rows.length, returning: clause, template });
  }
  const values: unknown[] = [];
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    // The first row named the columns; the others must have exactly those defined (no more, none missing).
    if (r > 0 && (defined(row).length !== columns.length || columns.some((c) => row[c] === undefined)))
      throw new Error(`insertRows(${table}): every row needs the columns ${columns.join(', ')}`);
    for (const c of columns) values.push(row[c]);
  }
  const result = await run<R>(db, template, values);
  if (!idFromRowid) return result;
  return { ...result, rows: [{ id: Number(result.insertId) } as R] };
}

/**
 * `update TABLE set … where a = ? and b = ? …` (equality only), built once per table and column lists. Returns
 * the number of rows changed.
 */
export async function updateWhere<T extends keyof Database>(
  db: Db,
  table: T,
  set: Record<string, unknown>,
  where: Record<string, unknown>,
): Promise<number> {
  // As in Kysely, an undefined value means "not given": the column is left alone.
  const setColumns = Object.keys(set).filter((c) => set[c] !== undefined);
  const whereColumns = Object.keys(where);
  const key = `update ${table} set ${setColumns.join(',')} where ${whereColumns.join(',')}`;
  const template = templateFor(db, key, (slot) => {
    // The table is only known at run time here; the column names come from typed callers.
    const untyped = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    let update = untyped
      .updateTable(table as string)
      .set(Object.fromEntries(setColumns.map((c, i) => [c, slot(i)])));
    whereColumns.forEach((c, i) => {
      update = update.where(c, '=', slot(setColumns.length + i));
    });
    return update;
  });
  const values = [...setColumns.map((c) => set[c]), ...whereColumns.map((c) => where[c])];
  const result = await run(db, template, values);
  return Number(result.numAffectedRows ?? 0n);
}
