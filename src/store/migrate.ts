import { Migrator, type Migration, type MigrationProvider, type Kysely } from "kysely";
import { dialectOf, writeTransaction } from "./connect.js";
import * as m001 from "./migrations/001_initial.js";

/** Migrations are imported, not read from disk, so a bundled single binary carries them. */
const migrations: Record<string, Migration> = {
  "001_initial": m001,
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
  const run = async (conn: Kysely<any>, disableTransactions: boolean) => {
    const migrator = new Migrator({ db: conn, provider: new StaticProvider(), disableTransactions });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
    return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
  };
  const applied = dialectOf(db) === "sqlite" ? await writeTransaction(db, (trx) => run(trx, true)) : await run(db, false);
  const names = Object.keys(migrations).sort();
  return { applied, current: names[names.length - 1] ?? null };
}
