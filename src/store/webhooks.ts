import { randomUUID } from "node:crypto";
import { notFound, validationError, type ErrorDetail } from "../errors.js";
import { secretProblem } from "../dispatch/signature.js";
import { topicProblem } from "../topics.js";
import { checkUrl, type UrlRules } from "../urlPolicy.js";
import { writeTransaction, type Db } from "./connect.js";
import type { WebhookTable } from "./schema.js";

export interface WebhookRules {
  topics: readonly string[];
  url: UrlRules;
}

export interface WebhookInput {
  url?: unknown;
  group?: unknown;
  action?: unknown;
  hash_secret?: unknown;
  active?: unknown;
}

/** Health columns of a webhook nobody has seen fail. */
export const HEALTHY = {
  failing_since: null,
  consecutive_failures: 0,
  backoff_until: null,
  last_failure: null,
  disabled_reason: null,
} as const;

export const WEBHOOK_SORTS = ["created_at", "updated_at", "url", "topic", "group", "action"] as const;
export type WebhookSort = (typeof WEBHOOK_SORTS)[number];

export interface ListOptions {
  limit: number;
  page: number;
  sort?: WebhookSort;
  direction?: "asc" | "desc";
}

/** Check a full (create) or partial (update) input; returns the clean fields or throws naming each bad one. */
export function checkWebhookInput(
  input: WebhookInput,
  rules: WebhookRules,
  mode: "create" | "update",
  current?: WebhookTable,
): Partial<Pick<WebhookTable, "url" | "group" | "action" | "topic" | "hash_secret" | "active">> {
  const details: ErrorDetail[] = [];
  const out: Partial<Pick<WebhookTable, "url" | "group" | "action" | "topic" | "hash_secret" | "active">> = {};
  const need = (field: keyof WebhookInput) => mode === "create" && input[field] === undefined;

  for (const field of ["url", "group", "action"] as const) {
    if (need(field)) details.push({ field, message: "is required" });
    else if (input[field] !== undefined && (typeof input[field] !== "string" || input[field] === ""))
      details.push({ field, message: "must be a non-empty string" });
  }
  if (typeof input.url === "string" && input.url !== "") {
    const check = checkUrl(input.url, rules.url);
    if (!check.ok) details.push({ field: "url", message: check.reason });
    else out.url = input.url;
  }
  if (input.hash_secret !== undefined) {
    if (input.hash_secret !== null && (typeof input.hash_secret !== "string" || input.hash_secret.length > 512)) {
      details.push({ field: "hash_secret", message: "must be a string of at most 512 characters, or null" });
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
  if (details.length > 0) throw validationError(details);
  return out;
}

export async function createWebhook(
  db: Db,
  customerId: string,
  input: WebhookInput,
  rules: WebhookRules,
  now = Date.now(),
): Promise<WebhookTable> {
  const fields = checkWebhookInput(input, rules, "create");
  const customer = await db.selectFrom("customers").select("id").where("id", "=", customerId).executeTakeFirst();
  if (!customer) throw validationError([{ field: "customer", message: `customer ${customerId} does not exist` }]);
  const row: WebhookTable = {
    id: randomUUID(),
    customer_id: customerId,
    url: fields.url!,
    group: fields.group!,
    action: fields.action!,
    topic: fields.topic!,
    hash_secret: fields.hash_secret ?? null,
    previous_secrets: null,
    active: fields.active ?? 1,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    ...HEALTHY,
  };
  await db.insertInto("webhooks").values(row).execute();
  return row;
}

/** A live webhook; scoped to `customerId` when given, so another tenant's id is "not found". */
export async function getWebhook(db: Db, id: string, customerId?: string | null): Promise<WebhookTable> {
  let q = db.selectFrom("webhooks").selectAll().where("id", "=", id).where("deleted_at", "is", null);
  if (customerId) q = q.where("customer_id", "=", customerId);
  const row = await q.executeTakeFirst();
  if (!row) throw notFound("webhook", id);
  return row;
}

export async function listWebhooks(
  db: Db,
  customerId: string | null,
  options: ListOptions,
): Promise<{ count: number; rows: WebhookTable[] }> {
  let base = db.selectFrom("webhooks").where("deleted_at", "is", null);
  if (customerId) base = base.where("customer_id", "=", customerId);
  const { count } = await base.select((eb) => eb.fn.countAll<number>().as("count")).executeTakeFirstOrThrow();
  const sort = options.sort ?? "created_at";
  const direction = options.direction ?? "desc";
  const rows = await base
    .selectAll()
    .orderBy(sort, direction)
    .orderBy("id", direction)
    .limit(options.limit)
    .offset((options.page - 1) * options.limit)
    .execute();
  return { count: Number(count), rows };
}

export async function updateWebhook(
  db: Db,
  id: string,
  customerId: string | null,
  input: WebhookInput,
  rules: WebhookRules,
  now = Date.now(),
): Promise<WebhookTable> {
  const current = await getWebhook(db, id, customerId);
  const fields = checkWebhookInput(input, rules, "update", current);
  if (Object.keys(fields).length === 0) return current;
  // A new URL, or switching it back on, deserves a fresh start: forget the failures.
  const fresh = (fields.url !== undefined && fields.url !== current.url) || (fields.active === 1 && current.active === 0);
  // Setting the secret outright replaces every valid one (a rotation is what keeps old ones for a while).
  const replacesSecret = fields.hash_secret !== undefined ? { previous_secrets: null } : {};
  await db
    .updateTable("webhooks")
    .set({ ...fields, ...replacesSecret, ...(fresh ? HEALTHY : {}), updated_at: now })
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .execute();
  return getWebhook(db, id, customerId);
}

/** Soft delete; its pending deliveries are cancelled in the same transaction. */
export async function deleteWebhook(db: Db, id: string, customerId: string | null, now = Date.now()): Promise<void> {
  await writeTransaction(db, async (trx) => {
    const row = await getWebhook(trx, id, customerId);
    await trx.updateTable("webhooks").set({ deleted_at: now, active: 0, updated_at: now }).where("id", "=", row.id).execute();
    await trx
      .updateTable("deliveries")
      .set({ status: "cancelled", finished_at: now, updated_at: now, wait_reason: null, lease_owner: null, lease_expires_at: null })
      .where("webhook_id", "=", row.id)
      .where("status", "=", "pending")
      .execute();
  });
}
