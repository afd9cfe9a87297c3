/**
 * The console's store code on PostgreSQL: keyset pages of the delivery and event
 * logs, the capped count, bulk replay, stats samples and console sessions. Own schema.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { attemptCounts } from "../../src/store/attemptStats.js";
import { createConsoleSession, findConsoleSession, openPortalLink } from "../../src/store/consoleSessions.js";
import { createCustomer } from "../../src/store/customers.js";
import { countFailedMatching, retryMatching } from "../../src/store/deliveries.js";
import { deliveryLog, eventLog } from "../../src/store/logs.js";
import { publish } from "../../src/publishing.js";
import { readStatus } from "../../src/store/status.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { dropSchema } from "../helpers/backends.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

const BASE = process.env.HOOKD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `hookd_console_${process.pid}_${Date.now()}`;
let admin: pg.Client;
let app: App;
let receiver: Receiver;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: BASE });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const url = `${BASE}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  app = await openApp({ env: { HOOKD_ENV: "test", HOOKD_DB: url }, logger: silentLogger, overrides: { retry: { maxAttempts: 1 } } });
  receiver = await startReceiver((_req, res) => res.writeHead(500).end());
});
afterAll(async () => {
  await app?.close();
  await receiver?.close();
  await dropSchema(admin, schema);
  await admin.end();
});

describe("console store on PostgreSQL", () => {
  it("pages logs by keyset, replays in bulk, samples attempts and keeps sessions", async () => {
    const db = app.store.db;
    const customer = await createCustomer(db, "acme");
    const { row: hook } = await createWebhook(
      db,
      app.keyring,
      customer.id,
      { url: `${receiver.url}/h`, group: "orders", action: "created", hash_secret: "s" },
      app.webhookRules,
    );
    for (let i = 0; i < 7; i++) await publish(db, { customerId: customer.id, topic: "orders:created", payload: `{"n":${i}}` }, app.publishRules);
    await app.dispatcher.tick();

    const seen: string[] = [];
    let cursor = null;
    for (;;) {
      const page = await deliveryLog(db, { customerId: customer.id, topic: "orders:created", status: "failed" }, 3, cursor);
      expect(page).toMatchObject({ count: 7, countExact: true });
      seen.push(...page.rows.map((r) => r.id));
      if (!page.next) break;
      cursor = page.next;
    }
    expect(new Set(seen).size).toBe(7);
    const events = await eventLog(db, { customerId: customer.id }, 5, null);
    expect(events.rows).toHaveLength(5);
    expect(events.next).not.toBeNull();

    expect(await countFailedMatching(db, { customerId: customer.id, webhookId: hook.id })).toBe(7);
    expect(await retryMatching(db, { customerId: customer.id, topic: "orders:created" })).toBe(7);
    expect((await readStatus(db, Date.now(), customer.id)).backlog.pending).toBe(7);
    const since = Date.now() - 3_600_000;
    const counts = await attemptCounts(db, customer.id, since, Date.now() + 1000, 60_000);
    expect(counts.byBucket.reduce((n, c) => n + c.n, 0)).toBe(7);
    expect(counts.byBucket.every((c) => c.outcome === "http_error" && Number(c.key) >= 55 && Number(c.key) <= 60)).toBe(true);
    expect(counts.byWebhook).toEqual([{ key: hook.id, outcome: "http_error", n: 7 }]);
    expect(counts.durations).toHaveLength(7);

    const apiKey = await createApiKey(db, customer.id);
    const link = await createConsoleSession(db, "link", customer.id, apiKey.id, Date.now() + 60_000);
    const opened = await openPortalLink(db, link.token, 3_600_000);
    expect(opened?.session.customerId).toBe(customer.id);
    expect(await openPortalLink(db, link.token, 3_600_000)).toBeNull();
    expect(await findConsoleSession(db, opened!.token)).toMatchObject({ customerId: customer.id, apiKeyId: apiKey.id });
  });
});
