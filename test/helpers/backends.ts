/**
 * The same test on both stores: a temp SQLite file, or its own PostgreSQL schema
 * (random name, dropped afterwards) on the local server.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createCustomer } from "../../src/store/customers.js";
import { testApp } from "./app.js";

export type Backend = "sqlite" | "postgres";
export const BACKENDS: readonly Backend[] = ["sqlite", "postgres"];

const PG_BASE = process.env.HOOKD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

export interface BackendApp {
  app: App;
  customerId: string;
  cleanup(): Promise<void>;
}

export async function openBackend(backend: Backend, overrides: Record<string, unknown> = {}): Promise<BackendApp> {
  if (backend === "sqlite") {
    const app = await testApp(overrides);
    return { app, customerId: app.customerId, cleanup: () => app.cleanup() };
  }
  const schema = `hookd_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_BASE });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const url = `${PG_BASE}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const app = await openApp({ env: { HOOKD_ENV: "test", HOOKD_DB: url }, logger: silentLogger, overrides });
  const customer = await createCustomer(app.store.db, "acme");
  return {
    app,
    customerId: customer.id,
    async cleanup() {
      await app.close();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
}
