/**
 * What `db.url` names: a PostgreSQL database (postgres:// or postgresql://) or else a
 * SQLite file (a path, optionally as file:PATH). Pure, below the store, so config can
 * reason about it without loading a driver.
 */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The SQLite file `url` names (not a PostgreSQL URL). */
export function sqliteFileOf(url: string): string {
  return url.startsWith("file:") ? url.slice(5) : url;
}
