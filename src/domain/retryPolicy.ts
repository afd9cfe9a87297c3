/**
 * What happens after a failed attempt. Pure: `now` and the policy come in as
 * arguments, so the schedule is tested with literal tables.
 */

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly maxAgeSeconds: number;
  /** delay after attempt 1, 2, …; the last one repeats */
  readonly delaysSeconds: readonly number[];
  readonly retryAfterMaxSeconds: number;
}

export type NextStep = { kind: "retry"; at: number; reason: "backoff" | "retry_after" } | { kind: "failed"; reason: "max_attempts" | "max_age" };

/** Seconds to wait after the `attempt`-th failed attempt (1-based). */
export function delayAfter(policy: Pick<RetryPolicy, "delaysSeconds">, attempt: number): number {
  const d = policy.delaysSeconds;
  const i = Math.min(Math.max(attempt, 1), d.length) - 1;
  return d[i] ?? 0;
}

export interface FailureInput {
  policy: RetryPolicy;
  /** attempts made so far, including the one that just failed */
  attempts: number;
  /** when the delivery was created (ms) */
  createdAt: number;
  now: number;
  /** the receiver's Retry-After in seconds, when it sent one on 429/503 */
  retryAfterSeconds?: number | null;
}

/**
 * How long to wait after the `failures`-th failure in a row: the retry schedule, or
 * the receiver's Retry-After when it asks for longer (capped). The one place this
 * rule lives: a delivery's retry and a failing endpoint's backoff both use it.
 */
export function waitAfter(
  policy: RetryPolicy,
  failures: number,
  retryAfterSeconds: number | null | undefined,
): { seconds: number; reason: "backoff" | "retry_after" } {
  const backoff = delayAfter(policy, failures);
  const asked = retryAfterSeconds == null ? null : Math.min(retryAfterSeconds, policy.retryAfterMaxSeconds);
  return asked !== null && asked > backoff ? { seconds: asked, reason: "retry_after" } : { seconds: backoff, reason: "backoff" };
}

/**
 * The next step after a failure: retry at a time, or give up. A retry that would
 * land past maxAge gives up now rather than waiting only to fail later.
 */
export function nextStep(input: FailureInput): NextStep {
  const { policy, attempts, createdAt, now } = input;
  if (attempts >= policy.maxAttempts) return { kind: "failed", reason: "max_attempts" };
  const wait = waitAfter(policy, attempts, input.retryAfterSeconds);
  const at = now + wait.seconds * 1000;
  if (at > createdAt + policy.maxAgeSeconds * 1000) return { kind: "failed", reason: "max_age" };
  return { kind: "retry", at, reason: wait.reason };
}

/** Retry-After is delay-seconds or an HTTP date; anything else is ignored (null). */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  if (!/[a-z]/i.test(v)) return null;
  const when = Date.parse(v);
  if (Number.isNaN(when)) return null;
  return Math.max(0, Math.ceil((when - now) / 1000));
}
