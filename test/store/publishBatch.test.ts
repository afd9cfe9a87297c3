/**
 * PostgreSQL group commit for publishing (src/store/publishBatch.ts): publishes made at
 * the same moment share one statement, settle after it, keep the idempotency rules
 * inside one batch, and one that fails does not fail its neighbours. On the real local
 * PostgreSQL.
 */
import { afterEach, describe, expect, it } from "vitest";
import { groupCommit } from "../../src/store/groupCommit.js";
import { writePublishRow } from "../../src/store/publishBatch.js";
import { nextTimeOrderedId } from "../../src/store/timeOrderedId.js";
import { publish } from "../../src/publishing.js";
import { backends } from "../helpers/backends.js";
import { testApp, type TestApp } from "../helpers/app.js";

let app: (TestApp & { cleanup: () => Promise<void> }) | undefined;
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

const input = (customerId: string, n: number, idempotencyKey?: string) => ({
  customerId,
  topic: "orders:created",
  payload: `{"n":${n}}`,
  ...(idempotencyKey ? { idempotencyKey } : {}),
});

describe.skipIf(!backends.includes("postgres"))("publishing on PostgreSQL", () => {
  it("publishes made together share one statement; each gets its own event and deliveries", async () => {
    app = await testApp({}, "postgres");
    await app.hook("http://127.0.0.1:9/a");
    await app.hook("http://127.0.0.1:9/b");
    const perStatement: number[] = [];
    const ingest = groupCommit(app.store.db, (n) => perStatement.push(n));

    const results = await Promise.all(Array.from({ length: 40 }, (_, n) => ingest.run((trx) => publish(trx, input(app!.customerId, n), app!.publishRules))));

    expect(new Set(results.map((r) => r.id)).size).toBe(40);
    expect(results.every((r) => r.deliveries === 2 && !r.duplicate)).toBe(true);
    // Fewer statements than events: they were written together, and every event counted once.
    expect(perStatement.length).toBeLessThan(40);
    expect(perStatement.reduce((a, b) => a + b, 0)).toBe(40);
    const rows = await app.store.db.selectFrom("deliveries").select(["event_id", "webhook_id"]).execute();
    expect(rows).toHaveLength(80);
    for (const r of results) expect(rows.filter((d) => d.event_id === r.id)).toHaveLength(2);
    const payloads = await app.store.db.selectFrom("events").select("payload").execute();
    expect(payloads.map((e) => e.payload).sort()).toEqual(results.map((_, n) => `{"n":${n}}`).sort());
  });

  it("one idempotency key twice in one batch stores one event, and both callers get it", async () => {
    app = await testApp({}, "postgres");
    await app.hook("http://127.0.0.1:9/a");
    const ingest = groupCommit(app.store.db);
    const same = () => ingest.run((trx) => publish(trx, input(app!.customerId, 1, "order-1"), app!.publishRules));
    const [a, b, other] = await Promise.all([same(), same(), ingest.run((trx) => publish(trx, input(app!.customerId, 2), app!.publishRules))]);
    expect(a.id).toBe(b.id);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect(other.id).not.toBe(a.id);
    expect(await app.store.db.selectFrom("events").select("id").execute()).toHaveLength(2);
    expect(await app.store.db.selectFrom("deliveries").select("id").where("event_id", "=", a.id).execute()).toHaveLength(1);
  });

  it("a row the database refuses fails alone; the rest of its statement is stored", async () => {
    app = await testApp({}, "postgres");
    const webhookId = await app.hook("http://127.0.0.1:9/a");
    const now = Date.now();
    const row = (customerId: string, n: number) => {
      const id = nextTimeOrderedId(now);
      return {
        event: { id, customer_id: customerId, topic: "orders:created", payload: `{"n":${n}}`, idempotency_key: null, created_at: now, trace_context: null },
        deliveryIds: [nextTimeOrderedId(now)],
        webhookIds: [webhookId],
      };
    };
    // A customer deleted after its fan-out was read: the event's foreign key refuses it.
    const results = await Promise.allSettled([
      writePublishRow(app.store.db, row(app.customerId, 1)),
      writePublishRow(app.store.db, row("deleted-customer", 2)),
      writePublishRow(app.store.db, row(app.customerId, 3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[0] as PromiseFulfilledResult<unknown>).value).toEqual({ inserted: true, deliveries: 1 });
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/foreign key/);
    const payloads = await app.store.db.selectFrom("events").select("payload").orderBy("payload").execute();
    expect(payloads.map((e) => e.payload)).toEqual(['{"n":1}', '{"n":3}']);
    expect(await app.store.db.selectFrom("deliveries").select("id").execute()).toHaveLength(2);
  });

  it("inside a caller's transaction the publish is part of it: rolled back with it", async () => {
    app = await testApp({}, "postgres");
    await app.hook("http://127.0.0.1:9/a");
    await expect(
      app.store.db.transaction().execute(async (trx) => {
        await publish(trx, input(app!.customerId, 1), app!.publishRules);
        throw new Error("the application's own write failed");
      }),
    ).rejects.toThrow("the application's own write failed");
    expect(await app.store.db.selectFrom("events").select("id").execute()).toEqual([]);
  });
});
