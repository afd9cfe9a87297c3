import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import SQLite from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { HookdError } from "../../src/errors.js";
import { openHookd } from "../../src/index.js";
import { silentLogger } from "../../src/logger.js";
import { publish } from "../../src/publishing.js";
import { deleteWebhook } from "../../src/store/webhooks.js";
import { testApp } from "../helpers/app.js";
import { backends, type Backend } from "../helpers/backends.js";

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

/** The application's own connection to the same database. */
function applicationDb(backend: Backend, url: string): Kysely<any> {
  if (backend === "sqlite") return new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(url, { timeout: 5000 }) }) });
  return new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }) });
}

describe.each(backends)("%s", (backend) => {
  describe("publish", () => {
    it("returns the first event for a repeated idempotency key, and refuses the key with another payload or topic", async () => {
      app = await testApp({}, backend);
      await app.hook("http://127.0.0.1:1/a");
      const input = { customerId: app.customerId, topic: "orders:created", payload: '{"n":1}', idempotencyKey: "order-1" };
      const first = await publish(app.store.db, input, app.publishRules);
      const again = await publish(app.store.db, { ...input, payload: Buffer.from('{"n":1}') }, app.publishRules);
      expect(first.duplicate).toBe(false);
      expect(again).toMatchObject({ id: first.id, duplicate: true, deliveries: 1 });
      for (const change of [{ payload: '{"n":2}' }, { payload: '{"n": 1}' }, { topic: "orders:updated" }]) {
        const err = await rejection(publish(app.store.db, { ...input, ...change }, app.publishRules));
        expect(err.code).toBe("conflict");
        expect(err.details).toEqual([{ field: "idempotency_key", message: "was already used with another topic or payload" }]);
      }
      expect(await count("events")).toBe(1);
      expect(await count("deliveries")).toBe(1);
      // The key is per customer: another key is a new event.
      const other = await publish(app.store.db, { ...input, idempotencyKey: "order-2" }, app.publishRules);
      expect(other.id).not.toBe(first.id);
    });

    it("stores one event for concurrent publishes with one key, and all get it", async () => {
      app = await testApp({}, backend);
      await app.hook("http://127.0.0.1:1/a");
      // PostgreSQL: half through a second pool, as from another process. (Two SQLite
      // handles in one thread would wait on each other's lock synchronously; several
      // processes on one file are tested through real `hookd serve` processes.)
      const second = backend === "postgres" ? await openHookd({ env: { HOOKD_ENV: "test", HOOKD_DB: app.dbFile }, logger: silentLogger }) : null;
      try {
        const input = { customerId: app.customerId, topic: "orders:created", payload: '{"n":1}', idempotencyKey: "race" };
        const results = await Promise.allSettled(
          Array.from({ length: 30 }, (_, i) => (second && i % 2 ? second.publish(input) : publish(app.store.db, input, app.publishRules))),
        );
        expect(results.filter((r) => r.status === "rejected")).toEqual([]);
        const ids = new Set(results.map((r) => (r as PromiseFulfilledResult<{ id: string }>).value.id));
        expect(ids.size).toBe(1);
        expect(await count("events")).toBe(1);
        expect(await count("deliveries")).toBe(1);
      } finally {
        await second?.close();
      }
    });

    it.each([
      [{ topic: "orders:exploded" }, "topic"],
      [{ payload: "{not json" }, "payload"],
      [{ payload: Buffer.from([0x7b, 0xff, 0x7d]) }, "payload"],
      [{ customerId: "00000000-0000-0000-0000-000000000000" }, "customer"],
      [{ idempotencyKey: "" }, "idempotency_key"],
    ])("rejects %j naming %s, storing nothing", async (change, field) => {
      app = await testApp({}, backend);
      await app.hook("http://127.0.0.1:1/a");
      const err = await rejection(publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: "{}", ...change }, app.publishRules));
      expect(err.code).toBe("validation_failed");
      expect(err.details.map((d) => d.field)).toContain(field);
      expect(await count("events")).toBe(0);
    });

    it("rejects a payload over limits.maxPayloadBytes", async () => {
      app = await testApp({ limits: { maxPayloadBytes: 100 } }, backend);
      const err = await rejection(
        publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: JSON.stringify({ s: "x".repeat(200) }) }, app.publishRules),
      );
      expect(err.code).toBe("payload_too_large");
      expect(await count("events")).toBe(0);
    });

    it("cancels a deleted webhook's pending deliveries and stops fanning out to it", async () => {
      app = await testApp({}, backend);
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
    it("refuses a transaction that has already ended, and stores nothing", async () => {
      app = await testApp({}, backend);
      await app.hook("http://127.0.0.1:1/a");
      const input = { customerId: app.customerId, topic: "orders:created", payload: '{"n":1}' };
      let ended: Parameters<typeof publish>[0] | undefined;
      await app.store.db.transaction().execute(async (trx) => {
        ended = trx;
      });
      await expect(publish(ended!, input, app.publishRules)).rejects.toThrow(/already committed/);
      expect(await count("events")).toBe(0);
      expect(await count("deliveries")).toBe(0);
    });

    it("publishes inside the application's own Kysely transaction: committed together, rolled back together", async () => {
      app = await testApp({}, backend);
      await app.hook("http://127.0.0.1:1/a");
      const hookd = await openHookd({ env: { HOOKD_ENV: "test", HOOKD_DB: app.dbFile }, logger: silentLogger });
      const appDb = applicationDb(backend, app.dbFile);
      try {
        await sql`create table orders (id integer primary key, total text, placed bigint)`.execute(appDb);
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
        // hookd reads its bigint times as numbers on its own connections only: the
        // application's pg keeps its own (global) parsers, bigint as text.
        await appDb
          .updateTable("orders")
          .set({ placed: 2 ** 40 })
          .execute();
        const { placed } = await appDb.selectFrom("orders").select("placed").executeTakeFirstOrThrow();
        expect(placed).toBe(backend === "postgres" ? String(2 ** 40) : 2 ** 40);
        expect(typeof (await app.store.db.selectFrom("events").select("created_at").executeTakeFirstOrThrow()).created_at).toBe("number");
        // The library keeps the idempotency rule too: the same key with another payload is a conflict.
        const keyed = { customerId: app.customerId, topic: "orders:created", idempotencyKey: "order-3" };
        const first = await hookd.publish({ ...keyed, payload: '{"id":3}' });
        expect((await hookd.publish({ ...keyed, payload: '{"id":3}' })).id).toBe(first.id);
        await expect(hookd.publish({ ...keyed, payload: '{"id":4}' })).rejects.toMatchObject({ code: "conflict" });
      } finally {
        await appDb.destroy();
        await hookd.close();
      }
    });
  });
});
