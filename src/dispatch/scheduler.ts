/**
 * `hookd serve`'s clock: node-cron fires a tick on `dispatch.schedule`. A firing
 * while a tick still runs is skipped (ticks never overlap); stop() ends the schedule
 * and drains the running tick.
 *
 * Each firing starts after a random delay (startJitterMs), so dispatchers on several
 * machines sharing a schedule do not all claim in the same second. Nothing else is
 * coordinated: claims are safe to race, the jitter only spreads the load.
 *
 * A tick the store cut short is followed by another as soon as the store is back
 * (tickResume.ts), whatever the schedule.
 */
import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import type { StoreHealth } from "../store/storeHealth.js";
import type { Dispatcher, TickSummary } from "./dispatcher.js";
import { TickResume } from "./tickResume.js";

export class Scheduler {
  private task: ScheduledTask | null = null;
  private readonly stopController = new AbortController();
  private current: Promise<TickSummary> | null = null;
  /** a firing waiting out its jitter */
  private waiting = false;
  private jitterTimer: NodeJS.Timeout | null = null;
  private readonly resume: TickResume;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly expression: string,
    private readonly logger: Logger,
    health: StoreHealth | null = null,
  ) {
    // A tick is running already: it reports its own end here.
    this.resume = new TickResume(health, () => void (this.dispatcher.busy || this.fire()));
  }

  start(): void {
    if (this.task) return;
    this.task = cron.schedule(this.expression, () => this.fireJittered(), { name: "hookd-dispatch", noOverlap: true });
    this.logger.info({ schedule: this.expression, next: this.nextRun()?.toISOString() ?? null }, "scheduler started");
  }

  nextRun(): Date | null {
    return this.task?.getNextRun() ?? null;
  }

  /** A scheduled firing: the tick starts after a random part of the schedule's interval. */
  private fireJittered(): void {
    if (this.waiting || this.stopController.signal.aborted) return;
    const runs = this.task?.getNextRuns(2) ?? [];
    const interval = runs.length === 2 ? runs[1]!.getTime() - runs[0]!.getTime() : 60_000;
    this.waiting = true;
    this.jitterTimer = setTimeout(
      () => {
        this.waiting = false;
        this.jitterTimer = null;
        this.fire();
      },
      startJitterMs(interval, Math.random()),
    );
    this.jitterTimer.unref();
  }

  /** Run a tick now unless one is running. */
  fire(): Promise<TickSummary> | null {
    if (this.stopController.signal.aborted) return null;
    if (this.dispatcher.busy) {
      this.logger.warn("previous tick still running; skipping this one");
      return null;
    }
    const run = this.dispatcher.tick({ signal: this.stopController.signal });
    this.current = run;
    run
      .then(
        (summary) => this.resume.ended(summary.error !== null),
        (err: unknown) => {
          this.logger.error({ err: (err as Error).message }, "tick failed");
          this.resume.ended(true);
        },
      )
      .finally(() => {
        if (this.current === run) this.current = null;
      });
    return run;
  }

  /** Stop firing, stop the running tick from claiming, wait for it to hand back and record. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopController.abort();
    this.resume.stop();
    if (this.jitterTimer) clearTimeout(this.jitterTimer);
    this.waiting = false;
    if (this.task) {
      await this.task.stop();
      await this.task.destroy();
      this.task = null;
    }
    await this.current?.catch(() => undefined);
  }
}

/** At most a tenth of the interval between firings, and never more than this. */
const MAX_JITTER_MS = 30_000;

/**
 * How long a firing waits before its tick: up to a tenth of the schedule's interval
 * (30 s at most), scaled by `random` in [0, 1). Pure.
 */
export function startJitterMs(intervalMs: number, random: number): number {
  return Math.floor(Math.min(intervalMs / 10, MAX_JITTER_MS) * random);
}
