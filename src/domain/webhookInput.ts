/**
 * A webhook's input rules: which fields a create or an update may carry and what each
 * must hold (URL policy, topic catalog, secret form, delivery settings). Takes values,
 * returns the clean fields or throws naming every bad one (400; 422 only for input
 * well-formed everywhere that a rule refuses); the store persists what this accepts.
 */
import { throwProblems, type SettingProblem } from "./settingProblem.js";
import { secretProblem } from "./signature.js";
import { topicProblem } from "./topics.js";
import { checkUrl, resolvedUrlProblem, type UrlRules } from "./urlPolicy.js";
import { checkSettings, type SettingsBounds, type SettingsFields, type SettingsInput } from "./webhookSettings.js";

export interface WebhookRules {
  topics: readonly string[];
  url: UrlRules;
  /** live webhooks one customer may have (limits.maxWebhooksPerCustomer) */
  maxPerCustomer: number;
  /** the configured bounds of the delivery settings */
  settings: SettingsBounds;
}

/** A lone UTF-16 surrogate: SQLite and PostgreSQL would silently store U+FFFD instead. */
export const LONE_SURROGATE = /\p{Surrogate}/u;

export interface WebhookInput extends SettingsInput {
  url?: unknown;
  group?: unknown;
  action?: unknown;
  hash_secret?: unknown;
  active?: unknown;
}

/** Checked webhook fields, as the store keeps them (`active` as 1 or 0; secrets still in clear). */
export interface WebhookFields extends SettingsFields {
  url?: string;
  group?: string;
  action?: string;
  topic?: string;
  hash_secret?: string | null;
  active?: number;
}

/**
 * Check a full (create) or partial (update) input, names resolved as the URL policy
 * asks; returns the clean fields (the URL normalised) or throws naming each bad one.
 */
export async function checkWebhookInput(
  input: WebhookInput,
  rules: WebhookRules,
  mode: "create" | "update",
  current?: { group: string; action: string },
): Promise<WebhookFields> {
  const details: SettingProblem[] = [];
  const need = (field: keyof WebhookInput) => mode === "create" && input[field] === undefined;

  for (const field of ["url", "group", "action"] as const) {
    if (need(field)) details.push({ field, message: "is required" });
    else if (input[field] !== undefined && (typeof input[field] !== "string" || input[field] === ""))
      details.push({ field, message: "must be a non-empty string" });
  }
  const settings = await checkSettings(input, rules.settings, rules.url);
  const out: WebhookFields = settings.fields;
  details.push(...settings.problems);
  if (typeof input.url === "string" && input.url !== "") {
    const check = checkUrl(input.url, rules.url);
    const problem = check.ok ? await resolvedUrlProblem(check, rules.url) : check.reason;
    if (problem !== null) details.push({ field: "url", message: problem });
    else if (check.ok) out.url = check.url;
  }
  if (input.hash_secret !== undefined) {
    if (input.hash_secret !== null && (typeof input.hash_secret !== "string" || input.hash_secret.length > 512)) {
      details.push({ field: "hash_secret", message: "must be a string of at most 512 characters, or null" });
    } else if (typeof input.hash_secret === "string" && LONE_SURROGATE.test(input.hash_secret)) {
      details.push({ field: "hash_secret", message: "must be valid Unicode (it holds a lone surrogate)" });
    } else if (typeof input.hash_secret === "string" && secretProblem(input.hash_secret)) {
      details.push({ field: "hash_secret", message: secretProblem(input.hash_secret)! });
    } else {
      out.hash_secret = input.hash_secret === "" ? null : (input.hash_secret as string | null);
    }
  }
  if (input.active !== undefined) {
    if (typeof input.active !== "boolean") details.push({ field: "active", message: "must be true or false" });
    else out.active = input.active ? 1 : 0;
  }
  const group = typeof input.group === "string" ? input.group : current?.group;
  const action = typeof input.action === "string" ? input.action : current?.action;
  if ((typeof input.group === "string" || typeof input.action === "string") && group && action) {
    const problem = topicProblem(rules.topics, `${group}:${action}`);
    if (problem) details.push({ field: problem.startsWith("unknown action") ? "action" : "group", message: problem });
    else {
      out.group = group;
      out.action = action;
      out.topic = `${group}:${action}`;
    }
  }
  throwProblems(details);
  return out;
}
