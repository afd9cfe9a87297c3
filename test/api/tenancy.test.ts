import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { backends } from "../helpers/backends.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

describe.each(backends)("%s", (backend) => {
  let h: ApiHarness;
  let receiver: Receiver;
  beforeEach(async () => {
    h = await apiHarness({ retry: { maxAttempts: 1 } }, backend);
    receiver = await startReceiver((_req, res) => res.writeHead(500).end());
  });
  afterEach(async () => {
    await receiver.close();
    await h.cleanup();
  });

  /** The first customer's webhook, a published event and its (failed) delivery. */
  async function firstCustomersThings() {
    const { body: hook } = await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/a`, group: "orders", action: "created", hash_secret: "s" } });
    const { body: event } = await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { secret: "A's order" } } });
    await h.app.dispatcher.tick();
    const { body: deliveries } = await h.call("GET", `/webhooks/${hook.id}/deliveries/`);
    expect(deliveries.results[0].status).toBe("failed");
    return { hook, event, delivery: deliveries.results[0] };
  }

  const notFound = (what: string, id: string) => ({ error: { code: "not_found", message: `${what} ${id} not found`, details: [] } });

  describe("two customers", () => {
    it("cannot see or touch each other's webhooks, events or deliveries: 404 exactly as for a missing id", async () => {
      const { hook, event, delivery } = await firstCustomersThings();
      const other = { key: h.other.key };

      const list = await h.call("GET", "/webhooks/", other);
      expect(list.body).toEqual({ count: 0, next: null, previous: null, results: [] });

      for (const [method, path, body, what] of [
        ["GET", `/webhooks/${hook.id}/`, undefined, "webhook"],
        ["PATCH", `/webhooks/${hook.id}/`, { active: false }, "webhook"],
        ["PUT", `/webhooks/${hook.id}/`, { url: `${receiver.url}/stolen` }, "webhook"],
        ["DELETE", `/webhooks/${hook.id}/`, undefined, "webhook"],
        ["POST", `/webhooks/${hook.id}/test/`, undefined, "webhook"],
        ["GET", `/webhooks/${hook.id}/deliveries/`, undefined, "webhook"],
        ["GET", `/events/${event.id}/`, undefined, "event"],
        ["POST", `/deliveries/${delivery.id}/retry/`, undefined, "delivery"],
      ] as const) {
        const res = await h.call(method, path, { ...other, body });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body).toEqual(notFound(what, path.split("/")[2]!));
      }

      // Nothing changed, nothing was sent on the other customer's behalf.
      const mine = await h.call("GET", `/webhooks/${hook.id}/`);
      expect(mine.body).toMatchObject({ active: true, url: `${receiver.url}/a` });
      expect(receiver.requests).toHaveLength(1);
      const { body: again } = await h.call("GET", `/events/${event.id}/`);
      expect(again.deliveries[0].status).toBe("failed");
    });

    it("a customer key cannot act for another customer by naming it", async () => {
      const named = await h.call("POST", "/webhooks/", {
        key: h.other.key,
        body: { url: `${receiver.url}/x`, group: "orders", action: "created", customer: h.app.customerId },
      });
      expect(named.status).toBe(400);
      expect(named.body.error.details).toEqual([{ field: "customer", message: expect.stringContaining("its own customer") }]);
      expect((await h.call("GET", `/webhooks/?customer=${h.app.customerId}`, { key: h.other.key })).status).toBe(400);
      const publish = await h.call("POST", "/events/", { key: h.other.key, body: { topic: "orders:created", payload: {}, customer: h.app.customerId } });
      expect(publish.status).toBe(400);
      expect(await h.app.store.db.selectFrom("webhooks").selectAll().execute()).toHaveLength(0);
      expect(await h.app.store.db.selectFrom("events").selectAll().execute()).toHaveLength(0);
      // Naming yourself is fine.
      expect((await h.call("GET", `/webhooks/?customer=${h.other.customerId}`, { key: h.other.key })).status).toBe(200);
    });

    it("the other customer's events only reach the other customer's webhooks", async () => {
      await firstCustomersThings();
      const { body: event } = await h.call("POST", "/events/", { key: h.other.key, body: { topic: "orders:created", payload: {} } });
      expect(event.deliveries).toBe(0);
    });
  });

  describe("admin keys", () => {
    it("act for any customer, naming it; without a name they list everything", async () => {
      const { hook, event, delivery } = await firstCustomersThings();
      const admin = { key: h.adminKey };

      const created = await h.call("POST", "/webhooks/", {
        ...admin,
        body: { url: `${receiver.url}/b`, group: "stock", action: "updated", customer: h.other.customerId },
      });
      expect(created.status).toBe(201);
      expect(created.body.customer).toBe(h.other.customerId);
      expect((await h.call("GET", "/webhooks/", { key: h.other.key })).body.results.map((w: { id: string }) => w.id)).toEqual([created.body.id]);

      expect((await h.call("GET", "/webhooks/", admin)).body.count).toBe(2);
      const scoped = await h.call("GET", `/webhooks/?customer=${h.app.customerId}`, admin);
      expect(scoped.body.results.map((w: { id: string }) => w.id)).toEqual([hook.id]);
      expect((await h.call("GET", `/webhooks/${hook.id}/?customer=${h.other.customerId}`, admin)).status).toBe(404);

      expect((await h.call("GET", `/webhooks/${hook.id}/`, admin)).body.customer).toBe(h.app.customerId);
      expect((await h.call("GET", `/events/${event.id}/`, admin)).body.id).toBe(event.id);
      const retried = await h.call("POST", `/deliveries/${delivery.id}/retry/`, admin);
      expect(retried.body.status).toBe("pending");

      const published = await h.call("POST", "/events/", { ...admin, body: { topic: "stock:updated", payload: { sku: 1 }, customer: h.other.customerId } });
      expect(published.status).toBe(202);
      expect(published.body.deliveries).toBe(1);
    });

    it("must name the customer when creating, and it must exist", async () => {
      const admin = { key: h.adminKey };
      const body = { url: `${receiver.url}/b`, group: "orders", action: "created" };
      const unnamed = await h.call("POST", "/webhooks/", { ...admin, body });
      expect(unnamed.status).toBe(400);
      expect(unnamed.body.error.details).toEqual([{ field: "customer", message: expect.stringContaining("required with an admin key") }]);
      const missing = await h.call("POST", "/webhooks/", { ...admin, body: { ...body, customer: "no-such-customer" } });
      expect(missing.status).toBe(400);
      expect(missing.body.error.details).toEqual([{ field: "customer", message: "customer no-such-customer does not exist" }]);
      const event = await h.call("POST", "/events/", { ...admin, body: { topic: "orders:created", payload: {} } });
      expect(event.status).toBe(400);
      expect(await h.app.store.db.selectFrom("webhooks").selectAll().execute()).toHaveLength(0);
    });
  });
});
