/**
 * The dispatcher's side of the store: claim due deliveries under a lease, hand back
 * unsent ones, and record attempts. Claims are one atomic statement, so two
 * dispatchers (processes) never hold the same row at once.
 */
import { sql } from "kysely";
import { dialectOf, writeTransaction, type Db } from "./connect.js";
import type { AttemptTable, DeliveryStatus } from "./schema.js";

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
}

export interface ClaimOptions {
  owner: string;
  /** only deliveries due at or before this time */
  cutoff: number;
  now: number;
  limit: number;
  leaseMs: number;
}

export async function claimDue(db: Db, o: ClaimOptions): Promise<ClaimedDelivery[]> {
  const expires = o.now + o.leaseMs;
  let due = db
    .selectFrom("deliveries as d")
    .innerJoin("webhooks as w", "w.id", "d.webhook_id")
    .select("d.id")
    .where("d.status", "=", "pending")
    .where("d.next_attempt_at", "<=", o.cutoff)
    .where((eb) => eb.or([eb("d.lease_expires_at", "is", null), eb("d.lease_expires_at", "<=", o.now)]))
    .where("w.active", "=", 1)
    .where("w.deleted_at", "is", null)
    .orderBy("d.next_attempt_at")
    .limit(o.limit);
  // PostgreSQL: skip rows another dispatcher is claiming right now. SQLite
  // serialises writers, so the single UPDATE below is already atomic there.
  if (dialectOf(db) === "postgres") due = due.forUpdate(["d"]).skipLocked();

  const claimed = await db
    .updateTable("deliveries")
    .set({ lease_owner: o.owner, lease_expires_at: expires })
    .where("id", "in", due)
    .returning("id")
    .execute();
  if (claimed.length === 0) return [];

  const rows = await db
    .selectFrom("deliveries as d")
    .innerJoin("events as e", "e.id", "d.event_id")
    .innerJoin("webhooks as w", "w.id", "d.webhook_id")
    .select([
      "d.id",
      "d.event_id",
      "d.webhook_id",
      "d.attempts",
      "d.created_at",
      "e.topic",
      "e.payload",
      "w.url",
      "w.hash_secret",
    ])
    .where(
      "d.id",
      "in",
      claimed.map((c) => c.id),
    )
    .where("d.lease_owner", "=", o.owner)
    .orderBy("d.next_attempt_at")
    .execute();
  return rows.map((r) => ({ ...r, lease_expires_at: expires }));
}

/** Hand claims back untouched (shutdown, endpoint backing off, lease too short to send). */
export async function releaseClaims(db: Db, owner: string, ids: readonly string[], waitReason?: string): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    let q = db
      .updateTable("deliveries")
      .set(waitReason ? { lease_owner: null, lease_expires_at: null, wait_reason: waitReason } : { lease_owner: null, lease_expires_at: null })
      .where("id", "in", chunk)
      .where("lease_owner", "=", owner);
    await q.execute();
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

/**
 * Record many attempts in one transaction (one commit, one fsync). A success marks
 * the delivery delivered even if our lease lapsed meanwhile (it was delivered); a
 * failure only reschedules a row we still hold, so a late writer never overwrites
 * another dispatcher's newer state.
 *
 * Set-based: one multi-row insert for the attempts, and one update per distinct new
 * state (usually a single one, "delivered on attempt 1 with 200") instead of two
 * statements per record: building and preparing those was most of a tick's store time.
 */
export async function recordAttempts(db: Db, owner: string, records: readonly AttemptRecord[], now = Date.now()): Promise<void> {
  if (records.length === 0) return;
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
  });
}

/** Rows per statement: SQLite caps the bound parameters of one statement (32,766). */
const CHUNK = 500;

export async function countDue(db: Db, cutoff: number): Promise<number> {
  const { n } = await db
    .selectFrom("deliveries")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", cutoff)
    .executeTakeFirstOrThrow();
  return Number(n);
}
