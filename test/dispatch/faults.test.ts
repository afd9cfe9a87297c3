/**
 * Receivers that misbehave: every fault gives exactly one recorded attempt with the
 * right error class and the right next step, and the tick carries on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publish } from "../../src/publishing.js";
import type { AttemptTable, DeliveryTable, WebhookTable } from "../../src/store/schema.js";
import { testApp } from "../helpers/app.js";
import { startFaultyReceiver, startSilentServer, type FaultyReceiver } from "../helpers/faultyReceiver.js";
import { closedPort } from "../helpers/receiver.js";

type T = Awaited<ReturnType<typeof testApp>>;
let app: T;
let faulty: FaultyReceiver;
let silent: Awaited<ReturnType<typeof startSilentServer>>;
const hooks = new Map<string, string>(); // name → webhook id
let startedAt = 0;
let rssBefore = 0;
let rssAfter = 0;
const retryAt = new Date(Date.now() + 3_600_000).toUTCString();

interface Seen {
  webhook: WebhookTable;
  delivery: DeliveryTable;
  attempts: AttemptTable[];
}
async function seen(name: string): Promise<Seen> {
  const id = hooks.get(name)!;
  const db = app.store.db;
  const webhook = await db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const delivery = await db.selectFrom("deliveries").selectAll().where("webhook_id", "=", id).executeTakeFirstOrThrow();
  const attempts = await db.selectFrom("attempts").selectAll().where("delivery_id", "=", delivery.id).execute();
  return { webhook, delivery, attempts };
}

beforeAll(async () => {
  faulty = await startFaultyReceiver();
  silent = await startSilentServer();
  app = await testApp({ dispatch: { timeoutMs: 1500 } });
  const targets: Record<string, string> = {
    ok: `${faulty.url}/ok`,
    refused: `http://127.0.0.1:${await closedPort()}/`,
    resetBefore: `${faulty.url}/reset-before-response`,
    resetDuring: `${faulty.url}/reset-during-response`,
    noHeaders: `${faulty.url}/no-headers`,
    trickle: `${faulty.url}/trickle`,
    huge: `${faulty.url}/huge`,
    s301: `${faulty.url}/status/301`,
    s302: `${faulty.url}/status/302`,
    s307: `${faulty.url}/status/307`,
    s400: `${faulty.url}/status/400`,
    s404: `${faulty.url}/status/404`,
    s500: `${faulty.url}/status/500`,
    s503: `${faulty.url}/status/503?retry-after=120`,
    s429: `${faulty.url}/status/429?retry-after=${encodeURIComponent(retryAt)}`,
    s410: `${faulty.url}/status/410`,
    invalid: `${faulty.url}/invalid-http`,
    silent: `${silent.url}/`,
  };
  for (const [name, url] of Object.entries(targets)) hooks.set(name, await app.hook(url));
  await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: '{"fault":"test"}' }, app.publishRules);
  startedAt = Date.now();
  rssBefore = process.memoryUsage().rss;
  await app.dispatcher.tick();
  rssAfter = process.memoryUsage().rss;
});

afterAll(async () => {
  await faulty?.close();
  await silent?.close();
  await app?.cleanup();
});

describe("misbehaving receivers", () => {
  it.each([
    ["resetBefore", "reset", null],
    ["resetDuring", "reset", 200],
    ["noHeaders", "timeout", null],
    ["trickle", "timeout", 200],
    ["silent", "timeout", null],
    ["refused", "refused", null],
    ["invalid", "protocol", null],
    ["s301", "redirect", 301],
    ["s302", "redirect", 302],
    ["s307", "redirect", 307],
    ["s404", "http", 404],
    ["s500", "http", 500],
  ])("%s: one attempt (%s, status %s), retried later on its own schedule; one failure does not open the breaker", async (name, error, status) => {
    const { webhook, delivery, attempts } = await seen(name);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ number: 1, error, status_code: status });
    expect(delivery).toMatchObject({ status: "pending", attempts: 1 });
    expect(delivery.wait_reason).toContain("backoff");
    expect(delivery.next_attempt_at).toBeGreaterThanOrEqual(startedAt + 30_000);
    expect(webhook).toMatchObject({ failing_since: null, backoff_until: null, failure_streak: 1, recent_outcomes: "1" });
  });

  it("503 with Retry-After in seconds waits at least that long", async () => {
    const { delivery, attempts, webhook } = await seen("s503");
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ error: "http", status_code: 503 });
    expect(delivery.wait_reason).toBe("retry_after");
    expect(delivery.next_attempt_at).toBeGreaterThanOrEqual(startedAt + 120_000);
    // The delivery waits as asked; the webhook as a whole opens only by the breaker's rules.
    expect(webhook.failing_since).toBeNull();
  });

  it("429 with Retry-After as an HTTP date waits until then", async () => {
    const { delivery, attempts } = await seen("s429");
    expect(attempts).toHaveLength(1);
    expect(delivery.wait_reason).toBe("retry_after");
    expect(delivery.next_attempt_at).toBeGreaterThanOrEqual(Date.parse(retryAt) - 1000);
  });

  it("410 Gone disables the webhook and keeps its delivery pending", async () => {
    const { webhook, delivery, attempts } = await seen("s410");
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ error: "http", status_code: 410 });
    expect(webhook.active).toBe(0);
    expect(webhook.disabled_reason).toBe("410 Gone");
    expect(delivery.status).toBe("pending");
  });

  it("400 is the payload's problem: retried, but the webhook stays healthy", async () => {
    const { webhook, delivery, attempts } = await seen("s400");
    expect(attempts[0]).toMatchObject({ error: "http", status_code: 400 });
    expect(delivery.status).toBe("pending");
    expect(webhook.failing_since).toBeNull();
  });

  it("a 100 MiB response is read only up to the cap, memory stays flat, and 200 counts", async () => {
    const { delivery, attempts } = await seen("huge");
    expect(delivery.status).toBe("delivered");
    expect(attempts[0]).toMatchObject({ status_code: 200, error: null });
    expect(attempts[0]!.response_body).toHaveLength(1024);
    expect(faulty.hugeBytesWritten).toBeLessThan(50 * 1024 * 1024);
    expect(rssAfter - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it("the healthy receiver is served in the same tick", async () => {
    const { delivery } = await seen("ok");
    expect(delivery.status).toBe("delivered");
  });
});
