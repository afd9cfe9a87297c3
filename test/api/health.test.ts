import { afterEach, describe, expect, it } from "vitest";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

let h: ApiHarness;
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  await h.cleanup();
});

/** The value of one sample line of Prometheus text, e.g. `hookd_deliveries{status="pending"}`. */
function sample(text: string, name: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe("/healthz", () => {
  it("answers 200 while the store answers and 503 once it does not, without a key", async () => {
    h = await apiHarness();
    const up = await h.call("GET", "/healthz", { key: null });
    expect(up.status).toBe(200);
    expect(up.body).toEqual({ status: "ok" });
    await h.app.store.close();
    const down = await h.call("GET", "/healthz/", { key: null });
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe("store_unavailable");
    // Anything unexpected is a generic 500: no message from inside, no stack trace.
    const broken = await h.call("GET", "/webhooks/");
    expect(broken.status).toBe(500);
    expect(broken.body).toEqual({ error: { code: "internal", message: "internal server error", details: [] } });
  });
});

describe("/metrics", () => {
  it("reports attempts by outcome, attempt latency, tick duration and the backlog by status", async () => {
    h = await apiHarness({ retry: { maxAttempts: 1 } });
    receiver = await startReceiver((req, res) => res.writeHead(req.path === "/ok" ? 200 : 500).end());
    for (const path of ["/ok", "/fail"]) {
      await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}${path}`, group: "orders", action: "created" } });
    }
    await h.call("POST", "/events/", { body: { topic: "orders:created", payload: {} } });
    const before = await h.call("GET", "/metrics", { key: null });
    expect(before.status).toBe(200);
    expect(before.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(sample(before.text, 'hookd_deliveries{status="pending"}')).toBe(2);
    expect(sample(before.text, "hookd_tick_duration_seconds_count")).toBe(0);

    await h.app.dispatcher.tick();
    const after = (await h.call("GET", "/metrics", { key: null })).text;
    expect(sample(after, 'hookd_delivery_attempts_total{outcome="delivered",error="none"}')).toBe(1);
    expect(sample(after, 'hookd_delivery_attempts_total{outcome="failed",error="http"}')).toBe(1);
    expect(sample(after, "hookd_attempt_duration_seconds_count")).toBe(2);
    expect(sample(after, "hookd_tick_duration_seconds_count")).toBe(1);
    expect(sample(after, 'hookd_deliveries{status="pending"}')).toBe(0);
    expect(sample(after, 'hookd_deliveries{status="delivered"}')).toBe(1);
    expect(sample(after, 'hookd_deliveries{status="failed"}')).toBe(1);
  });
});
