/**
 * Whether a database error is a unique index refusing a row, by the index's name
 * (PostgreSQL reports it as the constraint) or, on SQLite, which names the table and
 * columns instead: "UNIQUE constraint failed: webhooks.customer_id, webhooks.url, …". Pure.
 */
export interface UniqueIndex {
  name: string;
  table: string;
  columns: readonly string[];
}

export function isUniqueViolation(err: unknown, index: UniqueIndex): boolean {
  const e = err as { code?: unknown; constraint?: unknown; message?: unknown } | null;
  if (e?.code === "23505") return e.constraint === index.name;
  if (e?.code !== "SQLITE_CONSTRAINT_UNIQUE" || typeof e.message !== "string") return false;
  return e.message.endsWith(`: ${index.columns.map((c) => `${index.table}.${c}`).join(", ")}`);
}
