/**
 * A webhook's optional delivery settings (SPEC "Per-webhook delivery settings"), all
 * checked together: each field's own module has its rule, this gathers them into the
 * columns the store keeps. `null` restores a field's default. Secrets come out in
 * clear (`auth_secret`): the store seals them before they are written.
 */
import { checkAuth } from "./receiverAuth.js";
import { filterProblems } from "./filter.js";
import { checkFlowSettings, type FlowFields } from "./flowSettings.js";
import { checkHeaders } from "./headers.js";
import { checkRetrySettings, type RetryFields } from "./retrySettings.js";
import type { SettingProblem } from "./settingProblem.js";
import { checkSigning, type SigningScheme } from "./signing.js";
import { checkUrl, resolvedUrlProblem, type UrlRules } from "./urlPolicy.js";

export const SETTING_FIELDS = [
  "headers",
  "auth",
  "timeout_ms",
  "max_attempts",
  "retry_delays_seconds",
  "rate_limit",
  "filter",
  "ordered",
  "batch_size",
  "signing",
] as const;
export type SettingField = (typeof SETTING_FIELDS)[number];

export type SettingsInput = Partial<Record<SettingField, unknown>>;

export interface SettingsBounds {
  /** dispatch.timeoutMs */
  maxTimeoutMs: number;
  /** limits.maxAttempts */
  maxAttempts: number;
  /** dispatch.maxBatchSize */
  maxBatchSize: number;
}

/** Column values for the fields given; `auth_secret` is in clear here. */
export interface SettingsFields extends RetryFields, FlowFields {
  headers?: string | null;
  /** the auth as reads show it (JSON), or null */
  auth?: string | null;
  /** the bearer token or client secret, in clear; set whenever `auth` is */
  auth_secret?: string | null;
  filter?: string | null;
  signing?: SigningScheme;
}

export async function checkSettings(
  input: SettingsInput,
  bounds: SettingsBounds,
  urlRules: UrlRules,
): Promise<{ fields: SettingsFields; problems: SettingProblem[] }> {
  const retry = checkRetrySettings(input, bounds);
  const flow = checkFlowSettings(input, bounds);
  const fields: SettingsFields = { ...retry.fields, ...flow.fields };
  const problems = [...retry.problems, ...flow.problems];

  if (input.headers !== undefined) {
    if (input.headers === null) fields.headers = null;
    else {
      const checked = checkHeaders(input.headers);
      if ("problems" in checked) problems.push(...checked.problems);
      // No headers at all is the default: stored as null, like `null`.
      else fields.headers = Object.keys(checked.headers).length === 0 ? null : JSON.stringify(checked.headers);
    }
  }
  if (input.auth !== undefined) {
    if (input.auth === null) Object.assign(fields, { auth: null, auth_secret: null });
    else {
      const checked = await checkAuth(input.auth, async (url) => {
        const check = checkUrl(url, urlRules);
        const problem = check.ok ? await resolvedUrlProblem(check, urlRules) : check.reason;
        return problem === null && check.ok ? { url: check.url } : { problem: problem ?? "is not a valid URL" };
      });
      if ("problems" in checked) problems.push(...checked.problems);
      else Object.assign(fields, { auth: JSON.stringify(checked.auth.view), auth_secret: checked.auth.secret });
    }
  }
  if (input.filter !== undefined) {
    if (input.filter === null) fields.filter = null;
    else {
      const found = filterProblems(input.filter);
      if (found.length > 0) problems.push(...found.map((p) => ({ field: p.place, message: p.message })));
      else fields.filter = JSON.stringify(input.filter);
    }
  }
  if (input.signing !== undefined) {
    const checked = checkSigning(input.signing);
    if ("problems" in checked) problems.push(...checked.problems);
    else fields.signing = checked.signing;
  }
  return { fields, problems };
}
