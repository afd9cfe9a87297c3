/**
 * A webhook's own timeout, retry budget and signing scheme, through real ticks to a
 * real receiver, on both stores: `timeout_ms` cuts a slow receiver short while another
 * webhook on the config's timeout waits it out; `max_attempts` and
 * `retry_delays_seconds` set when a delivery is retried and when it fails;
 * `signing: "ed25519"` signs with a key pair a receiver verifies with node:crypto alone,
 * across a rotation.
 */
import { createPublicKey, verify } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/dispatch/clock.js";
import { Dispatcher } from "../../src/dispatch/dispatcher.js";
import { silentLogger } from "../../src/logger.js";
import { publish as publishEvent } from "../../src/publishing.js";
import { webhookJson } from "../../src/store/model.js";
import { rotateSecret } from "../../src/store/rotation.js";
import { createWebhook, getWebhook, updateWebhook } from "../../src/store/webhooks.js";
import { testApp } from "../helpers/app.js";
import { backends } from "../helpers/backends.js";
import { ok, startReceiver, type Receiver, type Responder } from "../helpers/receiver.js";

type App = Awaited<ReturnType<typeof testApp>>;

/** A receiver's own Ed25519 check, with node:crypto and the webhook's public_key only. */
function ed25519Valid(publicKey: string, headers: Record<string, string | string[] | undefined>, body: Buffer): boolean {
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey.slice(5), "base64").toString("base64url") }, format: "jwk" });
  const message = Buffer.concat([Buffer.from(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.`), body]);
  return String(headers["webhook-signature"])
    .split(" ")
    .filter((e) => e.startsWith("v1a,"))
    .some((e) => verify(null, message, key, Buffer.from(e.slice(4), "base64")));
}

describe.each(backends)("a webhook's own attempt settings (%s)", (backend) => {
  let app: App | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    await app?.cleanup();
    app = receiver = undefined;
  });

  async function setup(responder: Responder = ok) {
    receiver = await startReceiver(responder);
    app = await testApp({}, backend);
    return app;
  }

  async function hook(path: string, settings: Record<string, unknown>, secret: string | null = "s3cret"): Promise<string> {
    const input = { url: `${receiver!.url}${path}`, group: "orders", action: "created", hash_secret: secret, ...settings };
    return (await createWebhook(app!.store.db, app!.keyring, app!.customerId, input, app!.webhookRules)).row.id;
  }

  const publish = (now?: number) =>
    publishEvent(app!.store.db, { customerId: app!.customerId, topic: "orders:created", payload: '{"order":1}' }, app!.publishRules, now);
  const deliveryOf = (webhookId: string) => app!.store.db.selectFrom("deliveries").selectAll().where("webhook_id", "=", webhookId).executeTakeFirstOrThrow();
  const attemptsOf = async (webhookId: string) =>
    app!.store.db
      .selectFrom("attempts")
      .innerJoin("deliveries", "deliveries.id", "attempts.delivery_id")
      .select(["attempts.number", "attempts.error", "attempts.status_code"])
      .where("deliveries.webhook_id", "=", webhookId)
      .orderBy("attempts.number")
      .execute();

  it("timeout_ms: cuts a slow receiver short for that webhook only", async () => {
    // Answers after 2.5 s: within the test config's 10 s, past the webhook's own 1 s.
    await setup((_req, res) => setTimeout(() => res.writeHead(200).end("late"), 2500));
    const short = await hook("/short", { timeout_ms: 1000 });
    const patient = await hook("/patient", {});
    await publish();
    const summary = await app!.dispatcher.tick();
    expect(summary).toMatchObject({ delivered: 1, rescheduled: 1 });
    expect(await attemptsOf(short)).toEqual([{ number: 1, error: "timeout", status_code: null }]);
    expect(await attemptsOf(patient)).toEqual([{ number: 1, error: null, status_code: 200 }]);
  });

  it("max_attempts and retry_delays_seconds: the webhook's own schedule, and failed after its own budget", async () => {
    // A 422 fails the delivery without marking the endpoint down (whose backoff would
    // hold later attempts back), so the retry schedule alone decides.
    await setup((_req, res) => res.writeHead(422).end("no"));
    const own = await hook("/own", { max_attempts: 3, retry_delays_seconds: [7, 11] });
    const configured = await hook("/configured", {});
    const clock = new ManualClock();
    const dispatcher = new Dispatcher(app!.store.db, app!.config.dispatch, app!.config.retry, silentLogger, {
      clock,
      keyring: app!.keyring,
      maxAttempts: app!.config.limits.maxAttempts,
    });
    try {
      await publish(clock.now());
      const t0 = clock.now();
      await dispatcher.tick();
      expect((await deliveryOf(own)).next_attempt_at).toBe(t0 + 7_000);
      expect((await deliveryOf(configured)).next_attempt_at).toBe(t0 + app!.config.retry.delaysSeconds[0]! * 1000);

      clock.advance(7_000);
      const t1 = clock.now();
      await dispatcher.tick();
      expect(await deliveryOf(own)).toMatchObject({ status: "pending", attempts: 2, next_attempt_at: t1 + 11_000 });

      clock.advance(11_000);
      await dispatcher.tick();
      expect(await deliveryOf(own)).toMatchObject({ status: "failed", attempts: 3, last_error: "http 422 (max_attempts)" });
      // The configured schedule (30 s first) had not come round again for the other one.
      expect(await deliveryOf(configured)).toMatchObject({ status: "pending", attempts: 1 });

      // null restores the configured budget.
      await updateWebhook(app!.store.db, app!.keyring, own, null, { max_attempts: null, retry_delays_seconds: null }, app!.webhookRules);
      expect(webhookJson(await getWebhook(app!.store.db, own), app!.keyring)).toMatchObject({ max_attempts: null, retry_delays_seconds: null });
    } finally {
      dispatcher.close();
    }
  });

  it("signing ed25519: v1a a receiver verifies with the public key alone, through a rotation's overlap", async () => {
    const valid: boolean[][] = [];
    let keys: string[] = [];
    await setup((req, res) => {
      const verdicts = keys.map((k) => ed25519Valid(k, req.headers, req.body));
      valid.push(verdicts);
      res.writeHead(verdicts.some(Boolean) ? 200 : 403).end();
    });
    const id = await hook("/ed", { signing: "ed25519" }, null);
    const created = webhookJson(await getWebhook(app!.store.db, id), app!.keyring);
    expect(created).toMatchObject({ signing: "ed25519", public_key: expect.stringMatching(/^whpk_/) });
    const first = created.public_key!;
    keys = [first];
    await publish();
    expect((await app!.dispatcher.tick()).delivered).toBe(1);
    expect(receiver!.requests[0]!.headers).not.toHaveProperty("x-signature");

    // A rotation makes a new pair; both sign during the overlap, so a receiver on either key verifies.
    const { row } = await rotateSecret(app!.store.db, app!.keyring, id, null, { overlap_seconds: 3600 }, 86_400);
    const rotated = webhookJson(row, app!.keyring);
    expect(rotated.public_key).not.toBe(first);
    expect(rotated.previous_secret_expires_at).not.toBeNull();
    keys = [first, rotated.public_key!];
    await publish();
    await app!.dispatcher.tick();
    expect(valid).toEqual([[true], [true, true]]);
    expect(String(receiver!.requests[1]!.headers["webhook-signature"]).split(" ")).toHaveLength(2);

    // Overlap 0 retires the old key at once.
    const { row: again } = await rotateSecret(app!.store.db, app!.keyring, id, null, { overlap_seconds: 0 }, 86_400);
    const third = webhookJson(again, app!.keyring).public_key!;
    keys = [first, rotated.public_key!, third];
    await publish();
    await app!.dispatcher.tick();
    expect(valid[2]).toEqual([false, false, true]);

    // Back to hmac: the keys are dropped, and v1 alone signs.
    await updateWebhook(app!.store.db, app!.keyring, id, null, { signing: "hmac", hash_secret: "s3cret" }, app!.webhookRules);
    const stored = await getWebhook(app!.store.db, id);
    expect(stored).toMatchObject({ signing: "hmac", signing_key: null, previous_signing_keys: null, public_key: null });
    expect(webhookJson(stored, app!.keyring).public_key).toBeNull();
  });
});
