import type { Kysely } from "kysely";

/**
 * Per-webhook delivery settings (SPEC "Per-webhook delivery settings") and the
 * event-type catalog. Settings live on the webhook row itself, so a claim and a
 * publish read them with the webhook in the same statement. Null means "the
 * configured default" for the settings the config bounds (timeout, attempts,
 * delays); the rest default in the column. Secrets (`auth_secret`, `signing_key`,
 * `previous_signing_keys`) hold sealed text only (store/sealedColumns.ts).
 */
const COLUMNS: [name: string, type: "text" | "integer" | "double precision", notNullDefault?: number | string][] = [
  // JSON {name: value}
  ["headers", "text"],
  // JSON of what reads show: {type, token_url, client_id, scope}
  ["auth", "text"],
  // sealed: the bearer token or the OAuth2 client secret
  ["auth_secret", "text"],
  ["timeout_ms", "integer"],
  ["max_attempts", "integer"],
  // JSON list of seconds
  ["retry_delays_seconds", "text"],
  // deliveries started per second, or null for no limit
  ["rate_limit", "double precision"],
  // JSON of the filter as saved
  ["filter", "text"],
  ["ordered", "integer", 0],
  ["batch_size", "integer", 1],
  ["signing", "text", "hmac"],
  // sealed: the current Ed25519 secret key (whsk_…)
  ["signing_key", "text"],
  // sealed: JSON [{secret, expires_at}] of keys a rotation keeps valid, newest first
  ["previous_signing_keys", "text"],
  // whpk_…: derived from signing_key, kept in clear so reads never open a secret
  ["public_key", "text"],
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, type, fallback] of COLUMNS) {
    await db.schema
      .alterTable("webhooks")
      .addColumn(name, type, (c) => (fallback === undefined ? c : c.notNull().defaultTo(fallback)))
      .execute();
  }
  await db.schema
    .createTable("event_types")
    .addColumn("topic", "text", (c) => c.primaryKey())
    // the JSON Schema's text as saved (draft 2020-12)
    .addColumn("schema", "text", (c) => c.notNull())
    .addColumn("description", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("event_types").execute();
  for (const [name] of [...COLUMNS].reverse()) await db.schema.alterTable("webhooks").dropColumn(name).execute();
}
