/**
 * Buffers attempt records and claim releases and writes them in small batches: one
 * transaction (one fsync) per batch instead of per attempt. A crash loses at most the
 * unwritten buffer, and those deliveries are simply sent again after their lease:
 * duplicates, never losses.
 */
import type { Logger } from "pino";
import { recordAttempts, releaseClaims, type AttemptRecord, type HealthChange } from "../store/claims.js";
import type { Db } from "../store/connect.js";

const FLUSH_SIZE = 500;
const FLUSH_DELAY_MS = 100;
const WRITE_TRIES = 5;

export class AttemptRecorder {
  private records: AttemptRecord[] = [];
  private health: HealthChange[] = [];
  private releases = new Map<string, string | undefined>();
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly owner: string,
    private readonly logger: Logger,
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

  private schedule(): void {
    if (this.records.length + this.health.length + this.releases.size >= FLUSH_SIZE) {
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
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
    this.chain = this.chain.then(() => this.write(records, health, releases));
    return this.chain;
  }

  private async write(records: AttemptRecord[], health: HealthChange[], releases: Map<string, string | undefined>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await recordAttempts(this.db, this.owner, records, health);
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
