/**
 * Both backends for the store, API and CLI suites: `describe.each(backends)` and a
 * fresh database per test. SQLite: a file in a new temp folder. PostgreSQL: a schema
 * with a random name on the local server (HOOKD_TEST_PG, default
 * postgres://postgres@127.0.0.1:5432/test), reached through the URL's search_path,
 * and dropped afterwards, so tests running in parallel never see each other's rows.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { openApp } from "../../src/app.js";
import { MIGRATION_LOCK_KEY } from "../../src/store/migrate.js";
import { silentLogger } from "../../src/logger.js";
import { tempDir } from "./app.js";
import { postgresProblem, prerequisite } from "./prerequisites.js";

export type Backend = "sqlite" | "postgres";

export const PG_BASE = process.env.HOOKD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

// Without a PostgreSQL, a developer's run covers SQLite and says why; under CI it fails.
const postgres = prerequisite("PostgreSQL", await postgresProblem(PG_BASE));
postgres.require();
export const backends: readonly Backend[] = postgres.skip ? ["sqlite"] : ["sqlite", "postgres"];

export interface TempDatabase {
  backend: Backend;
  /** HOOKD_DB for this database */
  url: string;
  /** a temp folder for the test's other files (SQLite: the database is in it) */
  dir: string;
  /** PostgreSQL: the schema's name */
  schema: string | null;
  /** Drop the database and the folder. Safe to call twice. */
  drop(): Promise<void>;
}

/** Run statements as the server's superuser (the test database's owner). */
export async function asAdmin<T>(fn: (client: pg.Client) => Promise<T>, url = PG_BASE): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Drop a test's schema without breaking another test's migration: Kysely's migrator
 * introspects every schema, so the drop waits for hookd's migration lock.
 */
export async function dropSchema(client: pg.Client, schema: string, extra = ""): Promise<void> {
  await client.query("begin");
  try {
    await client.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(`drop schema if exists ${schema} cascade${extra ? `; ${extra}` : ""}`);
    await client.query("commit");
  } catch (err) {
    await client.query("rollback").catch(() => {});
    throw err;
  }
}

/** A postgres:// URL whose connections use `schema` (created by the caller). */
export function schemaUrl(schema: string, base = PG_BASE): string {
  return `${base}${base.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

export async function tempDatabase(backend: Backend): Promise<TempDatabase> {
  const folder = tempDir(`hookd-${backend}-`);
  if (backend === "sqlite") {
    return { backend, url: path.join(folder.dir, "hookd.sqlite"), dir: folder.dir, schema: null, drop: async () => folder.cleanup() };
  }
  const schema = randomName("hookd_test");
  await asAdmin((c) => c.query(`create schema ${schema}`));
  let dropped = false;
  return {
    backend,
    url: schemaUrl(schema),
    dir: folder.dir,
    schema,
    async drop() {
      if (dropped) return;
      dropped = true;
      folder.cleanup();
      await asAdmin((c) => dropSchema(c, schema));
    },
  };
}

/** A fresh database with hookd's tables, as after `hookd migrate` (for tests of other commands). */
export async function migratedDatabase(backend: Backend): Promise<TempDatabase> {
  const database = await tempDatabase(backend);
  const app = await openApp({ env: { HOOKD_ENV: "test", HOOKD_DB: database.url }, logger: silentLogger });
  await app.close();
  return database;
}
