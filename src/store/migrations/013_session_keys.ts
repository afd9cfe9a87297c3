import type { Kysely } from "kysely";

/**
 * A console session, a portal link and the portal session opened from it name the API
 * key they came from, and go with it: revoking the key (`hookd keys revoke`) deletes
 * them in the same statement (ON DELETE CASCADE), so no browser stays signed in with a
 * key that no longer opens anything. Sessions made before this migration name no key;
 * they are ended here, and their users sign in again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.deleteFrom("console_sessions").execute();
  await db.schema
    .alterTable("console_sessions")
    .addColumn("api_key_id", "text", (c) => c.references("api_keys.id").onDelete("cascade"))
    .execute();
  // Revoking a key finds its sessions by this index instead of reading the whole table.
  await db.schema.createIndex("console_sessions_key").on("console_sessions").column("api_key_id").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("console_sessions_key").execute();
  await db.schema.alterTable("console_sessions").dropColumn("api_key_id").execute();
}
