/** What tests check about deliveries after dispatchers ran. */
import { randomUUID } from "node:crypto";
import type { Db } from "../../src/store/connect.js";

/** Deliveries by status, e.g. `{ delivered: 600 }`. */
export async function countByStatus(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom("deliveries")
    .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
    .groupBy("status")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/**
 * `count` due deliveries of one webhook (and their events), the first due at `at`,
 * one a millisecond after another: a backlog made in bulk rather than published.
 */
export async function addBacklog(db: Db, customerId: string, webhookId: string, count: number, at: number): Promise<void> {
  const CHUNK = 500;
  for (let from = 0; from < count; from += CHUNK) {
    const n = Math.min(CHUNK, count - from);
    const times = Array.from({ length: n }, (_, i) => at + from + i);
    const events = times.map((t) => ({
      id: randomUUID(),
      customer_id: customerId,
      topic: "shipments:created",
      payload: "{}",
      idempotency_key: null,
      created_at: t,
    }));
    await db.insertInto("events").values(events).execute();
    await db
      .insertInto("deliveries")
      .values(
        events.map((e) => ({
          id: randomUUID(),
          event_id: e.id,
          webhook_id: webhookId,
          customer_id: customerId,
          status: "pending" as const,
          attempts: 0,
          next_attempt_at: e.created_at,
          lease_owner: null,
          lease_expires_at: null,
          last_status_code: null,
          last_error: null,
          wait_reason: null,
          created_at: e.created_at,
          updated_at: e.created_at,
          finished_at: null,
        })),
      )
      .execute();
  }
}
