import type { Kysely } from "kysely";

/**
 * Secret rotation: the secrets a rotation keeps valid for an overlap, as JSON
 * (`[{secret, expires_at}]`, newest first) on the webhook itself, so a claim reads
 * them with the current secret in the same row. Null when there are none.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("webhooks").addColumn("previous_secrets", "text").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("webhooks").dropColumn("previous_secrets").execute();
}
