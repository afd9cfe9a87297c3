/**
 * PostgreSQL going away under running `hookd serve` processes (issue 27), on a server
 * of the test's own (helpers/ownPostgres.ts): restarted mid-drain (`-m fast`, `-m
 * immediate`), a connection terminated mid-claim and mid-migration-lock, paused past
 * db.statementTimeoutMs, stopped for a while. Every process stays alive, nothing is
 * lost, what arrives twice is within what was in flight, and dispatch carries on by
 * itself. While it is down: /healthz 503, /metrics says so, the API answers 503
 * store_unavailable, and each log has one warning for the outage.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { publish } from "../../src/publishing.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { openStore, writeTransaction } from "../../src/store/connect.js";
import { createCustomer } from "../../src/store/customers.js";
import { MIGRATION_LOCK_KEY } from "../../src/store/migrate.js";
import { outageOf } from "../../src/store/outage.js";
import { withoutDeadline } from "../../src/store/postgresPool.js";
import { writePublishRow } from "../../src/store/publishBatch.js";
import { nextTimeOrderedId } from "../../src/store/timeOrderedId.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { tempDir } from "../helpers/app.js";
import { randomName } from "../helpers/backends.js";
import { countByStatus } from "../helpers/deliveries.js";
import { ownPostgres, startOwnPostgres, type OwnPostgres } from "../helpers/ownPostgres.js";
import { sleep, until } from "../helpers/until.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { callNode, startServeNode, warnings, type Role, type ServeNode } from "../helpers/serveNode.js";

/**
 * Short everything, so an outage and the recovery from it fit in seconds. The statement
 * timeout stays long enough that a loaded runner's slow claim is not cancelled (that
 * warns, and is no outage); the pause test shortens it.
 */
const CONFIG = {
  db: { statementTimeoutMs: 5000, connectTimeoutMs: 1000, poolSize: 4 },
  dispatch: { schedule: "* * * * * *", concurrency: 8, perWebhookConcurrency: 8, batchSize: 50, leaseSeconds: 20, timeoutMs: 10_000, shutdownGraceMs: 1000 },
  log: { level: "info" },
};
/** Four `hookd serve` processes and a PostgreSQL restart on a machine of two cores: room for a busy CI runner. */
const SLOW = 120_000;
/** Ticks overlap their 1 s schedule here; that is not the outage. */
const SKIPPED_TICK = "previous tick still running; skipping this one";
const UNAVAILABLE = "the database is unavailable: hookd keeps trying and resumes by itself once it answers";

let server: OwnPostgres;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  ownPostgres.require();
  if (!ownPostgres.skip) server = await startOwnPostgres();
});
afterAll(async () => server?.cleanup());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Scene {
  app: App;
  env: Record<string, string>;
  receiver: Receiver;
  /** Hold every answer of the receiver (requests stay in flight) until the returned function is called. */
  hold(): () => void;
  key: string;
  webhooks: number;
  /** a client on the scene's database, as its owner */
  admin: pg.Client;

  start(role: Role): Promise<ServeNode>;
  distinct(): number;
}

/** A database of its own on the server, `events` events fanned out to `webhooks` webhooks, a receiver answering after `replyMs`. */
async function scene(o: { webhooks: number; events: number; replyMs: number; config?: Record<string, unknown>; migrate?: boolean }): Promise<Scene> {
  const database = randomName("outage");
  await withServer((c) => c.query(`create database ${database}`));
  let gate: Promise<void> = Promise.resolve();
  // Sending pauses for seconds during an outage: keep idle connections open past it.
  const receiver = await startReceiver((_req, res) => void gate.then(() => setTimeout(() => res.writeHead(200).end(), o.replyMs)), {
    keepAliveTimeoutMs: 60_000,
  });
  cleanups.push(() => receiver.close());
  const dir = tempDir("hookd-outage-");
  cleanups.push(async () => dir.cleanup());
  const configFile = path.join(dir.dir, "config.json");
  writeFileSync(configFile, JSON.stringify(o.config ?? CONFIG));
  const env = { HOOKD_DB: server.urlOf(database), HOOKD_CONFIG: configFile };
  const admin = new pg.Client({ connectionString: env.HOOKD_DB });
  admin.on("error", () => {});
  await admin.connect();
  cleanups.push(() => admin.end().catch(() => undefined));
  const nodes: ServeNode[] = [];
  cleanups.push(() => Promise.all(nodes.map((n) => n.stop())));
  let app: App | null = null;
  let key = "";
  if (o.migrate !== false) {
    app = await openApp({ env: { HOOKD_ENV: "test", ...env }, logger: silentLogger });
    cleanups.push(() => app!.close());
    const customer = await createCustomer(app.store.db, "acme");
    key = (await createApiKey(app.store.db, customer.id)).key;
    for (let i = 0; i < o.webhooks; i++) {
      await createWebhook(app.store.db, app.keyring, customer.id, { url: `${receiver.url}/h${i}`, group: "orders", action: "created" }, app.webhookRules);
    }
    await writeTransaction(app.store.db, async (trx) => {
      for (let i = 0; i < o.events; i++) {
        await publish(trx, { customerId: customer.id, topic: "orders:created", payload: JSON.stringify({ i }) }, app!.publishRules);
      }
    });
  }
  return {
    get app() {
      if (!app) throw new Error("this scene has no app");
      return app;
    },
    env,
    receiver,
    hold() {
      let open = () => {};
      gate = new Promise<void>((resolve) => (open = resolve));
      return () => {
        gate = Promise.resolve();
        open();
      };
    },
    key,
    webhooks: o.webhooks,
    admin,
    async start(role) {
      const node = await startServeNode(role, env);
      if (process.env.DEBUG_OUTAGE) cleanups.push(async () => console.log(role, Date.now(), node.stderr()));
      nodes.push(node);
      return node;
    },
    distinct: () => new Set(receiver.requests.map((r) => String(r.headers["x-delivery-id"]))).size,
  };
}

async function withServer<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const delivered = async (s: Scene) => (await countByStatus(s.app.store.db)).delivered ?? 0;

/** What no process may ever print: Node's last words, or a stack trace. */
function expectNoCrashOutput(node: ServeNode): void {
  expect(node.stderr()).not.toContain("Unhandled 'error' event");
  expect(node.stderr()).not.toMatch(/\n\s+at /);
}

/** Backends of this scene's database waiting for an advisory lock (a claim, a migration). */
async function waitingOnAdvisoryLock(s: Scene): Promise<number[]> {
  // Inside a transaction pg_stat_activity answers from a snapshot taken at its first read.
  await s.admin.query("select pg_stat_clear_snapshot()");
  const { rows } = await s.admin.query<{ pid: number }>(
    "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and wait_event_type = 'Lock' and wait_event = 'advisory'",
  );
  return rows.map((r) => r.pid);
}

describe.skipIf(ownPostgres.skip)("the pool, on a server that stops answering", () => {
  const store = async (statementTimeoutMs: number) => {
    const database = randomName("pool");
    await withServer((c) => c.query(`create database ${database}`));
    const opened = await openStore({ url: server.urlOf(database), statementTimeoutMs, connectTimeoutMs: 500, poolSize: 2 });
    cleanups.push(() => opened.close());
    return opened;
  };

  it("a statement on a paused server fails as not answering past db.statementTimeoutMs and a margin; the next, once it resumes, works", async () => {
    const { db } = await store(300);
    await sql`select 1`.execute(db);
    server.pause();
    let err: unknown;
    try {
      err = await sql`select 1`.execute(db).catch((e: unknown) => e);
    } finally {
      server.resume();
    }
    expect(outageOf(err)).toBe("not_answering");
    expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }]);
  });

  it("publishes batched together on a paused server all fail as not answering; once it resumes, publishing works", async () => {
    const database = randomName("batch");
    await withServer((c) => c.query(`create database ${database}`));
    const dir = tempDir("hookd-batch-");
    cleanups.push(async () => dir.cleanup());
    const app = await openApp({
      env: { HOOKD_ENV: "test", HOOKD_DB: server.urlOf(database), HOOKD_KEY_FILE: path.join(dir.dir, "hookd.key") },
      overrides: { db: { statementTimeoutMs: 300, connectTimeoutMs: 500, poolSize: 2 } },
      logger: silentLogger,
    });
    cleanups.push(() => app.close());
    const { db } = app.store;
    const customer = await createCustomer(db, "acme");
    const hook = await createWebhook(db, app.keyring, customer.id, { url: "http://127.0.0.1:9/in", group: "orders", action: "created" }, app.webhookRules);
    const row = (n: number) => {
      const id = nextTimeOrderedId(Date.now());
      return {
        event: {
          id,
          customer_id: customer.id,
          topic: "orders:created",
          payload: `{"n":${n}}`,
          idempotency_key: null,
          created_at: Date.now(),
          trace_context: null,
        },
        deliveryIds: [nextTimeOrderedId(Date.now())],
        webhookIds: [hook.row.id],
      };
    };
    server.pause();
    let results: PromiseSettledResult<unknown>[];
    try {
      results = await Promise.allSettled(Array.from({ length: 10 }, (_, n) => writePublishRow(db, row(n))));
    } finally {
      server.resume();
    }
    // The batch's error is every caller's: none is left waiting on a row-by-row retry.
    expect(results.map((r) => (r.status === "rejected" ? outageOf(r.reason) : "stored"))).toEqual(Array(10).fill("not_answering"));
    await expect(writePublishRow(db, row(10))).resolves.toEqual({ inserted: true, deliveries: 1 });
  });

  it("a migration's statements have no such deadline, as they have no statement timeout", async () => {
    const { db } = await store(300);
    const slow = (conn: typeof db) => sql`select pg_sleep(0.8)`.execute(conn);
    await expect(
      db.connection().execute(async (conn) => {
        await sql`set statement_timeout = 0`.execute(conn);
        await slow(conn);
      }),
    ).rejects.toMatchObject({ code: "HOOKD_NO_ANSWER" });
    await withoutDeadline(() =>
      db.connection().execute(async (conn) => {
        await sql`set statement_timeout = 0`.execute(conn);
        await slow(conn);
      }),
    );
  });
});

describe.skipIf(ownPostgres.skip)("PostgreSQL going away under hookd serve", () => {
  const restarted = "pg_ctl restart -m %s mid-drain: three dispatchers and an API node stay alive, lose nothing, and finish by themselves";
  it.each(["fast", "immediate"] as const)(
    restarted,
    async (mode) => {
      const s = await scene({ webhooks: 6, events: 100, replyMs: 50 });
      const api = await s.start("api");
      const dispatchers = await Promise.all([s.start("dispatch"), s.start("dispatch"), s.start("dispatch")]);
      await until("a third has been delivered", () => s.distinct() >= 200);
      // Requests in flight across the restart: their results come back while the database is away.
      const release = s.hold();
      await server.restart(mode);
      release();

      // Events published once the API node finds the database again are not lost either.
      let accepted = 0;
      while (accepted < 10) {
        const r = await callNode(api, "POST", "/events/", s.key, { topic: "orders:created", payload: { after: accepted } });
        if (r.status === 202) accepted++;
        else expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status: 503, code: "store_unavailable" });
      }
      const total = 600 + 10 * s.webhooks;
      await until("everything is delivered", async () => (await delivered(s)) === total);

      expect(await countByStatus(s.app.store.db)).toEqual({ delivered: total });
      expect(s.distinct()).toBe(total);
      // Sent twice at most: what was in flight when the database went.
      expect(s.receiver.requests.length - total).toBeLessThanOrEqual(3 * CONFIG.dispatch.concurrency);
      for (const node of [api, ...dispatchers]) {
        expect(node.alive()).toBe(true);
        expectNoCrashOutput(node);
        // One warning for the outage at most (a dispatcher between queries may not notice it), not one per query.
        expect(warnings(node, [SKIPPED_TICK, UNAVAILABLE])).toEqual([]);
        expect(warnings(node).filter((l) => l.msg === UNAVAILABLE).length).toBeLessThanOrEqual(1);
      }
      for (const node of [api, ...dispatchers]) expect(await node.stop()).toBe(0);
    },
    SLOW,
  );

  it("a connection terminated mid-claim (pg_terminate_backend) is retried on a new one", async () => {
    const s = await scene({ webhooks: 2, events: 30, replyMs: 5, config: { ...CONFIG, db: { ...CONFIG.db, statementTimeoutMs: 20_000 } } });
    // Claims take turns under an advisory lock: holding it keeps the dispatcher's claim waiting, mid-transaction.
    await s.admin.query("begin");
    await s.admin.query("select pg_advisory_xact_lock(hashtext('public.hookd.claim'))");
    const dispatcher = await s.start("dispatch");
    for (let round = 0; round < 2; round++) {
      let waiting: number[] = [];
      await until("a claim waits for the lock", async () => (waiting = await waitingOnAdvisoryLock(s)).length > 0);
      await s.admin.query("select pg_terminate_backend(pid) from unnest($1::int[]) as pid", [waiting]);
      await until("the claim's connection is gone", async () => !(await waitingOnAdvisoryLock(s)).some((pid) => waiting.includes(pid)));
    }
    expect(dispatcher.alive()).toBe(true);
    await s.admin.query("commit");
    await until("everything is delivered", async () => (await delivered(s)) === 60);
    expect(s.receiver.requests).toHaveLength(60);
    expect(dispatcher.alive()).toBe(true);
    expectNoCrashOutput(dispatcher);
  });

  it("a migration whose connection is terminated while it waits for the migration lock starts again, and the node comes up", async () => {
    const s = await scene({ webhooks: 0, events: 0, replyMs: 0, migrate: false });
    // Another node is migrating: it holds the migration lock.
    await s.admin.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    const starting = s.start("api");
    let waiting: number[] = [];
    await until("the migration waits for the lock", async () => (waiting = await waitingOnAdvisoryLock(s)).length > 0);
    await s.admin.query("select pg_terminate_backend(pid) from unnest($1::int[]) as pid", [waiting]);
    await until("it waits for the lock again, on a new connection", async () => {
      const now = await waitingOnAdvisoryLock(s);
      return now.length > 0 && !now.some((pid) => waiting.includes(pid));
    });
    await s.admin.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    const node = await starting;
    expect((await callNode(node, "GET", "/healthz")).status).toBe(200);
    expectNoCrashOutput(node);
  });

  it(
    "the server paused past db.statementTimeoutMs: /healthz says so in time, and dispatch carries on when it resumes",
    async () => {
      const s = await scene({ webhooks: 4, events: 150, replyMs: 20, config: { ...CONFIG, db: { ...CONFIG.db, statementTimeoutMs: 1000 } } });
      const node = await s.start("all");
      await until("the drain is under way", () => s.distinct() >= 150);
      server.pause();
      try {
        // Past the statement timeout (1 s) and the client's deadline after it (2 s).
        await sleep(2_500);
        const health = await callNode(node, "GET", "/healthz");
        expect(health.status).toBe(503);
        expect(health.body.error.code).toBe("store_unavailable");
        expect(await callNode(node, "GET", "/metrics")).toMatchObject({ status: 200, text: expect.stringContaining("\nhookd_store_up 0\n") });
      } finally {
        server.resume();
      }
      await until("everything is delivered", async () => (await delivered(s)) === 600);
      expect(s.distinct()).toBe(600);
      expect(s.receiver.requests.length - 600).toBeLessThanOrEqual(CONFIG.dispatch.concurrency);
      expect(node.alive()).toBe(true);
      expectNoCrashOutput(node);
      await until("/healthz is 200 again", async () => (await callNode(node, "GET", "/healthz")).status === 200);
    },
    SLOW,
  );

  it(
    "stopped for a while: 503s from every node and one warning in each log while it is down, then all of it by itself",
    async () => {
      const s = await scene({ webhooks: 4, events: 100, replyMs: 100 });
      const [api, all] = await Promise.all([s.start("api"), s.start("all")]);
      await until("the drain is under way", () => s.distinct() >= 80);
      await server.stop("fast");
      expect(s.distinct()).toBeLessThan(400);
      try {
        for (const node of [api, all]) {
          const health = await callNode(node, "GET", "/healthz");
          expect(health.status).toBe(503);
          expect(health.body.error.code).toBe("store_unavailable");
          const metrics = await callNode(node, "GET", "/metrics");
          expect(metrics.status).toBe(200);
          expect(metrics.text).toContain("\nhookd_store_up 0\n");
          expect(metrics.text).not.toContain("hookd_deliveries{");
          for (const [method, route, body] of [
            ["GET", "/webhooks/", undefined],
            ["POST", "/events/", { topic: "orders:created", payload: {} }],
          ] as const) {
            const r = await callNode(node, method, route, s.key, body);
            expect({ route, status: r.status, code: r.body?.error?.code }).toEqual({ route, status: 503, code: "store_unavailable" });
          }
        }
        // Long enough for the running tick to give up claiming.
        await sleep(3_000);
      } finally {
        await server.start();
      }
      await until("everything is delivered", async () => (await delivered(s)) === 400);
      expect(s.distinct()).toBe(400);
      for (const node of [api, all]) {
        await until("it says the database is back", () => node.logs().some((l) => l.msg?.startsWith("the database is back after")));
        const said = warnings(node, [SKIPPED_TICK]);
        expect(said.map((l) => l.msg)).toEqual([UNAVAILABLE]);
        expect(said[0]).toMatchObject({ reason: expect.stringMatching(/unreachable|shutting_down/), error: expect.stringContaining("PostgreSQL") });
        expect(node.alive()).toBe(true);
        expectNoCrashOutput(node);
        expect((await callNode(node, "GET", "/healthz")).status).toBe(200);
      }
    },
    SLOW,
  );
});
