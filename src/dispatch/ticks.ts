/**
 * When the scheduler will tick: node-cron's own parser and matcher, so what
 * `hookd status` says is what `hookd serve` does (same expression, same local time zone).
 */
import cron from "node-cron";

/** Enough to look a few days ahead on a per-minute schedule; status only needs the next try of each webhook. */
const MAX_TICKS = 5_000;

/**
 * Ticks from now on, up to and including the first at or after `until` (or MAX_TICKS).
 * The task is created stopped and destroyed at once: nothing is scheduled.
 */
export function upcomingTicks(expression: string, until: number): Date[] {
  const task = cron.createTask(expression, () => undefined);
  try {
    let count = 1;
    let ticks = task.getNextRuns(count);
    while ((ticks.at(-1)?.getTime() ?? Infinity) < until && count < MAX_TICKS) {
      count = Math.min(count * 4, MAX_TICKS);
      ticks = task.getNextRuns(count);
    }
    return ticks;
  } finally {
    void task.destroy();
  }
}

/** The first tick at or after `at` (ticks ascending), or null if beyond those known. */
export function firstTickAtOrAfter(ticks: readonly Date[], at: number): Date | null {
  return ticks.find((t) => t.getTime() >= at) ?? null;
}
