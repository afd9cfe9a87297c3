/**
 * A webhook's health as a whole, as the dispatchers write it: failing (backed off),
 * recovered, or gone (disabled). Several dispatchers may learn the same thing at
 * once; each change is written so that a failure step is counted once in all.
 */
import { sql } from "kysely";
import { tripReason, type BreakerMemory, type BreakerRules } from "../domain/breaker.js";
import { compiledOnce } from "./compiledOnce.js";
import { dialectOf, runSteps, type Db, type Steps } from "./connect.js";

/** What an attempt taught a dispatcher about its webhook as a whole. */
export type HealthChange =
  | { kind: "up"; webhookId: string }
  /**
   * `probe`: the one request of a backoff step; its failure starts the next step.
   * Any other failure only starts a step when the webhook was healthy: the other
   * requests that were in flight when it failed (in this or another process) belong
   * to the same step and are not counted again.
   */
  | { kind: "down"; webhookId: string; backoffUntil: number; error: string; probe: boolean; reason: string }
  | { kind: "gone"; webhookId: string; error: string };

/** Write one change inside the caller's transaction. */
export async function applyHealth(trx: Db, h: HealthChange, now: number): Promise<void> {
  const waiting = trx.updateTable("deliveries").where("webhook_id", "=", h.webhookId).where("status", "=", "pending").where("lease_owner", "is", null);
  if (h.kind === "up") {
    await trx
      .updateTable("webhooks")
      .set({ failing_since: null, consecutive_failures: 0, backoff_until: null, failure_streak: 0, recent_outcomes: "", breaker_reason: null })
      .where("id", "=", h.webhookId)
      .execute();
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
        breaker_reason: h.reason,
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
  // Only a failing webhook's deliveries wait. Read first: with none failing (the usual
  // case) a tick takes no write lock for this, which a publisher in another process would wait for.
  const failing = await db.selectFrom("webhooks").select("id").where("failing_since", "is not", null).limit(1).executeTakeFirst();
  if (!failing) return 0;
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

/** A batch's outcomes for one webhook, for the breaker's shared memory. */
export interface Outcomes {
  webhookId: string;
  /** oldest first: "1" an endpoint failure, "0" answered well */
  bits: string;
  /** when the first step would end, should these open the breaker */
  backoffUntil: number;
  /** the last failure in words */
  error: string | null;
}

/** One webhook's fold, as foldMemory binds it (numbers for flags: SQLite binds no booleans). */
interface Fold {
  id: string;
  /** 1 when every outcome failed: the streak grows by `added`; else it is `tail` */
  allFailed: number;
  added: number;
  tail: number;
  bits: string;
  /** the last failure in words, or null to keep the one stored */
  error: string | null;
  window: number;
}

interface MemoryRow {
  failure_streak: number | string;
  recent_outcomes: string;
  failing_since: number | null;
  breaker_reason: string | null;
}

/**
 * One atomic update of a webhook's memory. Compiled once (compiledOnce.ts): it runs for
 * every webhook in every record batch, and building it with Kysely each time cost about
 * 20 µs, several times what SQLite takes to run it.
 */
const foldMemory = compiledOnce<Fold>(["id", "allFailed", "added", "tail", "bits", "error", "window"], (db, p) => {
  const joined = sql`recent_outcomes || ${p.bits}`;
  return db
    .updateTable("webhooks")
    .set({
      failure_streak: sql<number>`case when ${p.allFailed} = 1 then failure_streak + ${p.added} else ${p.tail} end`,
      recent_outcomes: dialectOf(db) === "postgres" ? sql<string>`right(${joined}, ${p.window})` : sql<string>`substr(${joined}, -${p.window})`,
      last_failure: sql<string>`coalesce(${p.error}, last_failure)`,
    })
    .where("id", "=", p.id)
    .returning(["failure_streak", "recent_outcomes", "failing_since", "breaker_reason"]);
});

/**
 * Fold outcomes into each webhook's shared memory, one atomic update per webhook (no
 * read first, so dispatchers recording at once never lose each other's outcomes), and
 * open the breaker where the memory says the endpoint is down. Returns those open now
 * (opened here or before), with why. Webhooks in id order, so concurrent writers lock rows
 * in one order; a breaker opened here is written before the next webhook's memory, as
 * that order wants on PostgreSQL.
 */
export async function rememberOutcomes(trx: Db, all: readonly Outcomes[], rules: BreakerRules, now: number): Promise<{ webhookId: string; reason: string }[]> {
  const opened: { webhookId: string; reason: string }[] = [];
  const sorted = all.filter((o) => o.bits.length > 0).sort((a, b) => (a.webhookId < b.webhookId ? -1 : 1));
  for (let from = 0; from < sorted.length; ) {
    const trip = await runSteps(trx, foldFrom(trx, sorted, from, rules, opened));
    if (!trip) break;
    const o = sorted[trip.index]!;
    await applyHealth(
      trx,
      { kind: "down", webhookId: o.webhookId, backoffUntil: o.backoffUntil, error: o.error ?? trip.reason, probe: false, reason: trip.reason },
      now,
    );
    opened.push({ webhookId: o.webhookId, reason: trip.reason });
    from = trip.index + 1;
  }
  return opened;
}

/** Folds from `sorted[from]` on, until one opens the breaker (its index and why) or all are done (null). */
function* foldFrom(
  trx: Db,
  sorted: readonly Outcomes[],
  from: number,
  rules: BreakerRules,
  opened: { webhookId: string; reason: string }[],
): Steps<{ index: number; reason: string } | null> {
  for (let i = from; i < sorted.length; i++) {
    const o = sorted[i]!;
    const failed = o.bits.includes("1");
    const [row] = (yield foldMemory(trx, {
      id: o.webhookId,
      allFailed: o.bits.includes("0") ? 0 : 1,
      added: o.bits.length,
      tail: o.bits.length - 1 - o.bits.lastIndexOf("0"),
      bits: o.bits,
      // The last failure in words, whether or not it opened the breaker.
      error: failed ? o.error : null,
      window: rules.window,
    })).rows as MemoryRow[];
    if (!row) continue;
    // Open already (another dispatcher found it down): say so, so this one stops sending too.
    if (row.failing_since !== null) {
      opened.push({ webhookId: o.webhookId, reason: row.breaker_reason ?? "the endpoint is down" });
      continue;
    }
    const memory: BreakerMemory = { streak: Number(row.failure_streak), recent: row.recent_outcomes };
    const reason = tripReason(memory, rules);
    if (reason) return { index: i, reason };
  }
  return null;
}
