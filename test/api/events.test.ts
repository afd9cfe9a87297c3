import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { backends } from "../helpers/backends.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

describe.each(backends)("%s", (backend) => {
  let h: ApiHarness;
  let receiver: Receiver;
  beforeEach(async () => {
    // One attempt is the whole budget, so a 500 makes a delivery `failed` at once.
    h = await apiHarness({ retry: { maxAttempts: 1 }, limits: { maxPayloadBytes: 1024 } }, backend);
    receiver = await startReceiver((req, res) => res.writeHead(req.path.startsWith("/fail") ? 500 : 200).end());
  });
  afterEach(async () => {
    await receiver.close();
    await h.cleanup();
  });

  const createHook = async (path: string, topic = "orders:created") => {
    const [group, action] = topic.split(":");
    const res = await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}${path}`, group, action, hash_secret: "s3cret" } });
    expect(res.status).toBe(201);
    return res.body as { id: string };
  };
  const eventCount = async () => (await h.app.store.db.selectFrom("events").selectAll().execute()).length;

  describe("round trip", () => {
    it("webhook created through the API, event published through the API, a tick, the delivery listed with its attempt", async () => {
      const hook = await createHook("/ok");
      const raw = '{"topic": "orders:created", "payload": { "id" : 7,\n "total": "9.99", "note": "zoë \\u00e9" }}';
      const published = await h.call("POST", "/events/", { raw });
      expect(published.status).toBe(202);
      expect(published.body).toEqual({ id: expect.any(String), topic: "orders:created", deliveries: 1 });

      const before = await h.call("GET", `/webhooks/${hook.id}/deliveries/`);
      expect(before.body.results.map((d: { status: string }) => d.status)).toEqual(["pending"]);

      const summary = await h.app.dispatcher.tick();
      expect(summary.delivered).toBe(1);
      // The payload's own bytes, exactly as they stood in the request body.
      expect(receiver.requests[0]!.body.toString()).toBe('{ "id" : 7,\n "total": "9.99", "note": "zoë \\u00e9" }');
      expect(receiver.requests[0]!.headers["x-event-id"]).toBe(published.body.id);

      const after = await h.call("GET", `/webhooks/${hook.id}/deliveries/`);
      expect(after.status).toBe(200);
      expect(after.body.count).toBe(1);
      const [delivery] = after.body.results;
      expect(delivery).toMatchObject({ event: published.body.id, webhook: hook.id, status: "delivered", attempts: 1, last_status_code: 200 });
      expect(delivery.history).toEqual([expect.objectContaining({ number: 1, status_code: 200, error: null })]);

      const event = await h.call("GET", `/events/${published.body.id}`);
      expect(event.status).toBe(200);
      expect(event.body).toMatchObject({
        id: published.body.id,
        topic: "orders:created",
        payload: { id: 7, total: "9.99", note: "zoë é" },
        customer: h.app.customerId,
      });
      expect(event.body.deliveries).toEqual([expect.objectContaining({ id: delivery.id, status: "delivered" })]);
    });

    it("filters a webhook's deliveries by status, and retries a failed one", async () => {
      const good = await createHook("/ok");
      const bad = await createHook("/fail");
      for (let i = 0; i < 3; i++) await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { i } } });
      await h.app.dispatcher.tick();

      expect((await h.call("GET", `/webhooks/${good.id}/deliveries/?status=failed`)).body.count).toBe(0);
      const failed = await h.call("GET", `/webhooks/${bad.id}/deliveries/?status=failed&limit=2`);
      expect(failed.body.count).toBe(3);
      expect(failed.body.results).toHaveLength(2);
      expect(failed.body.next).toBe(`/webhooks/${bad.id}/deliveries/?status=failed&limit=2&page=2`);
      expect(failed.body.results[0].history[0]).toMatchObject({ status_code: 500, error: "http" });
      expect((await h.call("GET", `/webhooks/${bad.id}/deliveries/?status=delivered`)).body.count).toBe(0);
      expect((await h.call("GET", `/webhooks/${bad.id}/deliveries/?status=lost`)).status).toBe(400);

      const id = failed.body.results[0].id;
      const retried = await h.call("POST", `/deliveries/${id}/retry/`);
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({ id, status: "pending", wait_reason: "manual_retry" });
      const twice = await h.call("POST", `/deliveries/${id}/retry`);
      expect(twice.status).toBe(409);
      expect(twice.body.error.code).toBe("conflict");
      expect((await h.call("GET", `/webhooks/${bad.id}/deliveries/?status=pending`)).body.results.map((d: { id: string }) => d.id)).toEqual([id]);
      expect((await h.call("POST", "/deliveries/00000000-0000-4000-8000-000000000000/retry/")).status).toBe(404);
    });
  });

  describe("POST /events/", () => {
    it("returns the first event for a repeated Idempotency-Key with the same payload, and 409 for a different one", async () => {
      await createHook("/ok");
      const body = '{"topic":"orders:created","payload":{"id":1}}';
      const first = await h.call("POST", "/events/", { raw: body, headers: { "idempotency-key": "order-1" } });
      const again = await h.call("POST", "/events/", { raw: body, headers: { "idempotency-key": "order-1" } });
      expect(first.status).toBe(202);
      expect(again.status).toBe(202);
      expect(again.body).toEqual(first.body);

      const different = await h.call("POST", "/events/", { raw: '{"topic":"orders:created","payload":{"id":2}}', headers: { "idempotency-key": "order-1" } });
      expect(different.status).toBe(409);
      expect(different.body.error).toMatchObject({ code: "conflict", details: [{ field: "idempotency_key", message: expect.any(String) }] });
      const otherTopic = await h.call("POST", "/events/", { raw: '{"topic":"orders:updated","payload":{"id":1}}', headers: { "idempotency-key": "order-1" } });
      expect(otherTopic.status).toBe(409);
      expect(await eventCount()).toBe(1);
      expect((await h.call("GET", `/events/${first.body.id}/`)).body.idempotency_key).toBe("order-1");
    });

    it("answers each of many concurrent publishes on its own: a conflicting key is a 409, the rest are stored", async () => {
      await createHook("/ok");
      const first = await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { id: 1 } }, headers: { "idempotency-key": "k" } });
      // Sent at once, so they share group-committed transactions; the conflict must not take the others down.
      const replies = await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => h.call("POST", "/events/", { body: { topic: "orders:created", payload: { i } } })),
        h.call("POST", "/events/", { body: { topic: "orders:created", payload: { id: 2 } }, headers: { "idempotency-key": "k" } }),
        h.call("POST", "/events/", { body: { topic: "nope:created", payload: {} } }),
        h.call("POST", "/events/", { body: { topic: "orders:created", payload: { id: 1 } }, headers: { "idempotency-key": "k" } }),
      ]);
      expect(replies.map((r) => r.status)).toEqual([...Array(10).fill(202), 409, 400, 202]);
      expect(replies[12]!.body.id).toBe(first.body.id);
      const stored = new Set((await h.app.store.db.selectFrom("events").select("id").execute()).map((e) => e.id));
      expect(replies.slice(0, 10).every((r) => stored.has(r.body.id))).toBe(true);
      expect(stored.size).toBe(11);
    });

    it("takes the key from the idempotency_key field too, and refuses a field that contradicts the header", async () => {
      const first = await h.call("POST", "/events/", { body: { topic: "orders:created", payload: [1], idempotency_key: "k" } });
      const viaHeader = await h.call("POST", "/events/", { body: { topic: "orders:created", payload: [1] }, headers: { "idempotency-key": "k" } });
      expect(viaHeader.body.id).toBe(first.body.id);
      const clash = await h.call("POST", "/events/", {
        body: { topic: "orders:created", payload: [1], idempotency_key: "k" },
        headers: { "idempotency-key": "j" },
      });
      expect(clash.status).toBe(400);
      expect(clash.body.error.details).toEqual([{ field: "idempotency_key", message: expect.stringContaining("differs from the Idempotency-Key header") }]);
      expect((await h.call("POST", "/events/", { body: { topic: "orders:created", payload: 1, idempotency_key: "" } })).status).toBe(400);
      // PostgreSQL's text cannot hold a NUL: refused by name on both stores, not a 500 on one.
      const nul = await h.call("POST", "/events/", { body: { topic: "orders:created", payload: 1, idempotency_key: "a\u0000b" } });
      expect(nul.status).toBe(400);
      expect(nul.body.error.details).toEqual([{ field: "idempotency_key", message: "must not contain the NUL character (U+0000)" }]);
      // Nor in a path or a query: a 400 naming it on both stores (PostgreSQL answered 500).
      for (const url of ["/events/?idempotency_key=a%00b", "/events/?topic=orders%00", "/deliveries/?topic=a%00b", "/webhooks/a%00b/", "/events/a%00b/"]) {
        const res = await h.call("GET", url);
        expect(res.status, url).toBe(400);
        expect(res.body.error.details).toEqual([{ field: "url", message: "must not contain the NUL character (%00)" }]);
      }
      expect(await eventCount()).toBe(1);
    });

    it("names every bad field: unknown topic, missing payload, unknown field", async () => {
      const res = await h.call("POST", "/events/", { body: { topic: "orders:exploded", colour: "red" } });
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["colour", "payload"]);
      const topic = await h.call("POST", "/events/", { body: { topic: "orders:exploded", payload: {} } });
      expect(topic.body.error.details).toEqual([{ field: "topic", message: expect.stringContaining('unknown action "exploded"') }]);
      expect(await eventCount()).toBe(0);
    });

    it("answers 413 for a payload over limits.maxPayloadBytes, 400 for malformed JSON, 415 for other media types", async () => {
      const big = await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { blob: "x".repeat(2000) } } });
      expect(big.status).toBe(413);
      expect(big.body.error).toMatchObject({
        code: "payload_too_large",
        details: [{ field: "payload", message: expect.stringContaining("the limit is 1024") }],
      });
      const huge = await h.call("POST", "/events/", { body: { topic: "orders:created", payload: "x".repeat(200_000) } });
      expect(huge.status).toBe(413);
      const fits = await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { blob: "x".repeat(900) } } });
      expect(fits.status).toBe(202);

      expect((await h.call("POST", "/events/", { raw: '{"topic":"orders:created","payload":{' })).status).toBe(400);
      expect((await h.call("POST", "/events/", { raw: Buffer.from([0x7b, 0xff, 0x7d]) })).body.error.details).toEqual([
        { field: "(body)", message: "must be UTF-8 text" },
      ]);
      expect((await h.call("POST", "/events/", { raw: "topic=orders:created", headers: { "content-type": "application/x-www-form-urlencoded" } })).status).toBe(
        415,
      );
      expect(await eventCount()).toBe(1);
    });

    it("answers 404 for a missing event", async () => {
      const res = await h.call("GET", "/events/nope/");
      expect(res.status).toBe(404);
      expect(res.body.error).toEqual({ code: "not_found", message: "event nope not found", details: [] });
    });
  });
});
