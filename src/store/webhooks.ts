import { randomUUID } from "node:crypto";
import type { Keyring } from "../domain/secretBox.js";
import { generateSigningKey, publicKeyOf } from "../domain/signing.js";
import { checkWebhookInput, type WebhookFields, type WebhookInput, type WebhookRules } from "../domain/webhookInput.js";
import { HookdError, notFound, validationError } from "../errors.js";
import { dialectOf, writeTransaction, type Db } from "./connect.js";
import { LIVE_WEBHOOK_INDEX } from "./migrations/008_unique_webhooks.js";
import type { WebhookTable } from "./schema.js";
import { sealStored } from "./sealedColumns.js";
import { isUniqueViolation, type UniqueIndex } from "./uniqueViolation.js";

/** What keeps two live webhooks of a customer from sharing a URL and topic, whatever runs at once. */
const LIVE_WEBHOOK: UniqueIndex = { name: LIVE_WEBHOOK_INDEX, table: "webhooks", columns: ["customer_id", "url", "topic"] };

/** Health columns of a webhook nobody has seen fail. */
export const HEALTHY = {
  failing_since: null,
  consecutive_failures: 0,
  backoff_until: null,
  last_failure: null,
  disabled_reason: null,
  failure_streak: 0,
  recent_outcomes: "",
  breaker_reason: null,
  rate_next_at: null,
} as const;

/** Delivery settings of a webhook that set none (migration 009's defaults). */
export const DEFAULT_SETTINGS = {
  headers: null,
  auth: null,
  auth_secret: null,
  timeout_ms: null,
  max_attempts: null,
  retry_delays_seconds: null,
  rate_limit: null,
  filter: null,
  ordered: 0,
  batch_size: 1,
  signing: "hmac",
  signing_key: null,
  previous_signing_keys: null,
  public_key: null,
} as const satisfies Partial<WebhookTable>;

type SettingColumns = Partial<Pick<WebhookTable, keyof typeof DEFAULT_SETTINGS>>;

/**
 * The settings columns to write for checked `fields`: secrets sealed, and the Ed25519
 * key pair made when a webhook moves to ed25519 (dropped when it moves back to hmac;
 * a later move makes a new pair).
 */
function settingColumns(fields: WebhookFields, current: Pick<WebhookTable, "signing">, keyring: Keyring): SettingColumns {
  const { url: _u, group: _g, action: _a, topic: _t, hash_secret: _h, active: _x, auth_secret, signing, ...plain } = fields;
  const columns: SettingColumns = { ...plain };
  if (auth_secret !== undefined) columns.auth_secret = sealStored(keyring, auth_secret);
  if (signing !== undefined && signing !== current.signing) {
    const key = signing === "ed25519" ? generateSigningKey() : null;
    Object.assign(columns, { signing, signing_key: sealStored(keyring, key), previous_signing_keys: null, public_key: key && publicKeyOf(key) });
  }
  return columns;
}

export const WEBHOOK_SORTS = ["created_at", "updated_at", "url", "topic", "group", "action"] as const;
export type WebhookSort = (typeof WEBHOOK_SORTS)[number];

export interface ListOptions {
  limit: number;
  page: number;
  sort?: WebhookSort;
  direction?: "asc" | "desc";
}

/** A webhook as stored (its secrets sealed) and its current secret in clear, to show once (create, rotate). */
export interface WebhookWithSecret {
  row: WebhookTable;
  secret: string | null;
}

export async function createWebhook(
  db: Db,
  keyring: Keyring,
  customerId: string,
  input: WebhookInput,
  rules: WebhookRules,
  now = Date.now(),
): Promise<WebhookWithSecret> {
  const fields = await checkWebhookInput(input, rules, "create");
  const secret = fields.hash_secret ?? null;
  const row: WebhookTable = {
    id: randomUUID(),
    customer_id: customerId,
    url: fields.url!,
    group: fields.group!,
    action: fields.action!,
    topic: fields.topic!,
    hash_secret: sealStored(keyring, secret),
    previous_secrets: null,
    active: fields.active ?? 1,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    ...HEALTHY,
    ...DEFAULT_SETTINGS,
    ...settingColumns(fields, DEFAULT_SETTINGS, keyring),
  };
  await writeTransaction(db, async (trx) => {
    // Creates for one customer take turns, so the count below sees every webhook created
    // before it: on PostgreSQL the customer's row stays locked to the commit (NO KEY: a
    // publish's foreign key check does not wait for it); SQLite's BEGIN IMMEDIATE already
    // lets one writer in at a time.
    let customerRow = trx.selectFrom("customers").select("id").where("id", "=", customerId);
    if (dialectOf(trx) === "postgres") customerRow = customerRow.forNoKeyUpdate();
    const customer = await customerRow.executeTakeFirst();
    if (!customer) throw validationError([{ field: "customer", message: `customer ${customerId} does not exist` }]);
    const { count } = await trx
      .selectFrom("webhooks")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("customer_id", "=", customerId)
      .where("deleted_at", "is", null)
      .executeTakeFirstOrThrow();
    if (Number(count) >= rules.maxPerCustomer) {
      throw new HookdError(
        "conflict",
        `customer ${customerId} already has ${rules.maxPerCustomer} webhooks, the most allowed (limits.maxWebhooksPerCustomer)`,
        [{ field: "customer", message: `has reached the limit of ${rules.maxPerCustomer} webhooks` }],
      );
    }
    await refuseDuplicate(trx, row);
    await trx.insertInto("webhooks").values(row).execute();
  }).catch((err: unknown) => explainTwin(db, err, row));
  return { row, secret };
}

type Twin = Pick<WebhookTable, "id" | "customer_id" | "url" | "topic">;

/**
 * A write the unique index refused (a twin committed between our check and our write,
 * e.g. by a PATCH, which does not take the customer's lock) gets the same 409 as the
 * check gives, naming the twin; any other error is thrown as it is.
 */
async function explainTwin(db: Db, err: unknown, hook: Twin): Promise<never> {
  if (!isUniqueViolation(err, LIVE_WEBHOOK)) throw err;
  // Inside the caller's transaction (the library), PostgreSQL refuses further statements.
  if (!db.isTransaction) await refuseDuplicate(db, hook);
  throw new HookdError("conflict", `another webhook already sends ${hook.topic} to this URL`, [
    { field: "url", message: "another webhook already has this URL and topic" },
  ]);
}

/**
 * One publish should reach one URL once per topic: a second live webhook with the same
 * customer, URL and topic is a 409, not another copy of every delivery.
 */
async function refuseDuplicate(db: Db, hook: Twin): Promise<void> {
  const twin = await db
    .selectFrom("webhooks")
    .select("id")
    .where("customer_id", "=", hook.customer_id)
    .where("url", "=", hook.url)
    .where("topic", "=", hook.topic)
    .where("deleted_at", "is", null)
    .where("id", "!=", hook.id)
    .executeTakeFirst();
  if (twin) {
    throw new HookdError("conflict", `webhook ${twin.id} already sends ${hook.topic} to this URL`, [
      { field: "url", message: `webhook ${twin.id} already has this URL and topic` },
    ]);
  }
}

/** A live webhook; scoped to `customerId` when given, so another tenant's id is "not found". */
export async function getWebhook(db: Db, id: string, customerId?: string | null): Promise<WebhookTable> {
  let q = db.selectFrom("webhooks").selectAll().where("id", "=", id).where("deleted_at", "is", null);
  if (customerId) q = q.where("customer_id", "=", customerId);
  const row = await q.executeTakeFirst();
  if (!row) throw notFound("webhook", id);
  return row;
}

export async function listWebhooks(db: Db, customerId: string | null, options: ListOptions): Promise<{ count: number; rows: WebhookTable[] }> {
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
  keyring: Keyring,
  id: string,
  customerId: string | null,
  input: WebhookInput,
  rules: WebhookRules,
  now = Date.now(),
): Promise<WebhookTable> {
  const current = await getWebhook(db, id, customerId);
  const fields = await checkWebhookInput(input, rules, "update", current);
  if (Object.keys(fields).length === 0) return current;
  // A new URL, or switching it back on, deserves a fresh start: forget the failures.
  const fresh = (fields.url !== undefined && fields.url !== current.url) || (fields.active === 1 && current.active === 0);
  // Setting the secret outright replaces every valid one (a rotation is what keeps old ones for a while).
  const replacesSecret = fields.hash_secret !== undefined ? { hash_secret: sealStored(keyring, fields.hash_secret), previous_secrets: null } : {};
  const { url, group, action, topic, active } = fields;
  const core = Object.fromEntries(Object.entries({ url, group, action, topic, active }).filter(([, v]) => v !== undefined));
  const updated = { ...current, ...core };
  await writeTransaction(db, async (trx) => {
    await refuseDuplicate(trx, updated);
    await trx
      .updateTable("webhooks")
      .set({ ...core, ...settingColumns(fields, current, keyring), ...replacesSecret, ...(fresh ? HEALTHY : {}), updated_at: now })
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .execute();
  }).catch((err: unknown) => explainTwin(db, err, updated));
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
