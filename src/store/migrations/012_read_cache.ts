import { sql, type Kysely } from "kysely";
import { dialectOf } from "../connect.js";

/**
 * PostgreSQL: every process caches API keys and topic fan-outs (readCache.ts), so a
 * change to the rows they come from, made by any process, notifies every listener on
 * channel `hookd_reads` at commit. Statement triggers: one notice per statement, and
 * for webhooks only on the columns a fan-out reads (a breaker's or a pace's updates,
 * many a second while dispatching, notify nobody). SQLite needs none: another process's
 * commit shows in `PRAGMA data_version`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) !== "postgres") return;
  await sql`create or replace function hookd_reads_changed() returns trigger language plpgsql as $$
    begin
      perform pg_notify('hookd_reads', tg_table_name);
      return null;
    end $$`.execute(db);
  for (const [table, events] of TRIGGERS) {
    await sql.raw(`create trigger hookd_reads_${table} after ${events} on ${table} for each statement execute function hookd_reads_changed()`).execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) !== "postgres") return;
  for (const [table] of TRIGGERS) await sql.raw(`drop trigger if exists hookd_reads_${table} on ${table}`).execute(db);
  await sql`drop function if exists hookd_reads_changed()`.execute(db);
}

/** The tables whose rows the read cache holds, and the changes that can make them stale. */
const TRIGGERS: readonly [string, string][] = [
  ["api_keys", "insert or update or delete or truncate"],
  ["customers", "insert or update or delete or truncate"],
  ["webhooks", "insert or delete or truncate or update of id, customer_id, topic, filter, active, deleted_at"],
  ["event_types", "insert or update or delete or truncate"],
];
