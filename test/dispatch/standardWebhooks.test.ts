/**
 * Real deliveries checked by the receivers' own libraries: the `standardwebhooks`
 * and `svix` npm packages, with a `whsec_` secret and a plain one, on unicode and
 * 200 KB bodies; on SQLite and on PostgreSQL.
 */
import { createHmac } from "node:crypto";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { afterEach, describe, expect, it } from "vitest";
import { publish } from "../../src/publishing.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { testApp } from "../helpers/app.js";
import { backends } from "../helpers/backends.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

const WHSEC = `whsec_${Buffer.from("hookd standard webhooks test key!").toString("base64")}`;
const PLAIN = "your_secret_key";

/** How a receiver built on each library checks a request; throws when it is not genuine. */
const VERIFIERS = {
  "standardwebhooks, whsec_": { secret: WHSEC, verify: new StandardWebhook(WHSEC) },
  "standardwebhooks, plain": { secret: PLAIN, verify: new StandardWebhook(PLAIN, { format: "raw" }) },
  "svix, whsec_": { secret: WHSEC, verify: new SvixWebhook(WHSEC) },
  "svix, plain": { secret: PLAIN, verify: new SvixWebhook(PLAIN, { format: "raw" }) },
} as const;
type Name = keyof typeof VERIFIERS;

let backend: Awaited<ReturnType<typeof testApp>> | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  await backend?.cleanup();
  backend = undefined;
});

describe.each(backends)("Standard Webhooks headers (%s)", (kind) => {
  it("every delivery verifies with the standardwebhooks and svix packages, whsec_ and plain secrets", async () => {
    const verdicts: Record<string, string[]> = {};
    receiver = await startReceiver((req, res) => {
      const name = decodeURIComponent(req.path.slice(1)) as Name;
      const { verify } = VERIFIERS[name];
      let verdict = "ok";
      try {
        verify.verify(req.body.toString("utf8"), req.headers as Record<string, string>);
      } catch (err) {
        verdict = (err as Error).message;
      }
      (verdicts[name] ??= []).push(verdict);
      res.writeHead(verdict === "ok" ? 200 : 403).end(verdict);
    });
    backend = await testApp({}, kind);
    const app = backend;
    const { customerId } = backend;
    for (const [name, { secret }] of Object.entries(VERIFIERS)) {
      await createWebhook(
        app.store.db,
        app.keyring,
        customerId,
        { url: `${receiver.url}/${encodeURIComponent(name)}`, group: "orders", action: "created", hash_secret: secret },
        app.webhookRules,
      );
    }
    const unicode = '{ "name" : "Zoë 🚚 — ünïcødé", "esc": "\\u00e9\\n" }';
    const large = JSON.stringify({ items: Array.from({ length: 4000 }, (_, i) => ({ i, sku: `SKU-${i}`, label: "größe 🧦" })) });
    expect(Buffer.byteLength(large)).toBeGreaterThan(200_000);
    for (const payload of [unicode, large]) await publish(app.store.db, { customerId, topic: "orders:created", payload }, app.publishRules);

    const summary = await app.dispatcher.tick();
    expect(summary).toMatchObject({ delivered: 8, rescheduled: 0 });
    expect(verdicts).toEqual(Object.fromEntries(Object.keys(VERIFIERS).map((n) => [n, ["ok", "ok"]])));
    for (const req of receiver.requests) {
      // webhook-id is the event id; webhook-timestamp is X-Timestamp; X-Signature unchanged (hex, secret string as key).
      expect(req.headers["webhook-id"]).toBe(req.headers["x-event-id"]);
      expect(req.headers["webhook-timestamp"]).toBe(req.headers["x-timestamp"]);
      expect(req.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
      const secret = VERIFIERS[decodeURIComponent(req.path.slice(1)) as Name].secret;
      expect(req.headers["x-signature"]).toBe(createHmac("sha256", secret).update(req.body).digest("hex"));
    }
  }, 60_000);

  it("a webhook without a secret gets no signature headers, and the same webhook-id on every attempt", async () => {
    let answer = 500;
    receiver = await startReceiver((_req, res) => res.writeHead(answer).end());
    backend = await testApp({}, kind);
    const app = backend;
    const { customerId } = backend;
    await createWebhook(
      app.store.db,
      app.keyring,
      customerId,
      { url: `${receiver.url}/none`, group: "orders", action: "created", hash_secret: null },
      app.webhookRules,
    );
    await createWebhook(
      app.store.db,
      app.keyring,
      customerId,
      { url: `${receiver.url}/signed`, group: "orders", action: "created", hash_secret: PLAIN },
      app.webhookRules,
    );
    await publish(app.store.db, { customerId, topic: "orders:created", payload: '{"n":1}' }, app.publishRules);
    await app.dispatcher.tick();
    // The retry: due now, the endpoints healthy again.
    await app.store.db.updateTable("deliveries").set({ next_attempt_at: 0 }).execute();
    await app.store.db.updateTable("webhooks").set({ failing_since: null, backoff_until: null }).execute();
    answer = 200;
    await app.dispatcher.tick();

    const unsigned = receiver.requests.filter((r) => r.path === "/none");
    const signed = receiver.requests.filter((r) => r.path === "/signed");
    expect(unsigned).toHaveLength(2);
    for (const r of unsigned) {
      expect(Object.keys(r.headers).filter((h) => h.includes("signature") || h.startsWith("webhook-"))).toEqual([]);
    }
    expect(signed.map((r) => r.headers["x-attempt-number"])).toEqual(["1", "2"]);
    expect(signed[0]!.headers["webhook-id"]).toBe(signed[1]!.headers["webhook-id"]);
  }, 60_000);
});
