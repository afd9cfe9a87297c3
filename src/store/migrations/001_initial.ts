import { sql, type Kysely } from "kysely";

/** Customers, API keys, webhooks, events (the outbox), deliveries and attempts. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("customers")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("api_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("customer_id", "text", (c) => c.references("customers.id"))
    .addColumn("key_hash", "text", (c) => c.notNull().unique())
    .addColumn("prefix", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("webhooks")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("customer_id", "text", (c) => c.notNull().references("customers.id"))
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("group", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("topic", "text", (c) => c.notNull())
    .addColumn("hash_secret", "text")
    .addColumn("active", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("deleted_at", "bigint")
    .execute();
  await db.schema.createIndex("webhooks_customer_topic").on("webhooks").columns(["customer_id", "topic"]).where(sql.ref("deleted_at"), "is", null).execute();

  await db.schema
    .createTable("events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("customer_id", "text", (c) => c.notNull().references("customers.id"))
    .addColumn("topic", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("idempotency_key", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  // NULL keys never collide, in SQLite and PostgreSQL alike.
  await db.schema.createIndex("events_customer_idempotency").on("events").columns(["customer_id", "idempotency_key"]).unique().execute();
  await db.schema.createIndex("events_created").on("events").column("created_at").execute();

  await db.schema
    .createTable("deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("event_id", "text", (c) => c.notNull().references("events.id"))
    .addColumn("webhook_id", "text", (c) => c.notNull().references("webhooks.id"))
    .addColumn("customer_id", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_expires_at", "bigint")
    .addColumn("last_status_code", "integer")
    .addColumn("last_error", "text")
    .addColumn("wait_reason", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .execute();
  // The claim query walks this index only: due work is found without touching history.
  await db.schema.createIndex("deliveries_due").on("deliveries").columns(["next_attempt_at", "id"]).where(sql.ref("status"), "=", "pending").execute();
  await db.schema.createIndex("deliveries_webhook").on("deliveries").columns(["webhook_id", "status"]).execute();
  await db.schema.createIndex("deliveries_event").on("deliveries").column("event_id").execute();
  await db.schema.createIndex("deliveries_customer").on("deliveries").columns(["customer_id", "status"]).execute();

  await db.schema
    .createTable("attempts")
    .addColumn("delivery_id", "text", (c) => c.notNull().references("deliveries.id"))
    .addColumn("number", "integer", (c) => c.notNull())
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("duration_ms", "integer", (c) => c.notNull())
    .addColumn("status_code", "integer")
    .addColumn("error", "text")
    .addColumn("error_message", "text")
    .addColumn("response_body", "text")
    .addPrimaryKeyConstraint("attempts_pk", ["delivery_id", "number"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ["attempts", "deliveries", "events", "webhooks", "api_keys", "customers"]) {
    await db.schema.dropTable(table).execute();
  }
}
