import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateKeyLine, parseKeyFile } from "../../src/domain/secretBox.js";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { backends } from "../helpers/backends.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

describe.each(backends)("%s", (backend) => {
  let h: ApiHarness;
  let receiver: Receiver | undefined;
  beforeEach(async () => {
    h = await apiHarness({}, backend);
  });
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
    await h.cleanup();
  });

  const hookBody = (n = 0) => ({ url: `http://127.0.0.1:9/hook${n}`, group: "orders", action: "created", hash_secret: "ABC12345" });
  const count = async () =>
    (
      await h.app.store.db
        .selectFrom("webhooks")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow()
    ).n;

  describe("POST /webhooks/", () => {
    it("creates a webhook: 201 with the seed-002 fields, hash_secret only here", async () => {
      const res = await h.call("POST", "/webhooks/", { body: hookBody() });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        url: "http://127.0.0.1:9/hook0",
        group: "orders",
        action: "created",
        topic: "orders:created",
        customer: h.app.customerId,
        active: true,
        hash_secret: "ABC12345",
      });
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);

      const got = await h.call("GET", `/webhooks/${res.body.id}/`);
      expect(got.status).toBe(200);
      expect(got.body).not.toHaveProperty("hash_secret");
      const list = await h.call("GET", "/webhooks/");
      expect(list.body.results[0]).not.toHaveProperty("hash_secret");
      const patched = await h.call("PATCH", `/webhooks/${res.body.id}/`, { body: { hash_secret: "new" } });
      expect(patched.body).not.toHaveProperty("hash_secret");
    });

    it("names every bad field at once and stores nothing", async () => {
      const res = await h.call("POST", "/webhooks/", { body: { url: 5, group: "orders", extra: true, active: "yes" } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["action", "active", "extra", "url"]);
      expect(await count()).toBe(0);
    });

    it("refuses an unknown topic and a bad URL with messages naming them", async () => {
      const res = await h.call("POST", "/webhooks/", { body: { url: "not-a-url", group: "orders", action: "exploded" } });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([
        { field: "url", message: "is not a valid absolute URL" },
        { field: "action", message: expect.stringContaining('unknown action "exploded"') },
      ]);
      expect(await count()).toBe(0);
    });

    it("answers 400 for malformed JSON, 415 for a body that is not JSON, 413 for one over the limit", async () => {
      const malformed = await h.call("POST", "/webhooks/", { raw: '{"url": ' });
      expect(malformed.status).toBe(400);
      expect(malformed.body.error).toMatchObject({
        code: "validation_failed",
        details: [{ field: "(body)", message: expect.stringMatching(/not valid JSON/) }],
      });

      const form = await h.call("POST", "/webhooks/", { raw: "url=http://x", headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect(form.status).toBe(415);
      expect(form.body.error.code).toBe("unsupported_media_type");
      const text = await h.call("POST", "/webhooks/", { raw: JSON.stringify(hookBody()), headers: { "content-type": "text/plain" } });
      expect(text.status).toBe(415);

      const huge = await h.call("POST", "/webhooks/", { raw: JSON.stringify({ ...hookBody(), hash_secret: "x".repeat(400_000) }) });
      expect(huge.status).toBe(413);
      expect(huge.body.error.code).toBe("payload_too_large");
      expect(await count()).toBe(0);
    });

    it("accepts a JSON body with a charset parameter", async () => {
      const res = await h.call("POST", "/webhooks/", { raw: JSON.stringify(hookBody()), headers: { "content-type": "application/json; charset=utf-8" } });
      expect(res.status).toBe(201);
    });
  });

  describe("GET /webhooks/ pagination", () => {
    it("is empty with no webhooks", async () => {
      const res = await h.call("GET", "/webhooks/");
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ count: 0, next: null, previous: null, results: [] });
    });

    it("pages with relative next/previous links (never built from Host) that keep the other parameters, and ends with next null", async () => {
      for (let i = 0; i < 5; i++) expect((await h.call("POST", "/webhooks/", { body: hookBody(i) })).status).toBe(201);
      const first = await h.call("GET", "/webhooks/?limit=2&sort=url&direction=asc");
      expect(first.body.count).toBe(5);
      expect(first.body.results.map((w: { url: string }) => w.url)).toEqual(["http://127.0.0.1:9/hook0", "http://127.0.0.1:9/hook1"]);
      expect(first.body.previous).toBeNull();
      expect(first.body.next).toBe("/webhooks/?limit=2&sort=url&direction=asc&page=2");

      const second = await h.call("GET", first.body.next);
      expect(second.body.results.map((w: { url: string }) => w.url)).toEqual(["http://127.0.0.1:9/hook2", "http://127.0.0.1:9/hook3"]);
      expect(second.body.previous).toBe("/webhooks/?limit=2&sort=url&direction=asc&page=1");

      const last = await h.call("GET", "/webhooks/?limit=2&sort=url&direction=asc&page=3");
      expect(last.body.results.map((w: { url: string }) => w.url)).toEqual(["http://127.0.0.1:9/hook4"]);
      expect(last.body.next).toBeNull();
      expect(last.body.previous).toMatch(/page=2$/);

      const past = await h.call("GET", "/webhooks/?limit=2&page=9");
      expect(past.body).toMatchObject({ count: 5, next: null, results: [] });
      expect(past.body.previous).toMatch(/page=3$/);

      const desc = await h.call("GET", "/webhooks?sort=url&direction=desc&limit=1");
      expect(desc.body.results[0].url).toBe("http://127.0.0.1:9/hook4");
    });

    it("defaults to 50 a page and refuses a limit over 500, a bad sort or direction, and unknown parameters", async () => {
      for (let i = 0; i < 51; i++) await h.app.hook(`http://127.0.0.1:9/h${i}`);
      const page = await h.call("GET", "/webhooks/");
      expect(page.body.results).toHaveLength(50);
      expect(page.body.next).toMatch(/page=2$/);
      expect((await h.call("GET", "/webhooks/?limit=500")).body.results).toHaveLength(51);

      const bad = await h.call("GET", "/webhooks/?limit=501&sort=secret&direction=up&page=0&colour=red");
      expect(bad.status).toBe(400);
      const fields = Object.fromEntries(bad.body.error.details.map((d: { field: string; message: string }) => [d.field, d.message]));
      expect(fields).toEqual({
        limit: "must be <= 500",
        page: "must be >= 1",
        sort: "must be one of created_at, updated_at, url, topic, group, action",
        direction: "must be one of asc, desc",
        colour: expect.stringContaining("is not a known parameter"),
      });
      expect((await h.call("GET", "/webhooks/?limit=abc")).body.error.details).toEqual([{ field: "limit", message: "must be integer" }]);
    });
  });

  describe("GET, PATCH, PUT, DELETE /webhooks/:id/", () => {
    it("reads and updates with or without the trailing slash; PUT is a partial update too", async () => {
      const { body: hook } = await h.call("POST", "/webhooks/", { body: hookBody() });
      expect((await h.call("GET", `/webhooks/${hook.id}`)).body.id).toBe(hook.id);

      const patched = await h.call("PATCH", `/webhooks/${hook.id}`, { body: { group: "stock", action: "updated", active: false } });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ group: "stock", action: "updated", topic: "stock:updated", active: false, url: hook.url });

      const put = await h.call("PUT", `/webhooks/${hook.id}/`, { body: { url: "http://127.0.0.1:9/moved" } });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ url: "http://127.0.0.1:9/moved", topic: "stock:updated", active: false });
    });

    it("a rejected update changes nothing", async () => {
      const { body: hook } = await h.call("POST", "/webhooks/", { body: hookBody() });
      const res = await h.call("PATCH", `/webhooks/${hook.id}/`, { body: { url: "ftp://x", action: "updated", topic: "x" } });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ field: "topic", message: expect.stringContaining("not a known field") }]);
      const bad = await h.call("PATCH", `/webhooks/${hook.id}/`, { body: { url: "ftp://x", action: "updated" } });
      expect(bad.body.error.details).toEqual([{ field: "url", message: expect.stringContaining("https") }]);
      const after = await h.call("GET", `/webhooks/${hook.id}/`);
      expect(after.body).toMatchObject({ url: hook.url, action: "created", updated_at: hook.updated_at });
    });

    it("answers 404 in the error shape for a missing webhook, on every route", async () => {
      const id = "00000000-0000-4000-8000-000000000000";
      for (const [method, path, body] of [
        ["GET", `/webhooks/${id}/`],
        ["PATCH", `/webhooks/${id}/`, { active: false }],
        ["PUT", `/webhooks/${id}/`, { active: false }],
        ["DELETE", `/webhooks/${id}/`],
        ["POST", `/webhooks/${id}/test/`],
        ["GET", `/webhooks/${id}/deliveries/`],
      ] as const) {
        const res = await h.call(method, path, { body });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body).toEqual({ error: { code: "not_found", message: `webhook ${id} not found`, details: [] } });
      }
    });

    it("DELETE answers 204, the webhook is gone, and its pending deliveries are cancelled", async () => {
      const { body: hook } = await h.call("POST", "/webhooks/", { body: hookBody() });
      const { body: event } = await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { id: 1 } } });
      expect(event.deliveries).toBe(1);
      const del = await h.call("DELETE", `/webhooks/${hook.id}/`);
      expect(del.status).toBe(204);
      expect(del.text).toBe("");
      expect((await h.call("GET", `/webhooks/${hook.id}/`)).status).toBe(404);
      expect((await h.call("GET", "/webhooks/")).body.count).toBe(0);
      const after = await h.call("GET", `/events/${event.id}/`);
      expect(after.body.deliveries.map((d: { status: string }) => d.status)).toEqual(["cancelled"]);
      expect((await h.call("DELETE", `/webhooks/${hook.id}/`)).status).toBe(404);
    });
  });

  describe("POST /webhooks/:id/test/", () => {
    it("sends one signed request now and returns the attempt", async () => {
      receiver = await startReceiver((_req, res) => res.writeHead(202, { "content-type": "text/plain" }).end("thanks"));
      const { body: hook } = await h.call("POST", "/webhooks/", { body: { ...hookBody(), url: `${receiver.url}/hook` } });
      const res = await h.call("POST", `/webhooks/${hook.id}/test/`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ok: true, number: 1, status_code: 202, error: null, response_body: "thanks" });
      expect(typeof res.body.duration_ms).toBe("number");
      expect(receiver.requests).toHaveLength(1);
      const sent = receiver.requests[0]!;
      expect(sent.path).toBe("/hook");
      expect(sent.headers["x-webhook-id"]).toBe(hook.id);
      expect(sent.headers["x-topic"]).toBe("orders:created");
      const { verifySignature } = await import("../../src/verify.js");
      expect(verifySignature("ABC12345", sent.body, String(sent.headers["x-signature"]))).toBe(true);
      expect(JSON.parse(sent.body.toString())).toMatchObject({ test: true, webhook: hook.id });
    });

    it("reports a failed test as an attempt with its error class", async () => {
      receiver = await startReceiver((_req, res) => res.writeHead(500).end("down"));
      const { body: hook } = await h.call("POST", "/webhooks/", { body: { ...hookBody(), url: `${receiver.url}/hook` } });
      const res = await h.call("POST", `/webhooks/${hook.id}/test/`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ok: false, status_code: 500, error: "http", response_body: "down" });
      const refused = await h.call("POST", "/webhooks/", { body: hookBody() });
      expect((await h.call("POST", `/webhooks/${refused.body.id}/test/`)).body).toMatchObject({ ok: false, status_code: null, error: "refused" });
    });

    it("a secret the key file cannot open: sends nothing (503), the webhook says why, a new secret by PATCH mends it", async () => {
      receiver = await startReceiver();
      const { body: hook } = await h.call("POST", "/webhooks/", { body: { ...hookBody(), url: `${receiver.url}/hook` } });
      expect(hook.secret_error).toBeNull();
      // Sealed under a key that is not in this node's key file (moved from elsewhere, a key line removed too soon).
      const foreign = parseKeyFile(generateKeyLine("gone"), "elsewhere").seal("ABC12345");
      await h.app.store.db.updateTable("webhooks").set({ hash_secret: foreign }).where("id", "=", hook.id).execute();

      const held = await h.call("POST", `/webhooks/${hook.id}/test/`);
      expect(held.status).toBe(503);
      expect(held.body.error).toEqual({ code: "secret_key_missing", message: expect.stringContaining('sealed under key "gone"'), details: [] });
      expect(held.text).not.toContain("hookd.key"); // the key file's path is for the operator's log, not for a tenant
      expect((await h.call("POST", `/webhooks/${hook.id}/rotate-secret/`)).status).toBe(503);
      expect(receiver.requests).toHaveLength(0);
      const shown = await h.call("GET", `/webhooks/${hook.id}/`);
      expect(shown.body.secret_error).toContain('key "gone"');
      expect((await h.call("GET", "/webhooks/")).body.results[0].secret_error).toContain('key "gone"');

      const mended = await h.call("PATCH", `/webhooks/${hook.id}/`, { body: { hash_secret: "fresh-secret" } });
      expect(mended.body.secret_error).toBeNull();
      expect((await h.call("POST", `/webhooks/${hook.id}/test/`)).body.ok).toBe(true);
      expect(receiver.requests).toHaveLength(1);
    });
  });

  describe("authentication and unknown routes", () => {
    it("answers 401 without a key or with a wrong one, before looking at the body", async () => {
      for (const key of [null, "hk_cus_not-a-real-key"]) {
        const res = await h.call("POST", "/webhooks/", { key, raw: "{not json" });
        expect(res.status).toBe(401);
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
        expect(res.body.error.code).toBe("unauthorized");
      }
      const basic = await h.call("GET", "/webhooks/", { key: null, headers: { authorization: `Basic ${h.key}` } });
      expect(basic.status).toBe(401);
      expect(await count()).toBe(0);
    });

    it("answers unknown routes and unroutable paths in the error shape", async () => {
      const res = await h.call("GET", "/nothing-here/");
      expect(res.status).toBe(404);
      expect(res.body.error).toEqual({ code: "not_found", message: "no such route: GET /nothing-here/", details: [] });
      const long = await h.call("GET", `/webhooks/${"a".repeat(300)}/`);
      expect(long.status).toBe(404);
      expect(long.body.error.code).toBe("not_found");
      const encoding = await h.call("GET", "/webhooks/%zz/");
      expect(encoding.status).toBe(400);
      expect(encoding.body.error.details).toEqual([{ field: "(path)", message: expect.stringContaining("percent-encoding") }]);
    });
  });
});
