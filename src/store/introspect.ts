/**
 * What the database itself says about a table: its columns with their declared types
 * and its primary key. Export and import use it instead of a hand-kept column list,
 * so columns added by later migrations flow through on their own.
 */
import { sql, type Kysely } from "kysely";
import { dialectOf } from "./connect.js";
import { columnKind, type ColumnKind } from "./exportFormat.js";

export interface TableShape {
  /** `type` as the database declares it (PostgreSQL: usable in a cast) */
  columns: { name: string; type: string; kind: ColumnKind }[];
  /** primary-key columns in key order */
  primaryKey: string[];
}

interface ColumnRow {
  name: string;
  type: string;
  pk: number | string;
}

export async function describeTable(db: Kysely<any>, table: string): Promise<TableShape> {
  const rows =
    dialectOf(db) === "postgres"
      ? await sql<ColumnRow>`
          select a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
            -- indkey counts from 0: its position plus one is the column's place in the key
            coalesce(array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1) + 1, 0) as pk
          from pg_attribute a
          left join pg_index i on i.indrelid = a.attrelid and i.indisprimary
          where a.attrelid = to_regclass(${table}) and a.attnum > 0 and not a.attisdropped
          order by a.attnum`.execute(db)
      : await sql<ColumnRow>`select name, type, pk from pragma_table_info(${table}) order by cid`.execute(db);
  const columns = rows.rows.map((r) => ({ name: r.name, type: r.type, kind: columnKind(r.type) }));
  const primaryKey = rows.rows
    .filter((r) => Number(r.pk) > 0)
    .sort((a, b) => Number(a.pk) - Number(b.pk))
    .map((r) => r.name);
  return { columns, primaryKey };
}

/** Every table in the store's schema (the current schema on PostgreSQL). */
export async function listTables(db: Kysely<any>): Promise<string[]> {
  const rows =
    dialectOf(db) === "postgres"
      ? await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = current_schema()`.execute(db)
      : await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db);
  return rows.rows.map((r) => r.name).sort();
}

/** The last migration applied to this database, or null when it has none. */
export async function appliedMigration(db: Kysely<any>): Promise<string | null> {
  if (!(await listTables(db)).includes("kysely_migration")) return null;
  const row = await db.selectFrom("kysely_migration").select("name").orderBy("name", "desc").limit(1).executeTakeFirst();
  return (row?.name as string | undefined) ?? null;
}
