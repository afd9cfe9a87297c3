/**
 * The dispatcher's side of the store: claim due deliveries under a lease, hand back
 * unsent ones, and record attempts and endpoint health. Claims are one atomic
 * statement, so two dispatchers (processes) never hold the same row at once.
 */
import { sql } from "kysely";
import { dialectOf, writeTransaction, type Db } from "./connect.js";
import type { AttemptTable, DeliveryStatus } from "./schema.js";

/** Rows per statement: SQLite caps the bound parameters of one statement (32,766). */
const CHUNK = 500;

export interface ClaimedDelivery {
  id: string;
  event_id: string;
  webhook_id: string;
  attempts: number;
  created_at: number;
  lease_expires_at: number;
  topic: string;
  payload: string;
  url: string;
  hash_secret: string | null;
  /** the webhook's failures in a row so far (0 when healthy) */
  consecutive_failures: number;
  /** true for the one delivery that tests whether a failing webhook has recovered */
  probe: boolean;
}

export interface ClaimOptions {
  owner: string;
  /** only deliveries due at or before this time */
  cutoff: number;
  now: number;
  limit: number;
  leaseMs: number;
  /** webhooks to leave alone in this claim (busy or down in this tick) */
  excludeWebhooks?: readonly string[];
}

/** Due deliveries of healthy, active webhooks, oldest first. */
export async function claimDue(db: Db, o: ClaimOptions): Promise<ClaimedDelivery[]> {
  let due = db
    .selectFrom("deliveries as d")
    .innerJoin("webhooks as w", "w.id", "d.webhook_id")
    .select("d.id")
    .where("d.status", "=", "pending")
    .where("d.next_attempt_at", "<=", o.cutoff)
    .where((eb) => eb.or([eb("d.lease_expires_at", "is", null), eb("d.lease_expires_at", "<=", o.now)]))
    .where("w.active", "=", 1)
    .where("w.deleted_at", "is", null)
    .where("w.failing_since", "is", null)
    .orderBy("d.next_attempt_at")
    .limit(o.limit);
  if (o.excludeWebhooks && o.excludeWebhooks.length > 0) due = due.where("d.webhook_id", "not in", o.excludeWebhooks);
  // PostgreSQL: skip rows another dispatcher is claiming right now. SQLite
  // serialises writers, so the single UPDATE below is already atomic there.
  if (dialectOf(db) === "postgres") due = due.forUpdate(["d"]).skipLocked();

  const expires = o.now + o.leaseMs;
  const claimed = await db.updateTable("deliveries").set({ lease_owner: o.owner, lease_expires_at: expires }).where("id", "in", due).returning("id").execute();
  return loadClaimed(
    db,
    o.owner,
    claimed.map((c) => c.id),
    expires,
    new Set(),
  );
}

/**
 * One probe per failing webhook whose backoff has passed: its oldest due delivery.
 * The webhook's backoff is pushed to the lease's end in the same transaction, so no
 * other dispatcher probes it at the same time.
 */
export async function claimProbes(db: Db, o: Omit<ClaimOptions, "limit" | "excludeWebhooks">): Promise<ClaimedDelivery[]> {
  const expires = o.now + o.leaseMs;
  const ids = await writeTransaction(db, async (trx) => {
    const failing = await trx
      .selectFrom("webhooks")
      .select("id")
      .where("failing_since", "is not", null)
      .where("active", "=", 1)
      .where("deleted_at", "is", null)
      .where((eb) => eb.or([eb("backoff_until", "is", null), eb("backoff_until", "<=", o.now)]))
      .execute();
    const probes: string[] = [];
    for (const hook of failing) {
      const oldest = await trx
        .selectFrom("deliveries")
        .select("id")
        .where("webhook_id", "=", hook.id)
        .where("status", "=", "pending")
        .where("next_attempt_at", "<=", o.cutoff)
        .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<=", o.now)]))
        .orderBy("next_attempt_at")
        .limit(1)
        .executeTakeFirst();
      if (!oldest) continue;
      await trx.updateTable("webhooks").set({ backoff_until: expires }).where("id", "=", hook.id).execute();
      await trx.updateTable("deliveries").set({ lease_owner: o.owner, lease_expires_at: expires }).where("id", "=", oldest.id).execute();
      probes.push(oldest.id);
    }
    return probes;
  });
  return loadClaimed(db, o.owner, ids, expires, new Set(ids));
}

async function loadClaimed(db: Db, owner: string, ids: string[], expires: number, probes: Set<string>): Promise<ClaimedDelivery[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom("deliveries as d")
    .innerJoin("events as e", "e.id", "d.event_id")
    .innerJoin("webhooks as w", "w.id", "d.webhook_id")
    .select(["d.id", "d.event_id", "d.webhook_id", "d.attempts", "d.created_at", "e.topic", "e.payload", "w.url", "w.hash_secret", "w.consecutive_failures"])
    .where("d.id", "in", ids)
    .where("d.lease_owner", "=", owner)
    .orderBy("d.next_attempt_at")
    .execute();
  return rows.map((r) => ({ ...r, lease_expires_at: expires, probe: probes.has(r.id) }));
}

/** Hand claims back untouched (shutdown, endpoint backing off, lease too short to send). */
export async function releaseClaims(db: Db, owner: string, ids: readonly string[], waitReason?: string): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    await db
      .updateTable("deliveries")
      .set(waitReason ? { lease_owner: null, lease_expires_at: null, wait_reason: waitReason } : { lease_owner: null, lease_expires_at: null })
      .where("id", "in", chunk)
      .where("lease_owner", "=", owner)
      .execute();
  }
}

export interface AttemptRecord {
  attempt: AttemptTable;
  /** the delivery's new state */
  status: DeliveryStatus;
  nextAttemptAt: number | null;
  waitReason: string | null;
  lastError: string | null;
}

/** What an attempt taught us about its webhook as a whole. */
export type HealthChange =
  | { kind: "up"; webhookId: string }
  | { kind: "down"; webhookId: string; backoffUntil: number; error: string }
  | { kind: "gone"; webhookId: string; error: string };

/**
 * Record many attempts, and the health changes they imply, in one transaction (one
 * commit, one fsync). A success marks the delivery delivered even if our lease
 * lapsed meanwhile (it was delivered); a failure only reschedules a row we still
 * hold, so a late writer never overwrites another dispatcher's newer state.
 *
 * Set-based: one multi-row insert for the attempts, and one update per distinct new
 * state (usually a single one, "delivered on attempt 1 with 200") instead of two
 * statements per record: building and preparing those was most of a tick's store time.
 */
export async function recordAttempts(
  db: Db,
  owner: string,
  records: readonly AttemptRecord[],
  health: readonly HealthChange[] = [],
  now = Date.now(),
): Promise<void> {
  if (records.length === 0 && health.length === 0) return;
  const groups = new Map<string, { r: AttemptRecord; ids: string[] }>();
  for (const r of records) {
    const a = r.attempt;
    const key = JSON.stringify([r.status, a.number, r.nextAttemptAt, a.status_code, r.lastError, r.waitReason]);
    const group = groups.get(key);
    if (group) group.ids.push(a.delivery_id);
    else groups.set(key, { r, ids: [a.delivery_id] });
  }
  await writeTransaction(db, async (trx) => {
    for (let i = 0; i < records.length; i += CHUNK) {
      await trx
        .insertInto("attempts")
        .values(records.slice(i, i + CHUNK).map((r) => r.attempt))
        .onConflict((oc) => oc.columns(["delivery_id", "number"]).doNothing())
        .execute();
    }
    for (const { r, ids } of groups.values()) {
      for (let i = 0; i < ids.length; i += CHUNK) {
        let q = trx
          .updateTable("deliveries")
          .set({
            status: r.status,
            attempts: r.attempt.number,
            next_attempt_at: r.nextAttemptAt ?? sql<number>`next_attempt_at`,
            last_status_code: r.attempt.status_code,
            last_error: r.lastError,
            wait_reason: r.waitReason,
            lease_owner: null,
            lease_expires_at: null,
            finished_at: r.status === "pending" ? null : now,
            updated_at: now,
          })
          .where("id", "in", ids.slice(i, i + CHUNK))
          .where("status", "=", "pending");
        if (r.status !== "delivered") q = q.where("lease_owner", "=", owner);
        await q.execute();
      }
    }
    for (const h of health) await applyHealth(trx, h, now);
  });
}

async function applyHealth(trx: Db, h: HealthChange, now: number): Promise<void> {
  const waiting = trx.updateTable("deliveries").where("webhook_id", "=", h.webhookId).where("status", "=", "pending").where("lease_owner", "is", null);
  if (h.kind === "up") {
    await trx.updateTable("webhooks").set({ failing_since: null, consecutive_failures: 0, backoff_until: null }).where("id", "=", h.webhookId).execute();
    await waiting.set({ wait_reason: null }).where("wait_reason", "=", "endpoint_backoff").execute();
    return;
  }
  if (h.kind === "down") {
    await trx
      .updateTable("webhooks")
      .set((eb) => ({
        failing_since: eb.fn.coalesce("failing_since", eb.val(now)),
        consecutive_failures: eb("consecutive_failures", "+", 1),
        backoff_until: h.backoffUntil,
        last_failure: h.error,
      }))
      .where("id", "=", h.webhookId)
      .execute();
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

export async function countDue(db: Db, cutoff: number): Promise<number> {
  const { n } = await db
    .selectFrom("deliveries")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", cutoff)
    .executeTakeFirstOrThrow();
  return Number(n);
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
