/**
 * Prometheus metrics for `GET /metrics`: attempts by outcome and their latency
 * (from the dispatcher's observer), tick duration, and the delivery backlog by
 * status (read from the store at scrape time, so every process reports the truth).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Logger } from "pino";
import type { DispatchObserver } from "../dispatch/observer.js";
import type { Db } from "../store/connect.js";
import { DELIVERY_STATUSES } from "../store/schema.js";

export interface Metrics {
  readonly registry: Registry;
  readonly observer: DispatchObserver;
}

export function createMetrics(db: Db, logger: Logger): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const attempts = new Counter({
    name: "hookd_delivery_attempts_total",
    help: "Delivery attempts by outcome (delivered, rescheduled, failed) and error class (none on success)",
    labelNames: ["outcome", "error"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "hookd_attempt_duration_seconds",
    help: "How long delivery attempts took, from sending to the end of the response",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const ticks = new Histogram({
    name: "hookd_tick_duration_seconds",
    help: "How long dispatch ticks took",
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800],
    registers: [registry],
  });
  new Gauge({
    name: "hookd_deliveries",
    help: "Deliveries in the store by status (pending is the backlog)",
    labelNames: ["status"] as const,
    registers: [registry],
    async collect() {
      try {
        const rows = await db
          .selectFrom("deliveries")
          .select((eb) => ["status", eb.fn.countAll<number>().as("n")])
          .groupBy("status")
          .execute();
        const counts = new Map(rows.map((r) => [r.status, Number(r.n)]));
        for (const status of DELIVERY_STATUSES) this.set({ status }, counts.get(status) ?? 0);
      } catch (err) {
        // A scrape still gets the other metrics; /healthz is where an unavailable store shows.
        logger.warn({ err: (err as Error).message }, "metrics: could not count deliveries");
      }
    },
  });

  return {
    registry,
    observer: {
      attempt(outcome, verdict) {
        attempts.inc({ outcome: verdict, error: outcome.error ?? "none" });
        latency.observe(outcome.durationMs / 1000);
      },
      tick(summary) {
        ticks.observe(summary.duration_ms / 1000);
      },
    },
  };
}
