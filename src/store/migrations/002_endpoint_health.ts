import { sql, type Kysely } from "kysely";

/**
 * Endpoint-level backoff: a failing webhook is backed off as a whole. While
 * `failing_since` is set, ticks send it one probe (its oldest due delivery) once
 * `backoff_until` has passed; the rest of its deliveries wait without spending attempts.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("webhooks").addColumn("failing_since", "bigint").execute();
  await db.schema
    .alterTable("webhooks")
    .addColumn("consecutive_failures", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("webhooks").addColumn("backoff_until", "bigint").execute();
  await db.schema.alterTable("webhooks").addColumn("last_failure", "text").execute();
  await db.schema.alterTable("webhooks").addColumn("disabled_reason", "text").execute();
  // The probe: one webhook's oldest due delivery, found without scanning the others.
  await db.schema
    .createIndex("deliveries_webhook_due")
    .on("deliveries")
    .columns(["webhook_id", "next_attempt_at"])
    .where(sql.ref("status"), "=", "pending")
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("deliveries_webhook_due").execute();
  for (const column of ["disabled_reason", "last_failure", "backoff_until", "consecutive_failures", "failing_since"]) {
    await db.schema.alterTable("webhooks").dropColumn(column).execute();
  }
}
