/**
 * A webhook's health as a whole, as the dispatchers write it: failing (backed off),
 * recovered, or gone (disabled). Several dispatchers may learn the same thing at
 * once; each change is written so that a failure step is counted once in all.
 */
import type { Db } from "./connect.js";

/** What an attempt taught a dispatcher about its webhook as a whole. */
export type HealthChange =
  | { kind: "up"; webhookId: string }
  /**
   * `probe`: the one request of a backoff step; its failure starts the next step.
   * Any other failure only starts a step when the webhook was healthy: the other
   * requests that were in flight when it failed (in this or another process) belong
   * to the same step and are not counted again.
   */
  | { kind: "down"; webhookId: string; backoffUntil: number; error: string; probe: boolean }
  | { kind: "gone"; webhookId: string; error: string };

/** Write one change inside the caller's transaction. */
export async function applyHealth(trx: Db, h: HealthChange, now: number): Promise<void> {
  const waiting = trx.updateTable("deliveries").where("webhook_id", "=", h.webhookId).where("status", "=", "pending").where("lease_owner", "is", null);
  if (h.kind === "up") {
    await trx.updateTable("webhooks").set({ failing_since: null, consecutive_failures: 0, backoff_until: null }).where("id", "=", h.webhookId).execute();
    await waiting.set({ wait_reason: null }).where("wait_reason", "=", "endpoint_backoff").execute();
    return;
  }
  if (h.kind === "down") {
    let step = trx
      .updateTable("webhooks")
      .set((eb) => ({
        failing_since: eb.fn.coalesce("failing_since", eb.val(now)),
        consecutive_failures: eb("consecutive_failures", "+", 1),
        backoff_until: h.backoffUntil,
        last_failure: h.error,
      }))
      .where("id", "=", h.webhookId);
    if (!h.probe) step = step.where("failing_since", "is", null);
    const { numUpdatedRows } = await step.executeTakeFirst();
    if (numUpdatedRows === 0n) return;
    // Deliveries due now wait on the endpoint; one that just failed keeps its own reason.
    await waiting.set({ wait_reason: "endpoint_backoff" }).where("next_attempt_at", "<=", now).execute();
    return;
  }
  await trx
    .updateTable("webhooks")
    .set({ active: 0, disabled_reason: h.error, last_failure: h.error, updated_at: now })
    .where("id", "=", h.webhookId)
    .execute();
  await waiting.set({ wait_reason: "webhook_disabled" }).execute();
}

/**
 * Deliveries that aged past maxAge while their webhook was backing off never got an
 * attempt of their own; they are failed like any other delivery out of budget.
 */
export async function expireWaiting(db: Db, now: number, maxAgeMs: number): Promise<number> {
  const res = await db
    .updateTable("deliveries")
    .set({ status: "failed", last_error: "endpoint_backoff (max_age)", wait_reason: null, finished_at: now, updated_at: now })
    .where("status", "=", "pending")
    .where("lease_owner", "is", null)
    .where("created_at", "<", now - maxAgeMs)
    .where("webhook_id", "in", (eb) => eb.selectFrom("webhooks").select("id").where("failing_since", "is not", null))
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
