/**
 * Buffers attempt records and claim releases and writes them in batches: one
 * transaction (one fsync) per batch instead of per attempt. A crash loses at most the
 * unwritten records, and those deliveries are simply sent again after their lease:
 * duplicates, never losses. `room()` bounds that: sending waits while a whole batch
 * is unrecorded, so a crash duplicates at most what was in flight plus one batch.
 *
 * While the store is away (a restart, a failover, a pause) a batch is kept and written
 * again with capped backoff for as long as it is worth writing: until the leases of its
 * deliveries lapse (then another dispatcher may take them and send them again), or
 * until the process must stop (`abandon()`). Either way the deliveries are left to their
 * leases. Any other write error (a bug) gets a few tries.
 */
import type { Logger } from "pino";
import { recordAttempts, type AttemptRecord } from "../store/attempts.js";
import { releaseClaims } from "../store/leases.js";
import type { Db } from "../store/connect.js";
import type { BreakerRules } from "../domain/breaker.js";
import type { HealthChange, Outcomes } from "../store/endpointHealth.js";
import { backoffMs, outageOf } from "../store/outage.js";
import type { StoreHealth } from "../store/storeHealth.js";
import type { Clock } from "./clock.js";

/**
 * How long records wait for company before they are written. A commit writes every index
 * page its records touch, and a delivery's update touches about eight (four of them
 * keyed by webhook), so records spread over many webhooks share pages only when there
 * are many. At 250 ms rather than 100, a 20,000-delivery tick over 100 webhooks took 12%
 * less CPU in a slow phase of this machine, and the same CPU in a fast one (README,
 * "The tick's record writes"); the wait is bounded by the batch size either way.
 */
const FLUSH_DELAY_MS = 250;
/** When the per-webhook cap binds, leases that records end are room for every dispatcher. */
const HURRIED_FLUSH_DELAY_MS = 10;
/** Tries for a write that fails for another reason than the store being away. */
const WRITE_TRIES = 5;
/** Waits between tries while the store is away: from this, doubling, up to the cap. */
const RETRY_FIRST_MS = 100;
const RETRY_CAP_MS = 1_000;

interface Batch {
  records: AttemptRecord[];
  health: HealthChange[];
  /** per webhook, its outcomes for the breaker's shared memory */
  outcomes: Map<string, Outcomes>;
  releases: Map<string, string | undefined>;
  /** when the last lease among its deliveries lapses */
  until: number;
}

export class AttemptRecorder {
  private buffer: Batch = emptyBatch();
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** records handed to a write that has not committed yet */
  private writing = 0;
  private waiters: (() => void)[] = [];
  private delayMs = FLUSH_DELAY_MS;
  private abandoned = false;
  /** wakes a write waiting to try again, when abandoned */
  private wakeRetry: (() => void) | null = null;
  private gaveUp = false;

  constructor(
    private readonly db: Db,
    private readonly owner: string,
    private readonly logger: Logger,
    private readonly clock: Clock,
    /** records per transaction, and the most that may wait unrecorded */
    private readonly batchSize: number,
    /** where store errors are reported (the outage is logged there once) */
    private readonly health: StoreHealth | null = null,
    /** the breaker's rules, and who hears of a breaker the shared memory opened */
    private readonly breaker: { rules: BreakerRules; opened: (webhookId: string, reason: string) => void } | null = null,
  ) {}

  /**
   * An outcome for the webhook's shared breaker memory (`failed`: an endpoint failure),
   * written with the batch; `backoffUntil`: the first step's end, should it open.
   */
  remember(webhookId: string, failed: boolean, backoffUntil: number, error: string | null): void {
    // Failures are the shared memory's news: write them soon, so other dispatchers stop sooner.
    if (failed) this.soon();
    const o = this.buffer.outcomes.get(webhookId);
    if (o) {
      o.bits += failed ? "1" : "0";
      o.backoffUntil = backoffUntil;
      if (error) o.error = error;
    } else this.buffer.outcomes.set(webhookId, { webhookId, bits: failed ? "1" : "0", backoffUntil, error });
  }

  /** The attempt on a delivery whose lease ends at `leaseExpiresAt`. */
  add(record: AttemptRecord, leaseExpiresAt: number): void {
    this.buffer.records.push(record);
    this.buffer.until = Math.max(this.buffer.until, leaseExpiresAt);
    this.schedule();
  }

  /** A webhook-level change, written in the same transaction as the attempts. */
  changeHealth(change: HealthChange): void {
    this.buffer.health.push(change);
    this.schedule();
  }

  release(id: string, leaseExpiresAt: number, waitReason?: string): void {
    this.buffer.releases.set(id, waitReason);
    this.buffer.until = Math.max(this.buffer.until, leaseExpiresAt);
    this.schedule();
  }

  /**
   * Write sooner from now on: a webhook's room is what its leases leave, and a
   * finished delivery holds its lease until its record is written.
   */
  hurry(): void {
    this.delayMs = HURRIED_FLUSH_DELAY_MS;
  }

  /** Stop waiting for the store: what cannot be written now is left to its leases. */
  abandon(): void {
    this.abandoned = true;
    this.wakeRetry?.();
  }

  /** Sent but not yet recorded. */
  get unrecorded(): number {
    return this.writing + this.buffer.records.length;
  }

  /** Resolves once fewer than a batch of records wait to be written. */
  async room(): Promise<void> {
    while (this.unrecorded >= this.batchSize) {
      void this.flush();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Flush within the hurried delay, whatever the usual one. */
  private soon(): void {
    if (this.delayMs <= HURRIED_FLUSH_DELAY_MS) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), HURRIED_FLUSH_DELAY_MS);
  }

  private schedule(): void {
    const b = this.buffer;
    if (b.records.length + b.health.length + b.releases.size >= this.batchSize) {
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.delayMs);
    }
  }

  /** Write what is buffered; resolves when everything buffered so far is written (or given up on). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.buffer;
    if (batch.records.length === 0 && batch.health.length === 0 && batch.releases.size === 0) return this.chain;
    this.buffer = emptyBatch();
    this.writing += batch.records.length;
    this.chain = this.chain
      .then(() => this.write(batch))
      .finally(() => {
        this.writing -= batch.records.length;
        for (const wake of this.waiters.splice(0)) wake();
      });
    return this.chain;
  }

  private async write(batch: Batch): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const breaker = this.breaker ? { rules: this.breaker.rules, outcomes: [...batch.outcomes.values()] } : undefined;
        const opened = await recordAttempts(this.db, this.owner, batch.records, batch.health, this.clock.now(), breaker);
        for (const o of opened) this.breaker?.opened(o.webhookId, o.reason);
        const byReason = new Map<string | undefined, string[]>();
        for (const [id, reason] of batch.releases) byReason.set(reason, [...(byReason.get(reason) ?? []), id]);
        for (const [reason, ids] of byReason) await releaseClaims(this.db, this.owner, ids, reason);
        return;
      } catch (err) {
        const away = this.health ? this.health.failed(err) : outageOf(err) !== null;
        const worthIt = !this.abandoned && (away ? this.clock.now() < batch.until : attempt < WRITE_TRIES);
        if (!worthIt) return this.giveUp(batch, err);
        if (!away) this.logger.warn({ err: (err as Error).message, try: attempt }, "could not record attempts; retrying");
        await this.pause(away ? backoffMs(attempt, RETRY_FIRST_MS, RETRY_CAP_MS) : 200 * attempt);
      }
    }
  }

  /** The leases will lapse and these deliveries will be sent again: nothing is lost. Said once per recorder. */
  private giveUp(batch: Batch, err: unknown): void {
    if (this.gaveUp) return;
    this.gaveUp = true;
    this.logger.warn(
      { err: (err as Error).message, records: batch.records.length, releases: batch.releases.size },
      "could not record attempts; their deliveries will be sent again after their leases",
    );
  }

  /** Not unref'd: a `hookd tick` waiting out an outage must not exit with its results unwritten. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeRetry = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeRetry = done;
    });
  }
}

function emptyBatch(): Batch {
  return { records: [], health: [], outcomes: new Map(), releases: new Map(), until: Number.NEGATIVE_INFINITY };
}
