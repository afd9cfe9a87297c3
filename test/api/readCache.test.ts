/**
 * The read cache (src/store/readCache.ts) as users see it, on both stores: an API
 * process keeps API keys and topic fan-outs in memory, and still answers every request
 * as the database says at that moment, whatever process changed it: a key revoked with
 * the CLI, a webhook added, paused or deleted by another process, in this one through
 * the API, or while PostgreSQL's notices could not be heard.
 */
import SQLite from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { publish } from "../../src/publishing.js";
import { authenticate, createApiKey } from "../../src/store/apiKeys.js";
import { createCustomer } from "../../src/store/customers.js";
import { createWebhook, deleteWebhook, updateWebhook } from "../../src/store/webhooks.js";
import { changesCached } from "../../src/store/readCache.js";
import { asAdmin, backends, tempDatabase, type Backend, type TempDatabase } from "../helpers/backends.js";
import { runCli } from "../helpers/cli.js";
import { apiProcesses, type ApiProcesses } from "../helpers/serve.js";
import { testApp } from "../helpers/app.js";
import { until } from "../helpers/until.js";

let database: TempDatabase | undefined;
let servers: ApiProcesses | undefined;
let app: App | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await servers?.stop();
  await app?.close();
  await database?.drop();
  await cleanup?.();
  servers = app = database = cleanup = undefined;
});

const hookInput = (n: number) => ({ url: `http://127.0.0.1:9/h${n}`, group: "orders", action: "created" });

describe("which writes make cached reads stale", () => {
  it("inserts, deletes and fan-out columns of webhooks do; a breaker's or a pace's updates, and other tables, do not", async () => {
    const a = await testApp();
    cleanup = a.cleanup;
    const db = a.store.db;
    const node = (q: { toOperationNode(): unknown }) => q.toOperationNode() as Parameters<typeof changesCached>[0];
    expect(changesCached(node(db.deleteFrom("api_keys").where("id", "=", "k")))).toBe(true);
    expect(changesCached(node(db.updateTable("webhooks").set({ active: 0 })))).toBe(true);
    expect(changesCached(node(db.updateTable("webhooks").set({ topic: "a:b" })))).toBe(true);
    expect(changesCached(node(db.updateTable("webhooks as w").set({ deleted_at: 1 })))).toBe(true);
    expect(changesCached(node(db.updateTable("webhooks").set({ failure_streak: 3, recent_outcomes: "x" })))).toBe(false);
    expect(changesCached(node(db.updateTable("webhooks").set({ rate_next_at: 5 })))).toBe(false);
    expect(changesCached(node(db.updateTable("deliveries").set({ attempts: 1 })))).toBe(false);
    expect(changesCached(node(db.updateTable("customers").set({ weight: 2 })))).toBe(true);
    expect(changesCached(node(db.insertInto("event_types").values({ topic: "a:b", schema: "{}", created_at: 1, updated_at: 1 })))).toBe(true);
    expect(changesCached(node(db.selectFrom("webhooks").selectAll()))).toBe(false);
  });
});

describe.each(backends)("%s", (backend: Backend) => {
  /** The next request sees it on SQLite; on PostgreSQL once the commit's notice has arrived, a moment later. */
  const soon = async (what: string, check: () => Promise<boolean>) => {
    if (backend === "sqlite") expect(await check(), what).toBe(true);
    else await until(what, check, 5_000, 5);
  };

  it("an API process answers as the database says after other processes revoke its key or change its webhooks", async () => {
    database = await tempDatabase(backend);
    const env = { HOOKD_DB: database.url };
    app = await openApp({ env: { HOOKD_ENV: "test", ...env }, logger: silentLogger });
    const customer = await createCustomer(app.store.db, "acme");
    const key = await createApiKey(app.store.db, customer.id);
    const first = await createWebhook(app.store.db, app.keyring, customer.id, hookInput(1), app.webhookRules);
    servers = await apiProcesses(1, env);
    const [url] = servers.urls;
    const post = async () => {
      const res = await fetch(`${url}/events/`, {
        method: "POST",
        headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
        body: JSON.stringify({ topic: "orders:created", payload: { n: 1 } }),
      });
      return { status: res.status, deliveries: ((await res.json()) as { deliveries?: number }).deliveries };
    };
    // Twice: the second is answered from what the first left in the cache.
    expect(await post()).toEqual({ status: 202, deliveries: 1 });
    expect(await post()).toEqual({ status: 202, deliveries: 1 });

    const second = await createWebhook(app.store.db, app.keyring, customer.id, hookInput(2), app.webhookRules);
    await soon("the new webhook gets a delivery", async () => (await post()).deliveries === 2);
    await updateWebhook(app.store.db, app.keyring, second.row.id, null, { active: false }, app.webhookRules);
    await soon("the paused webhook gets none", async () => (await post()).deliveries === 1);
    await deleteWebhook(app.store.db, first.row.id, null);
    await soon("the deleted webhook gets none", async () => (await post()).deliveries === 0);

    const revoked = await runCli(["keys", "revoke", key.id], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(key.id);
    await soon("the revoked key is refused", async () => (await post()).status === 401);
  });

  it("a change made through this process's API is in its next answer", async () => {
    const a = await testApp({}, backend);
    cleanup = a.cleanup;
    const hook = await a.hook("http://127.0.0.1:9/one");
    const input = { customerId: a.customerId, topic: "orders:created", payload: "{}" };
    expect((await publish(a.store.db, input, a.publishRules)).deliveries).toBe(1);
    expect((await publish(a.store.db, input, a.publishRules)).deliveries).toBe(1);
    await updateWebhook(a.store.db, a.keyring, hook, null, { group: "orders", action: "updated" }, a.webhookRules);
    expect((await publish(a.store.db, input, a.publishRules)).deliveries).toBe(0);
    await a.hook("http://127.0.0.1:9/two");
    expect((await publish(a.store.db, input, a.publishRules)).deliveries).toBe(1);
  });

  it("keys revoke names an unknown key and changes nothing", async () => {
    database = await tempDatabase(backend);
    const env = { HOOKD_DB: database.url };
    app = await openApp({ env: { HOOKD_ENV: "test", ...env }, logger: silentLogger });
    await createApiKey(app.store.db, null);
    const missing = await runCli(["keys", "revoke", "no-such-key"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/API key no-such-key/);
    expect(await app.store.db.selectFrom("api_keys").select("id").execute()).toHaveLength(1);
  });
});

describe("sqlite, another process's change inside the publish transaction", () => {
  it("a webhook paused by another connection gets no delivery from the next publish, even right after a look outside a transaction", async () => {
    const a = await testApp({}, "sqlite");
    cleanup = a.cleanup;
    await a.hook("http://127.0.0.1:9/one");
    const { key } = await createApiKey(a.store.db, a.customerId);
    const input = { customerId: a.customerId, topic: "orders:created", payload: "{}" };
    expect((await publish(a.store.db, input, a.publishRules)).deliveries).toBe(1); // the fan-out is now kept
    const other = new SQLite(a.dbFile);
    const pause = other.prepare("update webhooks set active = 0");
    try {
      // A request's key check looks at data_version outside a transaction, and then
      // trusts that look for a millisecond…
      expect(await authenticate(a.store.db, key)).not.toBeNull();
      pause.run();
      // …but the publish transaction holds the write lock and looks again: exact.
      expect((await publish(a.store.db, input, a.publishRules)).deliveries).toBe(0);
    } finally {
      other.close();
    }
  });
});

describe.runIf(backends.includes("postgres"))("postgres, notices lost", () => {
  it("a change made while the listening connection was cut is not served from the cache once it listens again", async () => {
    const a = await testApp({}, "postgres");
    cleanup = a.cleanup;
    await a.hook("http://127.0.0.1:9/one");
    const input = { customerId: a.customerId, topic: "orders:created", payload: "{}" };
    const name = `hookd reads ${process.pid}`;
    const listeners = () =>
      asAdmin(async (c) => (await c.query("select pid from pg_stat_activity where application_name = $1 and query = 'listen hookd_reads'", [name])).rows);
    // The first cached read starts listening; once it listens, publishes are answered from the cache.
    await publish(a.store.db, input, a.publishRules);
    await until("hookd listens", async () => (await listeners()).length === 1);
    expect((await publish(a.store.db, input, a.publishRules)).deliveries).toBe(1);
    expect((await publish(a.store.db, input, a.publishRules)).deliveries).toBe(1);

    const [old] = await listeners();
    await asAdmin((c) => c.query("select pg_terminate_backend($1)", [old!.pid]));
    // Another process adds a webhook while nobody listens: no notice reaches this one.
    const other = await openApp({ env: { HOOKD_ENV: "test", HOOKD_DB: a.dbFile }, logger: silentLogger });
    try {
      await createWebhook(other.store.db, other.keyring, a.customerId, hookInput(2), other.webhookRules);
    } finally {
      await other.close();
    }
    await until("hookd listens again", async () => (await listeners()).some((l) => l.pid !== old!.pid));
    expect((await publish(a.store.db, input, a.publishRules)).deliveries).toBe(2);
  });
});
