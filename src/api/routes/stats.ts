/**
 * GET /stats/: what the console's overview and webhook pages show. Attempts by
 * outcome in time buckets and per-webhook success rate and latency over
 * [since, until); plus the backlog by status, what is due, the next tick and the
 * failing webhooks (as `hookd status` reports them), and each webhook's health.
 */
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { lookahead, statusJson } from "../../dispatch/statusReport.js";
import { upcomingTicks } from "../../dispatch/ticks.js";
import { validationError } from "../../errors.js";
import { attemptCounts } from "../../store/attemptStats.js";
import { readStatus } from "../../store/status.js";
import { principalOf, scopeOf } from "../auth.js";
import { routeSchema } from "../schemas.js";
import { bucketize, performanceByWebhook } from "../statsSummary.js";
import { timeRange } from "../timeRange.js";

const DAY_MS = 86_400_000;
const MAX_BUCKETS = 1_000;
/** Listed at most; more webhooks than this is more than a page shows. */
const MAX_WEBHOOKS = 500;

interface StatsQuery {
  since?: string;
  until?: string;
  bucket: number;
  customer?: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

export function statsRoutes(server: FastifyInstance, app: App): void {
  const { db } = app.store;

  server.get<{ Querystring: StatsQuery }>("/stats/", { schema: routeSchema("getStats") }, async (request) => {
    const { query } = request;
    const customerId = scopeOf(principalOf(request), query.customer);
    const now = Date.now();
    const range = timeRange(query);
    const until = range.until ?? now;
    const since = range.since ?? until - DAY_MS;
    if (since >= until) throw validationError([{ field: "since", message: "must be earlier than until (which defaults to now)" }]);
    const bucketMs = query.bucket * 1000;
    if ((until - since) / bucketMs > MAX_BUCKETS) {
      throw validationError([{ field: "bucket", message: `is too small for this range: at most ${MAX_BUCKETS} buckets` }]);
    }

    const counts = await attemptCounts(db, customerId, since, until, bucketMs);
    const performance = performanceByWebhook(counts.byWebhook, counts.durations);
    let hooks = db.selectFrom("webhooks").selectAll().where("deleted_at", "is", null);
    if (customerId) hooks = hooks.where("customer_id", "=", customerId);
    const webhooks = await hooks.orderBy("created_at", "desc").limit(MAX_WEBHOOKS).execute();

    const snapshot = await readStatus(db, now, customerId);
    const schedule = app.config.dispatch.schedule;
    const {
      database: _where,
      env: _env,
      ...status
    } = statusJson(snapshot, {
      now,
      database: "",
      env: app.config.env,
      schedule,
      ticks: upcomingTicks(schedule, lookahead(snapshot, now)),
    });

    return {
      since: iso(since),
      until: iso(until),
      bucket: query.bucket,
      attempts: bucketize(counts.byBucket, since, until, bucketMs).map((b) => ({ ...b, start: iso(b.start) })),
      webhooks: webhooks.map((w) => ({
        id: w.id,
        customer: w.customer_id,
        url: w.url,
        topic: w.topic,
        active: w.active === 1,
        ...(performance.get(w.id) ?? { attempts: 0, succeeded: 0, success_rate: null, p50_ms: null, p95_ms: null }),
        // Failures in a row as the breaker counts them (not its backoff steps).
        consecutive_failures: w.failure_streak,
        failing_since: iso(w.failing_since),
        backoff_until: iso(w.backoff_until),
        last_error: w.last_failure,
        disabled_reason: w.disabled_reason,
      })),
      ...status,
    };
  });
}
