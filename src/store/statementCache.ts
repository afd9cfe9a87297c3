/**
 * Prepared-statement reuse for SQLite. Kysely's SQLite driver calls `prepare` for every
 * query it runs, and parsing and planning the SQL again costs as much as running a
 * small insert. The hot statements (publish, claims, attempt records) repeat the same
 * text with other parameters, so the prepared statement is kept and reused, keyed by
 * its text; past the limit the oldest goes (hookd's own shapes never get there).
 */
import type SQLite from "better-sqlite3";
import type { QueryResult, SqliteDatabase } from "kysely";
import type { BoundQuery } from "./boundQuery.js";

/** Distinct statements kept; hookd's own queries are a few dozen shapes. */
const MAX_STATEMENTS = 256;

/** Kysely's view of the database, and whether a transaction is open on it (SQLite ends one itself on some errors). */
export interface OwnSqliteDatabase extends SqliteDatabase {
  readonly inTransaction: boolean;
}

export function reusingStatements(sqlite: SQLite.Database, max = MAX_STATEMENTS): OwnSqliteDatabase {
  const kept = new Map<string, SQLite.Statement>();
  return {
    get inTransaction() {
      return sqlite.inTransaction;
    },
    close: () => sqlite.close(),
    prepare(text: string) {
      let stmt = kept.get(text);
      if (stmt) return stmt;
      stmt = sqlite.prepare(text);
      // A Map iterates in insertion order: the first key is the oldest.
      if (kept.size >= max) kept.delete(kept.keys().next().value!);
      kept.set(text, stmt);
      return stmt;
    },
  };
}

/**
 * What Kysely's SQLite connection does with a compiled query, without the layers of
 * promises around it: for the publish path, which already holds the connection
 * (connect.ts, runSteps) and runs a few statements per event.
 */
export function runCompiled(database: SqliteDatabase, query: BoundQuery): QueryResult<unknown> {
  const stmt = database.prepare(query.sql);
  if (stmt.reader) return { rows: stmt.all(query.parameters) };
  const { changes } = stmt.run(query.parameters);
  return { numAffectedRows: BigInt(changes), rows: [] };
}
