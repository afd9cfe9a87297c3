/**
 * A tick: claim due deliveries in batches under a lease, send them with a global
 * concurrency limit and a per-webhook cap, record every attempt, until nothing due
 * (as of the tick's start) remains. No transaction is ever open across a request.
 */
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import pLimit, { type LimitFunction } from "p-limit";
import type { Agents } from "got";
import type { Logger } from "pino";
import { claimDue, countDue, type ClaimedDelivery } from "../store/claims.js";
import type { Db } from "../store/connect.js";
import type { RetryPolicy } from "./backoff.js";
import { AttemptRecorder } from "./recorder.js";
import { createAgents, destroyAgents, send } from "./request.js";
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
  /** claimed but handed back unsent (shutdown, lease too short); due again at once */
  deferred: number;
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

  constructor(
    private readonly db: Db,
    private readonly settings: DispatchSettings,
    private readonly policy: RetryPolicy,
    private readonly logger: Logger,
  ) {
    this.agents = createAgents();
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
    const { settings, db, logger } = this;
    const started = Date.now();
    const cutoff = started;
    const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const stop = options.signal;
    const hard = new AbortController();
    // Every request in flight listens on it: not a leak, so no MaxListenersExceededWarning.
    setMaxListeners(settings.concurrency + 16, hard.signal);
    let graceTimer: NodeJS.Timeout | null = null;
    const onStop = () => {
      graceTimer = setTimeout(() => hard.abort(), settings.shutdownGraceMs);
      graceTimer.unref();
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

    const deliver = async (d: ClaimedDelivery): Promise<void> => {
      // Never start a request that could outlive its lease: another dispatcher may
      // legitimately take the row then.
      if (stop?.aborted || Date.now() + settings.timeoutMs + margin > d.lease_expires_at) {
        recorder.release(d.id);
        summary.deferred++;
        progress();
        return;
      }
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
        { timeoutMs: settings.timeoutMs, agents: this.agents, signal: hard.signal },
      );
      if (outcome.error === "aborted") {
        // Cut off by shutdown: not an attempt. The receiver may have seen it; it will be sent again.
        recorder.release(d.id);
        summary.deferred++;
        progress();
        return;
      }
      const { record, verdict } = decide(d, outcome, this.policy, Date.now());
      recorder.add(record);
      summary[verdict]++;
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

    // Bound what is claimed but not yet finished, so memory stays flat on any backlog,
    // and claim whole batches only: refilling each freed slot made one claim (a write,
    // an fsync) per delivery once the bound was reached. Half the bound or more stays
    // queued while a batch is claimed, so the senders never run dry.
    const maxOutstanding = Math.max(settings.batchSize * 2, settings.concurrency * 2);
    const refillAt = maxOutstanding - Math.min(settings.batchSize, maxOutstanding / 2);
    const outstanding = new Set<Promise<void>>();
    /** one waiter woken when outstanding falls to refillAt (not a Promise.race over every task) */
    let roomFreed: (() => void) | null = null;
    let claimFailures = 0;
    while (!stop?.aborted) {
      if (outstanding.size > refillAt) {
        await new Promise<void>((resolve) => (roomFreed = resolve));
        continue;
      }
      let batch: ClaimedDelivery[];
      try {
        const now = Date.now();
        batch = await claimDue(db, {
          owner,
          cutoff,
          now,
          limit: Math.min(settings.batchSize, maxOutstanding - outstanding.size),
          leaseMs,
        });
        claimFailures = 0;
      } catch (err) {
        claimFailures++;
        logger.warn({ err: (err as Error).message, try: claimFailures }, "could not claim deliveries");
        if (claimFailures >= CLAIM_TRIES) {
          summary.error = `could not claim deliveries: ${(err as Error).message}`;
          break;
        }
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (batch.length === 0) break;
      summary.claimed += batch.length;
      for (const d of batch) {
        const task = limiterFor(d.webhook_id)(() => global(() => deliver(d)))
          .catch((err: unknown) => {
            // deliver() handles every request outcome; this is a bug guard, and the lease brings the row back.
            logger.error({ err: (err as Error).message, delivery: d.id }, "unexpected error while delivering");
          })
          .finally(() => {
            outstanding.delete(task);
            if (roomFreed && outstanding.size <= refillAt) {
              const wake = roomFreed;
              roomFreed = null;
              wake();
            }
          });
        outstanding.add(task);
      }
    }
    await Promise.all(outstanding);
    await recorder.flush();
    if (graceTimer) clearTimeout(graceTimer);
    stop?.removeEventListener("abort", onStop);

    summary.interrupted = stop?.aborted ?? false;
    summary.duration_ms = Date.now() - started;
    logger.info(
      {
        claimed: summary.claimed,
        delivered: summary.delivered,
        failed: summary.failed,
        rescheduled: summary.rescheduled,
        deferred: summary.deferred,
        duration_ms: summary.duration_ms,
        interrupted: summary.interrupted,
      },
      "tick",
    );
    return summary;
  }
}
