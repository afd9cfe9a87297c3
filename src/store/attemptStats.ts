/** The attempts GET /stats/ summarizes: one customer's (or all), started in a time range. */
import type { Db } from "./connect.js";

export interface AttemptSample {
  webhook_id: string;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
}

export async function attemptSamples(db: Db, customerId: string | null, since: number, until: number): Promise<AttemptSample[]> {
  let q = db
    .selectFrom("attempts as a")
    .innerJoin("deliveries as d", "d.id", "a.delivery_id")
    .select(["d.webhook_id", "a.started_at", "a.duration_ms", "a.status_code"])
    .where("a.started_at", ">=", since)
    .where("a.started_at", "<", until);
  if (customerId) q = q.where("d.customer_id", "=", customerId);
  const rows = await q.execute();
  // PostgreSQL returns bigint columns as strings.
  return rows.map((r) => ({ ...r, started_at: Number(r.started_at), duration_ms: Number(r.duration_ms) }));
}
