/** `since` / `until` parameters: ISO 8601 times (or Unix milliseconds), checked and turned into ms. */
import { validationError } from "../errors.js";

export const timeRangeParams = {
  since: { type: "string", minLength: 1, maxLength: 40 },
  until: { type: "string", minLength: 1, maxLength: 40 },
} as const;

/** The latest time a JavaScript Date holds (±100,000,000 days from 1970): later is no time at all. */
export const MAX_TIME_MS = 8_640_000_000_000_000;

/**
 * A date, or a date and time with optional seconds, fraction and zone (Z, ±hh:mm, ±hhmm).
 * Strict on purpose: Date.parse alone also takes "1.5", "1,2" or "-1" (V8's legacy
 * formats) and answers some day in 2001.
 */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?$/;
const UNIX_MS = /^\d+$/;

const MESSAGE = "must be an ISO 8601 time (e.g. 2026-01-31T12:00:00Z) or Unix milliseconds";

/** Milliseconds for a time parameter, or undefined when absent. Pure. */
export function timeParam(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = UNIX_MS.test(value) ? Number(value) : ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw validationError([{ field, message: MESSAGE }]);
  if (!(ms <= MAX_TIME_MS)) throw validationError([{ field, message: `must be at most ${MAX_TIME_MS} (Unix milliseconds), the last time a date can hold` }]);
  return ms;
}

/** Both ends, checked to be in order. Pure. */
export function timeRange(q: { since?: string; until?: string }): { since?: number; until?: number } {
  const since = timeParam(q.since, "since");
  const until = timeParam(q.until, "until");
  if (since !== undefined && until !== undefined && since >= until) {
    throw validationError([{ field: "until", message: "must be later than since" }]);
  }
  return { since, until };
}
