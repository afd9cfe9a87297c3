/**
 * What a delivery's JSON needs besides its row (model.ts DeliveryView): the state of
 * its webhook as a whole, read in one query for a page of deliveries, so every surface
 * (API, CLI, console) says when a delivery will really be tried.
 */
import type { WaitingWebhook } from "../domain/deliveryWait.js";
import type { Db } from "./connect.js";
import type { DeliveryView } from "./model.js";

/** Rows per statement: SQLite caps the bound parameters of one statement. */
const CHUNK = 500;

/**
 * The webhooks of `deliveries` (deleted ones too: their history is still listed).
 * `maxAttempts` is the retry budget (config `retry.maxAttempts`).
 */
export async function deliveryView(db: Db, deliveries: readonly { webhook_id: string }[], maxAttempts: number, now = Date.now()): Promise<DeliveryView> {
  const ids = [...new Set(deliveries.map((d) => d.webhook_id))];
  const webhooks = new Map<string, WaitingWebhook>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db
      .selectFrom("webhooks")
      .select(["id", "active", "disabled_reason", "failing_since", "consecutive_failures", "backoff_until", "rate_limit", "ordered"])
      .where("id", "in", ids.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) {
      webhooks.set(r.id, {
        active: r.active === 1,
        disabledReason: r.disabled_reason,
        failingSince: r.failing_since,
        consecutiveFailures: r.consecutive_failures,
        backoffUntil: r.backoff_until,
        maxAttempts,
        rateLimit: r.rate_limit === null ? null : Number(r.rate_limit),
        head: r.ordered === 1 ? await headOf(db, r.id) : null,
      });
    }
  }
  return { now, maxAttempts, webhooks };
}

/** An ordered webhook's first pending delivery in publish order (`deliveries_webhook_order`). */
async function headOf(db: Db, webhookId: string): Promise<string | null> {
  const row = await db
    .selectFrom("deliveries")
    .select("id")
    .where("webhook_id", "=", webhookId)
    .where("status", "=", "pending")
    .orderBy("created_at")
    .orderBy("event_id")
    .limit(1)
    .executeTakeFirst();
  return row?.id ?? null;
}
