import { Kysely, SqliteDialect, sql } from "kysely";
import SQLite from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { HookdError } from "../../src/errors.js";
import { openHookd } from "../../src/index.js";
import { silentLogger } from "../../src/logger.js";
import { publish } from "../../src/store/outbox.js";
import { deleteWebhook } from "../../src/store/webhooks.js";
import { testApp } from "../helpers/app.js";

type T = Awaited<ReturnType<typeof testApp>>;
let app: T;
afterEach(async () => app?.cleanup());

const count = async (table: "events" | "deliveries") =>
  Number(
    (
      await app.store.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

function rejection(p: Promise<unknown>): Promise<HookdError> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(HookdError);
      return err as HookdError;
    },
  );
}

describe("publish", () => {
  it("returns the first event for a repeated idempotency key instead of storing a second", async () => {
    app = await testApp();
    await app.hook("http://127.0.0.1:1/a");
    const input = { customerId: app.customerId, topic: "orders:created", payload: '{"n":1}', idempotencyKey: "order-1" };
    const first = await publish(app.store.db, input, app.publishRules);
    const again = await publish(app.store.db, { ...input, payload: '{"n":2}' }, app.publishRules);
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ id: first.id, duplicate: true, deliveries: 1 });
    expect(again.event.payload).toBe('{"n":1}');
    expect(await count("events")).toBe(1);
    expect(await count("deliveries")).toBe(1);
    // The key is per customer: another key is a new event.
    const other = await publish(app.store.db, { ...input, idempotencyKey: "order-2" }, app.publishRules);
    expect(other.id).not.toBe(first.id);
  });

  it.each([
    [{ topic: "orders:exploded" }, "topic"],
    [{ payload: "{not json" }, "payload"],
    [{ payload: Buffer.from([0x7b, 0xff, 0x7d]) }, "payload"],
    [{ customerId: "00000000-0000-0000-0000-000000000000" }, "customer"],
    [{ idempotencyKey: "" }, "idempotency_key"],
  ])("rejects %j naming %s, storing nothing", async (change, field) => {
    app = await testApp();
    await app.hook("http://127.0.0.1:1/a");
    const err = await rejection(publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: "{}", ...change }, app.publishRules));
    expect(err.code).toBe("validation_failed");
    expect(err.details.map((d) => d.field)).toContain(field);
    expect(await count("events")).toBe(0);
  });

  it("rejects a payload over limits.maxPayloadBytes", async () => {
    app = await testApp({ limits: { maxPayloadBytes: 100 } });
    const err = await rejection(
      publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: JSON.stringify({ s: "x".repeat(200) }) }, app.publishRules),
    );
    expect(err.code).toBe("payload_too_large");
    expect(await count("events")).toBe(0);
  });

  it("cancels a deleted webhook's pending deliveries and stops fanning out to it", async () => {
    app = await testApp();
    const id = await app.hook("http://127.0.0.1:1/a");
    await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: "{}" }, app.publishRules);
    await deleteWebhook(app.store.db, id, null);
    const d = await app.store.db.selectFrom("deliveries").selectAll().executeTakeFirstOrThrow();
    expect(d.status).toBe("cancelled");
    const later = await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: "{}" }, app.publishRules);
    expect(later.deliveries).toBe(0);
    expect(await app.dispatcher.tick()).toMatchObject({ claimed: 0 });
  });
});

describe("transactional outbox", () => {
  it("publishes inside the application's own Kysely transaction: committed together, rolled back together", async () => {
    app = await testApp();
    await app.hook("http://127.0.0.1:1/a");
    const hookd = await openHookd({ env: { HOOKD_ENV: "test", HOOKD_DB: app.dbFile }, logger: silentLogger });
    // The application's own connection to the same database file.
    const appDb = new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(app.dbFile, { timeout: 5000 }) }) });
    try {
      await sql`create table orders (id integer primary key, total text)`.execute(appDb);
      await appDb.transaction().execute(async (trx) => {
        await trx.insertInto("orders").values({ id: 1, total: "9.99" }).execute();
        await hookd.publish({ customerId: app.customerId, topic: "orders:created", payload: '{"id":1}' }, trx);
      });
      await appDb
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto("orders").values({ id: 2, total: "1.00" }).execute();
          await hookd.publish({ customerId: app.customerId, topic: "orders:created", payload: '{"id":2}' }, trx);
          throw new Error("the application changes its mind");
        })
        .catch(() => undefined);
      const events = await app.store.db.selectFrom("events").select("payload").execute();
      expect(events.map((e) => e.payload)).toEqual(['{"id":1}']);
      expect(await count("deliveries")).toBe(1);
      const orders = await appDb.selectFrom("orders").select("id").execute();
      expect(orders.map((o) => o.id)).toEqual([1]);
    } finally {
      await appDb.destroy();
      await hookd.close();
    }
  });
});
