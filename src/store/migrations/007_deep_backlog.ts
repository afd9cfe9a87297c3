import { sql, type Kysely } from "kysely";

/**
 * Indexes that kept the dispatcher's cost growing with the backlog (measured on
 * SQLite with 500,000 and 1,000,000 due deliveries; see the README's benchmarks):
 *
 * - The retention index led with `status`. SQLite plans without table statistics
 *   (hookd never runs ANALYZE), and took `status = 'pending'` on it as the way into
 *   the claim: it read every pending row and sorted them, 580 ms per claim with
 *   1,000,000 due against 9 ms with 1,000. On `finished_at` alone, over finished rows
 *   only, it still serves pruning (`finished_at < ?` implies not null) and no longer
 *   competes with `deliveries_due`, whose walk is already in due order.
 * - `(webhook_id, status)` moved every delivered row from one key range to another:
 *   recording 500 attempts took 34 ms with 500,000 due against 12 ms with 15,000
 *   (10 ms without it). What it served, a webhook's waiting deliveries (probes,
 *   backoff, cancelling on delete, the status page), `deliveries_webhook_due` (pending
 *   rows only) serves; a webhook's other rows are read by `deliveries_webhook_log`.
 * - `(customer_id, status)` is a prefix of `deliveries_customer_status_log`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("deliveries_finished").execute();
  await db.schema.createIndex("deliveries_finished").on("deliveries").column("finished_at").where(sql.ref("finished_at"), "is not", null).execute();
  await db.schema.dropIndex("deliveries_webhook").execute();
  await db.schema.dropIndex("deliveries_customer").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("deliveries_customer").on("deliveries").columns(["customer_id", "status"]).execute();
  await db.schema.createIndex("deliveries_webhook").on("deliveries").columns(["webhook_id", "status"]).execute();
  await db.schema.dropIndex("deliveries_finished").execute();
  await db.schema.createIndex("deliveries_finished").on("deliveries").columns(["status", "finished_at"]).execute();
}
