/**
 * Prometheus metrics for `GET /metrics`: attempts by outcome and their latency
 * (from the dispatcher's observer), tick duration, whether the store is up, and the
 * delivery backlog by status (read from the store at scrape time, so every process
 * reports the truth). A scrape always answers: while the store is down the backlog is
 * left out, and reading it is bounded.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Logger } from "pino";
import type { DispatchObserver } from "../dispatch/observer.js";
import type { Db } from "../store/connect.js";
import { DELIVERY_STATUSES } from "../store/schema.js";
import type { StoreHealth } from "../store/storeHealth.js";
import { NoAnswerError } from "../store/outage.js";
import { within } from "./storeAnswer.js";

export interface Metrics {
  readonly registry: Registry;
  readonly observer: DispatchObserver;
  /** One ingest commit holding `events` published events (SQLite's group commit; 1 on PostgreSQL). */
  committed(events: number): void;
}

/** `boundMs`: how long a scrape waits for the backlog count. */
export function createMetrics(db: Db, logger: Logger, health: StoreHealth, boundMs: number): Metrics {
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
  const paced = new Counter({
    name: "hookd_rate_limit_waits_total",
    help: "Deliveries that waited for their webhook's rate_limit before starting",
    registers: [registry],
  });
  const opened = new Counter({
    name: "hookd_breaker_opened_total",
    help: "Times a webhook's circuit breaker opened (its endpoint looked down as a whole)",
    registers: [registry],
  });
  const commits = new Histogram({
    name: "hookd_ingest_commit_events",
    help: "Events published through POST /events/ per commit (concurrent requests share one commit on SQLite)",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  new Gauge({
    name: "hookd_store_up",
    help: "1 while the store can be read and written, 0 while it is unavailable (the log says why, once per outage)",
    registers: [registry],
    collect() {
      this.set(health.up ? 1 : 0);
    },
  });
  new Gauge({
    name: "hookd_deliveries",
    help: "Deliveries in the store by status (pending is the backlog)",
    labelNames: ["status"] as const,
    registers: [registry],
    async collect() {
      // No number rather than a stale one: a scrape during an outage shows hookd_store_up 0 and no backlog.
      this.reset();
      if (!health.up) return;
      try {
        const query = db
          .selectFrom("deliveries")
          .select((eb) => ["status", eb.fn.countAll<number>().as("n")])
          .groupBy("status")
          .execute();
        const rows = await within(query, boundMs);
        const counts = new Map(rows.map((r) => [r.status, Number(r.n)]));
        for (const status of DELIVERY_STATUSES) this.set({ status }, counts.get(status) ?? 0);
      } catch (err) {
        // A scrape still gets the other metrics. A count slower than the bound is no outage
        // (a big table); other paths report a store that stopped answering.
        if (!(err instanceof NoAnswerError) && !health.failed(err)) logger.warn({ err: (err as Error).message }, "metrics: could not count deliveries");
      }
    },
  });

  return {
    registry,
    committed: (events) => commits.observe(events),
    observer: {
      attempt(outcome, verdict) {
        attempts.inc({ outcome: verdict, error: outcome.error ?? "none" });
        latency.observe(outcome.durationMs / 1000);
      },
      tick(summary) {
        ticks.observe(summary.duration_ms / 1000);
      },
      paced(deliveries) {
        paced.inc(deliveries);
      },
      breakerOpened() {
        opened.inc();
      },
    },
  };
}
