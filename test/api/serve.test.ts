/** `hookd serve` as systemd runs it: a real process serving the API beside the scheduler, or one of the two (--role). */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openApp } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { createCustomer } from "../../src/store/customers.js";
import { backends, tempDatabase, type TempDatabase } from "../helpers/backends.js";
import { collect, spawnCli, untilServing } from "../helpers/cli.js";
import { closedPort, startReceiver, type Receiver } from "../helpers/receiver.js";

let database: TempDatabase | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  await database?.drop();
});

/** A database with a customer and its key, made as an operator would before starting the service. */
async function prepared(backend: (typeof backends)[number]) {
  database = await tempDatabase(backend);
  const app = await openApp({ env: { HOOKD_ENV: "test", HOOKD_DB: database.url }, logger: silentLogger });
  const customer = await createCustomer(app.store.db, "acme");
  const { key } = await createApiKey(app.store.db, customer.id);
  await app.close();
  return { customer, key, env: { HOOKD_DB: database.url } as Record<string, string> };
}

const post = (url: string, key: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });

describe.each(backends)("%s", (backend) => {
  describe("hookd serve", () => {
    it("serves the HTTP API on server.host/server.port and exits 0 on SIGTERM", async () => {
      const { customer, key, env } = await prepared(backend);
      env.HOOKD_PORT = String(await closedPort());
      const child = spawnCli(["serve"], env);
      const done = collect(child);
      const url = `http://127.0.0.1:${env.HOOKD_PORT}`;
      expect((await untilServing(url)).status).toBe(200);
      const created = await post(`${url}/webhooks/`, key, { url: "http://127.0.0.1:9/hook", group: "orders", action: "created" });
      expect(created.status).toBe(201);
      expect(((await created.json()) as { customer: string }).customer).toBe(customer.id);

      child.kill("SIGTERM");
      const result = await done;
      expect(result.code).toBe(0);
      expect(result.stderr).not.toMatch(/error/i);
    });

    it("--role api serves the API without a schedule; --role dispatch runs the schedule and answers only /healthz and /metrics", async () => {
      const { key, env } = await prepared(backend);
      receiver = await startReceiver();
      // A tick every second and info logs, so the dispatcher's start and work are visible.
      const config = path.join(database!.dir, "config.json");
      writeFileSync(config, JSON.stringify({ dispatch: { schedule: "* * * * * *" }, log: { level: "info" } }));
      const apiPort = String(await closedPort());
      const dispatchPort = String(await closedPort());
      const api = spawnCli(["serve", "--role", "api"], { ...env, HOOKD_CONFIG: config, HOOKD_PORT: apiPort });
      const apiDone = collect(api);
      const url = `http://127.0.0.1:${apiPort}`;
      expect((await untilServing(url)).status).toBe(200);
      expect((await post(`${url}/webhooks/`, key, { url: `${receiver.url}/in`, group: "orders", action: "created" })).status).toBe(201);
      const published = await post(`${url}/events/`, key, { topic: "orders:created", payload: { n: 1 } });
      expect(published.status).toBe(202);
      const event = (await published.json()) as { id: string };

      const dispatcher = spawnCli(["serve", "--role", "dispatch"], { ...env, HOOKD_CONFIG: config, HOOKD_PORT: dispatchPort });
      const dispatcherDone = collect(dispatcher);
      while (receiver.requests.length === 0) await new Promise((r) => setTimeout(r, 50));
      expect(receiver.requests[0]!.headers["x-event-id"]).toBe(event.id);

      // The dispatcher's port: its health check, and metrics counting the attempts it made.
      const dispatchUrl = `http://127.0.0.1:${dispatchPort}`;
      const health = await untilServing(dispatchUrl);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok" });
      let metrics = "";
      while (!metrics.includes('hookd_delivery_attempts_total{outcome="delivered",error="none"} 1')) {
        const res = await fetch(`${dispatchUrl}/metrics`);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
        metrics = await res.text();
      }
      expect(metrics).toContain('hookd_deliveries{status="delivered"} 1');
      // Nothing else: not the API (even with a key), not the console.
      for (const [method, route] of [
        ["GET", "/webhooks/"],
        ["POST", "/events/"],
        ["GET", "/ui/"],
        ["GET", "/openapi.json"],
        ["POST", "/healthz"],
      ] as const) {
        const res = await fetch(`${dispatchUrl}${route}`, { method, headers: { authorization: `Bearer ${key}` } });
        expect(res.status, `${method} ${route}`).toBe(404);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
      }

      api.kill("SIGTERM");
      dispatcher.kill("SIGTERM");
      const [apiResult, dispatcherResult] = await Promise.all([apiDone, dispatcherDone]);
      expect(apiResult.code).toBe(0);
      expect(dispatcherResult.code).toBe(0);
      expect(apiResult.stderr).toContain('"role":"api"');
      expect(apiResult.stderr).not.toContain("scheduler started");
      expect(dispatcherResult.stderr).toContain("scheduler started");
      expect(dispatcherResult.stderr).toContain(`"role":"dispatch","health":"${dispatchUrl}/healthz","metrics":"${dispatchUrl}/metrics"`);
    });

    // Usage and file-level behaviour: the same on every backend, so once.
    if (backend === "sqlite")
      it("exits 1 with a clear message when the port is taken", async () => {
        const { env } = await prepared(backend);
        env.HOOKD_PORT = String(await closedPort());
        const first = spawnCli(["serve"], env);
        const firstDone = collect(first);
        await untilServing(`http://127.0.0.1:${env.HOOKD_PORT}`);
        const second = await collect(spawnCli(["serve"], env));
        first.kill("SIGTERM");
        expect((await firstDone).code).toBe(0);
        expect(second.code).toBe(1);
        expect(second.stderr).toMatch(/EADDRINUSE/);
      });

    // Usage and file-level behaviour: the same on every backend, so once.
    if (backend === "sqlite")
      it("rejects an unknown --role as a usage error", async () => {
        const { env } = await prepared(backend);
        const r = await collect(spawnCli(["serve", "--role", "worker"], env));
        expect(r.code).toBe(2);
        expect(r.stderr).toContain("--role must be one of api, dispatch, all");
      });
  });
});
