import { HookdError, notFound } from "../errors.js";
import { writeTransaction, type Db } from "./connect.js";
import { failedMatching, type ReplayFilter } from "./logs.js";
import type { AttemptTable, DeliveryStatus, DeliveryTable } from "./schema.js";

export interface DeliveryFilter {
  customerId?: string | null;
  webhookId?: string;
  eventId?: string;
  status?: DeliveryStatus;
}

export async function listDeliveries(db: Db, filter: DeliveryFilter, page: { limit: number; page: number }): Promise<{ count: number; rows: DeliveryTable[] }> {
  let base = db.selectFrom("deliveries");
  if (filter.customerId) base = base.where("customer_id", "=", filter.customerId);
  if (filter.webhookId) base = base.where("webhook_id", "=", filter.webhookId);
  if (filter.eventId) base = base.where("event_id", "=", filter.eventId);
  if (filter.status) base = base.where("status", "=", filter.status);
  const { count } = await base.select((eb) => eb.fn.countAll<number>().as("count")).executeTakeFirstOrThrow();
  const rows = await base
    .selectAll()
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(page.limit)
    .offset((page.page - 1) * page.limit)
    .execute();
  return { count: Number(count), rows };
}

/** Attempts of the given deliveries, grouped by delivery, oldest first. */
export async function attemptsOf(db: Db, deliveryIds: readonly string[]): Promise<Map<string, AttemptTable[]>> {
  const byDelivery = new Map<string, AttemptTable[]>();
  for (let i = 0; i < deliveryIds.length; i += 500) {
    const chunk = deliveryIds.slice(i, i + 500);
    const rows = await db.selectFrom("attempts").selectAll().where("delivery_id", "in", chunk).orderBy("delivery_id").orderBy("number").execute();
    for (const r of rows) {
      const list = byDelivery.get(r.delivery_id) ?? [];
      list.push(r);
      byDelivery.set(r.delivery_id, list);
    }
  }
  return byDelivery;
}

export async function getDelivery(db: Db, id: string, customerId?: string | null): Promise<DeliveryTable> {
  let q = db.selectFrom("deliveries").selectAll().where("id", "=", id);
  if (customerId) q = q.where("customer_id", "=", customerId);
  const row = await q.executeTakeFirst();
  if (!row) throw notFound("delivery", id);
  return row;
}

/**
 * A failed delivery back to pending, due now. Its budget is spent, so the replay is
 * one more attempt: if that fails too the delivery is failed again (and replayable).
 * Only failed deliveries qualify; a cancelled one belongs to a deleted webhook.
 */
export async function retryDelivery(db: Db, id: string, customerId: string | null, now = Date.now()): Promise<DeliveryTable> {
  return writeTransaction(db, async (trx) => {
    const row = await getDelivery(trx, id, customerId);
    if (row.status !== "failed") {
      throw new HookdError("conflict", `delivery ${id} is ${row.status}; only failed deliveries can be retried`);
    }
    await trx
      .updateTable("deliveries")
      .set({ status: "pending", next_attempt_at: now, wait_reason: "manual_retry", finished_at: null, updated_at: now })
      .where("id", "=", id)
      .where("status", "=", "failed")
      .execute();
    await probeSoon(trx, [row.webhook_id]);
    return getDelivery(trx, id, customerId);
  });
}

/** Every failed delivery (of one customer, or all) back to pending; returns how many. */
export async function retryFailed(db: Db, customerId: string | null, now = Date.now()): Promise<number> {
  return retryMatching(db, { customerId }, now);
}

/** How many failed deliveries a bulk replay with this filter would put back in line. */
export async function countFailedMatching(db: Db, filter: ReplayFilter): Promise<number> {
  const failed = await failedMatching(db, filter);
  if (failed === null) return 0;
  const { n } = await failed.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  return Number(n);
}

/** The failed deliveries matching `filter` back to pending, due now; returns how many. */
export async function retryMatching(db: Db, filter: ReplayFilter, now = Date.now()): Promise<number> {
  return writeTransaction(db, async (trx) => {
    const failed = await failedMatching(trx, filter);
    if (failed === null) return 0;
    const rows = await trx
      .updateTable("deliveries")
      .set({ status: "pending", next_attempt_at: now, wait_reason: "manual_retry", finished_at: null, updated_at: now })
      .where("id", "in", failed.select("id"))
      .where("status", "=", "failed")
      .returning("webhook_id")
      .execute();
    await probeSoon(trx, [...new Set(rows.map((r) => r.webhook_id))]);
    return rows.length;
  });
}

/**
 * A replay asked for by a person should not sit behind an endpoint backoff: the
 * next tick probes those webhooks (a failing one still gets a single probe first).
 */
async function probeSoon(db: Db, webhookIds: string[]): Promise<void> {
  for (let i = 0; i < webhookIds.length; i += 500) {
    await db
      .updateTable("webhooks")
      .set({ backoff_until: null })
      .where("id", "in", webhookIds.slice(i, i + 500))
      .where("failing_since", "is not", null)
      .execute();
  }
}
