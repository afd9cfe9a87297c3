import { createHmac, timingSafeEqual } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { publish as publishEvent } from "../../src/publishing.js";
import { VERSION } from "../../src/version.js";
import { closedPort, ok, startReceiver, type Receiver, type Responder } from "../helpers/receiver.js";
import { testApp } from "../helpers/app.js";

type T = Awaited<ReturnType<typeof testApp>>;
let app: T;
let receiver: Receiver;

afterEach(async () => {
  await receiver?.close();
  await app?.cleanup();
});

async function setup(responder: Responder = ok, overrides: Record<string, unknown> = {}) {
  receiver = await startReceiver(responder);
  app = await testApp(overrides);
}

const publish = (payload: string, topic = "orders:created") => publishEvent(app.store.db, { customerId: app.customerId, topic, payload }, app.publishRules);

async function delivery(id?: string) {
  const q = app.store.db.selectFrom("deliveries").selectAll();
  return id ? q.where("id", "=", id).executeTakeFirstOrThrow() : q.executeTakeFirstOrThrow();
}

async function attempts() {
  return app.store.db.selectFrom("attempts").selectAll().orderBy("number").execute();
}

describe("delivery", () => {
  it("signs the exact body so a receiver written from seed 003's recipe accepts it", async () => {
    const verdicts: boolean[] = [];
    // The seed's Node receiver: raw body, HMAC-SHA256 hex with the secret, timingSafeEqual.
    await setup((req, res) => {
      const calculated = createHmac("sha256", "s3cret").update(req.body).digest("hex");
      const received = String(req.headers["x-signature"]);
      const valid = calculated.length === received.length && timingSafeEqual(Buffer.from(calculated), Buffer.from(received));
      verdicts.push(valid);
      res.writeHead(valid ? 200 : 403).end(valid ? "Valid signature" : "Invalid signature");
    });
    await app.hook(`${receiver.url}/webhook`);
    await publish('{"order":{"id":1,"total":"9.99"}}');
    const summary = await app.dispatcher.tick();
    expect(summary.delivered).toBe(1);
    expect(verdicts).toEqual([true]);
    expect((await delivery()).status).toBe("delivered");
  });

  it("sends the payload byte for byte: unicode, odd spacing, and a large body", async () => {
    await setup();
    await app.hook(`${receiver.url}/hook`);
    const unicode = '{ "name" : "Zoë 🚚 — ünïcødé",\n  "n": 1.0, "esc": "\\u00e9\\n", "big": 12345678901234567890 }';
    const large = JSON.stringify({ items: Array.from({ length: 4000 }, (_, i) => ({ i, sku: `SKU-${i}`, label: "größe 🧦" })) });
    expect(Buffer.byteLength(large)).toBeGreaterThan(200_000);
    await publish(unicode);
    await publish(large);
    await app.dispatcher.tick();
    const bodies = receiver.requests.map((r) => r.body);
    expect(bodies).toHaveLength(2);
    expect(bodies.some((b) => b.equals(Buffer.from(unicode, "utf8")))).toBe(true);
    expect(bodies.some((b) => b.equals(Buffer.from(large, "utf8")))).toBe(true);
  });

  it("sends the SPEC's headers", async () => {
    await setup();
    const webhookId = await app.hook(`${receiver.url}/hook`);
    const before = Math.floor(Date.now() / 1000);
    const event = await publish('{"a":1}');
    await app.dispatcher.tick();
    const d = await delivery();
    const [req] = receiver.requests;
    expect(req!.method).toBe("POST");
    expect(req!.path).toBe("/hook");
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(req!.headers["user-agent"]).toBe(`hookd/${VERSION}`);
    expect(req!.headers["x-signature"]).toBe(createHmac("sha256", "s3cret").update('{"a":1}').digest("hex"));
    expect(req!.headers["x-webhook-id"]).toBe(webhookId);
    expect(req!.headers["x-event-id"]).toBe(event.id);
    expect(req!.headers["x-delivery-id"]).toBe(d.id);
    expect(req!.headers["x-topic"]).toBe("orders:created");
    expect(req!.headers["x-attempt-number"]).toBe("1");
    const ts = Number(req!.headers["x-timestamp"]);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it("omits X-Signature for a webhook without a secret", async () => {
    await setup();
    await app.hook(`${receiver.url}/hook`, "orders:created", null);
    await publish("{}");
    await app.dispatcher.tick();
    expect(receiver.requests[0]!.headers["x-signature"]).toBeUndefined();
  });

  it("fans out to every active webhook of the topic and no other", async () => {
    await setup();
    await app.hook(`${receiver.url}/a`, "orders:created");
    await app.hook(`${receiver.url}/b`, "orders:created");
    await app.hook(`${receiver.url}/c`, "orders:updated");
    const paused = await app.hook(`${receiver.url}/paused`, "orders:created");
    await app.store.db.updateTable("webhooks").set({ active: 0 }).where("id", "=", paused).execute();
    const created = await publish('{"kind":"created"}', "orders:created");
    const updated = await publish('{"kind":"updated"}', "orders:updated");
    await publish('{"kind":"stock"}', "stock:updated");
    expect(created.deliveries).toBe(2);
    expect(updated.deliveries).toBe(1);
    await app.dispatcher.tick();
    const got = receiver.requests.map((r) => `${r.path} ${r.body.toString()}`).sort();
    expect(got).toEqual(['/a {"kind":"created"}', '/b {"kind":"created"}', '/c {"kind":"updated"}']);
  });

  it("retries a 500 and records two attempts numbered 1 and 2", async () => {
    let calls = 0;
    await setup((_req, res) => res.writeHead(++calls === 1 ? 500 : 200).end(calls === 1 ? "boom" : "fine"), {
      retry: { delaysSeconds: [0] },
    });
    await app.hook(`${receiver.url}/hook`);
    await publish('{"a":1}');
    const first = await app.dispatcher.tick();
    expect(first).toMatchObject({ delivered: 0, rescheduled: 1 });
    let d = await delivery();
    expect(d).toMatchObject({ status: "pending", attempts: 1, last_status_code: 500 });
    expect(d.wait_reason).toContain("backoff");
    const second = await app.dispatcher.tick();
    expect(second).toMatchObject({ delivered: 1, rescheduled: 0 });
    d = await delivery();
    expect(d).toMatchObject({ status: "delivered", attempts: 2, last_status_code: 200 });
    expect(receiver.requests.map((r) => r.headers["x-attempt-number"])).toEqual(["1", "2"]);
    expect(new Set(receiver.requests.map((r) => r.headers["x-event-id"])).size).toBe(1);
    const rows = await attempts();
    expect(rows.map((a) => [a.number, a.status_code, a.error, a.response_body])).toEqual([
      [1, 500, "http", "boom"],
      [2, 200, null, "fine"],
    ]);
  });

  it("schedules the retry by the configured delay", async () => {
    await setup((_req, res) => res.writeHead(503).end());
    await app.hook(`${receiver.url}/hook`);
    await publish("{}");
    const before = Date.now();
    await app.dispatcher.tick();
    const d = await delivery();
    expect(d.next_attempt_at).toBeGreaterThanOrEqual(before + 30_000);
    // Not due yet: the next tick sends nothing.
    expect(await app.dispatcher.tick()).toMatchObject({ claimed: 0 });
    expect(receiver.requests).toHaveLength(1);
  });

  it("honours Retry-After on 429", async () => {
    await setup((_req, res) => res.writeHead(429, { "retry-after": "600" }).end());
    await app.hook(`${receiver.url}/hook`);
    await publish("{}");
    const before = Date.now();
    await app.dispatcher.tick();
    const d = await delivery();
    expect(d.wait_reason).toBe("retry_after");
    expect(d.next_attempt_at).toBeGreaterThanOrEqual(before + 600_000);
  });

  it("counts a receiver that never answers as a timeout", async () => {
    await setup(
      () => {
        /* never respond */
      },
      { dispatch: { timeoutMs: 300 } },
    );
    await app.hook(`${receiver.url}/hook`);
    await publish("{}");
    expect(await app.dispatcher.tick()).toMatchObject({ rescheduled: 1 });
    const [a] = await attempts();
    expect(a).toMatchObject({ number: 1, status_code: null, error: "timeout" });
    expect((await delivery()).last_error).toBe("timeout");
  });

  it("counts a closed port as refused", async () => {
    await setup();
    await app.hook(`http://127.0.0.1:${await closedPort()}/hook`);
    await publish("{}");
    await app.dispatcher.tick();
    const [a] = await attempts();
    expect(a).toMatchObject({ error: "refused", status_code: null });
  });

  it("does not follow redirects", async () => {
    await setup((req, res) => {
      if (req.path === "/old") res.writeHead(301, { location: "/new" }).end();
      else res.writeHead(200).end();
    });
    await app.hook(`${receiver.url}/old`);
    await publish("{}");
    await app.dispatcher.tick();
    expect(receiver.requests.map((r) => r.path)).toEqual(["/old"]);
    const [a] = await attempts();
    expect(a).toMatchObject({ error: "redirect", status_code: 301 });
  });

  it("marks the delivery failed once the retry budget is spent, and keeps it", async () => {
    await setup((_req, res) => res.writeHead(500).end(), { retry: { maxAttempts: 3, delaysSeconds: [0] } });
    await app.hook(`${receiver.url}/hook`);
    await publish("{}");
    const summaries = [await app.dispatcher.tick(), await app.dispatcher.tick(), await app.dispatcher.tick()];
    expect(summaries.map((s) => [s.rescheduled, s.failed])).toEqual([
      [1, 0],
      [1, 0],
      [0, 1],
    ]);
    const d = await delivery();
    expect(d).toMatchObject({ status: "failed", attempts: 3 });
    expect(d.last_error).toContain("max_attempts");
    expect(await app.dispatcher.tick()).toMatchObject({ claimed: 0 });
    expect(receiver.requests).toHaveLength(3);
    expect(await attempts()).toHaveLength(3);
  });

  it("records only the first 1 KiB of a response body", async () => {
    await setup((_req, res) => res.writeHead(500).end("x".repeat(10_000)));
    await app.hook(`${receiver.url}/hook`);
    await publish("{}");
    await app.dispatcher.tick();
    const [a] = await attempts();
    expect(a!.response_body).toHaveLength(1024);
  });
});

describe("a tick asked to stop before it starts", () => {
  it("claims nothing and sends nothing", async () => {
    await setup();
    await app.hook(`${receiver.url}/hook`);
    await publish("{}");
    const stop = new AbortController();
    stop.abort();
    const summary = await app.dispatcher.tick({ signal: stop.signal });
    expect(summary).toMatchObject({ claimed: 0, interrupted: true });
    expect(receiver.requests).toHaveLength(0);
    expect(await app.dispatcher.tick()).toMatchObject({ delivered: 1 });
  });
});
