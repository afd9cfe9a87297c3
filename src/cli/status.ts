/** status: backlog by status, due now, next tick, failing webhooks. */
import type { Command } from "commander";
import { lookahead, statusJson } from "../dispatch/statusReport.js";
import { upcomingTicks } from "../dispatch/ticks.js";
import type { Keyring } from "../domain/secretBox.js";
import type { Db } from "../store/connect.js";
import { keyUsage } from "../store/sealedColumns.js";
import { readStatus, secretWaits } from "../store/status.js";
import { readOnly, withApp } from "./context.js";
import { printJson, printLines, table } from "./output.js";
import { describeUsage } from "./secrets.js";

/** Which keys the stored secrets are sealed under, which of those the key file lacks, and what waits for them. */
async function secretsStatus(db: Db, keyring: Keyring) {
  const usage = await keyUsage(db);
  return {
    first_key: keyring.primaryId || null,
    by_key: usage.byKey,
    in_clear: usage.plaintext,
    missing_keys: Object.keys(usage.byKey).filter((id) => !keyring.ids.includes(id)),
    waiting: await secretWaits(db),
  };
}

function secretsLines(s: Awaited<ReturnType<typeof secretsStatus>>): string[] {
  const usage = describeUsage({ byKey: s.by_key, plaintext: s.in_clear });
  const lines = [`secrets    ${usage}${s.first_key ? ` (the key file's first key: "${s.first_key}")` : " (no key file)"}`];
  if (s.in_clear > 0) lines.push(`           ${s.in_clear} stored in clear: run \`hookd migrate\` to encrypt them`);
  if (s.missing_keys.length > 0) lines.push(`           the key file lacks ${s.missing_keys.map((id) => `"${id}"`).join(", ")}: those secrets cannot sign`);
  for (const w of s.waiting) lines.push(`           ${w.deliveries} delivery(ies) to ${w.webhooks} webhook(s) wait, unsent: ${w.reason}`);
  return lines;
}

/** `extra`: lines about the store as a whole, after the backlog and before the failing webhooks. */
export function statusLines(j: ReturnType<typeof statusJson>, extra: string[] = []): string[] {
  const b = j.backlog;
  const failing = j.failing_webhooks;
  const lines = [
    `database   ${j.database} (${j.env})`,
    `next tick  ${j.next_tick_at ?? "-"} (schedule ${j.schedule})`,
    `backlog    pending ${b.pending} (due now ${j.due_now}), failed ${b.failed}, delivered ${b.delivered}, cancelled ${b.cancelled}`,
    ...extra,
    `failing    ${failing.count} webhook(s)${failing.count > failing.results.length ? `, the ${failing.results.length} failing longest below` : ""}`,
  ];
  for (const w of j.rate_limited_webhooks) lines.push(`limited    ${w.url} (${w.id}): ${w.rate_limit}/s, ${w.due} due now`);
  if (failing.results.length === 0) return lines;
  const rows = failing.results.map((w) => ({
    ...w,
    since: w.failing_since,
    failures: w.consecutive_failures,
    error: w.disabled_reason ? `${w.last_error} (switched off)` : w.last_error,
    breaker: w.breaker === null ? "-" : `${w.breaker}${w.breaker_reason ? `: ${w.breaker_reason}` : ""}`,
    next_try: w.next_tick_at,
  }));
  return [...lines, "", ...table(rows, ["id", "topic", "url", "since", "failures", "pending", "error", "breaker", "next_try"])];
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
          const secrets = await secretsStatus(app.store.db, app.keyring);
          if (json) printJson({ ...out, secrets });
          else printLines(statusLines(out, secretsLines(secrets)));
        },
        readOnly,
      ),
    );
}
