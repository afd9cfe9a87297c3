import { afterEach, describe, expect, it } from "vitest";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { asAdmin, backends, dropSchema } from "../helpers/backends.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { holdWriteLock } from "../helpers/sqliteLock.js";

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

describe.each(backends)("%s", (backend) => {
  describe("/healthz", () => {
    it("answers 200 while the store can be read and written, 503 and store_unavailable once it cannot, without a key", async () => {
      h = await apiHarness({ db: { busyTimeoutMs: 100 } }, backend);
      const up = await h.call("GET", "/healthz", { key: null });
      expect(up.status).toBe(200);
      expect(up.body).toEqual({ status: "ok" });
      if (backend === "sqlite") {
        // Another process holds the write lock past db.busyTimeoutMs: reads work, writes do not.
        const lock = await holdWriteLock(h.app.dbFile);
        try {
          const down = await h.call("GET", "/healthz/", { key: null });
          expect(down.status).toBe(503);
          expect(down.body.error.code).toBe("store_unavailable");
          expect((await h.call("GET", "/webhooks/")).status).toBe(200);
          const publish = await h.call("POST", "/events/", { body: { topic: "orders:created", payload: {} } });
          expect(publish.status).toBe(503);
          expect(publish.body.error.code).toBe("store_unavailable");
        } finally {
          await lock.release();
        }
        expect((await h.call("GET", "/healthz", { key: null })).status).toBe(200);
      } else {
        // The schema under the running server is gone: every route that needs it is a 503.
        await asAdmin((c) => dropSchema(c, h.app.schema!));
        const down = await h.call("GET", "/healthz/", { key: null });
        expect(down.status).toBe(503);
        expect(down.body.error.code).toBe("store_unavailable");
        const list = await h.call("GET", "/webhooks/", { key: h.adminKey });
        expect(list.status).toBe(503);
        expect(list.body).toEqual({ error: { code: "store_unavailable", message: "the store is unavailable; try again later", details: [] } });
      }
      await h.app.store.close();
      // Anything unexpected (here: a store this process closed) is a generic 500: no message from inside, no stack trace.
      const broken = await h.call("GET", "/webhooks/");
      expect(broken.status).toBe(500);
      expect(broken.body).toEqual({ error: { code: "internal", message: "internal server error", details: [] } });
    });
  });

  describe("/metrics", () => {
    it("reports attempts by outcome, attempt latency, tick duration and the backlog by status", async () => {
      h = await apiHarness({ retry: { maxAttempts: 1 } }, backend);
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
});
