/**
 * Real `hookd tick` processes against a real SQLite file and a real receiver:
 * concurrent ticks, SIGKILL mid-tick, SIGTERM mid-tick.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { writeTransaction } from "../../src/store/connect.js";
import { createCustomer } from "../../src/store/customers.js";
import { publish } from "../../src/publishing.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { tempDir } from "../helpers/app.js";
import { collect, spawnCli } from "../helpers/cli.js";
import { countByStatus } from "../helpers/deliveries.js";
import { startReceiver, type Receiver, type Responder } from "../helpers/receiver.js";

let receiver: Receiver;
let app: App;
let dir: ReturnType<typeof tempDir>;
let env: Record<string, string>;

afterEach(async () => {
  await receiver?.close();
  await app?.close();
  dir?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(responder: Responder, config: Record<string, unknown>, deliveries: number, webhooks = 4) {
  receiver = await startReceiver(responder);
  dir = tempDir("hookd-proc-");
  const dbFile = path.join(dir.dir, "hookd.sqlite");
  const configFile = path.join(dir.dir, "config.json");
  writeFileSync(configFile, JSON.stringify(config));
  env = { HOOKD_DB: dbFile, HOOKD_CONFIG: configFile };
  app = await openApp({ env: { HOOKD_ENV: "test", ...env }, logger: silentLogger });
  const customer = await createCustomer(app.store.db, "acme");
  for (let i = 0; i < webhooks; i++) {
    await createWebhook(
      app.store.db,
      app.keyring,
      customer.id,
      { url: `${receiver.url}/h${i}`, group: "orders", action: "created", hash_secret: "s" },
      app.webhookRules,
    );
  }
  // Fan-out: each event reaches every webhook. One transaction keeps the setup quick.
  await writeTransaction(app.store.db, async (trx) => {
    for (let i = 0; i < deliveries / webhooks; i++) {
      await publish(trx, { customerId: customer.id, topic: "orders:created", payload: JSON.stringify({ i }) }, app.publishRules);
    }
  });
}

const delayed =
  (ms: number): Responder =>
  (_req, res) =>
    setTimeout(() => res.writeHead(200).end(), ms);

/** Start a tick process and send it `signal` once the receiver has seen `requests` requests. */
async function tickUntil(args: string[], requests: number, signal: NodeJS.Signals) {
  const child = spawnCli(args, env);
  const done = collect(child);
  while (receiver.requests.length < requests && child.exitCode === null) await sleep(5);
  child.kill(signal);
  return done;
}

const statusCounts = () => countByStatus(app.store.db);

async function leased() {
  const r = await app.store.db
    .selectFrom("deliveries")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("lease_owner", "is not", null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

describe("dispatcher processes", () => {
  it("two ticks started at once deliver each delivery exactly once", async () => {
    await setup(delayed(3), { dispatch: { concurrency: 16, batchSize: 100 } }, 4000);
    const [a, b] = await Promise.all([collect(spawnCli(["--json", "tick"], env)), collect(spawnCli(["--json", "tick"], env))]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const sa = JSON.parse(a.stdout);
    const sb = JSON.parse(b.stdout);
    expect(sa.delivered + sb.delivered).toBe(4000);
    const ids = receiver.requests.map((r) => String(r.headers["x-delivery-id"]));
    expect(ids).toHaveLength(4000);
    expect(new Set(ids).size).toBe(4000);
    expect(await statusCounts()).toEqual({ delivered: 4000 });
  });

  it("loses nothing when ticks are killed with SIGKILL at several points", async () => {
    const total = 3000;
    await setup(
      delayed(10),
      {
        dispatch: { concurrency: 16, batchSize: 100, leaseSeconds: 3, timeoutMs: 1000 },
        // A receiver starved by a loaded machine must not leave a webhook backed off past the test.
        retry: { delaysSeconds: [0] },
      },
      total,
    );
    const distinctReceived = () => new Set(receiver.requests.map((r) => String(r.headers["x-delivery-id"]))).size;
    // Sent but not recorded at each kill: the most that may arrive twice.
    let inFlightAtKills = 0;
    for (const at of [300, 1000, 1800]) {
      const killed = await tickUntil(["tick"], at, "SIGKILL");
      expect(killed.signal).toBe("SIGKILL");
      inFlightAtKills += distinctReceived() - ((await statusCounts()).delivered ?? 0);
      // The killed process's leases count against its webhooks' caps until they lapse.
      await sleep(3100);
    }
    expect((await statusCounts()).delivered ?? 0).toBeLessThan(total);

    for (let i = 0; i < 5 && ((await statusCounts()).delivered ?? 0) < total; i++) {
      expect((await collect(spawnCli(["tick"], env))).code).toBe(0);
    }
    expect(await statusCounts()).toEqual({ delivered: total });
    // Every event reached every subscriber.
    const ids = receiver.requests.map((r) => String(r.headers["x-delivery-id"]));
    expect(new Set(ids).size).toBe(total);
    const perEvent = new Map<string, Set<string>>();
    for (const r of receiver.requests) {
      const e = String(r.headers["x-event-id"]);
      perEvent.set(e, (perEvent.get(e) ?? new Set()).add(String(r.headers["x-webhook-id"])));
    }
    expect(perEvent.size).toBe(total / 4);
    expect([...perEvent.values()].every((hooks) => hooks.size === 4)).toBe(true);
    expect(ids.length - total).toBeLessThanOrEqual(inFlightAtKills);
  });

  it("on SIGTERM stops claiming, finishes in-flight attempts, hands back the rest and exits 0", async () => {
    await setup(delayed(400), { dispatch: { concurrency: 4, perWebhookConcurrency: 1, shutdownGraceMs: 5000 } }, 200);
    const result = await tickUntil(["--json", "tick"], 4, "SIGTERM");
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.interrupted).toBe(true);
    expect(summary.delivered).toBeGreaterThanOrEqual(4);
    expect(summary.delivered).toBeLessThan(200);
    expect(await leased()).toBe(0);
    const counts = await statusCounts();
    expect(counts).toEqual({ delivered: summary.delivered, pending: 200 - summary.delivered });
    // Every recorded attempt belongs to a delivered delivery: nothing half-recorded.
    const attempts = await app.store.db.selectFrom("attempts").select("delivery_id").execute();
    expect(attempts).toHaveLength(summary.delivered);
    // The rest goes out with the next tick.
    receiver.respond((_req, res) => res.writeHead(200).end());
    expect((await collect(spawnCli(["tick"], env))).code).toBe(0);
    expect(await statusCounts()).toEqual({ delivered: 200 });
  });

  it("on SIGTERM with hanging receivers, cuts in-flight requests off after the grace bound without recording them", async () => {
    await setup(() => {}, { dispatch: { concurrency: 4, timeoutMs: 20000, leaseSeconds: 60, shutdownGraceMs: 300 } }, 8);
    const result = await tickUntil(["--json", "tick"], 4, "SIGTERM");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ interrupted: true, delivered: 0, rescheduled: 0 });
    expect(await leased()).toBe(0);
    expect(await statusCounts()).toEqual({ pending: 8 });
    expect(await app.store.db.selectFrom("attempts").selectAll().execute()).toHaveLength(0);
  });
});
