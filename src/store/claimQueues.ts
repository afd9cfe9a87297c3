/**
 * A webhook's own queue, as a claim takes from it (claims.ts). Reads only the front of
 * the webhook's pending rows through its indexes, so the cost follows what is taken.
 */
import { CompiledQuery, sql } from "kysely";
import { compiledOnce, type Bind } from "./compiledOnce.js";
import type { Db } from "./connect.js";

export interface QueuedRow {
  id: string;
}

/** `d` is free to lease now: never leased, or its lease has lapsed. */
export function free(now: number) {
  return sql<boolean>`(${sql.ref("d.lease_expires_at")} is null or ${sql.ref("d.lease_expires_at")} <= ${now})`;
}

interface Front {
  webhookId: string;
  cutoff: number;
  now: number;
  n: number;
}

/**
 * The front of a webhook's due and free deliveries, oldest due first; of its first
 * attempts only when `firstAttempts`. A claim reads it for every webhook it takes from,
 * so the two shapes are compiled once (compiledOnce.ts): building and compiling the
 * query each time cost about as much as SQLite running it (a profile of bench section 1).
 */
function frontOf(firstAttempts: boolean) {
  return compiledOnce<Front>(["webhookId", "cutoff", "now", "n"], (db, p) => {
    let q = db
      .selectFrom("deliveries as d")
      .select(["d.id", "d.attempts"])
      .where("d.webhook_id", "=", p.webhookId)
      .where("d.status", "=", "pending")
      .where("d.next_attempt_at", "<=", p.cutoff)
      .where(free(p.now));
    if (firstAttempts) q = q.where("d.attempts", "=", 0);
    return q.orderBy("d.next_attempt_at").limit(p.n);
  });
}
const oldestDue = frontOf(false);
const firstAttemptsDue = frontOf(true);

/**
 * Up to `n` free due deliveries of a webhook. Oldest due first (`deliveries_webhook_due`),
 * alternating with its first attempts (`deliveries_webhook_fresh`) when `fresh`: a new
 * event is not queued behind a backlog of retries (Hook0 keeps such lanes).
 */
export async function queued(trx: Db, webhookId: string, o: { cutoff: number; now: number }, n: number, fresh = true): Promise<QueuedRow[]> {
  const front = async (shape: Bind<Front>) => {
    const { sql: text, parameters } = shape(trx, { webhookId, cutoff: o.cutoff, now: o.now, n });
    return (await trx.executeQuery<{ id: string; attempts: number | string }>(CompiledQuery.raw(text, parameters))).rows;
  };
  const oldest = await front(oldestDue);
  // Its oldest are all first attempts (no retries ahead of them, as in most ticks): they
  // are also the front of its first attempts, so the second read would find the same.
  if (!fresh || oldest.every((row) => Number(row.attempts) === 0)) return oldest;
  const first = await front(firstAttemptsDue);
  const out: QueuedRow[] = [];
  const seen = new Set<string>();
  for (let i = 0; out.length < n && (i < oldest.length || i < first.length); i++) {
    for (const row of [oldest[i], first[i]]) {
      if (row && !seen.has(row.id) && out.length < n) {
        seen.add(row.id);
        out.push(row);
      }
    }
  }
  return out;
}

/**
 * An ordered webhook's head: its first pending deliveries in publish order (event
 * `created_at`, then id; `deliveries_webhook_order`), up to `n`, taken only while each is
 * due and free. The head in flight elsewhere, or waiting on its retry, holds the rest back.
 */
export async function headOf(trx: Db, webhookId: string, o: { cutoff: number; now: number }, n: number): Promise<QueuedRow[]> {
  const rows = await trx
    .selectFrom("deliveries as d")
    .select(["d.id", "d.next_attempt_at", "d.lease_expires_at"])
    .where("d.webhook_id", "=", webhookId)
    .where("d.status", "=", "pending")
    .orderBy("d.created_at")
    .orderBy("d.event_id")
    .limit(n)
    .execute();
  const out: QueuedRow[] = [];
  for (const r of rows) {
    const leased = r.lease_expires_at !== null && Number(r.lease_expires_at) > o.now;
    if (Number(r.next_attempt_at) > o.cutoff || leased) break;
    out.push({ id: r.id });
  }
  return out;
}
