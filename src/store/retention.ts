/**
 * Retention: delete finished history older than a cutoff, in small batches. Each batch
 * is its own short write transaction, and the loop yields between batches, so a tick
 * (in this process or another) waits at most one batch for the write lock.
 *
 * What goes: delivered and cancelled deliveries finished before the cutoff, with their
 * attempts; then events created before the cutoff that have no delivery left. Pending
 * and failed deliveries are kept (failed ones stay listed and replayable), and so are
 * their events.
 */
import { setImmediate as yieldToOthers } from "node:timers/promises";
import { writeTransaction, type Db } from "./connect.js";

export interface PruneCounts {
  deliveries: number;
  attempts: number;
  events: number;
}

export interface PruneOptions {
  /** rows per write transaction */
  batchSize?: number;
  /** stop between batches when aborted (shutdown) */
  signal?: AbortSignal;
}

const FINISHED = ["delivered", "cancelled"] as const;

/** One batch of finished deliveries and their attempts. */
export async function pruneDeliveryBatch(db: Db, cutoff: number, limit: number): Promise<Omit<PruneCounts, "events">> {
  return writeTransaction(db, async (trx) => {
    const rows = await trx.selectFrom("deliveries").select("id").where("status", "in", FINISHED).where("finished_at", "<", cutoff).limit(limit).execute();
    if (rows.length === 0) return { deliveries: 0, attempts: 0 };
    const ids = rows.map((r) => r.id);
    const attempts = await trx.deleteFrom("attempts").where("delivery_id", "in", ids).executeTakeFirst();
    const deliveries = await trx.deleteFrom("deliveries").where("id", "in", ids).executeTakeFirst();
    return { deliveries: Number(deliveries.numDeletedRows), attempts: Number(attempts.numDeletedRows) };
  });
}

/** One batch of old events that no delivery points at any more. */
export async function pruneEventBatch(db: Db, cutoff: number, limit: number): Promise<number> {
  return writeTransaction(db, async (trx) => {
    const orphans = trx
      .selectFrom("events as e")
      .select("e.id")
      .where("e.created_at", "<", cutoff)
      .where((eb) => eb.not(eb.exists(eb.selectFrom("deliveries as d").select("d.id").whereRef("d.event_id", "=", "e.id"))))
      .limit(limit);
    const res = await trx.deleteFrom("events").where("id", "in", orphans).executeTakeFirst();
    return Number(res.numDeletedRows);
  });
}

/** Prune everything older than `cutoff` (Unix ms), batch by batch. */
export async function pruneBefore(db: Db, cutoff: number, options: PruneOptions = {}): Promise<PruneCounts> {
  const limit = options.batchSize ?? 500;
  const total: PruneCounts = { deliveries: 0, attempts: 0, events: 0 };
  for (;;) {
    if (options.signal?.aborted) return total;
    const batch = await pruneDeliveryBatch(db, cutoff, limit);
    total.deliveries += batch.deliveries;
    total.attempts += batch.attempts;
    if (batch.deliveries < limit) break;
    await yieldToOthers();
  }
  for (;;) {
    if (options.signal?.aborted) return total;
    const n = await pruneEventBatch(db, cutoff, limit);
    total.events += n;
    if (n < limit) break;
    await yieldToOthers();
  }
  return total;
}
