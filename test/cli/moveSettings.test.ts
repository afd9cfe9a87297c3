/**
 * `hookd export` / `hookd import` carry the delivery settings and the event-type
 * catalog, SQLite to PostgreSQL and back, through the built CLI: every settings column
 * arrives as it was (secrets sealed as stored, under the one key file both use), the catalog still refuses bad payloads,
 * and the moved bearer token and Ed25519 key still authenticate and sign what the
 * receiver verifies with the old public key.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { generateKeyLine } from "../../src/domain/secretBox.js";
import { silentLogger } from "../../src/logger.js";
import { publish } from "../../src/publishing.js";
import { createCustomer } from "../../src/store/customers.js";
import { putEventType } from "../../src/store/eventTypes.js";
import { webhookJson } from "../../src/store/model.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { verifyStandard } from "../../src/verify.js";
import { tempDir } from "../helpers/app.js";
import { backends, tempDatabase, type TempDatabase } from "../helpers/backends.js";
import { runCli } from "../helpers/cli.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

let dir: ReturnType<typeof tempDir>;
let receiver: Receiver;
/** One key file for both stores, as a move from one machine to another with the same key. */
let keyFile: string;
const databases: TempDatabase[] = [];
beforeAll(async () => {
  dir = tempDir("hookd-move-settings-");
  keyFile = path.join(dir.dir, "move.key");
  writeFileSync(keyFile, `${generateKeyLine("move1")}\n`, { mode: 0o600 });
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
  dir.cleanup();
});
afterEach(async () => {
  for (const d of databases.splice(0)) await d.drop();
});

const env = (url: string) => ({ HOOKD_DB: url, HOOKD_ENCRYPTION_KEY_FILE: keyFile });
const open = (url: string) => openApp({ env: { HOOKD_ENV: "test", ...env(url) }, logger: silentLogger });

async function withApp<T>(url: string, fn: (app: App) => Promise<T>): Promise<T> {
  const app = await open(url);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

const SETTINGS = {
  headers: { "X-Tenant": "acme" },
  auth: { type: "bearer", token: "moved-token" },
  timeout_ms: 4000,
  max_attempts: 7,
  retry_delays_seconds: [5, 50],
  rate_limit: 0.25,
  filter: { "order.total": { $gte: 10 } },
  ordered: true,
  batch_size: 3,
  signing: "ed25519",
};

const SCHEMA = { type: "object", required: ["order"] };

/** The rows that must survive a move, in a stable order. */
const snapshot = (app: App) =>
  Promise.all([
    app.store.db.selectFrom("webhooks").selectAll().orderBy("id").execute(),
    app.store.db.selectFrom("event_types").selectAll().orderBy("topic").execute(),
  ]).then(([webhooks, eventTypes]) =>
    JSON.parse(JSON.stringify({ webhooks, eventTypes }, (_k, v) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v))),
  );

describe.skipIf(!backends.includes("postgres"))("moving the delivery settings and the event-type catalog", () => {
  it("SQLite → PostgreSQL → SQLite keeps every setting, the catalog and the Ed25519 key", { timeout: 120_000 }, async () => {
    const sqlite = path.join(dir.dir, "source.sqlite");
    const source = await withApp(sqlite, async (app) => {
      const customer = await createCustomer(app.store.db, "acme");
      const input = { url: `${receiver.url}/ed`, group: "orders", action: "created", hash_secret: null, ...SETTINGS };
      const { row } = await createWebhook(app.store.db, app.keyring, customer.id, input, app.webhookRules);
      await putEventType(app.store.db, "orders:created", { schema: SCHEMA, description: "orders" }, app.config.topics);
      return { customer: customer.id, webhook: row.id, publicKey: webhookJson(row, app.keyring).public_key!, rows: await snapshot(app) };
    });

    const pg = await tempDatabase("postgres");
    databases.push(pg);
    const file = path.join(dir.dir, "export.ndjson");
    expect((await runCli(["export", file], env(sqlite))).code).toBe(0);
    const imported = await runCli(["import", file], env(pg.url));
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);

    await withApp(pg.url, async (app) => {
      expect(await snapshot(app)).toEqual(source.rows);
      expect(webhookJson(await app.store.db.selectFrom("webhooks").selectAll().executeTakeFirstOrThrow(), app.keyring)).toMatchObject({
        ...SETTINGS,
        auth: { type: "bearer" },
        public_key: source.publicKey,
      });
      // The catalog still applies, and the filter still decides.
      const refused = publish(app.store.db, { customerId: source.customer, topic: "orders:created", payload: "{}" }, app.publishRules);
      await expect(refused).rejects.toMatchObject({ code: "unprocessable" });
      const small = await publish(app.store.db, { customerId: source.customer, topic: "orders:created", payload: '{"order":{"total":1}}' }, app.publishRules);
      expect(small.deliveries).toBe(0);
      await publish(app.store.db, { customerId: source.customer, topic: "orders:created", payload: '{"order":{"total":10}}' }, app.publishRules);
      // The moved private key signs what the old public key verifies.
      receiver.requests.length = 0;
      expect((await app.dispatcher.tick()).delivered).toBe(1);
    });
    const [req] = receiver.requests;
    expect(verifyStandard(req!.body, req!.headers, source.publicKey)).toBe(true);
    expect(req!.headers).toMatchObject({ authorization: "Bearer moved-token", "x-tenant": "acme" });

    const back = path.join(dir.dir, "back.sqlite");
    const again = path.join(dir.dir, "again.ndjson");
    expect((await runCli(["export", again], env(pg.url))).code).toBe(0);
    expect((await runCli(["import", again], env(back))).code).toBe(0);
    await withApp(back, async (app) => {
      const rows = await snapshot(app);
      expect(rows.eventTypes).toEqual(source.rows.eventTypes);
      // Only the delivery's tick changed the webhook since: its breaker memory (one success)
      // and its rate limit's next start, which the move carried as they were.
      const tickedBy = (w: Record<string, unknown>) => ({ ...w, recent_outcomes: "", rate_next_at: null });
      expect(rows.webhooks.map(tickedBy)).toEqual(source.rows.webhooks.map(tickedBy));
      expect(rows.webhooks[0]).toMatchObject({ recent_outcomes: 0, failure_streak: 0 });
    });
  });
});
