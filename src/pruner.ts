/**
 * Background retention for `hookd serve`: prune history older than `retention.days`
 * soon after start and then every hour, in small batches (see store/retention.ts) so
 * ticks are never held up. Runs never overlap; stop() ends the current run between
 * batches. Timers are unref'd: pruning never keeps the process alive.
 */
import type { Logger } from "pino";
import type { Db } from "./store/connect.js";
import { pruneBefore, type PruneCounts } from "./store/retention.js";
import type { StoreHealth } from "./store/storeHealth.js";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Leave start-up (migrations, the first tick) alone for a moment. */
const FIRST_RUN_DELAY_MS = 60_000;

/** Anything finished (or created) before this time is old enough to prune. */
export function retentionCutoff(now: number, days: number): number {
  return now - days * DAY_MS;
}

export class Pruner {
  private timer: NodeJS.Timeout | null = null;
  private readonly stopController = new AbortController();
  private current: Promise<PruneCounts> | null = null;

  constructor(
    private readonly db: Db,
    private readonly days: number,
    private readonly logger: Logger,
    /** where store errors are reported: an outage is logged there, once */
    private readonly health: StoreHealth | null = null,
    private readonly intervalMs = HOUR_MS,
  ) {}

  start(): void {
    if (this.timer || this.stopController.signal.aborted) return;
    const schedule = (delay: number) => {
      this.timer = setTimeout(() => {
        void this.run().finally(() => {
          if (!this.stopController.signal.aborted) schedule(this.intervalMs);
        });
      }, delay);
      this.timer.unref();
    };
    schedule(Math.min(FIRST_RUN_DELAY_MS, this.intervalMs));
  }

  /** One pass now (or the one already running). Errors are logged, not thrown: the next run tries again. */
  run(now = Date.now()): Promise<PruneCounts> {
    this.current ??= pruneBefore(this.db, retentionCutoff(now, this.days), { signal: this.stopController.signal })
      .then((counts) => {
        if (counts.deliveries + counts.events > 0) this.logger.info({ ...counts, days: this.days }, "pruned old history");
        return counts;
      })
      .catch((err: unknown) => {
        if (!this.health?.failed(err)) this.logger.warn({ err: (err as Error).message }, "pruning failed; will try again");
        return { deliveries: 0, attempts: 0, events: 0 };
      })
      .finally(() => {
        this.current = null;
      });
    return this.current;
  }

  /** Stop the timer and wait for a running pass to end at its next batch. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopController.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current;
  }
}
