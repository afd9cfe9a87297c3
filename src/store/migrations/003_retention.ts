import type { Kysely } from "kysely";

/**
 * Retention: finished deliveries found by status and age, so pruning walks only the
 * rows it deletes instead of scanning the whole history.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("deliveries_finished").on("deliveries").columns(["status", "finished_at"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("deliveries_finished").execute();
}
