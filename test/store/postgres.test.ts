/**
 * The same store code on PostgreSQL (the local server on 127.0.0.1:5432): migrations,
 * publish with idempotency, and two dispatchers claiming at once (FOR UPDATE SKIP
 * LOCKED) without sending anything twice. Each test gets its own schema.
 */
import { afterEach, describe, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createCustomer } from "../../src/store/customers.js";
import { publish } from "../../src/publishing.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { tempDatabase, type TempDatabase } from "../helpers/backends.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

let database: TempDatabase;
const apps: App[] = [];
let receiver: Receiver;

afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
  await receiver?.close();
  await database?.drop();
});

async function open(): Promise<App> {
  const app = await openApp({ env: { HOOKD_ENV: "test", HOOKD_DB: database.url }, logger: silentLogger, overrides: { dispatch: { batchSize: 50 } } });
  apps.push(app);
  return app;
}

describe("PostgreSQL store", () => {
  it("migrates, publishes with idempotency, and two dispatchers deliver each delivery once", async () => {
    database = await tempDatabase("postgres");
    receiver = await startReceiver((_req, res) => setTimeout(() => res.writeHead(200).end(), 2));
    const a = await open();
    expect(a.store.dialect).toBe("postgres");
    const customer = await createCustomer(a.store.db, "acme");
    for (let i = 0; i < 4; i++) {
      await createWebhook(
        a.store.db,
        a.keyring,
        customer.id,
        { url: `${receiver.url}/h${i}`, group: "orders", action: "created", hash_secret: "s" },
        a.webhookRules,
      );
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
