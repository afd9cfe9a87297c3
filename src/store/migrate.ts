import { Migrator, sql, type Migration, type MigrationProvider, type Kysely } from "kysely";
import { dialectOf, writeTransaction } from "./connect.js";
import { withoutDeadline } from "./postgresPool.js";
import * as m001 from "./migrations/001_initial.js";
import * as m002 from "./migrations/002_endpoint_health.js";
import * as m003 from "./migrations/003_retention.js";
import * as m004 from "./migrations/004_secret_rotation.js";
import * as m005 from "./migrations/005_leased_deliveries.js";
import * as m006 from "./migrations/006_console.js";
import * as m007 from "./migrations/007_deep_backlog.js";
import * as m008 from "./migrations/008_unique_webhooks.js";
import * as m009 from "./migrations/009_webhook_settings.js";
import * as m010 from "./migrations/010_fair_breaker.js";
import * as m011 from "./migrations/011_trace_context.js";
import * as m012 from "./migrations/012_read_cache.js";
import * as m013 from "./migrations/013_session_keys.js";

/** Migrations are imported, not read from disk, so a bundled single binary carries them. */
const migrations: Record<string, Migration> = {
  "001_initial": m001,
  "002_endpoint_health": m002,
  "003_retention": m003,
  "004_secret_rotation": m004,
  "005_leased_deliveries": m005,
  "006_console": m006,
  "007_deep_backlog": m007,
  "008_unique_webhooks": m008,
  "009_webhook_settings": m009,
  "010_fair_breaker": m010,
  "011_trace_context": m011,
  "012_read_cache": m012,
  "013_session_keys": m013,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export interface MigrateResult {
  applied: string[];
  current: string | null;
}

/**
 * Bring the schema up to date. On SQLite the whole run happens under our own
 * BEGIN IMMEDIATE, so two processes starting at once (two `hookd tick`s) queue on
 * the write lock instead of one failing with SQLITE_BUSY inside the migrator.
 */
/**
 * PostgreSQL advisory lock held while hookd migrates a schema. Dropping a schema of the
 * same database while Kysely's migrator introspects it makes the migration fail, so
 * whoever drops schemas there (hookd's tests) takes it first.
 */
export const MIGRATION_LOCK_KEY = 4_860_913_377;

export async function migrateToLatest(db: Kysely<any>): Promise<MigrateResult> {
  const names = Object.keys(migrations).sort();
  const current = names[names.length - 1] ?? null;
  // Up to date? A read needs no write lock (nor DDL rights), so a busy database or a
  // role that may only read and write rows does not stop start-up.
  if ((await schemaState(db)) === "current") return { applied: [], current };
  // PostgreSQL: keep the bookkeeping tables in our own schema (search_path), or
  // Kysely may find another schema's and conclude they exist.
  const migrationTableSchema = dialectOf(db) === "postgres" ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s : undefined;
  const run = async (conn: Kysely<any>, disableTransactions: boolean) => {
    // Unordered: a migration missing from a database that has later ones (a branch's, or one
    // removed by hand) is applied rather than refused; each is written to stand alone.
    const migrator = new Migrator({ db: conn, provider: new StaticProvider(), disableTransactions, migrationTableSchema, allowUnorderedMigrations: true });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
    return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
  };
  const applied =
    dialectOf(db) === "sqlite"
      ? await writeTransaction(db, (trx) => run(trx, true))
      : // One connection without db.statementTimeoutMs (nor the client's deadline that
        // follows it): building an index over a big table may take minutes.
        await withoutDeadline(() =>
          db.connection().execute(async (conn) => {
            await sql`set statement_timeout = 0`.execute(conn);
            // Kysely's migrator looks for its tables by introspecting every schema of the
            // database, which fails if another schema is dropped meanwhile: hold the lock
            // that schema drops take too (MIGRATION_LOCK_KEY).
            await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(conn);
            try {
              return await run(conn, false);
            } finally {
              await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(conn);
              await sql`reset statement_timeout`.execute(conn);
            }
          }),
        );
  return { applied, current };
}

/** Whether hookd's tables exist ("missing": a new or foreign database), and whether they are up to date. */
export type SchemaState = "missing" | "behind" | "current";

export async function schemaState(db: Kysely<any>): Promise<SchemaState> {
  let rows: { name: string }[];
  try {
    rows = await db.selectFrom("kysely_migration").select("name").execute();
  } catch (err) {
    if (isMissingTable(err)) return "missing";
    throw err; // unreachable, no rights, …: the caller explains it, rather than migrating blind
  }
  const done = new Set(rows.map((r) => r.name));
  return Object.keys(migrations).every((n) => done.has(n)) ? "current" : "behind";
}

function isMissingTable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  // PostgreSQL: undefined_table; SQLite: a plain SQLITE_ERROR whose text says so.
  return e?.code === "42P01" || (typeof e?.message === "string" && e.message.startsWith("no such table"));
}
