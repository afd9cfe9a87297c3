/**
 * Prepared-statement reuse for SQLite. Kysely's SQLite driver calls `prepare` for every
 * query it runs, and parsing and planning the SQL again costs as much as running a
 * small insert. The hot statements (publish, claims, attempt records) repeat the same
 * text with other parameters, so the prepared statement is kept and reused, keyed by
 * its text, least recently used first out.
 */
import type SQLite from "better-sqlite3";
import type { SqliteDatabase } from "kysely";

/** Distinct statements kept; hookd's own queries are a few dozen shapes. */
const MAX_STATEMENTS = 256;

export function reusingStatements(sqlite: SQLite.Database, max = MAX_STATEMENTS): SqliteDatabase {
  const kept = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let stmt = kept.get(text);
      if (stmt) {
        // A Map iterates in insertion order: re-inserting marks it as recently used.
        kept.delete(text);
      } else {
        stmt = sqlite.prepare(text);
        if (kept.size >= max) kept.delete(kept.keys().next().value!);
      }
      kept.set(text, stmt);
      return stmt;
    },
  };
}
