/**
 * The circuit breaker on real receivers, both stores: a receiver that fails at a seeded
 * random rate keeps receiving (each failure retried on its own schedule), one that answers
 * 500 to everything is backed off as a whole after the breaker's rules, with its reason in
 * the webhook object; both beside a healthy receiver of another customer.
 */
import { afterEach, describe, expect, it } from "vitest";
import { webhookJson } from "../../src/store/model.js";
import { createCustomer } from "../../src/store/customers.js";
import { createWebhook, getWebhook } from "../../src/store/webhooks.js";
import { publish } from "../../src/publishing.js";
import { writeTransaction } from "../../src/store/connect.js";
import { testApp } from "../helpers/app.js";
import { backends } from "../helpers/backends.js";
import { ok, startReceiver, type Receiver } from "../helpers/receiver.js";
import { seeded } from "../helpers/seeded.js";

type T = Awaited<ReturnType<typeof testApp>>;
let app: T | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  await app?.cleanup();
  app = receiver = undefined;
});

describe.each(backends)("circuit breaker (%s)", (backend) => {
  it("a receiver failing 10% at random keeps receiving; one failing everything backs off with its reason; a healthy one is not held up", async () => {
    const random = seeded(7);
    receiver = await startReceiver((req, res) => {
      if (req.path === "/flaky") return res.writeHead(random() < 0.1 ? 500 : 204).end();
      if (req.path === "/dead") return res.writeHead(500).end();
      ok(req, res);
    });
    app = await testApp({ dispatch: { concurrency: 16, perWebhookConcurrency: 4 }, retry: { delaysSeconds: [3600] } }, backend);
    const other = await createCustomer(app.store.db, "other");
    const flaky = await app.hook(`${receiver.url}/flaky`);
    const dead = await app.hook(`${receiver.url}/dead`);
    const { row: healthy } = await createWebhook(
      app.store.db,
      app.keyring,
      other.id,
      { url: `${receiver.url}/healthy`, group: "orders", action: "created" },
      app.webhookRules,
    );
    await writeTransaction(app.store.db, async (trx) => {
      for (let i = 0; i < 200; i++) {
        await publish(trx, { customerId: app!.customerId, topic: "orders:created", payload: `{"i":${i}}` }, app!.publishRules);
        await publish(trx, { customerId: other.id, topic: "orders:created", payload: `{"i":${i}}` }, app!.publishRules);
      }
    });
    await app.dispatcher.tick();
    const sent = (path: string) => receiver!.requests.filter((r) => r.path === path).length;
    const status = async (webhookId: string) =>
      Object.fromEntries(
        (
          await app!.store.db
            .selectFrom("deliveries")
            .select((eb) => ["status", eb.fn.countAll<number>().as("n")])
            .where("webhook_id", "=", webhookId)
            .groupBy("status")
            .execute()
        ).map((r) => [r.status, Number(r.n)]),
      );

    // Flaky: every delivery tried once in this tick; about one in ten waits for its own retry.
    expect(sent("/flaky")).toBe(200);
    const f = await status(flaky);
    expect(f.delivered).toBeGreaterThan(160);
    expect((f.delivered ?? 0) + (f.pending ?? 0)).toBe(200);
    const flakyHook = webhookJson((await getWebhook(app.store.db, flaky))!, app.keyring);
    expect(flakyHook.breaker).toMatchObject({ state: "closed", open_until: null, reason: null });

    // Dead: five failures in a row open the breaker (with at most the cap in flight when they do).
    expect(sent("/dead")).toBeGreaterThanOrEqual(5);
    expect(sent("/dead")).toBeLessThanOrEqual(5 + 3);
    const deadHook = webhookJson((await getWebhook(app.store.db, dead))!, app.keyring);
    expect(deadHook.breaker).toMatchObject({ state: "open", reason: "5 failures in a row" });
    expect(deadHook.breaker.description).toMatch(/^open until \S+: 5 failures in a row$/);
    expect((await status(dead)).pending).toBe(200);

    // The other customer's healthy receiver: everything, in the same tick.
    expect(sent("/healthy")).toBe(200);
    expect(await status(healthy.id)).toEqual({ delivered: 200 });
  });
});
