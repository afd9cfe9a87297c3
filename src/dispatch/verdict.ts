/**
 * What one attempt means, for its delivery and for its webhook as a whole. Pure:
 * `now` and the policy come in as arguments. The one place for the status rules:
 *
 * What the endpoint's failures add up to is the circuit breaker's (domain/breaker.ts):
 * a failure here reschedules its own delivery; only a probe's result, or 410, changes the
 * webhook as a whole.
 *
 * - 2xx: delivered; the endpoint is healthy.
 * - 3xx: not followed; a failure of the endpoint.
 * - 400, 409, 413, 415, 422: this payload's problem; retried, the endpoint stays healthy.
 * - 410: the receiver is gone; the webhook is disabled, its deliveries wait.
 * - 429, 503: a failure that may carry Retry-After, honoured when it asks for longer
 *   than the backoff (capped), for the delivery's retry and the endpoint's backoff alike.
 * - anything else, and every transport error: a failure of the endpoint.
 */
import type { AttemptRecord } from "../store/attempts.js";
import { attemptRow } from "../store/attempts.js";
import type { ClaimedDelivery } from "../store/claimed.js";
import type { HealthChange } from "../store/endpointHealth.js";
import { nextStep, parseRetryAfter, waitAfter, type RetryPolicy } from "../domain/retryPolicy.js";
import { isUnanswered } from "../domain/breaker.js";
import type { AttemptOutcome } from "./outcome.js";

export type Verdict = "delivered" | "rescheduled" | "failed";

/** Statuses that say "this payload", not "this endpoint". */
const PAYLOAD_STATUSES = new Set([400, 409, 413, 415, 422]);
/** Statuses whose Retry-After is honoured. */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

export type Endpoint = "healthy" | "failing" | "gone";

export interface Judgement {
  verdict: Verdict;
  /** the delivery's new state, with the attempts row */
  record: AttemptRecord;
  endpoint: Endpoint;
  /** nobody answered (timeout, refused, unreachable): counts toward the breaker's round rule */
  unanswered: boolean;
  /** the failure in words ("http 500", "timeout"), null when delivered */
  error: string | null;
  /** when the breaker would open now, its first (or, after a probe, next) step ends then */
  openUntil: number;
  /**
   * What to write about the webhook: a probe's success ends the backoff, its failure
   * starts the next step, 410 disables. Null when nothing changes at once (the breaker
   * decides on the rest).
   */
  change: HealthChange | null;
}

export type JudgedDelivery = Pick<ClaimedDelivery, "id" | "webhook_id" | "attempts" | "created_at" | "consecutive_failures" | "probe">;

export function judge(d: JudgedDelivery, outcome: AttemptOutcome, policy: RetryPolicy, now: number): Judgement {
  const number = d.attempts + 1;
  const attempt = attemptRow(d.id, number, outcome);
  const endpoint = endpointOf(outcome);
  const unanswered = isUnanswered(outcome.error);
  if (outcome.ok) {
    return {
      verdict: "delivered",
      record: { attempt, status: "delivered", nextAttemptAt: null, waitReason: null, lastError: null },
      endpoint,
      unanswered,
      error: null,
      openUntil: now,
      change: d.probe ? { kind: "up", webhookId: d.webhook_id } : null,
    };
  }
  const retryAfter = outcome.statusCode !== null && RETRY_AFTER_STATUSES.has(outcome.statusCode) ? parseRetryAfter(outcome.retryAfter ?? undefined, now) : null;
  const lastError = outcome.error === "http" ? `http ${outcome.statusCode}` : (outcome.error ?? "failed");
  const step = nextStep({ policy, attempts: number, createdAt: d.created_at, now, retryAfterSeconds: retryAfter });
  const record: AttemptRecord =
    step.kind === "failed"
      ? { attempt, status: "failed", nextAttemptAt: null, waitReason: null, lastError: `${lastError} (${step.reason})` }
      : {
          attempt,
          status: "pending",
          nextAttemptAt: step.at,
          waitReason: step.reason === "retry_after" ? "retry_after" : `backoff (attempt ${number} failed)`,
          lastError,
        };
  const openUntil = now + waitAfter(policy, d.consecutive_failures + 1, retryAfter).seconds * 1000;
  let change: HealthChange | null = null;
  if (endpoint === "gone") change = { kind: "gone", webhookId: d.webhook_id, error: "410 Gone" };
  else if (endpoint === "failing" && d.probe) {
    change = { kind: "down", webhookId: d.webhook_id, backoffUntil: openUntil, error: lastError, probe: true, reason: `the probe failed (${lastError})` };
  } else if (d.probe) change = { kind: "up", webhookId: d.webhook_id };
  return { verdict: step.kind === "failed" ? "failed" : "rescheduled", record, endpoint, unanswered, error: lastError, openUntil, change };
}

/** What an attempt says about the endpoint as a whole. */
function endpointOf(outcome: Pick<AttemptOutcome, "ok" | "statusCode" | "error">): Endpoint {
  if (outcome.ok) return "healthy";
  if (outcome.statusCode === 410) return "gone";
  if (outcome.error === "http" && outcome.statusCode !== null && PAYLOAD_STATUSES.has(outcome.statusCode)) return "healthy";
  return "failing";
}
