import type { Kysely } from "kysely";

/**
 * The console: delivery and event logs read newest first by keyset, so a page is a
 * short index walk at any depth, for each filter the console offers; attempts by
 * time for /stats/; and console sessions (cookies and one-time portal links).
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Keyset order is (created_at, id): id breaks ties between rows of one millisecond.
  await db.schema.createIndex("deliveries_log").on("deliveries").columns(["created_at", "id"]).execute();
  await db.schema.createIndex("deliveries_customer_log").on("deliveries").columns(["customer_id", "created_at", "id"]).execute();
  await db.schema.createIndex("deliveries_customer_status_log").on("deliveries").columns(["customer_id", "status", "created_at", "id"]).execute();
  await db.schema.createIndex("deliveries_webhook_log").on("deliveries").columns(["webhook_id", "created_at", "id"]).execute();
  await db.schema.createIndex("events_customer_log").on("events").columns(["customer_id", "created_at", "id"]).execute();
  await db.schema.createIndex("attempts_started").on("attempts").column("started_at").execute();

  await db.schema
    .createTable("console_sessions")
    // sha256 of the token: a stolen database copy holds no usable cookie or link
    .addColumn("id", "text", (c) => c.primaryKey())
    // "session" (a cookie) or "link" (a portal link not yet opened)
    .addColumn("kind", "text", (c) => c.notNull())
    // null: an admin session, every customer
    .addColumn("customer_id", "text", (c) => c.references("customers.id"))
    .addColumn("csrf_token", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("console_sessions_expiry").on("console_sessions").column("expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("console_sessions").execute();
  for (const name of [
    "attempts_started",
    "events_customer_log",
    "deliveries_webhook_log",
    "deliveries_customer_status_log",
    "deliveries_customer_log",
    "deliveries_log",
  ]) {
    await db.schema.dropIndex(name).execute();
  }
}
