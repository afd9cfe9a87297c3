/**
 * What a webhook setting's check reports, and how a set of them becomes one error:
 * malformed input is a 400 naming each bad field; only input that is well-formed
 * everywhere but refused by a rule (a reserved header name) is a 422, so a caller
 * fixes the shape first and then learns what the rules refuse.
 */
import { unprocessable, validationError, type ErrorDetail } from "../errors.js";

export interface SettingProblem extends ErrorDetail {
  /** true: well-formed, refused by a rule (422); otherwise malformed (400) */
  rule?: boolean;
}

/** Throws the error for `problems` (400 before 422); returns when there are none. */
export function throwProblems(problems: readonly SettingProblem[]): void {
  const malformed = problems.filter((p) => !p.rule);
  if (malformed.length > 0) throw validationError(malformed.map(({ field, message }) => ({ field, message })));
  if (problems.length === 0) return;
  const details = problems.map(({ field, message }) => ({ field, message }));
  throw unprocessable(details.map((d) => `${d.field}: ${d.message}`).join("; "), details);
}
