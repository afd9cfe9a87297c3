/**
 * A webhook's flow settings as a receiver sees them, both stores: batched POSTs (the
 * receiver contract, retried as a unit with the same members and id) and rate_limit
 * (starts paced, so no 1 s window sees more than the limit plus one).
 */
import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { publish } from "../../src/publishing.js";
import { writeTransaction } from "../../src/store/connect.js";
import { deliveryView } from "../../src/store/deliveryViews.js";
import { deliveryJson } from "../../src/store/model.js";
import { updateWebhook } from "../../src/store/webhooks.js";
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

async function publishMany(a: T, n: number, payload: (i: number) => string) {
  await writeTransaction(a.store.db, async (trx) => {
    for (let i = 0; i < n; i++) await publish(trx, { customerId: a.customerId, topic: "orders:created", payload: payload(i) }, a.publishRules);
  });
}

describe.each(backends)("flow settings (%s)", (backend) => {
  it("batch_size: up to K payloads' exact bytes in one signed JSON array, in publish order; a failed batch is retried with the same members and id", async () => {
    let failFirst = true;
    receiver = await startReceiver((req, res) => {
      if (failFirst) {
        failFirst = false;
        return res.writeHead(503).end();
      }
      ok(req, res);
    });
    app = await testApp({ retry: { delaysSeconds: [0] } }, backend);
    const hook = await app.hook(`${receiver.url}/batch`);
    await updateWebhook(app.store.db, app.keyring, hook, null, { batch_size: 10 }, app.webhookRules);
    const payloads = Array.from({ length: 25 }, (_, i) => `{"i":${i},"name":"Zoë ${i}" }`);
    await publishMany(app, 25, (i) => payloads[i]!);

    await app.dispatcher.tick();
    await app.dispatcher.tick();
    const [failed, ...rest] = receiver.requests;
    expect(rest).toHaveLength(3);
    // The failed batch went again (in the second tick), with the same members and webhook-id.
    const again = rest.filter((r) => r.headers["webhook-id"] === failed!.headers["webhook-id"]);
    expect(again).toHaveLength(1);
    expect(again[0]!.headers["x-delivery-ids"]).toBe(failed!.headers["x-delivery-ids"]);
    expect(again[0]!.body.equals(failed!.body)).toBe(true);
    // Every batch: its members' exact bytes in publish order, signed as one body.
    const bodies = rest.map((r) => r.body.toString()).sort();
    const expected = [0, 1, 2].map((k) => `[${payloads.slice(k * 10, k * 10 + 10).join(",")}]`).sort();
    expect(bodies).toEqual(expected);
    for (const r of rest) {
      const size = JSON.parse(r.body.toString()).length as number;
      expect(r.headers["x-batch-size"]).toBe(String(size));
      expect(String(r.headers["x-delivery-ids"]).split(",")).toHaveLength(size);
      expect(String(r.headers["x-event-ids"]).split(",")).toHaveLength(size);
      expect(r.headers["x-delivery-id"]).toBeUndefined();
      expect(r.headers["x-signature"]).toBe(createHmac("sha256", "s3cret").update(r.body).digest("hex"));
    }
    const { n } = await app.store.db
      .selectFrom("deliveries")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("status", "=", "delivered")
      .executeTakeFirstOrThrow();
    expect(Number(n)).toBe(25);
    // Each member recorded both attempts.
    const attempts = await app.store.db.selectFrom("attempts").select("number").execute();
    expect(attempts.filter((a) => a.number === 2)).toHaveLength(10);
  });

  it("rate_limit: starts are paced, never more than the limit plus one in any second, across the tick", async () => {
    receiver = await startReceiver(ok);
    app = await testApp({ dispatch: { concurrency: 64, perWebhookConcurrency: 64 } }, backend);
    const hook = await app.hook(`${receiver.url}/limited`);
    await updateWebhook(app.store.db, app.keyring, hook, null, { rate_limit: 20 }, app.webhookRules);
    await publishMany(app, 45, (i) => `{"i":${i}}`);
    expect(await app.dispatcher.tick()).toMatchObject({ delivered: 45 });
    expect(receiver.requests).toHaveLength(45);
    // When each request started, as hookd records it (the attempt's started_at): what
    // the limit governs. Arrival times at a receiver in this process would also carry
    // its event loop's pauses, which bunch requests hookd sent apart.
    const starts = (await app.store.db.selectFrom("attempts").select("started_at").execute()).map((a) => Number(a.started_at)).sort((a, b) => a - b);
    expect(starts).toHaveLength(45);
    for (const [i, t] of starts.entries()) {
      const inWindow = starts.slice(i).filter((u) => u < t + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(21);
    }
  });

  it("ordered: a failing head holds the rest back, and each of them names the delivery it waits for", async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(500).end());
    app = await testApp({}, backend);
    const hook = await app.hook(`${receiver.url}/ordered`);
    await updateWebhook(app.store.db, app.keyring, hook, null, { ordered: true }, app.webhookRules);
    await publishMany(app, 3, (i) => `{"i":${i}}`);
    await app.dispatcher.tick();
    expect(receiver.requests.map((r) => r.body.toString())).toEqual(['{"i":0}']);
    const rows = await app.store.db.selectFrom("deliveries").selectAll().orderBy("created_at").orderBy("event_id").execute();
    const view = await deliveryView(app.store.db, rows, 10);
    const [head, ...rest] = rows.map((r) => deliveryJson(r, view));
    expect(head!.waiting_for).toBeNull();
    for (const d of rest) {
      expect(d.waiting_for).toBe(head!.id);
      expect(d.waiting).toMatch(new RegExp(`^waiting its turn: the webhook is ordered and delivery ${head!.id} goes first`));
    }
  });
});
