/**
 * The delivery settings through the HTTP API, on both stores: accepted by create,
 * PATCH and PUT, shown on every read (never a secret), `null` restoring each default,
 * bad input a 400 naming the field (a 422 for a reserved header name) that changes
 * nothing, filters deciding at publish which webhooks get a delivery, and rotation of
 * an Ed25519 key pair.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { backends } from "../helpers/backends.js";
import { startReceiver } from "../helpers/receiver.js";
import { verifyStandard } from "../../src/verify.js";

const TOKEN = "bearer-token-canary";
const CLIENT_SECRET = "client-secret-canary";

const settings = {
  headers: { "X-Tenant": "acme" },
  auth: { type: "oauth2", token_url: "http://127.0.0.1:9/token", client_id: "cid", client_secret: CLIENT_SECRET, scope: "hooks" },
  timeout_ms: 5000,
  max_attempts: 5,
  retry_delays_seconds: [10, 60, 600],
  rate_limit: 2.5,
  filter: { $or: [{ status: "paid" }, { total: { $gte: 100 } }] },
  ordered: true,
  batch_size: 10,
  signing: "ed25519",
};

const defaults = {
  headers: {},
  auth: null,
  timeout_ms: null,
  max_attempts: null,
  retry_delays_seconds: null,
  rate_limit: null,
  filter: null,
  ordered: false,
  batch_size: 1,
  signing: "hmac",
  public_key: null,
};

describe.each(backends)("webhook delivery settings in the API (%s)", (backend) => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await apiHarness({}, backend);
  });
  afterEach(async () => {
    await h.cleanup();
  });

  const body = (extra: Record<string, unknown> = {}, n = 0) => ({ url: `http://127.0.0.1:9/hook${n}`, group: "orders", action: "created", ...extra });
  const rows = () => h.app.store.db.selectFrom("webhooks").selectAll().orderBy("id").execute();

  it("create takes every setting and every read shows them, without the secrets", async () => {
    const created = await h.call("POST", "/webhooks/", { body: body(settings) });
    expect(created.status).toBe(201);
    const shown = {
      ...settings,
      auth: { type: "oauth2", token_url: "http://127.0.0.1:9/token", client_id: "cid", scope: "hooks" },
      public_key: expect.stringMatching(/^whpk_[A-Za-z0-9+/]{43}=$/),
    };
    expect(created.body).toMatchObject(shown);
    const id = created.body.id;
    const read = await h.call("GET", `/webhooks/${id}/`);
    expect(read.body).toMatchObject({ ...shown, public_key: created.body.public_key });
    const list = await h.call("GET", "/webhooks/");
    expect(list.body.results[0]).toMatchObject({ ...shown, public_key: created.body.public_key });
    for (const text of [created.text, read.text, list.text]) expect(text).not.toContain(CLIENT_SECRET);

    const bearer = await h.call("POST", "/webhooks/", { body: body({ auth: { type: "bearer", token: TOKEN } }, 1) });
    expect(bearer.body.auth).toEqual({ type: "bearer" });
    expect(bearer.text).not.toContain(TOKEN);
    expect((await h.call("GET", `/webhooks/${bearer.body.id}/`)).text).not.toContain(TOKEN);
  });

  it("a webhook without settings shows the defaults", async () => {
    const created = await h.call("POST", "/webhooks/", { body: body() });
    expect(created.body).toMatchObject(defaults);
  });

  it("PATCH and PUT change settings, and null restores each default", async () => {
    const { body: hook } = await h.call("POST", "/webhooks/", { body: body() });
    const patched = await h.call("PATCH", `/webhooks/${hook.id}/`, { body: settings });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ ...settings, auth: { type: "oauth2", client_id: "cid" } });
    expect(patched.text).not.toContain(CLIENT_SECRET);

    const put = await h.call("PUT", `/webhooks/${hook.id}/`, { body: { timeout_ms: 2000, headers: { "X-Other": "1" } } });
    expect(put.body).toMatchObject({ timeout_ms: 2000, headers: { "X-Other": "1" }, max_attempts: 5 });

    const nulls = Object.fromEntries(Object.keys(settings).map((k) => [k, null]));
    const restored = await h.call("PATCH", `/webhooks/${hook.id}/`, { body: nulls });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject(defaults);
    const [row] = await rows();
    expect(row).toMatchObject({ auth: null, auth_secret: null, signing_key: null, public_key: null, headers: null, filter: null });
  });

  it.each([
    ["timeout_ms", { timeout_ms: 999 }, "timeout_ms", "from 1000 to 10000"],
    ["timeout_ms as text", { timeout_ms: "5000" }, "timeout_ms", "must be integer,null"],
    ["max_attempts", { max_attempts: 26 }, "max_attempts", "from 1 to 25"],
    ["retry_delays_seconds", { retry_delays_seconds: [0] }, "retry_delays_seconds.0", "from 1 to 86400"],
    ["rate_limit", { rate_limit: 0 }, "rate_limit", "more than 0"],
    ["filter", { filter: { total: { $gt: [1] } } }, 'filter["total"].$gt', "must be a number or a string"],
    ["filter as a list", { filter: [1] }, "filter", "must be object,null"],
    ["ordered", { ordered: "yes" }, "ordered", "must be boolean,null"],
    ["batch_size", { batch_size: 101 }, "batch_size", "from 1 to 100"],
    ["signing", { signing: "rsa" }, "signing", "hmac, ed25519"],
    ["a header name", { headers: { "Bad Name": "x" } }, "headers.Bad Name", "is not a valid header name"],
    ["a header value with CR LF", { headers: { "X-A": "1\r\nX-Injected: 2" } }, "headers.X-A", "CR, LF or NUL"],
    ["auth", { auth: { type: "bearer", token: "" } }, "auth.token", "is required"],
    ["an unknown field", { retries: 3 }, "retries", "is not a known field"],
  ])("refuses a bad %s with a 400 naming it, on create and on update, changing nothing", async (_name, bad, field, message) => {
    const before = await rows();
    const created = await h.call("POST", "/webhooks/", { body: body(bad) });
    expect(created.status).toBe(400);
    expect(created.body.error.details).toContainEqual({ field, message: expect.stringContaining(message) });
    expect(await rows()).toEqual(before);

    const { body: hook } = await h.call("POST", "/webhooks/", { body: body({ timeout_ms: 3000 }, 1) });
    const stored = await rows();
    const patched = await h.call("PATCH", `/webhooks/${hook.id}/`, { body: { ...bad, url: "http://127.0.0.1:9/moved" } });
    expect(patched.status).toBe(400);
    expect(patched.body.error.details).toContainEqual({ field, message: expect.stringContaining(message) });
    expect(await rows()).toEqual(stored);
  });

  it("refuses reserved header names with a 422 naming the header, in any letter case, changing nothing", async () => {
    for (const name of ["host", "X-SIGNATURE", "Webhook-Id", "proxy-authorization", "Transfer-Encoding", "traceparent", "Authorization", "x-batch-size"]) {
      const res = await h.call("POST", "/webhooks/", { body: body({ headers: { "X-Fine": "1", [name]: "x" } }) });
      expect(res.status, name).toBe(422);
      expect(res.body.error).toMatchObject({ code: "unprocessable", details: [{ field: `headers.${name}`, message: expect.any(String) }] });
    }
    expect(await rows()).toEqual([]);
    // Malformed input elsewhere is fixed first: 400, naming only that.
    const both = await h.call("POST", "/webhooks/", { body: body({ headers: { Host: "x" }, batch_size: 0 }) });
    expect(both.status).toBe(400);
    expect(both.body.error.details).toEqual([{ field: "batch_size", message: expect.any(String) }]);

    const { body: hook } = await h.call("POST", "/webhooks/", { body: body({ headers: { "X-Fine": "1" } }) });
    const stored = await rows();
    const patched = await h.call("PATCH", `/webhooks/${hook.id}/`, { body: { headers: { "CONTENT-LENGTH": "5" } } });
    expect(patched.status).toBe(422);
    expect(await rows()).toEqual(stored);
  });

  it("filters decide at publish which webhooks get a delivery", async () => {
    const paid = (await h.call("POST", "/webhooks/", { body: body({ filter: { status: "paid" } }, 1) })).body.id;
    const big = (await h.call("POST", "/webhooks/", { body: body({ filter: { "order.total": { $gte: 100 } } }, 2) })).body.id;
    const all = (await h.call("POST", "/webhooks/", { body: body({}, 3) })).body.id;
    const publish = async (payload: unknown) => (await h.call("POST", "/events/", { body: { topic: "orders:created", payload } })).body;
    expect((await publish({ status: "paid", order: { total: 5 } })).deliveries).toBe(2);
    expect((await publish({ status: "open", order: { total: 150 } })).deliveries).toBe(2);
    expect((await publish({ status: "open" })).deliveries).toBe(1);
    const count = async (webhookId: string) =>
      Number(
        (
          await h.app.store.db
            .selectFrom("deliveries")
            .select((eb) => eb.fn.countAll().as("n"))
            .where("webhook_id", "=", webhookId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect([await count(paid), await count(big), await count(all)]).toEqual([1, 1, 3]);
    // A filter changed later applies to what is published from then on.
    await h.call("PATCH", `/webhooks/${paid}/`, { body: { filter: null } });
    expect((await publish({ status: "open" })).deliveries).toBe(2);
  });

  it("a test send applies the webhook's headers, auth and signing", async () => {
    const receiver = await startReceiver();
    try {
      const { body: hook } = await h.call("POST", "/webhooks/", {
        body: {
          url: `${receiver.url}/t`,
          group: "orders",
          action: "created",
          headers: { "X-Tenant": "acme" },
          auth: { type: "bearer", token: TOKEN },
          signing: "ed25519",
        },
      });
      const sent = await h.call("POST", `/webhooks/${hook.id}/test/`);
      expect(sent.body).toMatchObject({ ok: true, status_code: 200 });
      const [req] = receiver.requests;
      expect(req!.headers).toMatchObject({ "x-tenant": "acme", authorization: `Bearer ${TOKEN}` });
      expect(verifyStandard(req!.body, req!.headers, hook.public_key)).toBe(true);
      expect(sent.text).not.toContain(TOKEN);
    } finally {
      await receiver.close();
    }
  });

  it("moving to ed25519 makes a key pair, rotate-secret renews it, and moving back drops it", async () => {
    const { body: hook } = await h.call("POST", "/webhooks/", { body: body({ hash_secret: "s3cret" }) });
    expect(hook.public_key).toBeNull();
    const moved = await h.call("PATCH", `/webhooks/${hook.id}/`, { body: { signing: "ed25519" } });
    expect(moved.body.public_key).toMatch(/^whpk_/);
    // Saying ed25519 again keeps the pair.
    expect((await h.call("PATCH", `/webhooks/${hook.id}/`, { body: { signing: "ed25519" } })).body.public_key).toBe(moved.body.public_key);

    const rotated = await h.call("POST", `/webhooks/${hook.id}/rotate-secret/`, { body: { overlap_seconds: 600 } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.public_key).toMatch(/^whpk_/);
    expect(rotated.body.public_key).not.toBe(moved.body.public_key);
    expect(rotated.body.hash_secret).toMatch(/^whsec_/);
    expect(rotated.body.previous_secret_expires_at).not.toBeNull();
    expect((await h.call("GET", `/webhooks/${hook.id}/`)).body.public_key).toBe(rotated.body.public_key);
    const [row] = await rows();
    expect(row!.signing_key).not.toContain(rotated.body.public_key.slice(5));

    const back = await h.call("PATCH", `/webhooks/${hook.id}/`, { body: { signing: null } });
    expect(back.body).toMatchObject({ signing: "hmac", public_key: null });
  });
});
