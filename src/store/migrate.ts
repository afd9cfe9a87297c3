import { Migrator, sql, type Migration, type MigrationProvider, type Kysely } from "kysely";
import { dialectOf, writeTransaction } from "./connect.js";
import * as m001 from "./migrations/001_initial.js";
import * as m002 from "./migrations/002_endpoint_health.js";
import * as m003 from "./migrations/003_retention.js";

/** Migrations are imported, not read from disk, so a bundled single binary carries them. */
const migrations: Record<string, Migration> = {
  "001_initial": m001,
  "002_endpoint_health": m002,
  "003_retention": m003,
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
export async function migrateToLatest(db: Kysely<any>): Promise<MigrateResult> {
  const names = Object.keys(migrations).sort();
  const current = names[names.length - 1] ?? null;
  // Up to date? A read needs no write lock, so a busy database does not stop start-up.
  if (await isUpToDate(db, names)) return { applied: [], current };
  // PostgreSQL: keep the bookkeeping tables in our own schema (search_path), or
  // Kysely may find another schema's and conclude they exist.
  const migrationTableSchema = dialectOf(db) === "postgres" ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s : undefined;
  const run = async (conn: Kysely<any>, disableTransactions: boolean) => {
    const migrator = new Migrator({ db: conn, provider: new StaticProvider(), disableTransactions, migrationTableSchema });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
    return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
  };
  const applied = dialectOf(db) === "sqlite" ? await writeTransaction(db, (trx) => run(trx, true)) : await run(db, false);
  return { applied, current };
}

async function isUpToDate(db: Kysely<any>, names: string[]): Promise<boolean> {
  try {
    const rows = await db.selectFrom("kysely_migration").select("name").execute();
    const done = new Set(rows.map((r: { name: string }) => r.name));
    return names.every((n) => done.has(n));
  } catch {
    return false; // no migration table yet
  }
}
