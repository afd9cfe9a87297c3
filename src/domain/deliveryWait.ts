/**
 * When a pending delivery will really be tried, and why it waits, in words. Pure: the
 * delivery's row, its webhook's state and `now` come in as plain values. The one place
 * this wording lives: the API's delivery object (store/model.ts), `hookd deliveries
 * list` and the console all show what this returns.
 *
 * A delivery's own `next_attempt_at` is only its own schedule: while its webhook is
 * backing off as a whole (a circuit breaker open until `backoffUntil`), nothing but one
 * probe is sent to it before then, so the real time is the later of the two; and a
 * switched-off webhook sends nothing at all.
 */

export interface WaitingDelivery {
  status: "pending" | "delivered" | "failed" | "cancelled";
  /** attempts made so far */
  attempts: number;
  /** the delivery's own due time (its `next_attempt_at` column) */
  dueAt: number;
  /** the stored code: backoff (attempt N failed), retry_after, endpoint_backoff, manual_retry, webhook_disabled, or null */
  waitReason: string | null;
  lastStatusCode: number | null;
  /** the last attempt's error class (timeout, refused, …) or "http 500" */
  lastError: string | null;
  /** when the row last changed: after a failed attempt, when the receiver answered */
  updatedAt: number;
  /** a dispatcher holds it until then (it is being sent), or null */
  leasedUntil: number | null;
}

export interface WaitingWebhook {
  active: boolean;
  /** why hookd switched it off itself (e.g. "410 Gone"), or null */
  disabledReason: string | null;
  /** set while the webhook as a whole is failing (the breaker is not closed) */
  failingSince: number | null;
  consecutiveFailures: number;
  /** nothing but the probe is sent before this time (the breaker is open until then) */
  backoffUntil: number | null;
  /** the delivery's retry budget */
  maxAttempts: number;
  /** deliveries started per second at most (`rate_limit`), or null */
  rateLimit?: number | null;
  /** an ordered webhook's head: the pending delivery that goes before all its others */
  head?: string | null;
}

export interface DeliveryWait {
  /** when it will be tried at the earliest (the first tick at or after this sends it), or null: not until someone acts */
  at: number | null;
  /** why, in words, for people */
  message: string;
}

/** A receiver's answer or a transport error, as a person says it. */
const ERRORS: Record<string, string> = {
  timeout: "a timeout",
  refused: "connection refused",
  reset: "the connection reset",
  dns: "a DNS failure",
  tls: "a TLS error",
  protocol: "a malformed HTTP answer",
  unreachable: "the host unreachable",
  redirect: "a redirect (not followed)",
  blocked: "a blocked address",
  network: "a network error",
  aborted: "an interrupted attempt",
};

export function outcomeWords(statusCode: number | null, error: string | null): string {
  if (statusCode !== null) return `HTTP ${statusCode}`;
  if (error === null) return "a failed attempt";
  return ERRORS[error] ?? error;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

/** What the webhook's own state says, or null when it does not hold the delivery back. */
function webhookHold(w: WaitingWebhook): string | null {
  if (w.failingSince === null) return null;
  return w.consecutiveFailures > 0
    ? `the endpoint is backing off after ${plural(w.consecutiveFailures, "failure")} in a row`
    : "the endpoint is backing off after too many recent failures";
}

/** Why a switched-off webhook sends nothing. */
function disabledWords(w: WaitingWebhook): string {
  if (w.disabledReason === null) return "webhook disabled: enable it to send this delivery";
  const answered = /^\d{3}\b/.test(w.disabledReason) ? `the receiver answered ${w.disabledReason}` : w.disabledReason;
  return `webhook disabled by hookd: ${answered}; enable it again to send this delivery`;
}

/** The delivery's own reason to wait, from its row. */
function ownReason(d: WaitingDelivery, w: WaitingWebhook): string {
  if (d.waitReason === "manual_retry") return `put back in line by hand after ${plural(d.attempts, "attempt")}`;
  if (d.attempts === 0) return "first attempt";
  const next = d.attempts < w.maxAttempts ? `attempt ${d.attempts + 1} of ${w.maxAttempts}` : `attempt ${d.attempts + 1}`;
  const after = `${next} after ${outcomeWords(d.lastStatusCode, d.lastError)}`;
  if (d.waitReason !== "retry_after") return after;
  const seconds = Math.round((d.dueAt - d.updatedAt) / 1000);
  return seconds > 0 ? `${after}: the receiver asked to wait ${seconds} s (Retry-After)` : `${after}, as the receiver's Retry-After asked`;
}

/** Null for a delivery that no longer waits (delivered, failed, cancelled). */
export function deliveryWait(d: WaitingDelivery, w: WaitingWebhook, now: number): DeliveryWait | null {
  if (d.status !== "pending") return null;
  if (d.leasedUntil !== null && d.leasedUntil > now) return { at: d.dueAt, message: `being sent now (${ownReason(d, w)})` };
  if (!w.active) return { at: null, message: disabledWords(w) };
  const own = ownReason(d, w);
  const hold = webhookHold(w);
  const held = hold !== null && w.backoffUntil !== null && w.backoffUntil > d.dueAt;
  const at = held ? w.backoffUntil! : d.dueAt;
  const paced = w.rateLimit ? `, paced by the webhook's rate limit (${w.rateLimit} per second)` : "";
  const tick = at <= now ? `the next tick sends it${paced}` : `the first tick after that sends it${paced}`;
  if (hold === null) return { at, message: `${own}; ${tick}` };
  if (!held) return { at, message: `${own}; ${hold}: a probe goes first, and ${tick} once one succeeds` };
  // Only the probe goes before the breaker closes; the rest follow it in the same tick.
  const probe = at <= now ? "a probe tests it at the next tick" : "a probe tests it then";
  return { at, message: `${own}, held: ${hold}; ${probe}, and this delivery follows once one succeeds` };
}
