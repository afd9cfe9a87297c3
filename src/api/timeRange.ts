/** `since` / `until` query parameters: ISO 8601 times (or Unix milliseconds), checked and turned into ms. */
import { validationError } from "../errors.js";

export const timeRangeParams = {
  since: { type: "string", minLength: 1, maxLength: 40 },
  until: { type: "string", minLength: 1, maxLength: 40 },
} as const;

/** Milliseconds for a time parameter, or undefined when absent. Pure. */
export function timeParam(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw validationError([{ field, message: "must be an ISO 8601 time (e.g. 2026-01-31T12:00:00Z) or Unix milliseconds" }]);
  }
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
