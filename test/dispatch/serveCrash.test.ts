/**
 * `hookd serve` on a bad day: SIGKILL in the middle of a publishing storm loses no
 * acknowledged event; SIGTERM in the middle of a tick drains and hands back.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { writeTransaction } from "../../src/store/connect.js";
import { createCustomer } from "../../src/store/customers.js";
import { publish } from "../../src/publishing.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { tempDir } from "../helpers/app.js";
import { collect, spawnCli, untilServing } from "../helpers/cli.js";
import { closedPort, startReceiver, type Receiver } from "../helpers/receiver.js";

let dir: ReturnType<typeof tempDir>;
let app: App | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  await app?.close();
  app = undefined;
  dir?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(config: Record<string, unknown>) {
  dir = tempDir("hookd-serve-crash-");
  const configFile = path.join(dir.dir, "config.json");
  writeFileSync(configFile, JSON.stringify(config));
  const env = { HOOKD_DB: path.join(dir.dir, "hookd.sqlite"), HOOKD_PORT: String(await closedPort()), HOOKD_CONFIG: configFile };
  app = await openApp({ env: { HOOKD_ENV: "test", ...env }, logger: silentLogger });
  const customer = await createCustomer(app.store.db, "acme");
  const { key } = await createApiKey(app.store.db, customer.id);
  return { env, customerId: customer.id, key, url: `http://127.0.0.1:${env.HOOKD_PORT}` };
}

describe("hookd serve crash safety", () => {
  it("every event acknowledged with 202 is in the outbox after a SIGKILL mid-publish", async () => {
    const { env, customerId, key, url } = await setup({});
    await createWebhook(app!.store.db, app!.keyring, customerId, { url: "http://127.0.0.1:9/in", group: "orders", action: "created" }, app!.webhookRules);
    const child = spawnCli(["serve"], env);
    const done = collect(child);
    expect((await untilServing(url)).status).toBe(200);

    const acknowledged: string[] = [];
    let killed = false;
    const client = async (n: number) => {
      for (let i = 0; !killed; i++) {
        try {
          const res = await fetch(`${url}/events/`, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: JSON.stringify({ topic: "orders:created", payload: { client: n, i } }),
          });
          if (res.status === 202) acknowledged.push(((await res.json()) as { id: string }).id);
        } catch {
          return; // the server is gone; this request was never acknowledged
        }
      }
    };
    const clients = Array.from({ length: 8 }, (_, n) => client(n));
    while (acknowledged.length < 300) await sleep(5);
    child.kill("SIGKILL");
    killed = true;
    await Promise.all(clients);
    expect((await done).signal).toBe("SIGKILL");

    const stored = await app!.store.db.selectFrom("events").select("id").execute();
    const storedIds = new Set(stored.map((e) => e.id));
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);
    expect(acknowledged.filter((id) => !storedIds.has(id))).toEqual([]);
    // …and each with its delivery, written in the same transaction.
    const deliveries = await app!.store.db.selectFrom("deliveries").select("event_id").execute();
    const withDelivery = new Set(deliveries.map((d) => d.event_id));
    expect(acknowledged.filter((id) => !withDelivery.has(id))).toEqual([]);
  });

  it("SIGTERM during a scheduled tick drains in-flight attempts, hands back the rest, and exits 0", async () => {
    receiver = await startReceiver((_req, res) => setTimeout(() => res.writeHead(200).end(), 300));
    const { env, customerId, url } = await setup({
      dispatch: { schedule: "* * * * * *", concurrency: 4, perWebhookConcurrency: 4, shutdownGraceMs: 5000 },
    });
    await createWebhook(app!.store.db, app!.keyring, customerId, { url: `${receiver.url}/in`, group: "orders", action: "created" }, app!.webhookRules);
    await writeTransaction(app!.store.db, async (trx) => {
      for (let i = 0; i < 100; i++) await publish(trx, { customerId, topic: "orders:created", payload: `{"i":${i}}` }, app!.publishRules);
    });
    const child = spawnCli(["serve"], env);
    const done = collect(child);
    expect((await untilServing(url)).status).toBe(200);
    while (receiver.requests.length < 6) await sleep(10);
    child.kill("SIGTERM");
    const result = await done;
    expect(result.code).toBe(0);

    const rows = await app!.store.db.selectFrom("deliveries").select(["status", "lease_owner", "attempts"]).execute();
    expect(rows.filter((r) => r.lease_owner !== null)).toEqual([]);
    const delivered = rows.filter((r) => r.status === "delivered").length;
    expect(delivered).toBeGreaterThanOrEqual(6);
    expect(delivered).toBeLessThan(100);
    expect(rows.filter((r) => r.status === "pending").every((r) => r.attempts === 0)).toBe(true);
    const attempts = await app!.store.db.selectFrom("attempts").select("delivery_id").execute();
    expect(attempts).toHaveLength(delivered);
  });
});
