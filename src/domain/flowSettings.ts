/**
 * How a webhook's deliveries flow: `rate_limit` (deliveries started per second),
 * `ordered` (strict first-in-first-out) and `batch_size` (deliveries per batched POST).
 * Pure: the rules for what a webhook may store. The dispatcher's tick applies them.
 */
import type { SettingProblem } from "./settingProblem.js";

export const MAX_RATE_LIMIT = 1000;

export interface FlowBounds {
  /** dispatch.maxBatchSize */
  maxBatchSize: number;
}

/** Column values: null rate limit is none; ordered 1/0; batch size 1 is one delivery per request. */
export interface FlowFields {
  rate_limit?: number | null;
  ordered?: number;
  batch_size?: number;
}

/** Check the settings present in `input`; `null` restores each default (no limit, unordered, 1). */
export function checkFlowSettings(input: Record<string, unknown>, bounds: FlowBounds): { fields: FlowFields; problems: SettingProblem[] } {
  const fields: FlowFields = {};
  const problems: SettingProblem[] = [];
  const { rate_limit: rate, ordered, batch_size: batch } = input;
  if (rate !== undefined) {
    if (rate === null) fields.rate_limit = null;
    else if (typeof rate === "number" && Number.isFinite(rate) && rate > 0 && rate <= MAX_RATE_LIMIT) fields.rate_limit = rate;
    else problems.push({ field: "rate_limit", message: `must be a number of deliveries per second, more than 0 and at most ${MAX_RATE_LIMIT}, or null` });
  }
  if (ordered !== undefined) {
    if (ordered === null) fields.ordered = 0;
    else if (typeof ordered === "boolean") fields.ordered = ordered ? 1 : 0;
    else problems.push({ field: "ordered", message: "must be true or false, or null" });
  }
  if (batch !== undefined) {
    if (batch === null) fields.batch_size = 1;
    else if (typeof batch === "number" && Number.isInteger(batch) && batch >= 1 && batch <= bounds.maxBatchSize) fields.batch_size = batch;
    else problems.push({ field: "batch_size", message: `must be an integer from 1 to ${bounds.maxBatchSize} (dispatch.maxBatchSize), or null` });
  }
  return { fields, problems };
}
