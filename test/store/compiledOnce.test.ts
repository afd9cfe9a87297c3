/** compiledOnce: the builder's own SQL for each dialect, with each run's values where the placeholders were. */
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { compiledOnce } from "../../src/store/compiledOnce.js";
import type { Database } from "../../src/store/schema.js";

// Compiling needs a dialect, not a connection: neither database is reached.
const sqlite = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(":memory:") }) });
const postgres = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool() }) });
afterAll(async () => {
  await sqlite.destroy();
  await postgres.destroy();
});

const byTopic = compiledOnce<{ customerId: string; topic: string }>(["customerId", "topic"], (db, p) =>
  db.selectFrom("webhooks").select("id").where("customer_id", "=", p.customerId).where("topic", "=", p.topic).where("active", "=", 1),
);

describe.each([
  ["sqlite", sqlite],
  ["postgres", postgres],
] as const)("%s", (_, db) => {
  it("sends what the builder would, with each run's values and the constants in place", () => {
    const built = db
      .selectFrom("webhooks")
      .select("id")
      .where("customer_id", "=", "c1")
      .where("topic", "=", "orders:created")
      .where("active", "=", 1)
      .compile();
    for (const [customerId, topic] of [
      ["c1", "orders:created"],
      ["c2", "stock:updated"],
    ] as const) {
      const once = byTopic(db, { customerId, topic });
      expect(once.sql).toBe(built.sql);
      expect(once.parameters).toEqual([customerId, topic, 1]);
    }
  });

  it("refuses a builder that does not bind a value as a parameter", () => {
    const literal = compiledOnce<{ topic: string }>(["topic"], (db, p) => db.selectFrom("webhooks").select("id").where("topic", "=", sql.lit(p.topic)));
    expect(() => literal(db, { topic: "orders:created" })).toThrow(/topic did not become bound parameters/);
  });
});
