/**
 * `hookd status`: the backlog by status, what is due, and the webhooks that are
 * failing (backed off as a whole, or switched off by hookd), read in a few queries.
 */
import { countDue } from "./claims.js";
import type { Db } from "./connect.js";
import { DELIVERY_STATUSES, type DeliveryStatus } from "./schema.js";

/** Listed at most; the count says how many there are in all. */
const FAILING_LIMIT = 100;

export interface FailingWebhook {
  id: string;
  customer_id: string;
  url: string;
  topic: string;
  active: number;
  failing_since: number | null;
  consecutive_failures: number;
  backoff_until: number | null;
  last_failure: string | null;
  disabled_reason: string | null;
  /** why the circuit breaker opened, in words */
  breaker_reason: string | null;
  pending: number;
  failed: number;
  /** the earliest next_attempt_at of its pending deliveries */
  next_due: number | null;
}

/** A webhook with a `rate_limit`: its deliveries start no faster than that. */
export interface LimitedWebhook {
  id: string;
  url: string;
  rate_limit: number;
  /** its pending deliveries due now */
  due: number;
}

export interface StatusSnapshot {
  backlog: Record<DeliveryStatus, number>;
  dueNow: number;
  failingCount: number;
  failing: FailingWebhook[];
  limited: LimitedWebhook[];
}

/** The whole store's status, or one customer's (the console's overview). */
export async function readStatus(db: Db, now: number, customerId: string | null = null): Promise<StatusSnapshot> {
  let deliveries = db.selectFrom("deliveries");
  if (customerId) deliveries = deliveries.where("customer_id", "=", customerId);
  const counts = await deliveries
    .select((eb) => ["status", eb.fn.countAll<number>().as("n")])
    .groupBy("status")
    .execute();
  const backlog = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as Record<DeliveryStatus, number>;
  for (const c of counts) backlog[c.status] = Number(c.n);

  let failingWebhooks = db
    .selectFrom("webhooks as w")
    .where("w.deleted_at", "is", null)
    .where((eb) => eb.or([eb("w.failing_since", "is not", null), eb("w.disabled_reason", "is not", null)]));
  if (customerId) failingWebhooks = failingWebhooks.where("w.customer_id", "=", customerId);
  const { n } = await failingWebhooks.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  const rows = await failingWebhooks
    .select((eb) => {
      const mine = (status: DeliveryStatus) => eb.selectFrom("deliveries as d").whereRef("d.webhook_id", "=", "w.id").where("d.status", "=", status);
      return [
        "w.id",
        "w.customer_id",
        "w.url",
        "w.topic",
        "w.active",
        "w.failing_since",
        "w.consecutive_failures",
        "w.backoff_until",
        "w.last_failure",
        "w.disabled_reason",
        "w.breaker_reason",
        mine("pending")
          .select((e) => e.fn.countAll<number>().as("c"))
          .as("pending"),
        mine("failed")
          .select((e) => e.fn.countAll<number>().as("c"))
          .as("failed"),
        mine("pending")
          .select((e) => e.fn.min("d.next_attempt_at").as("m"))
          .as("next_due"),
      ];
    })
    .orderBy("w.failing_since")
    .orderBy("w.id")
    .limit(FAILING_LIMIT)
    .execute();
  const failing = rows.map((r) => ({
    ...r,
    pending: Number(r.pending),
    failed: Number(r.failed),
    next_due: r.next_due === null ? null : Number(r.next_due),
  }));
  const dueNow = customerId ? await countDueFor(db, now, customerId) : await countDue(db, now);
  return { backlog, dueNow, failingCount: Number(n), failing, limited: await limitedWebhooks(db, now, customerId) };
}

/** Webhooks with a rate limit (at most FAILING_LIMIT), with what is due for each. */
async function limitedWebhooks(db: Db, now: number, customerId: string | null): Promise<LimitedWebhook[]> {
  let q = db
    .selectFrom("webhooks as w")
    .where("w.deleted_at", "is", null)
    .where("w.rate_limit", "is not", null)
    .select((eb) => [
      "w.id",
      "w.url",
      "w.rate_limit",
      eb
        .selectFrom("deliveries as d")
        .whereRef("d.webhook_id", "=", "w.id")
        .where("d.status", "=", "pending")
        .where("d.next_attempt_at", "<=", now)
        .select((e) => e.fn.countAll<number>().as("c"))
        .as("due"),
    ]);
  if (customerId) q = q.where("w.customer_id", "=", customerId);
  const rows = await q.orderBy("w.id").limit(FAILING_LIMIT).execute();
  return rows.map((r) => ({ id: r.id, url: r.url, rate_limit: Number(r.rate_limit), due: Number(r.due) }));
}

async function countDueFor(db: Db, cutoff: number, customerId: string): Promise<number> {
  const { n } = await db
    .selectFrom("deliveries")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("customer_id", "=", customerId)
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", cutoff)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/**
 * When a failing webhook is next eligible: its earliest pending delivery, and not
 * before its backoff ends. Null when nothing will be tried (switched off, or nothing pending).
 */
export function nextEligibleAt(w: Pick<FailingWebhook, "active" | "pending" | "next_due" | "backoff_until">): number | null {
  if (w.active !== 1 || w.pending === 0 || w.next_due === null) return null;
  return Math.max(w.next_due, w.backoff_until ?? 0);
}

/** Pending deliveries waiting because their webhook's secrets cannot be opened (dispatch/tick.ts), by wait reason. */
export async function secretWaits(db: Db): Promise<{ reason: string; deliveries: number; webhooks: number }[]> {
  const rows = await db
    .selectFrom("deliveries")
    .select((eb) => ["wait_reason", eb.fn.countAll<number>().as("n"), eb.fn.count<number>("webhook_id").distinct().as("w")])
    .where("status", "=", "pending")
    .where("wait_reason", "like", "secret_key_%")
    .groupBy("wait_reason")
    .orderBy("wait_reason")
    .execute();
  return rows.map((r) => ({ reason: r.wait_reason!, deliveries: Number(r.n), webhooks: Number(r.w) }));
}
