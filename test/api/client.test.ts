/**
 * hookd/client against a real server on both stores: every route through its typed
 * method, each answer checked against what /openapi.json documents for it, and errors
 * thrown as HookdError with the API's status, code, message and details.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HookdClient, HookdError } from "../../src/client.js";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { backends } from "../helpers/backends.js";
import { documentCheck, type DocumentCheck } from "../helpers/openapi.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

async function thrown(promise: Promise<unknown>): Promise<HookdError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HookdError);
  return err as HookdError;
}

describe.each(backends)("HookdClient on %s", (backend) => {
  let h: ApiHarness;
  let receiver: Receiver;
  let client: HookdClient;
  let admin: HookdClient;
  let doc: DocumentCheck;

  beforeEach(async () => {
    h = await apiHarness({}, backend);
    receiver = await startReceiver();
    client = new HookdClient({ baseUrl: h.server.url, apiKey: h.key });
    admin = new HookdClient({ baseUrl: `${h.server.url}/`, apiKey: h.adminKey });
    doc = documentCheck(await client.openApi());
  });
  afterEach(async () => {
    await receiver.close();
    await h.cleanup();
  });

  it("has a method for every operation in /openapi.json", () => {
    const methods = new Set(Object.getOwnPropertyNames(HookdClient.prototype));
    expect(doc.operations.filter((op) => !methods.has(op))).toEqual([]);
    expect(doc.operations.length).toBeGreaterThanOrEqual(25);
  });

  it("webhooks: create, list, get, update (PATCH and PUT), rotate, test, deliveries, delete", async () => {
    const created = await client.createWebhook({ url: `${receiver.url}/in`, group: "orders", action: "created", hash_secret: "s3cret", timeout_ms: 5000 });
    doc.check("createWebhook", 201, created);
    expect(created).toMatchObject({ topic: "orders:created", hash_secret: "s3cret", timeout_ms: 5000, active: true });

    const list = await client.listWebhooks({ limit: 10, sort: "url", direction: "asc" });
    doc.check("listWebhooks", 200, list);
    expect(list.results.map((w) => w.id)).toEqual([created.id]);
    const got = await client.getWebhook(created.id);
    doc.check("getWebhook", 200, got);
    expect("hash_secret" in got).toBe(false);

    const paused = await client.updateWebhook(created.id, { active: false, timeout_ms: null });
    doc.check("updateWebhook", 200, paused);
    expect(paused).toMatchObject({ active: false, timeout_ms: null });
    const resumed = await client.replaceWebhook(created.id, { active: true, headers: { "X-Tenant": "acme" } });
    doc.check("replaceWebhook", 200, resumed);
    expect(resumed).toMatchObject({ active: true, headers: { "X-Tenant": "acme" } });

    const rotated = await client.rotateWebhookSecret(created.id, { hash_secret: "n3w-secret", overlap_seconds: 0 });
    doc.check("rotateWebhookSecret", 200, rotated);
    expect(rotated.hash_secret).toBe("n3w-secret");

    const test = await client.testWebhook(created.id);
    doc.check("testWebhook", 200, test);
    expect(test).toMatchObject({ ok: true, status_code: 200 });
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers["x-tenant"]).toBe("acme");

    const deliveries = await client.listWebhookDeliveries(created.id, { status: "pending" });
    doc.check("listWebhookDeliveries", 200, deliveries);
    expect(deliveries.count).toBe(0);

    expect(await client.deleteWebhook(created.id)).toBeUndefined();
    const gone = await thrown(client.getWebhook(created.id));
    expect(gone).toMatchObject({ status: 404, code: "not_found" });
    doc.check("getWebhook", 404, { error: { code: gone.code, message: gone.message, details: gone.details } });
  });

  it("events and deliveries: publish, list, get, deliver, inspect, replay", async () => {
    const hook = await client.createWebhook({ url: `${receiver.url}/in`, group: "orders", action: "created", hash_secret: "s3cret" });
    receiver.respond((_req, res) => res.writeHead(500).end("down"));
    const published = await client.publishEvent({ topic: "orders:created", payload: { id: 1, total: "9.99" } }, { idempotencyKey: "order-1" });
    doc.check("publishEvent", 202, published);
    expect(published).toMatchObject({ topic: "orders:created", deliveries: 1 });
    // The same key again: the first event.
    expect((await client.publishEvent({ topic: "orders:created", payload: { id: 1, total: "9.99" }, idempotency_key: "order-1" })).id).toBe(published.id);

    const events = await client.listEvents({ topic: "orders:created", limit: 5 });
    doc.check("listEvents", 200, events);
    expect(events.results.map((e) => e.id)).toEqual([published.id]);
    const event = await client.getEvent(published.id);
    doc.check("getEvent", 200, event);
    expect(event.payload).toEqual({ id: 1, total: "9.99" });
    expect(event.deliveries).toHaveLength(1);

    await h.app.dispatcher.tick();
    const pending = await client.listDeliveries({ status: "pending", webhook: hook.id });
    doc.check("listDeliveries", 200, pending);
    const id = pending.results[0]!.id;
    expect(pending.results[0]).toMatchObject({ attempts: 1, last_status_code: 500, topic: "orders:created" });
    const one = await client.getDelivery(id);
    doc.check("getDelivery", 200, one);
    expect(one.payload).toBe('{"id":1,"total":"9.99"}');
    expect(one.history).toHaveLength(1);

    const notFailed = await thrown(client.retryDelivery(id));
    expect(notFailed).toMatchObject({ status: 409, code: "conflict" });
    await h.app.store.db.updateTable("deliveries").set({ status: "failed" }).where("id", "=", id).execute();
    const dry = await client.retryDeliveries({ webhook: hook.id, dry_run: true });
    doc.check("retryDeliveries", 200, dry);
    expect(dry).toEqual({ count: 1, dry_run: true });
    const retried = await client.retryDelivery(id);
    doc.check("retryDelivery", 200, retried);
    expect(retried.status).toBe("pending");
    const none = await client.retryDeliveries({});
    expect(none).toEqual({ count: 0 });

    receiver.respond((_req, res) => res.writeHead(200).end("ok"));
    await h.app.dispatcher.tick();
    const done = await client.listWebhookDeliveries(hook.id, { status: "delivered" });
    doc.check("listWebhookDeliveries", 200, done);
    expect(done.results[0]!.history?.map((a) => a.status_code)).toEqual([500, 200]);
  });

  it("event types, stats, portal sessions, health, metrics", async () => {
    const put = await admin.putEventType("orders:created", { schema: { type: "object", required: ["id"] }, description: "an order" });
    doc.check("putEventType", 201, put);
    doc.check("getEventType", 200, await client.getEventType("orders:created"));
    const types = await client.listEventTypes();
    doc.check("listEventTypes", 200, types);
    expect(types.results.map((t) => t.topic)).toEqual(["orders:created"]);
    const refused = await thrown(client.publishEvent({ topic: "orders:created", payload: { total: 1 } }));
    expect(refused.status).toBe(422);
    expect(refused.details[0]).toMatchObject({ path: "/id", message: "is required" });
    doc.check("publishEvent", 422, { error: { code: refused.code, message: refused.message, details: refused.details } });
    expect((await thrown(client.deleteEventType("orders:created"))).status).toBe(403);
    expect(await admin.deleteEventType("orders:created")).toBeUndefined();

    const stats = await client.getStats({ bucket: 3600 });
    doc.check("getStats", 200, stats);
    const link = await client.createPortalSession({ expires_in: 60 });
    doc.check("createPortalSession", 201, link);
    expect(link.url).toMatch(/^\/ui\/portal#/);
    expect(await client.health()).toEqual({ status: "ok" });
    expect(await client.metrics()).toContain("hookd_store_up 1");
  });

  it("follows list links page by page", async () => {
    for (const action of ["created", "updated", "deleted"]) await client.createWebhook({ url: `${receiver.url}/${action}`, group: "orders", action });
    const first = await client.listWebhooks({ limit: 2 });
    expect(first.results).toHaveLength(2);
    const second = await client.follow<typeof first>(first.next!);
    doc.check("listWebhooks", 200, second);
    expect(second.results).toHaveLength(1);
    expect(second.next).toBeNull();
  });

  it("throws HookdError with the API's status, code, message and details", async () => {
    const invalid = await thrown(client.createWebhook({ url: "not a url", group: "orders", action: "created" }));
    expect(invalid).toMatchObject({ status: 400, code: "validation_failed" });
    expect(invalid.details.map((d) => d.field)).toContain("url");
    expect(invalid.message).toMatch(/url/);
    doc.check("createWebhook", 400, { error: { code: invalid.code, message: invalid.message, details: invalid.details } });

    const badKey = await thrown(new HookdClient({ baseUrl: h.server.url, apiKey: "nope" }).listWebhooks());
    expect(badKey).toMatchObject({ status: 401, code: "unauthorized" });

    const wrongQuery = await thrown(client.listWebhooks({ limit: 0 }));
    expect(wrongQuery).toMatchObject({ status: 400, code: "validation_failed" });
    expect(wrongQuery.details[0]).toMatchObject({ field: "limit" });

    const unreachable = await thrown(new HookdClient({ baseUrl: "http://127.0.0.1:1", apiKey: h.key }).health());
    expect(unreachable).toMatchObject({ status: 0, code: "network_error" });
  });
});
