/** status: backlog by status, due now, next tick, failing webhooks. */
import type { Command } from "commander";
import { lookahead, statusJson } from "../dispatch/statusReport.js";
import { upcomingTicks } from "../dispatch/ticks.js";
import { readStatus } from "../store/status.js";
import { readOnly, withApp } from "./context.js";
import { printJson, printLines, table } from "./output.js";

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
      withApp(
        cmd,
        async (app, json) => {
          const now = Date.now();
          const snapshot = await readStatus(app.store.db, now);
          const schedule = app.config.dispatch.schedule;
          const ticks = upcomingTicks(schedule, lookahead(snapshot, now));
          const out = statusJson(snapshot, { now, database: app.store.location, env: app.config.env, schedule, ticks });
          if (json) printJson(out);
          else printLines(statusLines(out));
        },
        readOnly,
      ),
    );
}
