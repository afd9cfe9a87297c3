/**
 * Recording attempts: the attempts rows and each delivery's new state, with the
 * endpoint health they imply, in one transaction (one commit, one fsync).
 */
import { sql } from "kysely";
import { writeTransaction, type Db } from "./connect.js";
import type { BreakerRules } from "../domain/breaker.js";
import { applyHealth, rememberOutcomes, type HealthChange, type Outcomes } from "./endpointHealth.js";
import type { AttemptTable, DeliveryStatus } from "./schema.js";

/** Rows per statement: SQLite caps the bound parameters of one statement (32,766). */
const CHUNK = 500;

export interface AttemptRecord {
  attempt: AttemptTable;
  /** the delivery's new state */
  status: DeliveryStatus;
  nextAttemptAt: number | null;
  waitReason: string | null;
  lastError: string | null;
}

/** What an attempt's request produced, as an attempts row. */
export interface AttemptFacts {
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  errorMessage: string | null;
  responseBody: string | null;
}

/** The attempts row for an outcome. */
export function attemptRow(deliveryId: string, number: number, facts: AttemptFacts): AttemptTable {
  return {
    delivery_id: deliveryId,
    number,
    started_at: facts.startedAt,
    duration_ms: facts.durationMs,
    status_code: facts.statusCode,
    error: facts.error,
    error_message: facts.errorMessage,
    response_body: facts.responseBody,
  };
}

/**
 * Record many attempts, and the health changes they imply, in one transaction. A
 * success marks the delivery delivered even if our lease lapsed meanwhile (it was
 * delivered); a failure only reschedules a row we still hold, so a late writer never
 * overwrites another dispatcher's newer state.
 *
 * Set-based: one multi-row insert for the attempts, and one update per distinct new
 * state (usually a single one, "delivered on attempt 1 with 200") instead of two
 * statements per record: building and preparing those was most of a tick's store time.
 */
export async function recordAttempts(
  db: Db,
  owner: string,
  records: readonly AttemptRecord[],
  health: readonly HealthChange[],
  now: number,
  breaker?: { rules: BreakerRules; outcomes: readonly Outcomes[] },
): Promise<{ webhookId: string; reason: string }[]> {
  if (records.length === 0 && health.length === 0) return [];
  const groups = new Map<string, { r: AttemptRecord; ids: string[] }>();
  for (const r of records) {
    const a = r.attempt;
    const key = JSON.stringify([r.status, a.number, r.nextAttemptAt, a.status_code, r.lastError, r.waitReason]);
    const group = groups.get(key);
    if (group) group.ids.push(a.delivery_id);
    else groups.set(key, { r, ids: [a.delivery_id] });
  }
  return writeTransaction(db, async (trx) => {
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
    return breaker && breaker.outcomes.length > 0 ? rememberOutcomes(trx, breaker.outcomes, breaker.rules, now) : [];
  });
}
