/**
 * `hookd serve`'s clock: node-cron fires a tick on `dispatch.schedule`. A firing
 * while a tick still runs is skipped (ticks never overlap); stop() ends the schedule
 * and drains the running tick.
 */
import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import type { Dispatcher, TickSummary } from "./dispatcher.js";

export class Scheduler {
  private task: ScheduledTask | null = null;
  private readonly stopController = new AbortController();
  private current: Promise<TickSummary> | null = null;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly expression: string,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.task) return;
    this.task = cron.schedule(this.expression, () => this.fire(), { name: "hookd-dispatch", noOverlap: true });
    this.logger.info({ schedule: this.expression, next: this.nextRun()?.toISOString() ?? null }, "scheduler started");
  }

  nextRun(): Date | null {
    return this.task?.getNextRun() ?? null;
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
      .catch((err: unknown) => this.logger.error({ err: (err as Error).message }, "tick failed"))
      .finally(() => {
        if (this.current === run) this.current = null;
      });
    return run;
  }

  /** Stop firing, stop the running tick from claiming, wait for it to hand back and record. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopController.abort();
    if (this.task) {
      await this.task.stop();
      await this.task.destroy();
      this.task = null;
    }
    await this.current?.catch(() => undefined);
  }
}
