/**
 * Fair share inside a tick, on both stores, with real receivers: one customer's burst
 * does not put another's delivery at the back of the tick, slow receivers hold only their
 * customer's share of the slots, and a first attempt is not queued behind retries.
 * Asserted on the order requests arrived in, not on time.
 */
import { afterEach, describe, expect, it } from "vitest";
import { publish } from "../../src/publishing.js";
import { writeTransaction } from "../../src/store/connect.js";
import { createCustomer } from "../../src/store/customers.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { testApp } from "../helpers/app.js";
import { backends } from "../helpers/backends.js";
import { ok, startReceiver, type Receiver } from "../helpers/receiver.js";

type T = Awaited<ReturnType<typeof testApp>>;
let app: T | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  await app?.cleanup();
  app = receiver = undefined;
});

async function otherCustomer(a: T, url: string, topic = "orders:updated") {
  const customer = await createCustomer(a.store.db, "small");
  const [group, action] = topic.split(":");
  await createWebhook(a.store.db, a.keyring, customer.id, { url, group, action }, a.webhookRules);
  return customer.id;
}

async function burst(a: T, customerId: string, topic: string, events: number) {
  await writeTransaction(a.store.db, async (trx) => {
    for (let i = 0; i < events; i++) await publish(trx, { customerId, topic, payload: `{"i":${i}}` }, a.publishRules);
  });
}

describe.each(backends)("fair share (%s)", (backend) => {
  it("a customer's one delivery goes out in the first round of a tick another customer's burst fills", async () => {
    receiver = await startReceiver(ok);
    app = await testApp({ dispatch: { concurrency: 64, perWebhookConcurrency: 8, batchSize: 500 } }, backend);
    for (let i = 0; i < 20; i++) await app.hook(`${receiver.url}/a${i}`);
    await burst(app, app.customerId, "orders:created", 100);
    const small = await otherCustomer(app, `${receiver.url}/b`);
    await burst(app, small, "orders:updated", 1);

    const summary = await app.dispatcher.tick();
    expect(summary.delivered).toBe(2001);
    const position = receiver.requests.findIndex((r) => r.path === "/b");
    // Within the first round of requests (the concurrency), i.e. the first 3% of the tick.
    expect(position).toBeGreaterThanOrEqual(0);
    expect(position).toBeLessThan(64);
  });

  it("slow receivers hold only their customer's share: the other customer's backlog drains beside them", async () => {
    // Slow enough that the fast backlog drains within a few of their answers on a loaded
    // machine (at 300 ms a busy run drained it in 5 rounds, at the bound); taking every
    // slot, the slow receivers would answer most of their 100 first whatever the speed.
    const SLOW_MS = 600;
    let slowAnswered = 0;
    receiver = await startReceiver((req, res) => {
      if (req.path.startsWith("/slow")) {
        setTimeout(() => {
          slowAnswered++;
          ok(req, res);
        }, SLOW_MS);
      } else ok(req, res);
    });
    app = await testApp({ dispatch: { concurrency: 16, perWebhookConcurrency: 8 } }, backend);
    for (let i = 0; i < 10; i++) await app.hook(`${receiver.url}/slow${i}`);
    await burst(app, app.customerId, "orders:created", 10);
    const small = await otherCustomer(app, `${receiver.url}/fast`);
    await burst(app, small, "orders:updated", 300);

    let answeredWhenDone = -1;
    receiver.respond((req, res) => {
      if (req.path.startsWith("/slow")) {
        setTimeout(() => {
          slowAnswered++;
          ok(req, res);
        }, SLOW_MS);
        return;
      }
      if (receiver!.requests.filter((r) => r.path === "/fast").length === 300) answeredWhenDone = slowAnswered;
      ok(req, res);
    });
    expect(await app.dispatcher.tick()).toMatchObject({ delivered: 400 });
    // All 300 fast deliveries arrived while the slow receivers had answered a small part
    // of their 100 (taking every slot, they would have had to answer most of them first).
    expect(answeredWhenDone).toBeGreaterThanOrEqual(0);
    expect(answeredWhenDone).toBeLessThan(40);
  });

  it("a first attempt goes out in the first round beside a backlog of overdue retries", async () => {
    receiver = await startReceiver(ok);
    app = await testApp({ dispatch: { concurrency: 8, perWebhookConcurrency: 8, batchSize: 100 } }, backend);
    const hook = await app.hook(`${receiver.url}/h`);
    await burst(app, app.customerId, "orders:created", 500);
    // Those 500 are retries now, overdue since an hour ago.
    const hourAgo = Date.now() - 3_600_000;
    await app.store.db.updateTable("deliveries").set({ attempts: 2, next_attempt_at: hourAgo }).where("webhook_id", "=", hook).execute();
    await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: '{"fresh":true}' }, app.publishRules);

    expect(await app.dispatcher.tick()).toMatchObject({ delivered: 501 });
    const position = receiver.requests.findIndex((r) => r.body.toString() === '{"fresh":true}');
    expect(position).toBeGreaterThanOrEqual(0);
    expect(position).toBeLessThan(16);
  });
});
