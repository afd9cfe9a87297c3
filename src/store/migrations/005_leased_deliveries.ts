import { sql, type Kysely } from "kysely";

/**
 * Per-webhook concurrency across dispatchers: each claim counts the deliveries other
 * dispatchers hold, per webhook. Leased rows are few (what is in flight), so a
 * partial index over them keeps that count small however large the backlog is.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("deliveries_leased")
    .on("deliveries")
    .columns(["webhook_id", "lease_expires_at"])
    .where(sql.ref("lease_owner"), "is not", null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("deliveries_leased").execute();
}
