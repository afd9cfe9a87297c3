/**
 * Turn one attempt's outcome into the delivery's next state. Pure.
 */
import type { AttemptRecord, ClaimedDelivery } from "../store/claims.js";
import type { AttemptTable } from "../store/schema.js";
import { nextStep, parseRetryAfter, type RetryPolicy } from "./backoff.js";
import type { AttemptOutcome } from "./outcome.js";

export type Verdict = "delivered" | "rescheduled" | "failed";

/** The attempts row for an outcome. */
export function attemptRow(deliveryId: string, number: number, outcome: AttemptOutcome): AttemptTable {
  return {
    delivery_id: deliveryId,
    number,
    started_at: outcome.startedAt,
    duration_ms: outcome.durationMs,
    status_code: outcome.statusCode,
    error: outcome.error,
    error_message: outcome.errorMessage,
    response_body: outcome.responseBody,
  };
}

export function decide(
  d: Pick<ClaimedDelivery, "id" | "attempts" | "created_at">,
  outcome: AttemptOutcome,
  policy: RetryPolicy,
  now: number,
): { record: AttemptRecord; verdict: Verdict } {
  const number = d.attempts + 1;
  const attempt = attemptRow(d.id, number, outcome);
  if (outcome.ok) {
    return {
      verdict: "delivered",
      record: { attempt, status: "delivered", nextAttemptAt: null, waitReason: null, lastError: null },
    };
  }
  const honoursRetryAfter = outcome.statusCode === 429 || outcome.statusCode === 503;
  const step = nextStep({
    policy,
    attempts: number,
    createdAt: d.created_at,
    now,
    retryAfterSeconds: honoursRetryAfter ? parseRetryAfter(outcome.retryAfter ?? undefined, now) : null,
  });
  const lastError = outcome.error === "http" ? `http ${outcome.statusCode}` : outcome.error;
  if (step.kind === "failed") {
    return {
      verdict: "failed",
      record: { attempt, status: "failed", nextAttemptAt: null, waitReason: null, lastError: `${lastError} (${step.reason})` },
    };
  }
  return {
    verdict: "rescheduled",
    record: {
      attempt,
      status: "pending",
      nextAttemptAt: step.at,
      waitReason: step.reason === "retry_after" ? "retry_after" : `backoff (attempt ${number} failed)`,
      lastError,
    },
  };
}
