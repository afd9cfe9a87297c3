/**
 * Secret rotation through the HTTP API, on SQLite and PostgreSQL: during the overlap a
 * receiver holding only the old secret and one holding only the new both verify (and
 * a seed-003 receiver following the README never fails); after it only the new one
 * does, and the old secret is gone from the store. Secrets never show in a GET or list.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { afterEach, describe, expect, it } from "vitest";
import { startServer, type ApiServer } from "../../src/api/server.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { publish } from "../../src/publishing.js";
import { openWebhookSecrets } from "../../src/store/sealedColumns.js";
import { testApp } from "../helpers/app.js";
import { backends } from "../helpers/backends.js";
import { startReceiver, type Received, type Receiver } from "../helpers/receiver.js";

const OLD = "your_secret_key";

let backend: Awaited<ReturnType<typeof testApp>> | undefined;
let server: ApiServer | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  await server?.close();
  await backend?.cleanup();
  receiver = server = backend = undefined;
});

async function setup(kind: (typeof backends)[number]) {
  backend = await testApp({}, kind);
  server = await startServer(backend);
  const key = (await createApiKey(backend.store.db, backend.customerId)).key;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: text ? JSON.parse(text) : null };
  };
  return { app: backend, customerId: backend.customerId, call };
}

/** The seed-003 recipe with a list of accepted secrets (README "Rotating a secret", step 2). */
function seed003(secrets: string[], req: Received): boolean {
  const received = Buffer.from(String(req.headers["x-signature"]));
  return secrets.some((s) => {
    const calculated = Buffer.from(createHmac("sha256", s).update(req.body).digest("hex"));
    return calculated.length === received.length && timingSafeEqual(calculated, received);
  });
}

function standard(verifier: StandardWebhook | SvixWebhook, req: Received): boolean {
  try {
    verifier.verify(req.body.toString("utf8"), req.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

describe.each(backends)("POST /webhooks/:id/rotate-secret/ (%s)", (kind) => {
  it("during the overlap old-only and new-only receivers verify; after it, only the new", async () => {
    const { app, customerId, call } = await setup(kind);
    receiver = await startReceiver();
    const created = await call("POST", "/webhooks/", { url: `${receiver.url}/hook`, group: "orders", action: "created", hash_secret: OLD });
    const id = created.body.id as string;
    const deliver = async (n: number) => {
      await publish(app.store.db, { customerId, topic: "orders:created", payload: `{"n":${n},"note":"ünï"}` }, app.publishRules);
      expect(await app.dispatcher.tick()).toMatchObject({ delivered: 1 });
      return receiver!.requests.at(-1)!;
    };

    const rotated = await call("POST", `/webhooks/${id}/rotate-secret/`, { overlap_seconds: 8 });
    expect(rotated.status).toBe(200);
    const NEW = rotated.body.hash_secret as string;
    expect(NEW).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const expiresAt = Date.parse(rotated.body.previous_secret_expires_at);
    expect(expiresAt).toBeGreaterThan(Date.now());
    const oldOnly = new StandardWebhook(OLD, { format: "raw" });
    const newOnly = new SvixWebhook(NEW);

    const during = await deliver(1);
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(standard(oldOnly, during)).toBe(true);
    expect(standard(newOnly, during)).toBe(true);
    // X-Signature stays on the old secret: a seed-003 receiver that has not changed anything yet...
    expect(seed003([OLD], during)).toBe(true);
    // ...and one that already accepts both (README step 2).
    expect(seed003([OLD, NEW], during)).toBe(true);

    await new Promise((r) => setTimeout(r, expiresAt - Date.now() + 50));
    const after = await deliver(2);
    expect(String(after.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(standard(oldOnly, after)).toBe(false);
    expect(standard(newOnly, after)).toBe(true);
    expect(seed003([OLD], after)).toBe(false);
    expect(seed003([OLD, NEW], after)).toBe(true); // README step 2 still holds,
    expect(seed003([NEW], after)).toBe(true); // and step 3 (drop the old one) too.

    // The tick removed the expired secret from the store.
    const row = await app.store.db.selectFrom("webhooks").select(["hash_secret", "previous_secrets"]).where("id", "=", id).executeTakeFirstOrThrow();
    expect(openWebhookSecrets(app.keyring, row)).toEqual({ secret: NEW, previousSecrets: null });
    expect((await call("GET", `/webhooks/${id}/`)).body.previous_secret_expires_at).toBeNull();
  }, 60_000);

  it("a rotation during an overlap keeps three secrets valid, refuses a fourth, and overlap 0 retires them all", async () => {
    const { app, call } = await setup(kind);
    receiver = await startReceiver();
    const id = (await call("POST", "/webhooks/", { url: `${receiver.url}/hook`, group: "orders", action: "created", hash_secret: OLD })).body.id;
    const first = await call("POST", `/webhooks/${id}/rotate-secret/`, { hash_secret: "second-secret", overlap_seconds: 3600 });
    const second = await call("POST", `/webhooks/${id}/rotate-secret`); // no body: generated secret, default overlap (a day)
    expect(second.status).toBe(200);
    expect(Date.parse(second.body.previous_secret_expires_at) - Date.now()).toBeGreaterThan(86_000_000);

    const before = await app.store.db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    const refused = await call("POST", `/webhooks/${id}/rotate-secret/`, { overlap_seconds: 60 });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("conflict");
    expect(refused.body.error.message).toContain(new Date(Date.parse(first.body.previous_secret_expires_at)).toISOString());
    expect(await app.store.db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirstOrThrow()).toEqual(before);

    const test = await call("POST", `/webhooks/${id}/test/`);
    expect(test.body.ok).toBe(true);
    const sent = receiver.requests.at(-1)!;
    expect(String(sent.headers["webhook-signature"]).split(" ")).toHaveLength(3);
    expect(standard(new StandardWebhook(second.body.hash_secret), sent)).toBe(true);
    expect(standard(new StandardWebhook("second-secret", { format: "raw" }), sent)).toBe(true);
    expect(seed003([OLD], sent)).toBe(true);

    const now = await call("POST", `/webhooks/${id}/rotate-secret/`, { hash_secret: "fourth-secret", overlap_seconds: 0 });
    expect(now.status).toBe(200);
    expect(now.body.previous_secret_expires_at).toBeNull();
    await call("POST", `/webhooks/${id}/test/`);
    const alone = receiver.requests.at(-1)!;
    expect(String(alone.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(seed003(["fourth-secret"], alone)).toBe(true);
  }, 60_000);

  it("two rotations at once: both new secrets stay valid, neither is lost", async () => {
    const { app, call } = await setup(kind);
    const id = (await call("POST", "/webhooks/", { url: "http://127.0.0.1:9/hook", group: "orders", action: "created", hash_secret: OLD })).body.id;
    // Repeated, so the two transactions interleave at least once.
    for (let round = 0; round < 15; round++) {
      await call("PATCH", `/webhooks/${id}/`, { hash_secret: OLD });
      const [a, b] = await Promise.all([call("POST", `/webhooks/${id}/rotate-secret/`), call("POST", `/webhooks/${id}/rotate-secret/`)]);
      expect([a.status, b.status]).toEqual([200, 200]);
      const row = await app.store.db.selectFrom("webhooks").select(["hash_secret", "previous_secrets"]).where("id", "=", id).executeTakeFirstOrThrow();
      const opened = openWebhookSecrets(app.keyring, row);
      const valid = [opened.secret, ...JSON.parse(opened.previousSecrets!).map((p: { secret: string }) => p.secret)];
      expect(valid.sort()).toEqual([OLD, a.body.hash_secret, b.body.hash_secret].sort());
    }
  });

  it("never shows a secret outside the rotate response; bad input names the field and changes nothing", async () => {
    const { app, call } = await setup(kind);
    const id = (await call("POST", "/webhooks/", { url: "http://127.0.0.1:9/hook", group: "orders", action: "created", hash_secret: OLD })).body.id;
    const rotated = await call("POST", `/webhooks/${id}/rotate-secret/`, { hash_secret: "brand-new-secret" });
    expect(rotated.body).toMatchObject({ id, hash_secret: "brand-new-secret" });
    expect(rotated.body).not.toHaveProperty("previous_secrets");
    for (const path of [`/webhooks/${id}/`, "/webhooks/"]) {
      const res = await call("GET", path);
      expect(res.text).not.toContain("brand-new-secret");
      expect(res.text).not.toContain(OLD);
      expect(res.text).toContain("previous_secret_expires_at");
    }

    const before = await app.store.db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    const bad = await call("POST", `/webhooks/${id}/rotate-secret/`, { hash_secret: "whsec_not base64", overlap_seconds: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["hash_secret", "overlap_seconds"]);
    const same = await call("POST", `/webhooks/${id}/rotate-secret/`, { hash_secret: OLD });
    expect(same.status).toBe(400);
    expect(same.text).not.toContain(OLD);
    expect((await call("POST", `/webhooks/${id}/rotate-secret/`, { secret: "x" })).status).toBe(400);
    expect((await call("POST", `/webhooks/00000000-0000-0000-0000-000000000000/rotate-secret/`)).status).toBe(404);
    expect(await app.store.db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirstOrThrow()).toEqual(before);

    // A whsec_ secret that is not base64 would make receivers' libraries throw: refused on create and update too.
    const badCreate = await call("POST", "/webhooks/", { url: "http://127.0.0.1:9/x", group: "orders", action: "created", hash_secret: "whsec_abc" });
    expect(badCreate.status).toBe(400);
    expect(badCreate.body.error.details).toEqual([{ field: "hash_secret", message: expect.stringContaining("base64") }]);
    expect((await call("PATCH", `/webhooks/${id}/`, { hash_secret: "whsec_abc" })).status).toBe(400);

    // Setting the secret outright (PATCH) replaces every valid one.
    await call("PATCH", `/webhooks/${id}/`, { hash_secret: "patched-secret" });
    const patched = await app.store.db.selectFrom("webhooks").select(["hash_secret", "previous_secrets"]).where("id", "=", id).executeTakeFirstOrThrow();
    expect(openWebhookSecrets(app.keyring, patched)).toEqual({ secret: "patched-secret", previousSecrets: null });
  });
});
