import { sql, type Kysely } from "kysely";

/**
 * The circuit breaker's shared memory and fair scheduling (issues 25, 26):
 * - webhooks.failure_streak, recent_outcomes: what every dispatcher folds its attempts
 *   into (domain/breaker.ts), so the breaker opens on the webhook's history in all,
 *   not on one process's view; breaker_reason says why it last opened, in words.
 * - customers.weight: its share of a tick's slots against other customers with due work.
 * - deliveries_webhook_fresh: a webhook's first attempts, in due order, so a claim can
 *   take fresh events beside a backlog of retries without walking past it.
 * - deliveries_webhook_order: an ordered webhook's head (publish order) in one probe.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("webhooks")
    .addColumn("failure_streak", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable("webhooks")
    .addColumn("recent_outcomes", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  await db.schema.alterTable("webhooks").addColumn("breaker_reason", "text").execute();
  // the next time a rate-limited webhook may start a delivery (database time, ms)
  await db.schema.alterTable("webhooks").addColumn("rate_next_at", "double precision").execute();
  await db.schema
    .alterTable("customers")
    .addColumn("weight", "integer", (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .createIndex("deliveries_webhook_fresh")
    .on("deliveries")
    .columns(["webhook_id", "next_attempt_at"])
    .where(sql.ref("status"), "=", "pending")
    .where(sql.ref("attempts"), "=", 0)
    .execute();
  await db.schema
    .createIndex("deliveries_webhook_order")
    .on("deliveries")
    .columns(["webhook_id", "created_at", "event_id"])
    .where(sql.ref("status"), "=", "pending")
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("deliveries_webhook_order").execute();
  await db.schema.dropIndex("deliveries_webhook_fresh").execute();
  await db.schema.alterTable("customers").dropColumn("weight").execute();
  for (const column of ["rate_next_at", "breaker_reason", "recent_outcomes", "failure_streak"]) {
    await db.schema.alterTable("webhooks").dropColumn(column).execute();
  }
}
