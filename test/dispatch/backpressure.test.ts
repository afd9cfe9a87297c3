/**
 * Sending never runs more than a record batch ahead of recording: with the attempts
 * table locked (the recorder cannot commit), a tick sends what is in flight plus one
 * batch and waits; once the lock goes, it finishes and every delivery is recorded once.
 * On PostgreSQL, whose locks wait without blocking the dispatcher's event loop.
 */
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { writeTransaction } from "../../src/store/connect.js";
import { createCustomer } from "../../src/store/customers.js";
import { publish } from "../../src/publishing.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { countByStatus } from "../helpers/deliveries.js";
import { dropSchema } from "../helpers/backends.js";
import { ok, startReceiver, type Receiver } from "../helpers/receiver.js";

const PG = process.env.HOOKD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `hookd_backpressure_${Math.random().toString(36).slice(2, 10)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let admin: pg.Client | undefined;
let app: App | undefined;
let receiver: Receiver | undefined;

afterEach(async () => {
  // The lock first: a store call waiting on it would hold up closing the app.
  await admin?.query("rollback").catch(() => {});
  await receiver?.close();
  await app?.close();
  if (admin) await dropSchema(admin, schema);
  await admin?.end();
});

it("holds sending while a batch is unrecorded, then records everything once", async () => {
  admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  receiver = await startReceiver(ok);
  const url = `${PG}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const dispatch = { concurrency: 8, perWebhookConcurrency: 8, batchSize: 20 };
  app = await openApp({ env: { HOOKD_ENV: "test", HOOKD_DB: url }, logger: silentLogger, overrides: { dispatch } });
  const customer = await createCustomer(app.store.db, "acme");
  for (let i = 0; i < 5; i++) {
    await createWebhook(app.store.db, app.keyring, customer.id, { url: `${receiver.url}/h${i}`, group: "orders", action: "created" }, app.webhookRules);
  }
  await writeTransaction(app.store.db, async (trx) => {
    for (let i = 0; i < 60; i++) await publish(trx, { customerId: customer.id, topic: "orders:created", payload: `{"i":${i}}` }, app!.publishRules);
  });

  await admin.query("begin");
  await admin.query(`lock table ${schema}.attempts in exclusive mode`);
  const tick = app.dispatcher.tick();
  // Until sending stops.
  let seen = -1;
  while (receiver.requests.length !== seen) {
    seen = receiver.requests.length;
    await sleep(500);
  }
  expect(seen).toBeGreaterThanOrEqual(dispatch.batchSize);
  expect(seen).toBeLessThanOrEqual(dispatch.batchSize + dispatch.concurrency);

  await admin.query("commit");
  expect(await tick).toMatchObject({ delivered: 300, error: null });
  expect(await countByStatus(app.store.db)).toEqual({ delivered: 300 });
  expect(receiver.requests).toHaveLength(300);
});
