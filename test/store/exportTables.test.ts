/**
 * The export's table list stays true as migrations are added, on both dialects: every
 * table is either exported or declared transient, each exported table has a primary
 * key to page by, and the list is in foreign-key order so import can fill it in turn.
 */
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { EXPORTED_TABLES, MIGRATION_TABLES, TRANSIENT_TABLES } from "../../src/store/exportTables.js";
import { describeTable, listTables } from "../../src/store/introspect.js";
import { type Backend, backends, tempDatabase } from "../helpers/backends.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function references(app: App, table: string): Promise<string[]> {
  const rows =
    app.store.dialect === "postgres"
      ? await sql<{
          name: string;
        }>`select confrelid::regclass::text as name from pg_constraint where contype = 'f' and conrelid = to_regclass(${table})`.execute(app.store.db)
      : await sql<{ name: string }>`select "table" as name from pragma_foreign_key_list(${table})`.execute(app.store.db);
  return rows.rows.map((r) => r.name).filter((t) => t !== table);
}

async function open(dialect: Backend): Promise<App> {
  const d = await tempDatabase(dialect);
  cleanup.push(() => d.drop());
  const url = d.url;
  const app = await openApp({ env: { HOOKD_ENV: "test", HOOKD_DB: url }, logger: silentLogger });
  cleanup.unshift(() => app.close());
  return app;
}

describe.each(backends)("the exported tables on %s", (dialect) => {
  it("cover every table, each with a primary key, parents before children", async () => {
    const app = await open(dialect);
    const known = new Set([...EXPORTED_TABLES, ...TRANSIENT_TABLES, ...MIGRATION_TABLES]);
    const missing = (await listTables(app.store.db)).filter((t) => !known.has(t));
    expect(missing, "add these tables to EXPORTED_TABLES or TRANSIENT_TABLES in src/store/exportTables.ts").toEqual([]);
    for (const [i, table] of EXPORTED_TABLES.entries()) {
      expect((await describeTable(app.store.db, table)).primaryKey.length, `${table} has a primary key`).toBeGreaterThan(0);
      for (const parent of await references(app, table)) {
        expect(EXPORTED_TABLES.indexOf(parent), `${parent} comes before ${table}`).toBeLessThan(i);
        expect(EXPORTED_TABLES.indexOf(parent), `${parent} is exported`).toBeGreaterThanOrEqual(0);
      }
    }
    expect((await describeTable(app.store.db, "attempts")).primaryKey).toEqual(["delivery_id", "number"]);
  });
});
