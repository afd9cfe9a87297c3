import { sql, type Kysely } from "kysely";

/** The live webhooks' (customer, URL, topic) is unique: the duplicate check, held by the database itself. */
export const LIVE_WEBHOOK_INDEX = "webhooks_live_url_topic";

/** Soft-deleted per statement, so a long list of duplicates stays within any parameter limit. */
const CHUNK = 500;

interface Live {
  id: string;
  customer_id: string;
  url: string;
  topic: string;
  active: number;
  created_at: number;
}

/**
 * Which of a group's live twins stays: an active one before a paused one (removing the
 * only one that delivers would stop deliveries), then the oldest, then the lowest id. Pure.
 */
export function twinsToRemove(rows: readonly Live[]): string[] {
  const keepers = new Map<string, Live>();
  const removed: string[] = [];
  const better = (a: Live, b: Live) =>
    a.active !== b.active ? a.active > b.active : a.created_at !== b.created_at ? a.created_at < b.created_at : a.id < b.id;
  for (const row of rows) {
    const key = JSON.stringify([row.customer_id, row.url, row.topic]);
    const kept = keepers.get(key);
    if (!kept) keepers.set(key, row);
    else if (better(row, kept)) {
      removed.push(kept.id);
      keepers.set(key, row);
    } else removed.push(row.id);
  }
  return removed;
}

/**
 * A unique index over live webhooks' (customer_id, url, topic), partial on `deleted_at is
 * null` (SQLite and PostgreSQL both have them), so two API processes creating the same
 * webhook at once cannot both succeed: the check before the insert only saw what was
 * committed when it ran.
 *
 * A database that already holds such twins (made by that race before this migration)
 * keeps one of each group (see twinsToRemove) and the others are deleted as
 * `DELETE /webhooks/:id/` deletes: soft-deleted, their pending deliveries cancelled, their
 * history kept. Refusing to migrate instead would stop every node at start-up and every
 * CLI command that could remove them (they migrate first), leaving SQL as the only way
 * out; the twins were copies made in the same instant, and the receiver keeps getting
 * each event, once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const groups = db
    .selectFrom("webhooks")
    .select(["customer_id", "url", "topic"])
    .where("deleted_at", "is", null)
    .groupBy(["customer_id", "url", "topic"])
    .having((eb) => eb.fn.countAll(), ">", 1)
    .as("g");
  const twins = (await db
    .selectFrom("webhooks as w")
    .innerJoin(groups, (join) => join.onRef("g.customer_id", "=", "w.customer_id").onRef("g.url", "=", "w.url").onRef("g.topic", "=", "w.topic"))
    .select(["w.id", "w.customer_id", "w.url", "w.topic", "w.active", "w.created_at"])
    .where("w.deleted_at", "is", null)
    .execute()) as Live[];
  const removed = twinsToRemove(twins.map((t) => ({ ...t, active: Number(t.active), created_at: Number(t.created_at) })));
  const now = Date.now();
  for (let i = 0; i < removed.length; i += CHUNK) {
    const ids = removed.slice(i, i + CHUNK);
    await db.updateTable("webhooks").set({ deleted_at: now, active: 0, updated_at: now }).where("id", "in", ids).execute();
    await db
      .updateTable("deliveries")
      .set({ status: "cancelled", finished_at: now, updated_at: now, wait_reason: null, lease_owner: null, lease_expires_at: null })
      .where("webhook_id", "in", ids)
      .where("status", "=", "pending")
      .execute();
  }
  await db.schema
    .createIndex(LIVE_WEBHOOK_INDEX)
    .on("webhooks")
    .columns(["customer_id", "url", "topic"])
    .unique()
    .where(sql.ref("deleted_at"), "is", null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex(LIVE_WEBHOOK_INDEX).execute();
}
