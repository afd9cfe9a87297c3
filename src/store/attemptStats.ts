/**
 * What GET /stats/ summarizes, counted by the database so the cost does not grow with
 * the attempts in the range: counts per (time bucket, outcome) and per (webhook,
 * outcome), plus the durations of the most recent attempts for latency percentiles.
 */
import { sql } from "kysely";
import type { Db } from "./connect.js";

export type Outcome = "success" | "http_error" | "network_error";

/** Latency percentiles come from at most this many of the range's most recent attempts. */
export const LATENCY_SAMPLE = 20_000;

export interface OutcomeCount {
  /** the bucket's index from `since`, or the webhook's id */
  key: string | number;
  outcome: Outcome;
  n: number;
}

export interface DurationSample {
  webhook_id: string;
  duration_ms: number;
}

// 2xx is success; any other answer an HTTP error; no answer (timeout, refused, tls, …) a network error.
const outcome = sql<Outcome>`case when a.status_code is null then 'network_error' when a.status_code >= 200 and a.status_code < 300 then 'success' else 'http_error' end`;

function inRange(db: Db, customerId: string | null, since: number, until: number) {
  let q = db
    .selectFrom("attempts as a")
    .innerJoin("deliveries as d", "d.id", "a.delivery_id")
    .where("a.started_at", ">=", since)
    .where("a.started_at", "<", until);
  if (customerId) q = q.where("d.customer_id", "=", customerId);
  return q;
}

export interface AttemptCounts {
  byBucket: OutcomeCount[];
  byWebhook: OutcomeCount[];
  durations: DurationSample[];
}

export async function attemptCounts(db: Db, customerId: string | null, since: number, until: number, bucketMs: number): Promise<AttemptCounts> {
  const base = inRange(db, customerId, since, until);
  // Cast: SQLite binds JavaScript numbers as reals, so the division would not truncate.
  // Grouped by position: PostgreSQL cannot match a parameterized expression in GROUP BY to the same one in SELECT.
  const byBucket = await base
    .select([sql<number>`cast((a.started_at - ${since}) / ${bucketMs} as integer)`.as("key"), outcome.as("outcome"), (eb) => eb.fn.countAll<number>().as("n")])
    .groupBy([sql`1`, sql`2`])
    .execute();
  const byWebhook = await base
    .select(["d.webhook_id as key", outcome.as("outcome"), (eb) => eb.fn.countAll<number>().as("n")])
    .groupBy([sql`1`, sql`2`])
    .execute();
  const durations = await base.select(["d.webhook_id", "a.duration_ms"]).orderBy("a.started_at", "desc").limit(LATENCY_SAMPLE).execute();
  const num = (r: OutcomeCount) => ({ key: r.key, outcome: r.outcome, n: Number(r.n) });
  return {
    byBucket: byBucket.map((r) => ({ ...num(r), key: Number(r.key) })),
    byWebhook: byWebhook.map(num),
    durations: durations.map((r) => ({ webhook_id: r.webhook_id, duration_ms: Number(r.duration_ms) })),
  };
}
