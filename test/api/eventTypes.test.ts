/**
 * The event-type catalog through the API, on both stores: admin keys write it, any key
 * reads it, a schema that does not compile is a 400 naming why, and from then on a
 * payload that fails the topic's schema is a 422 naming each failing JSON Pointer with
 * nothing stored, through the API and the library alike.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HookdError } from "../../src/errors.js";
import { publish } from "../../src/publishing.js";
import { putEventType } from "../../src/store/eventTypes.js";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { backends } from "../helpers/backends.js";

const schema = {
  type: "object",
  required: ["id", "total"],
  properties: { id: { type: "integer" }, total: { type: "number", minimum: 0 }, customer: { type: "object", required: ["email"] } },
};

describe.each(backends)("event types (%s)", (backend) => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await apiHarness({}, backend);
    await h.app.hook("http://127.0.0.1:9/in");
  });
  afterEach(async () => {
    await h.cleanup();
  });

  const put = (topic: string, body: unknown, key = h.adminKey) => h.call("PUT", `/event-types/${topic}/`, { body, key });
  const count = async (table: "events" | "deliveries") =>
    Number(
      (
        await h.app.store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const publishApi = (payload: unknown) => h.call("POST", "/events/", { body: { topic: "orders:created", payload } });

  it("admin keys create, replace and delete; any key reads", async () => {
    const created = await put("orders:created", { schema, description: "a new order" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ topic: "orders:created", schema, description: "a new order" });
    const replaced = await put("orders:created", { schema: { ...schema, title: "v2" } });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ schema: { title: "v2" }, description: null, created_at: created.body.created_at });

    expect((await h.call("GET", "/event-types/")).body).toMatchObject({ count: 1, next: null, previous: null, results: [{ topic: "orders:created" }] });
    expect((await h.call("GET", "/event-types/orders:created/")).body.schema.title).toBe("v2");
    expect((await h.call("GET", "/event-types/orders:updated/")).status).toBe(404);

    const forbidden = await put("orders:created", { schema: {} }, h.key);
    expect(forbidden.status).toBe(403);
    expect((await h.call("DELETE", "/event-types/orders:created/")).status).toBe(403);
    expect((await h.call("GET", "/event-types/orders:created/")).body.schema.title).toBe("v2");

    expect((await h.call("DELETE", "/event-types/orders:created/", { key: h.adminKey })).status).toBe(204);
    expect((await h.call("DELETE", "/event-types/orders:created/", { key: h.adminKey })).status).toBe(404);
    expect((await h.call("GET", "/event-types/")).body.count).toBe(0);
  });

  it.each([
    ["a schema that does not compile", "orders:created", { schema: { type: "whole" } }, "schema", "does not compile"],
    ["a schema of another draft", "orders:created", { schema: { $schema: "http://json-schema.org/draft-07/schema#" } }, "schema", "does not compile"],
    ["no schema", "orders:created", { description: "x" }, "schema", "is required"],
    ["a topic not in the catalog", "orders:exploded", { schema: {} }, "topic", "unknown action"],
    ["an unknown field", "orders:created", { schema: {}, version: 2 }, "version", "is not a known field"],
  ])("refuses %s with a 400 naming it, storing nothing", async (_name, topic, body, field, message) => {
    const res = await put(topic, body);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toContainEqual({ field, message: expect.stringContaining(message) });
    expect((await h.call("GET", "/event-types/")).body.count).toBe(0);
  });

  it("a payload that fails the topic's schema is a 422 naming each path, and nothing is stored", async () => {
    await put("orders:created", { schema });
    const bad = await publishApi({ id: "1001", total: -5, customer: {} });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe("unprocessable");
    expect(bad.body.error.details).toEqual([
      { path: "/id", message: "must be integer" },
      { path: "/total", message: "must be >= 0" },
      { path: "/customer/email", message: "is required" },
    ]);
    expect(await count("events")).toBe(0);
    expect(await count("deliveries")).toBe(0);

    const good = await publishApi({ id: 1001, total: 5 });
    expect(good.status).toBe(202);
    expect(good.body.deliveries).toBe(1);
    // Other topics are not checked.
    expect((await h.call("POST", "/events/", { body: { topic: "orders:updated", payload: "anything" } })).status).toBe(202);
  });

  it("a replaced schema takes effect at once, and a deleted one stops checking", async () => {
    await put("orders:created", { schema });
    expect((await publishApi({ id: 1, total: 1 })).status).toBe(202);
    await put("orders:created", { schema: { ...schema, required: ["id", "total", "currency"] } });
    expect((await publishApi({ id: 1, total: 1 })).body.error.details).toEqual([{ path: "/currency", message: "is required" }]);
    await h.call("DELETE", "/event-types/orders:created/", { key: h.adminKey });
    expect((await publishApi({ nothing: true })).status).toBe(202);
  });

  it("two saves within one millisecond are still two versions to a publisher that compiled the first", async () => {
    const at = Date.now();
    await putEventType(h.app.store.db, "orders:created", { schema }, h.app.config.topics, at);
    expect((await publishApi({ id: 1, total: 1 })).status).toBe(202);
    const second = await putEventType(h.app.store.db, "orders:created", { schema: { ...schema, required: ["currency"] } }, h.app.config.topics, at);
    expect(second.row.updated_at).toBe(at + 1);
    expect((await publishApi({ id: 1, total: 1 })).status).toBe(422);
  });

  it("the library's publish checks the schema too, and stores nothing on a refusal", async () => {
    await put("orders:created", { schema });
    let refused: HookdError | null = null;
    try {
      await publish(h.app.store.db, { customerId: h.app.customerId, topic: "orders:created", payload: '{"id": 1}' }, h.app.publishRules);
    } catch (err) {
      refused = err as HookdError;
    }
    expect(refused).toMatchObject({ code: "unprocessable", details: [{ path: "/total", message: "is required" }] });
    expect(await count("events")).toBe(0);
  });
});
