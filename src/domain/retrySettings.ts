/**
 * A webhook's own attempt and retry settings (`timeout_ms`, `max_attempts`,
 * `retry_delays_seconds`) within the configured bounds, and the retry policy a
 * delivery of that webhook runs by. Pure. Null in a column means "the configured
 * default", so a webhook that never set one follows the config as it changes.
 */
import type { RetryPolicy } from "./retryPolicy.js";
import type { SettingProblem } from "./settingProblem.js";

export const MIN_TIMEOUT_MS = 1000;
export const MAX_RETRY_DELAY_SECONDS = 86_400;

export interface RetryBounds {
  /** dispatch.timeoutMs: a webhook may only shorten the request timeout */
  maxTimeoutMs: number;
  /** limits.maxAttempts */
  maxAttempts: number;
}

export interface RetryFields {
  timeout_ms?: number | null;
  max_attempts?: number | null;
  /** JSON text of the list, as the column holds it */
  retry_delays_seconds?: string | null;
}

const isInt = (v: unknown, min: number, max: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

/** Check the three settings present in `input` (null restores the default); returns the column values or the problems. */
export function checkRetrySettings(input: Record<string, unknown>, bounds: RetryBounds): { fields: RetryFields; problems: SettingProblem[] } {
  const fields: RetryFields = {};
  const problems: SettingProblem[] = [];
  const { timeout_ms: timeout, max_attempts: attempts, retry_delays_seconds: delays } = input;
  if (timeout !== undefined) {
    if (timeout === null) fields.timeout_ms = null;
    else if (isInt(timeout, MIN_TIMEOUT_MS, bounds.maxTimeoutMs)) fields.timeout_ms = timeout;
    else problems.push({ field: "timeout_ms", message: `must be an integer from ${MIN_TIMEOUT_MS} to ${bounds.maxTimeoutMs} (dispatch.timeoutMs), or null` });
  }
  if (attempts !== undefined) {
    if (attempts === null) fields.max_attempts = null;
    else if (isInt(attempts, 1, bounds.maxAttempts)) fields.max_attempts = attempts;
    else problems.push({ field: "max_attempts", message: `must be an integer from 1 to ${bounds.maxAttempts} (limits.maxAttempts), or null` });
  }
  if (delays !== undefined) {
    if (delays === null) fields.retry_delays_seconds = null;
    else if (!Array.isArray(delays) || delays.length < 1 || delays.length > bounds.maxAttempts) {
      problems.push({ field: "retry_delays_seconds", message: `must be a list of 1 to ${bounds.maxAttempts} delays in seconds (limits.maxAttempts), or null` });
    } else {
      const bad = delays.findIndex((d) => !isInt(d, 1, MAX_RETRY_DELAY_SECONDS));
      if (bad >= 0) problems.push({ field: `retry_delays_seconds.${bad}`, message: `must be an integer from 1 to ${MAX_RETRY_DELAY_SECONDS}` });
      else fields.retry_delays_seconds = JSON.stringify(delays);
    }
  }
  return { fields, problems };
}

/** A webhook's columns that shape its retries. */
export interface RetryColumns {
  timeout_ms: number | null;
  max_attempts: number | null;
  retry_delays_seconds: string | null;
}

/** `retry_delays_seconds` as a list, or null. */
export function delaysOf(column: string | null): number[] | null {
  return column ? (JSON.parse(column) as number[]) : null;
}

/**
 * The policy a webhook's deliveries run by: its own attempts and delays over the
 * configured ones; `maxAgeSeconds` and the Retry-After cap stay the configuration's.
 * A value saved under looser bounds than today's is held to today's.
 */
export function policyFor(
  base: RetryPolicy,
  columns: Pick<RetryColumns, "max_attempts" | "retry_delays_seconds">,
  bounds: Pick<RetryBounds, "maxAttempts">,
): RetryPolicy {
  if (columns.max_attempts === null && columns.retry_delays_seconds === null) return base;
  return {
    ...base,
    maxAttempts: columns.max_attempts === null ? base.maxAttempts : Math.min(columns.max_attempts, bounds.maxAttempts),
    delaysSeconds: delaysOf(columns.retry_delays_seconds) ?? base.delaysSeconds,
  };
}

/** The request timeout for a webhook: its own, never past dispatch.timeoutMs. */
export function timeoutFor(configured: number, column: number | null): number {
  return column === null ? configured : Math.min(column, configured);
}
