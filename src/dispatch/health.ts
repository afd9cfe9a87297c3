/**
 * Endpoint health: which failures are the endpoint's (back the whole webhook off)
 * and which are one delivery's, and how long the webhook waits. Pure.
 */
import { delayAfter, type RetryPolicy } from "./backoff.js";
import type { AttemptOutcome } from "./outcome.js";

/** Statuses that say "this payload", not "this endpoint": the webhook stays healthy. */
const PAYLOAD_STATUSES = new Set([400, 409, 413, 415, 422]);

export type EndpointVerdict = "healthy" | "failing" | "gone";

/** What an attempt says about the endpoint as a whole. */
export function endpointVerdict(outcome: Pick<AttemptOutcome, "ok" | "statusCode" | "error">): EndpointVerdict {
  if (outcome.ok) return "healthy";
  if (outcome.statusCode === 410) return "gone";
  if (outcome.error === "http" && outcome.statusCode !== null && PAYLOAD_STATUSES.has(outcome.statusCode)) return "healthy";
  return "failing";
}

/**
 * When a failing endpoint may be probed again: the retry schedule indexed by how
 * many times in a row it has failed, or the receiver's own Retry-After if longer (capped).
 */
export function endpointBackoffUntil(policy: RetryPolicy, consecutiveFailures: number, now: number, retryAfterSeconds: number | null): number {
  const own = delayAfter(policy, consecutiveFailures);
  const asked = retryAfterSeconds === null ? 0 : Math.min(retryAfterSeconds, policy.retryAfterMaxSeconds);
  return now + Math.max(own, asked) * 1000;
}
