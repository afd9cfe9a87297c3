/**
 * Several `hookd tick` processes on one store (one SQLite file, or one PostgreSQL
 * schema) keep every single-node promise: each delivery sent once, the per-webhook
 * cap across all of them, one probe per failing webhook per backoff step with the
 * failure counted once, nothing lost to a SIGKILL, and the database's clock, not
 * their own. Real processes, a real receiver that counts requests in flight per
 * webhook, and on PostgreSQL a schema of its own per test.
 */
import { writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { writeTransaction } from "../../src/store/connect.js";
import { createCustomer } from "../../src/store/customers.js";
import { publish } from "../../src/publishing.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { tempDir } from "../helpers/app.js";
import { collect, spawnCli, type CliResult } from "../helpers/cli.js";
import { countByStatus } from "../helpers/deliveries.js";
import { dropSchema } from "../helpers/backends.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { seeded } from "../helpers/seeded.js";

const PG = process.env.HOOKD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Requests in flight per webhook path, and the most seen at once. */
class InFlight {
  private readonly now = new Map<string, number>();
  readonly most = new Map<string, number>();
  track(path: string, res: ServerResponse): void {
    const n = (this.now.get(path) ?? 0) + 1;
    this.now.set(path, n);
    this.most.set(path, Math.max(this.most.get(path) ?? 0, n));
    res.on("close", () => this.now.set(path, (this.now.get(path) ?? 1) - 1));
  }
  get peak(): number {
    return Math.max(0, ...this.most.values());
  }
}

interface Cluster {
  app: App;
  env: Record<string, string>;
  receiver: Receiver;
  inFlight: InFlight;
  webhooks: string[];
  /** the webhooks whose receiver answers 500 */
  failing: Set<string>;
  run(count: number, extraEnv?: (i: number) => Record<string, string>): Promise<CliResult[]>;
  deliveredIds(): Set<string>;
  counts(): Promise<Record<string, number>>;
  /** every request's body and whether it was answered 2xx, in arrival order */
  answers: { body: string; ok: boolean }[];
}

let admin: pg.Client;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  admin = new pg.Client({ connectionString: PG });
  await admin.connect();
});
afterAll(async () => admin?.end());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function storeUrl(backend: "sqlite" | "postgres"): Promise<string> {
  if (backend === "postgres") {
    const schema = `hookd_cluster_${Math.random().toString(36).slice(2, 10)}`;
    await admin.query(`create schema ${schema}`);
    cleanups.push(() => dropSchema(admin, schema));
    return `${PG}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  }
  const dir = tempDir("hookd-cluster-");
  cleanups.push(async () => dir.cleanup());
  return path.join(dir.dir, "hookd.sqlite");
}

async function cluster(
  backend: "sqlite" | "postgres",
  o: {
    webhooks: number;
    failingWebhooks?: number;
    events: number;
    replyMs: number;
    dispatch: Record<string, unknown>;
    retry?: Record<string, unknown>;
    /** answers 500 when it says so (a flaky receiver), besides the failing webhooks */
    fails?: () => boolean;
  },
): Promise<Cluster> {
  const inFlight = new InFlight();
  const failing = new Set<string>();
  const receiver = await startReceiver((req, res) => {
    inFlight.track(req.path, res);
    const fail = failing.has(req.path) || (o.fails?.() ?? false);
    answers.push({ body: req.body.toString(), ok: !fail });
    setTimeout(() => res.writeHead(fail ? 500 : 200).end(), o.replyMs);
  });
  const answers: { body: string; ok: boolean }[] = [];
  cleanups.push(() => receiver.close());
  const dir = tempDir("hookd-cluster-config-");
  cleanups.push(async () => dir.cleanup());
  const configFile = path.join(dir.dir, "config.json");
  writeFileSync(configFile, JSON.stringify({ dispatch: o.dispatch, retry: o.retry ?? {} }));
  const env = { HOOKD_DB: await storeUrl(backend), HOOKD_CONFIG: configFile };
  const app = await openApp({ env: { HOOKD_ENV: "test", ...env }, logger: silentLogger });
  cleanups.push(() => app.close());
  const customer = await createCustomer(app.store.db, "acme");
  const webhooks: string[] = [];
  for (let i = 0; i < o.webhooks; i++) {
    const path = `/h${i}`;
    if (i < (o.failingWebhooks ?? 0)) failing.add(path);
    const hook = await createWebhook(
      app.store.db,
      app.keyring,
      customer.id,
      { url: `${receiver.url}${path}`, group: "orders", action: "created" },
      app.webhookRules,
    );
    webhooks.push(hook.row.id);
  }
  await writeTransaction(app.store.db, async (trx) => {
    for (let i = 0; i < o.events; i++) {
      await publish(trx, { customerId: customer.id, topic: "orders:created", payload: JSON.stringify({ i }) }, app.publishRules);
    }
  });
  return {
    app,
    env,
    receiver,
    inFlight,
    webhooks,
    failing,
    run: (count, extraEnv) => Promise.all(Array.from({ length: count }, (_, i) => collect(spawnCli(["--json", "tick"], { ...env, ...extraEnv?.(i) })))),
    answers,
    deliveredIds: () => new Set(receiver.requests.map((r) => String(r.headers["x-delivery-id"]))),
    counts: () => countByStatus(app.store.db),
  };
}

const summaries = (results: CliResult[]) => results.map((r) => JSON.parse(r.stdout) as Record<string, number>);

describe.each(["sqlite", "postgres"] as const)("three dispatchers on %s", (backend) => {
  it("deliver each delivery once, and never more than perWebhookConcurrency to one webhook in all", async () => {
    const c = await cluster(backend, { webhooks: 6, events: 100, replyMs: 15, dispatch: { concurrency: 16, perWebhookConcurrency: 4, batchSize: 50 } });
    const results = await c.run(3);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(summaries(results).reduce((n, s) => n + s.delivered!, 0)).toBe(600);
    // Nothing claimed was handed back unsent (a payload dropped while a claim read others did that once).
    expect(summaries(results).reduce((n, s) => n + s.deferred!, 0)).toBe(0);
    expect(c.receiver.requests).toHaveLength(600);
    expect(c.deliveredIds().size).toBe(600);
    expect(await c.counts()).toEqual({ delivered: 600 });
    expect(c.inFlight.peak).toBeLessThanOrEqual(4);
  });

  it("a failing webhook costs at most its breaker's failures and the cap in all, then one probe per backoff step, each failure counted once", async () => {
    const c = await cluster(backend, {
      webhooks: 20,
      failingWebhooks: 20,
      events: 30,
      replyMs: 20,
      dispatch: { concurrency: 32, perWebhookConcurrency: 4, batchSize: 50 },
    });
    const perWebhook = () => {
      const n = new Map<string, number>();
      for (const r of c.receiver.requests) n.set(r.path, (n.get(r.path) ?? 0) + 1);
      return [...n.values()];
    };
    const failures = async () => (await c.app.store.db.selectFrom("webhooks").select("consecutive_failures").execute()).map((w) => w.consecutive_failures);

    // The first step: every webhook fails until its breaker opens (5 failures in a row, the
    // default, counted across the three), plus what was in flight in all when it did (the
    // cap) and one more each for the two others that hear of it at their next record.
    expect((await c.run(3)).map((r) => r.code)).toEqual([0, 0, 0]);
    expect(perWebhook()).toHaveLength(20);
    expect(Math.max(...perWebhook())).toBeLessThanOrEqual(5 + 4 + 2);
    expect(await failures()).toEqual(Array(20).fill(1));

    // Two more backoff steps: one probe per webhook in all, each failure counted once.
    for (const step of [2, 3]) {
      const before = c.receiver.requests.length;
      // The backoff has passed (as the database sees it).
      await c.app.store.db.updateTable("webhooks").set({ backoff_until: 0 }).execute();
      const results = await c.run(3);
      expect(summaries(results).reduce((n, s) => n + s.probes!, 0)).toBe(20);
      expect(c.receiver.requests.length - before).toBe(20);
      expect(new Set(c.receiver.requests.slice(before).map((r) => r.path)).size).toBe(20);
      expect(await failures()).toEqual(Array(20).fill(step));
    }
  });

  it("lose nothing when one is killed with SIGKILL; what arrives twice is within in-flight plus one record batch", async () => {
    const dispatch = { concurrency: 16, perWebhookConcurrency: 8, batchSize: 50, leaseSeconds: 3, timeoutMs: 1000 };
    const c = await cluster(backend, { webhooks: 10, events: 200, replyMs: 5, dispatch });
    const children = [0, 1, 2].map(() => spawnCli(["--json", "tick"], c.env));
    const done = children.map((child) => collect(child));
    while (c.receiver.requests.length < 300) await sleep(5);
    // One that is still at work (one may have found nothing left for it and ended).
    const victim = children.findIndex((child) => child.exitCode === null);
    children[victim]!.kill("SIGKILL");
    const results = await Promise.all(done);
    expect(results[victim]!.signal).toBe("SIGKILL");
    expect(results.filter((_, i) => i !== victim).map((r) => r.code)).toEqual([0, 0]);
    // What the killed one held comes back once its leases lapse.
    await sleep(3100);
    expect((await c.run(1))[0]!.code).toBe(0);
    expect(await c.counts()).toEqual({ delivered: 2000 });
    expect(c.deliveredIds().size).toBe(2000);
    expect(c.receiver.requests.length - 2000).toBeLessThanOrEqual(dispatch.concurrency + dispatch.batchSize);
  });

  it("an ordered webhook gets its events one at a time in publish order, through a flaky receiver and three dispatchers", async () => {
    const random = seeded(11);
    const events = 20;
    const c = await cluster(backend, {
      webhooks: 1,
      events,
      replyMs: 2,
      dispatch: { concurrency: 16, perWebhookConcurrency: 8, batchSize: 50 },
      retry: { delaysSeconds: [0] },
      fails: () => random() < 0.25,
    });
    await c.app.store.db.updateTable("webhooks").set({ ordered: 1 }).execute();
    for (let round = 0; round < 40 && (await c.counts()).delivered !== events; round++) {
      expect((await c.run(3)).map((r) => r.code)).toEqual([0, 0, 0]);
    }
    expect(await c.counts()).toEqual({ delivered: events });
    // Each request is for the first event not yet delivered: never one ahead of it.
    let next = 0;
    for (const a of c.answers) {
      expect(JSON.parse(a.body)).toEqual({ i: next });
      if (a.ok) next++;
    }
    expect(next).toBe(events);
    expect(c.answers.some((a) => !a.ok)).toBe(true);
  });

  it("share slots fairly across customers: another customer's one delivery goes out in the first round of three dispatchers busy with a burst", async () => {
    const dispatch = { concurrency: 16, perWebhookConcurrency: 4, batchSize: 100 };
    const c = await cluster(backend, { webhooks: 10, events: 100, replyMs: 5, dispatch });
    const small = await createCustomer(c.app.store.db, "small");
    await createWebhook(c.app.store.db, c.app.keyring, small.id, { url: `${c.receiver.url}/small`, group: "orders", action: "created" }, c.app.webhookRules);
    await publish(c.app.store.db, { customerId: small.id, topic: "orders:created", payload: '{"small":1}' }, c.app.publishRules);
    expect((await c.run(3)).map((r) => r.code)).toEqual([0, 0, 0]);
    expect(await c.counts()).toEqual({ delivered: 1001 });
    // Within the first round of the three (3 × concurrency): not behind the 1,000.
    const position = c.receiver.requests.findIndex((r) => r.path === "/small");
    expect(position).toBeGreaterThanOrEqual(0);
    expect(position).toBeLessThan(3 * dispatch.concurrency);
  });

  it("compare leases and due times on the database's clock, whatever their own clocks say", async () => {
    const c = await cluster(backend, {
      webhooks: 6,
      failingWebhooks: 1,
      events: 100,
      replyMs: 10,
      dispatch: { concurrency: 16, perWebhookConcurrency: 4, batchSize: 50, leaseSeconds: 60 },
    });
    const before = Date.now();
    // Ten minutes ahead, on time, ten minutes behind: more than any lease here.
    const skew = [600_000, 0, -600_000];
    const results = await c.run(3, (i) => ({ HOOKD_TEST_CLOCK_OFFSET_MS: String(skew[i]) }));
    const after = Date.now();
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    // Nobody took another's claims, nobody gave its own up as lapsed, nobody missed what was due.
    // (Handed back unsent: only what they held of the failing webhook when it failed. A
    // dispatcher that got there first, alone, may hold max(min(batchSize, concurrency),
    // 4 × cap) = 16 of it; CI's Node 24 run met that order. A clock taken for the
    // database's would hand back, or steal, hundreds.)
    expect(summaries(results).reduce((n, s) => n + s.deferred!, 0)).toBeLessThanOrEqual(16);
    const healthy = c.receiver.requests.filter((r) => !c.failing.has(r.path));
    expect(healthy).toHaveLength(500);
    expect(new Set(healthy.map((r) => String(r.headers["x-delivery-id"]))).size).toBe(500);
    // Retries and the endpoint's backoff are 30 s from the database's now.
    const retried = await c.app.store.db.selectFrom("deliveries").select("next_attempt_at").where("attempts", "=", 1).where("status", "=", "pending").execute();
    expect(retried.length).toBeGreaterThan(0);
    for (const r of retried) {
      expect(r.next_attempt_at).toBeGreaterThanOrEqual(before + 29_000);
      expect(r.next_attempt_at).toBeLessThanOrEqual(after + 31_000);
    }
    const hook = await c.app.store.db.selectFrom("webhooks").select("backoff_until").where("id", "=", c.webhooks[0]!).executeTakeFirstOrThrow();
    expect(hook.backoff_until).toBeGreaterThanOrEqual(before + 29_000);
    expect(hook.backoff_until).toBeLessThanOrEqual(after + 31_000);
  });
});
