/**
 * What `hookd status` reports, as JSON: the backlog, what is due, the next tick and
 * each failing webhook's next try. Shared by the CLI and the API's GET /stats/. Pure.
 */
import { breakerState } from "../domain/breaker.js";
import { nextEligibleAt, type StatusSnapshot } from "../store/status.js";
import { firstTickAtOrAfter } from "./ticks.js";

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
        breaker: w.failing_since === null ? null : breakerState(w, ctx.now),
        breaker_reason: w.breaker_reason,
        pending: w.pending,
        failed: w.failed,
        backoff_until: iso(w.backoff_until),
        next_attempt_at: iso(eligible[i]),
        next_tick_at: eligible[i] === null ? null : iso(firstTickAtOrAfter(ticks, eligible[i]!)?.getTime()),
      })),
    },
    rate_limited_webhooks: s.limited,
  };
}
