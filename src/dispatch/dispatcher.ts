/**
 * A tick: claim due deliveries in batches under a lease, send them with a global
 * concurrency limit and a per-webhook cap, record every attempt, until nothing due
 * (as of the tick's start) remains. No transaction is ever open across a request.
 *
 * Endpoint backoff: a webhook whose endpoint fails is "down" for the rest of the
 * tick (its queued deliveries go back unsent) and is recorded as failing; later
 * ticks send it a single probe until one succeeds. A webhook whose queue is long
 * (slow or dead receiver) is left out of further claims, so it cannot fill the
 * dispatcher with work that waits while healthy receivers could be served.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import pLimit, { type LimitFunction } from "p-limit";
import type { Agents } from "got";
import type { Logger } from "pino";
import { claimDue, claimProbes, countDue, expireWaiting, type ClaimedDelivery } from "../store/claims.js";
import { explainStoreError, type Db } from "../store/connect.js";
import { parseRetryAfter, type RetryPolicy } from "./backoff.js";
import { endpointBackoffUntil, endpointVerdict } from "./health.js";
import type { DispatchObserver } from "./observer.js";
import { AttemptRecorder } from "./recorder.js";
import { createAgents, destroyAgents, send, type AgentRules } from "./request.js";
import { decide } from "./result.js";

export interface DispatchSettings {
  concurrency: number;
  perWebhookConcurrency: number;
  batchSize: number;
  timeoutMs: number;
  leaseSeconds: number;
  shutdownGraceMs: number;
}

export interface TickSummary {
  started_at: string;
  duration_ms: number;
  /** deliveries claimed by this tick */
  claimed: number;
  delivered: number;
  /** retry budget spent: now `failed` */
  failed: number;
  /** attempt failed, retry scheduled */
  rescheduled: number;
  /** claimed but handed back unsent (endpoint backing off, shutdown, lease too short) */
  deferred: number;
  /** probes sent to failing webhooks */
  probes: number;
  /** true when a signal stopped the tick early */
  interrupted: boolean;
  /** set when the store could not be reached and the tick gave up early */
  error: string | null;
}

export interface TickProgress {
  /** due when the tick started */
  total: number;
  delivered: number;
  failed: number;
  rescheduled: number;
  deferred: number;
}

export interface TickOptions {
  /** Abort to stop: no more claims, queued claims are handed back, in-flight requests get `shutdownGraceMs`. */
  signal?: AbortSignal;
  onProgress?: (p: TickProgress) => void;
}

/** Margin kept between a request's deadline and its lease's end (less when leases are short). */
const LEASE_MARGIN_MS = 5_000;
const CLAIM_TRIES = 3;

export class Dispatcher {
  private readonly agents: Agents;
  private running: Promise<TickSummary> | null = null;
  private readonly observers = new Set<DispatchObserver>();

  constructor(
    private readonly db: Db,
    private readonly settings: DispatchSettings,
    private readonly policy: RetryPolicy,
    private readonly logger: Logger,
    /** named in error messages */
    private readonly storeLocation = "store",
    agentRules?: AgentRules,
  ) {
    this.agents = createAgents(agentRules);
  }

  /** Report attempts and ticks to `observer` (metrics); returns a function that stops it. */
  observe(observer: DispatchObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** One pass. Ticks never overlap: a call while one runs returns that one. */
  tick(options: TickOptions = {}): Promise<TickSummary> {
    if (!this.running) {
      this.running = this.runTick(options).finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  close(): void {
    destroyAgents(this.agents);
  }

  private async runTick(options: TickOptions): Promise<TickSummary> {
    const { settings, db, logger, policy } = this;
    const started = Date.now();
    const cutoff = started;
    const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const stop = options.signal;
    // The claim loop sleeps until a delivery finishes (or a stop arrives).
    let sleeper: (() => void) | null = null;
    const wake = () => {
      const s = sleeper;
      sleeper = null;
      s?.();
    };
    const nap = () => new Promise<void>((resolve) => (sleeper = resolve));
    // One controller per request, aborted together when the grace period ends. A
    // single shared signal would collect one listener per request ever sent (got
    // never removes its own), and adding to a long listener list is O(n).
    const inFlight = new Set<AbortController>();
    let graceTimer: NodeJS.Timeout | null = null;
    const onStop = () => {
      graceTimer = setTimeout(() => {
        for (const c of inFlight) c.abort();
      }, settings.shutdownGraceMs);
      graceTimer.unref();
      wake();
    };
    if (stop?.aborted) onStop();
    else stop?.addEventListener("abort", onStop, { once: true });

    const summary: TickSummary = {
      started_at: new Date(started).toISOString(),
      duration_ms: 0,
      claimed: 0,
      delivered: 0,
      failed: 0,
      rescheduled: 0,
      deferred: 0,
      probes: 0,
      interrupted: false,
      error: null,
    };
    const total = options.onProgress ? await countDue(db, cutoff) : 0;
    const progress = () =>
      options.onProgress?.({
        total,
        delivered: summary.delivered,
        failed: summary.failed,
        rescheduled: summary.rescheduled,
        deferred: summary.deferred,
      });

    const leaseMs = settings.leaseSeconds * 1000;
    const margin = Math.min(LEASE_MARGIN_MS, (leaseMs - settings.timeoutMs) / 2);
    const recorder = new AttemptRecorder(db, owner, logger);
    const global = pLimit(settings.concurrency);
    const perWebhook = new Map<string, LimitFunction>();
    const limiterFor = (webhookId: string) => {
      let l = perWebhook.get(webhookId);
      if (!l) {
        l = pLimit(settings.perWebhookConcurrency);
        perWebhook.set(webhookId, l);
      }
      return l;
    };
    /** webhooks whose endpoint failed during this tick: nothing more is sent to them */
    const down = new Set<string>();
    const batchSize = Math.max(settings.batchSize, settings.concurrency);
    /** a webhook with this many deliveries queued is left out of claims until half drain */
    const queueCap = Math.max(batchSize, settings.perWebhookConcurrency * 4);
    const busy = new Set<string>();
    /** the last claim found nothing; set back when a left-out webhook becomes claimable */
    let exhausted = false;

    const defer = (d: ClaimedDelivery, reason?: string) => {
      recorder.release(d.id, reason);
      summary.deferred++;
      progress();
    };

    const deliver = async (d: ClaimedDelivery): Promise<void> => {
      if (down.has(d.webhook_id)) return defer(d, "endpoint_backoff");
      // Never start a request that could outlive its lease: another dispatcher may
      // legitimately take the row then.
      if (stop?.aborted || Date.now() + settings.timeoutMs + margin > d.lease_expires_at) return defer(d);
      const controller = new AbortController();
      inFlight.add(controller);
      const outcome = await send(
        {
          url: d.url,
          body: Buffer.from(d.payload, "utf8"),
          secret: d.hash_secret,
          webhookId: d.webhook_id,
          eventId: d.event_id,
          deliveryId: d.id,
          topic: d.topic,
          attemptNumber: d.attempts + 1,
        },
        { timeoutMs: settings.timeoutMs, agents: this.agents, signal: controller.signal },
      ).finally(() => inFlight.delete(controller));
      // Cut off by shutdown: not an attempt. The receiver may have seen it; it will be sent again.
      if (outcome.error === "aborted") return defer(d);

      const now = Date.now();
      const { record, verdict } = decide(d, outcome, policy, now);
      for (const o of this.observers) o.attempt?.(outcome, verdict);
      recorder.add(record);
      summary[verdict]++;
      const endpoint = endpointVerdict(outcome);
      if (endpoint === "healthy" && (d.probe || down.has(d.webhook_id))) {
        down.delete(d.webhook_id);
        recorder.changeHealth({ kind: "up", webhookId: d.webhook_id });
        logger.info({ webhook: d.webhook_id }, "webhook recovered");
        // Written now, so the next claim sees the webhook healthy and drains its backlog.
        await recorder.flush();
        exhausted = false;
      } else if (endpoint !== "healthy" && !down.has(d.webhook_id)) {
        down.add(d.webhook_id);
        const error = record.lastError ?? "failed";
        if (endpoint === "gone") {
          recorder.changeHealth({ kind: "gone", webhookId: d.webhook_id, error: "410 Gone" });
          logger.warn({ webhook: d.webhook_id }, "receiver answered 410 Gone: webhook disabled");
        } else {
          const retryAfter = outcome.statusCode === 429 || outcome.statusCode === 503 ? parseRetryAfter(outcome.retryAfter ?? undefined, now) : null;
          const backoffUntil = endpointBackoffUntil(policy, d.consecutive_failures + 1, now, retryAfter);
          recorder.changeHealth({ kind: "down", webhookId: d.webhook_id, backoffUntil, error });
        }
      }
      if (verdict !== "delivered") {
        logger.warn(
          {
            webhook: d.webhook_id,
            delivery: d.id,
            event: d.event_id,
            attempt: record.attempt.number,
            status: outcome.statusCode,
            error: outcome.error,
            message: outcome.errorMessage,
            next: verdict === "failed" ? "failed" : new Date(record.nextAttemptAt!).toISOString(),
          },
          "delivery attempt failed",
        );
      }
      progress();
    };

    const outstanding = new Set<Promise<void>>();
    const queued = (webhookId: string) => {
      const l = perWebhook.get(webhookId);
      return l ? l.activeCount + l.pendingCount : 0;
    };
    const schedule = (batch: ClaimedDelivery[]) => {
      summary.claimed += batch.length;
      for (const d of batch) {
        if (d.probe) summary.probes++;
        const task: Promise<void> = limiterFor(d.webhook_id)(() => global(() => deliver(d)))
          .catch((err: unknown) => {
            // deliver() handles every request outcome; this is a bug guard, and the lease brings the row back.
            logger.error({ err: (err as Error).message, delivery: d.id }, "unexpected error while delivering");
          })
          .finally(() => {
            outstanding.delete(task);
            wake();
          });
        outstanding.add(task);
        if (queued(d.webhook_id) >= queueCap) busy.add(d.webhook_id);
      }
    };

    const claim = async (fn: () => Promise<ClaimedDelivery[]>): Promise<ClaimedDelivery[] | null> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn();
        } catch (err) {
          logger.warn({ err: (err as Error).message, try: attempt }, "could not claim deliveries");
          if (attempt >= CLAIM_TRIES) {
            const explained = explainStoreError(err, this.storeLocation)?.message ?? (err as Error).message;
            summary.error = `could not claim deliveries, will try again next tick: ${explained}`;
            return null;
          }
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    };

    try {
      // Housekeeping; if the store is busy it waits for the next tick.
      await expireWaiting(db, Date.now(), policy.maxAgeSeconds * 1000).catch((err: unknown) =>
        logger.warn({ err: (err as Error).message }, "could not expire deliveries that aged out while waiting"),
      );
      if (!stop?.aborted) {
        const probes = await claim(() => claimProbes(db, { owner, cutoff, now: Date.now(), leaseMs }));
        if (probes) schedule(probes);
      }

      // Enough work is queued when the global limiter has a batch waiting; what
      // waits behind a busy webhook's own cap does not count.
      const enoughWork = () => global.activeCount + global.pendingCount >= batchSize || outstanding.size >= batchSize * 4;
      while (!stop?.aborted && summary.error === null) {
        for (const id of busy) {
          if (queued(id) < queueCap / 2) {
            busy.delete(id);
            exhausted = false;
          }
        }
        // After an empty claim, claim again only when something could have
        // changed (a left-out webhook drained, a failing one recovered), not on
        // every finished request: each claim walks past the rows left out.
        if (exhausted || enoughWork()) {
          if (exhausted && outstanding.size === 0) break;
          await nap();
          continue;
        }
        const batch = await claim(() => claimDue(db, { owner, cutoff, now: Date.now(), limit: batchSize, leaseMs, excludeWebhooks: [...down, ...busy] }));
        if (batch === null) break;
        if (batch.length > 0) schedule(batch);
        else exhausted = true;
      }
      await Promise.all(outstanding);
    } finally {
      await recorder.flush();
      if (graceTimer) clearTimeout(graceTimer);
      stop?.removeEventListener("abort", onStop);
    }

    summary.interrupted = stop?.aborted ?? false;
    summary.duration_ms = Date.now() - started;
    logger.info(
      {
        claimed: summary.claimed,
        delivered: summary.delivered,
        failed: summary.failed,
        rescheduled: summary.rescheduled,
        deferred: summary.deferred,
        probes: summary.probes,
        duration_ms: summary.duration_ms,
        interrupted: summary.interrupted,
      },
      "tick",
    );
    for (const o of this.observers) o.tick?.(summary);
    return summary;
  }
}
