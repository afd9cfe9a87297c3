/**
 * Leases: a claimed delivery carries its dispatcher's name and an expiry, and no other
 * dispatcher takes it before then; recording an attempt or handing it back clears the
 * lease. Claims are serialised across dispatchers (SQLite's write lock; on PostgreSQL a
 * transaction-scoped advisory lock per schema), so what a claim counts of the other
 * dispatchers' leases is exact: two processes never hold the same row.
 */
import { sql } from "kysely";
import { dialectOf, writeTransaction, type Db } from "./connect.js";

/** Rows per statement: SQLite caps the bound parameters of one statement (32,766). */
export const CHUNK = 500;

/**
 * Run a claim so that no other claim runs at the same time. SQLite: BEGIN IMMEDIATE.
 * PostgreSQL: an advisory lock scoped to this transaction and this schema; each
 * statement after it sees every claim committed before (READ COMMITTED).
 */
export function serialisedClaim<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return writeTransaction(db, async (trx) => {
    if (dialectOf(trx) === "postgres") await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.hookd.claim'))`.execute(trx);
    return fn(trx);
  });
}

/**
 * Per webhook, deliveries held right now by other dispatchers. Only pending rows
 * carry a lease (recording clears it), so no status test: with one, SQLite walks
 * every pending row by status instead of the few leased ones.
 */
export async function leasedElsewhere(trx: Db, owner: string, now: number): Promise<Map<string, number>> {
  const rows = await trx
    .selectFrom("deliveries")
    .select(["webhook_id", (eb) => eb.fn.countAll<number>().as("n")])
    .where("lease_owner", "is not", null)
    .where("lease_owner", "<>", owner)
    .where("lease_expires_at", ">", now)
    .groupBy("webhook_id")
    .execute();
  return new Map(rows.map((r) => [r.webhook_id, Number(r.n)]));
}

/** Stamp the lease on rows still free; returns the ones taken. */
export async function lease(trx: Db, ids: readonly string[], owner: string, now: number, expires: number): Promise<string[]> {
  const taken: string[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await trx
      .updateTable("deliveries")
      .set({ lease_owner: owner, lease_expires_at: expires })
      .where("id", "in", ids.slice(i, i + CHUNK))
      .where("status", "=", "pending")
      .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<=", now)]))
      .returning("id")
      .execute();
    for (const r of rows) taken.push(r.id);
  }
  return taken;
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
