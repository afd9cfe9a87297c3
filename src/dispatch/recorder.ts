/**
 * Buffers attempt records and claim releases and writes them in batches: one
 * transaction (one fsync) per batch instead of per attempt. A crash loses at most the
 * unwritten records, and those deliveries are simply sent again after their lease:
 * duplicates, never losses. `room()` bounds that: sending waits while a whole batch
 * is unrecorded, so a crash duplicates at most what was in flight plus one batch.
 */
import type { Logger } from "pino";
import { recordAttempts, type AttemptRecord } from "../store/attempts.js";
import { releaseClaims } from "../store/claims.js";
import type { Db } from "../store/connect.js";
import type { HealthChange } from "../store/endpointHealth.js";
import type { Clock } from "./clock.js";

const FLUSH_DELAY_MS = 100;
/** When the per-webhook cap binds, leases that records end are room for every dispatcher. */
const HURRIED_FLUSH_DELAY_MS = 10;
const WRITE_TRIES = 5;

export class AttemptRecorder {
  private records: AttemptRecord[] = [];
  private health: HealthChange[] = [];
  private releases = new Map<string, string | undefined>();
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** records handed to a write that has not committed yet */
  private writing = 0;
  private waiters: (() => void)[] = [];
  private delayMs = FLUSH_DELAY_MS;

  constructor(
    private readonly db: Db,
    private readonly owner: string,
    private readonly logger: Logger,
    private readonly clock: Clock,
    /** records per transaction, and the most that may wait unrecorded */
    private readonly batchSize: number,
  ) {}

  add(record: AttemptRecord): void {
    this.records.push(record);
    this.schedule();
  }

  /** A webhook-level change, written in the same transaction as the attempts. */
  changeHealth(change: HealthChange): void {
    this.health.push(change);
    this.schedule();
  }

  release(id: string, waitReason?: string): void {
    this.releases.set(id, waitReason);
    this.schedule();
  }

  /**
   * Write sooner from now on: a webhook's room is what its leases leave, and a
   * finished delivery holds its lease until its record is written.
   */
  hurry(): void {
    this.delayMs = HURRIED_FLUSH_DELAY_MS;
  }

  /** Sent but not yet recorded. */
  get unrecorded(): number {
    return this.writing + this.records.length;
  }

  /** Resolves once fewer than a batch of records wait to be written. */
  async room(): Promise<void> {
    while (this.unrecorded >= this.batchSize) {
      void this.flush();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private schedule(): void {
    if (this.records.length + this.health.length + this.releases.size >= this.batchSize) {
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
    const records = this.records;
    const health = this.health;
    const releases = this.releases;
    this.records = [];
    this.health = [];
    this.releases = new Map();
    if (records.length === 0 && health.length === 0 && releases.size === 0) return this.chain;
    this.writing += records.length;
    this.chain = this.chain
      .then(() => this.write(records, health, releases))
      .finally(() => {
        this.writing -= records.length;
        for (const wake of this.waiters.splice(0)) wake();
      });
    return this.chain;
  }

  private async write(records: AttemptRecord[], health: HealthChange[], releases: Map<string, string | undefined>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await recordAttempts(this.db, this.owner, records, health, this.clock.now());
        const byReason = new Map<string | undefined, string[]>();
        for (const [id, reason] of releases) byReason.set(reason, [...(byReason.get(reason) ?? []), id]);
        for (const [reason, ids] of byReason) await releaseClaims(this.db, this.owner, ids, reason);
        return;
      } catch (err) {
        if (attempt >= WRITE_TRIES) {
          // The leases will lapse and these deliveries will be sent again: nothing is lost.
          this.logger.error(
            { err: (err as Error).message, records: records.length, releases: releases.size },
            "could not record attempts; their deliveries will be retried after the lease",
          );
          return;
        }
        this.logger.warn({ err: (err as Error).message, try: attempt }, "store busy while recording attempts; retrying");
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }
}
