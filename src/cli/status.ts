/** status: backlog by status, due now, next tick, failing webhooks. */
import type { Command } from "commander";
import { firstTickAtOrAfter, upcomingTicks } from "../dispatch/ticks.js";
import { nextEligibleAt, readStatus, type StatusSnapshot } from "../store/status.js";
import { readOnly, withApp } from "./context.js";
import { printJson, printLines, table } from "./output.js";

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export interface StatusContext {
  now: number;
  database: string;
  env: string;
  schedule: string;
  /** the schedule's next ticks, at least up to lookahead() */
  ticks: readonly Date[];
}

/** How far ahead the ticks must be known: until the last failing webhook is eligible again. */
export function lookahead(s: StatusSnapshot, now: number): number {
  return Math.max(now, ...s.failing.map((w) => nextEligibleAt(w) ?? 0));
}

/** The --json shape. Each failing webhook says when it is eligible again and which tick will try it. */
export function statusJson(s: StatusSnapshot, ctx: StatusContext) {
  const { ticks } = ctx;
  const eligible = s.failing.map((w) => nextEligibleAt(w));
  return {
    database: ctx.database,
    env: ctx.env,
    schedule: ctx.schedule,
    now: iso(ctx.now),
    next_tick_at: iso(ticks[0]?.getTime()),
    backlog: s.backlog,
    due_now: s.dueNow,
    failing_webhooks: {
      count: s.failingCount,
      results: s.failing.map((w, i) => ({
        id: w.id,
        customer: w.customer_id,
        url: w.url,
        topic: w.topic,
        active: w.active === 1,
        failing_since: iso(w.failing_since),
        consecutive_failures: w.consecutive_failures,
        last_error: w.last_failure,
        disabled_reason: w.disabled_reason,
        pending: w.pending,
        failed: w.failed,
        backoff_until: iso(w.backoff_until),
        next_attempt_at: iso(eligible[i]),
        next_tick_at: eligible[i] === null ? null : iso(firstTickAtOrAfter(ticks, eligible[i]!)?.getTime()),
      })),
    },
  };
}

export function statusLines(j: ReturnType<typeof statusJson>): string[] {
  const b = j.backlog;
  const failing = j.failing_webhooks;
  const lines = [
    `database   ${j.database} (${j.env})`,
    `next tick  ${j.next_tick_at ?? "-"} (schedule ${j.schedule})`,
    `backlog    pending ${b.pending} (due now ${j.due_now}), failed ${b.failed}, delivered ${b.delivered}, cancelled ${b.cancelled}`,
    `failing    ${failing.count} webhook(s)${failing.count > failing.results.length ? `, the ${failing.results.length} failing longest below` : ""}`,
  ];
  if (failing.results.length === 0) return lines;
  const rows = failing.results.map((w) => ({
    ...w,
    since: w.failing_since,
    failures: w.consecutive_failures,
    error: w.disabled_reason ? `${w.last_error} (switched off)` : w.last_error,
    next_try: w.next_tick_at,
  }));
  return [...lines, "", ...table(rows, ["id", "topic", "url", "since", "failures", "pending", "error", "next_try"])];
}

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("backlog by status, due now, next tick, failing webhooks")
    .action((_opts, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        const now = Date.now();
        const snapshot = await readStatus(app.store.db, now);
        const schedule = app.config.dispatch.schedule;
        const ticks = upcomingTicks(schedule, lookahead(snapshot, now));
        const out = statusJson(snapshot, { now, database: app.store.location, env: app.config.env, schedule, ticks });
        if (json) printJson(out);
        else printLines(statusLines(out));
      }, readOnly),
    );
}
