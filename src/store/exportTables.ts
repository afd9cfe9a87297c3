/**
 * What `hookd export` carries, in one place. Rows are read with `select *` and written
 * back column by column, so a new column travels without a change here; a new TABLE
 * must be added to EXPORTED_TABLES (or TRANSIENT_TABLES), else a test fails.
 */

/**
 * Every table holding the store's data, in foreign-key order: a table comes after
 * every table it references, so import can insert them one after the other.
 */
export const EXPORTED_TABLES: readonly string[] = ["customers", "api_keys", "webhooks", "events", "deliveries", "attempts", "event_types"];

/**
 * Tables whose rows only mean something to the processes running when they were
 * written (e.g. claims in flight): neither exported nor checked for emptiness.
 */
export const TRANSIENT_TABLES: readonly string[] = [
  // Console cookies and portal links last minutes to hours; after a move users sign in again.
  "console_sessions",
];

/** Bookkeeping of the migrator: the target migrates itself, the header names the schema. */
export const MIGRATION_TABLES: readonly string[] = ["kysely_migration", "kysely_migration_lock"];

/**
 * Columns cleared on import. A lease names a dispatcher of the old store: a delivery
 * claimed at export time must be claimable at once after the move, not after a lease
 * that nobody will ever finish.
 */
export const CLEARED_ON_IMPORT: Readonly<Record<string, readonly string[]>> = {
  deliveries: ["lease_owner", "lease_expires_at"],
};
