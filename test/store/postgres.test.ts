/**
 * The same store code on PostgreSQL (the local server on 127.0.0.1:5432): migrations,
 * publish with idempotency, and two dispatchers claiming at once (FOR UPDATE SKIP
 * LOCKED) without sending anything twice. Each test gets its own schema.
 */
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createCustomer } from "../../src/store/customers.js";
import { publish } from "../../src/store/outbox.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { postgresProblem, prerequisite } from "../helpers/prerequisites.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

const BASE = process.env.HOOKD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const postgres = prerequisite("PostgreSQL", await postgresProblem(BASE));
let admin: pg.Client;
let schema: string | undefined;
const apps: App[] = [];
let receiver: Receiver;

beforeAll(async () => {
  if (postgres.skip) return;
  postgres.require();
  admin = new pg.Client({ connectionString: BASE });
  await admin.connect();
});
afterAll(async () => admin?.end());
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
  await receiver?.close();
  if (schema) await admin.query(`drop schema if exists ${schema} cascade`);
});

async function open(): Promise<App> {
  const url = `${BASE}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const app = await openApp({ env: { HOOKD_ENV: "test", HOOKD_DB: url }, logger: silentLogger, overrides: { dispatch: { batchSize: 50 } } });
  apps.push(app);
  return app;
}

describe.skipIf(postgres.skip)("PostgreSQL store", () => {
  it("migrates, publishes with idempotency, and two dispatchers deliver each delivery once", async () => {
    schema = `hookd_test_${process.pid}_${Date.now()}`;
    await admin.query(`create schema ${schema}`);
    receiver = await startReceiver((_req, res) => setTimeout(() => res.writeHead(200).end(), 2));
    const a = await open();
    expect(a.store.dialect).toBe("postgres");
    const customer = await createCustomer(a.store.db, "acme");
    for (let i = 0; i < 4; i++) {
      await createWebhook(a.store.db, customer.id, { url: `${receiver.url}/h${i}`, group: "orders", action: "created", hash_secret: "s" }, a.webhookRules);
    }
    const first = await publish(a.store.db, { customerId: customer.id, topic: "orders:created", payload: '{"n":0}', idempotencyKey: "k" }, a.publishRules);
    const again = await publish(a.store.db, { customerId: customer.id, topic: "orders:created", payload: '{"n":0}', idempotencyKey: "k" }, a.publishRules);
    expect(again).toMatchObject({ id: first.id, duplicate: true, deliveries: 4 });
    for (let i = 1; i < 150; i++) {
      await publish(a.store.db, { customerId: customer.id, topic: "orders:created", payload: `{"n":${i}}` }, a.publishRules);
    }
    const b = await open();
    const [sa, sb] = await Promise.all([a.dispatcher.tick(), b.dispatcher.tick()]);
    expect(sa.delivered + sb.delivered).toBe(600);
    const ids = receiver.requests.map((r) => String(r.headers["x-delivery-id"]));
    expect(ids).toHaveLength(600);
    expect(new Set(ids).size).toBe(600);
    const bodies = new Set(receiver.requests.map((r) => r.body.toString()));
    expect(bodies.has('{"n":0}')).toBe(true);
  });
});
