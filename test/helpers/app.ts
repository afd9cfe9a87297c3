/**
 * A fresh database per test (a real SQLite file in a temp folder, or a PostgreSQL
 * schema: backends.ts), opened through the same code path as the CLI with the test
 * environment's config.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openApp, type App, type OpenOptions } from "../../src/app.js";
import { silentLogger, type Logger } from "../../src/logger.js";
import { createCustomer } from "../../src/store/customers.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { tempDatabase, type Backend } from "./backends.js";

export interface TestApp extends App {
  dir: string;
  /** HOOKD_DB: the SQLite file, or the PostgreSQL URL (with its search_path) */
  dbFile: string;
  backend: Backend;
  /** PostgreSQL: this test's schema */
  schema: string | null;
  /** a customer and helpers bound to it */
  customerId: string;
  hook(url: string, topic?: string, secret?: string | null): Promise<string>;
}

export function tempDir(prefix = "hookd-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function testApp(
  overrides: Record<string, unknown> = {},
  backend: Backend = "sqlite",
  logger: Logger = silentLogger,
  /** tracing instead of none (telemetry/sdk.ts tracingWith) */
  options: Pick<OpenOptions, "tracing"> = {},
): Promise<TestApp & { cleanup: () => Promise<void> }> {
  const database = await tempDatabase(backend);
  const dbFile = database.url;
  const app = await openApp({ env: { HOOKD_ENV: "test", HOOKD_DB: dbFile }, overrides, logger, ...options }).catch(async (err) => {
    await database.drop();
    throw err;
  });
  const customer = await createCustomer(app.store.db, "acme");
  return Object.assign(app, {
    dir: database.dir,
    dbFile,
    backend,
    schema: database.schema,
    customerId: customer.id,
    async hook(url: string, topic = "orders:created", secret: string | null = "s3cret") {
      const [group, action] = topic.split(":");
      const { row } = await createWebhook(app.store.db, app.keyring, customer.id, { url, group, action, hash_secret: secret }, app.webhookRules);
      return row.id;
    },
    async cleanup() {
      await app.close();
      await database.drop();
    },
  });
}
