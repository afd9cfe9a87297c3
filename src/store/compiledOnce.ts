/**
 * Hot-path queries built with Kysely once and then only run. Building and compiling a
 * Kysely query costs more than running a small insert on SQLite (the profile of
 * `hookd serve` under ingest load put it at about a sixth of the process), and the
 * publish path repeats the same few shapes with other values. So each shape is built
 * once per dialect with placeholders where the values go, and every run sends the same
 * SQL text with fresh parameters: SQLite finds it already prepared (statementCache.ts),
 * PostgreSQL gets exactly what the builder would have sent. One query, both backends.
 */
import type { Compilable } from "kysely";
import type { BoundQuery } from "./boundQuery.js";
import { dialectOf, type Db, type Dialect } from "./connect.js";

export type { BoundQuery } from "./boundQuery.js";

/** Binds `values` to a shape's placeholders. */
export type Bind<V> = (db: Db, values: V) => BoundQuery;

/** Where a compiled parameter comes from: a named value, or a constant the builder wrote in. */
type Slot = { name: string } | { constant: unknown };

interface Compiled {
  sql: string;
  slots: Slot[];
}

/** No real value starts with a NUL and a marker this unlikely. */
const MARK = "\u0000hookd-placeholder:";

/**
 * `build` receives placeholders in place of `values` (each one a unique string the
 * builder passes through as a parameter) and returns the query. It may also write
 * constants in; those stay as they were compiled. Every value must reach the query as a
 * bound parameter (not in `sql.lit`, not in a string built from it): a placeholder that
 * does not come back as a parameter is an error at the first run.
 */
export function compiledOnce<V extends object>(names: readonly (keyof V & string)[], build: (db: Db, p: V) => Compilable<unknown>): Bind<V> {
  const byDialect = new Map<Dialect, Compiled>();
  const placeholders = Object.fromEntries(names.map((n) => [n, MARK + n])) as V;
  return (db, values) => {
    const dialect = dialectOf(db);
    let compiled = byDialect.get(dialect);
    if (!compiled) {
      compiled = compile(build(db, placeholders), names);
      byDialect.set(dialect, compiled);
    }
    const parameters = new Array<unknown>(compiled.slots.length);
    for (let i = 0; i < parameters.length; i++) {
      const slot = compiled.slots[i]!;
      parameters[i] = "name" in slot ? values[slot.name as keyof V] : slot.constant;
    }
    return { sql: compiled.sql, parameters };
  };
}

function compile(query: Compilable<unknown>, names: readonly string[]): Compiled {
  const { sql, parameters } = query.compile();
  const slots = parameters.map((p): Slot => (typeof p === "string" && p.startsWith(MARK) ? { name: p.slice(MARK.length) } : { constant: p }));
  const bound = new Set(slots.flatMap((s) => ("name" in s ? [s.name] : [])));
  const missing = names.filter((n) => !bound.has(n));
  if (missing.length > 0) throw new Error(`compiledOnce: ${missing.join(", ")} did not become bound parameters of: ${sql}`);
  return { sql, slots };
}
