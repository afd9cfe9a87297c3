/** A database as it was before one migration: that migration's down, and the migrator's record of it gone, so migrateToLatest applies it again. */
import type { Kysely } from "kysely";
import type { Db } from "../../src/store/connect.js";

export async function undoMigration(db: Db, name: string, down: (db: Kysely<any>) => Promise<void>): Promise<void> {
  await down(db);
  await db
    .deleteFrom("kysely_migration" as never)
    .where("name" as never, "=", name as never)
    .execute();
}
