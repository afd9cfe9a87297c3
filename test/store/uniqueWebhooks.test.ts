/**
 * Migration 008: live webhooks' (customer, URL, topic) is unique in the database. An old
 * database that the create race left with twins keeps one of each (an active one, then
 * the oldest) and the others are deleted as DELETE /webhooks/:id/ deletes them.
 */
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { migrateToLatest } from "../../src/store/migrate.js";
import { down, LIVE_WEBHOOK_INDEX, twinsToRemove } from "../../src/store/migrations/008_unique_webhooks.js";
import { isUniqueViolation } from "../../src/store/uniqueViolation.js";
import { publish } from "../../src/publishing.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { testApp } from "../helpers/app.js";
import { undoMigration } from "../helpers/migrations.js";
import { backends } from "../helpers/backends.js";

type T = Awaited<ReturnType<typeof testApp>>;
let app: T;
afterEach(async () => app?.cleanup());

describe("twinsToRemove", () => {
  const row = (id: string, active: number, created_at: number, url = "u", customer_id = "c", topic = "t") => ({
    id,
    customer_id,
    url,
    topic,
    active,
    created_at,
  });
  it.each([
    ["one row: nothing", [row("a", 1, 5)], []],
    ["the oldest stays", [row("b", 1, 7), row("a", 1, 5), row("c", 1, 9)], ["b", "c"]],
    ["an active one before an older paused one", [row("old", 0, 1), row("new", 1, 9)], ["old"]],
    ["all paused: the oldest", [row("p2", 0, 2), row("p1", 0, 1)], ["p2"]],
    ["same time: the lowest id", [row("y", 1, 5), row("x", 1, 5)], ["y"]],
    ["other URL, topic or customer: not twins", [row("a", 1, 1), row("b", 1, 2, "v"), row("c", 1, 3, "u", "d"), row("e", 1, 4, "u", "c", "s")], []],
  ] as const)("%s", (_name, rows, removed) => {
    expect(twinsToRemove(rows).sort()).toEqual([...removed].sort());
  });
});

describe("isUniqueViolation", () => {
  const index = { name: "webhooks_live_url_topic", table: "webhooks", columns: ["customer_id", "url", "topic"] };
  it.each([
    ["PostgreSQL, this index", { code: "23505", constraint: "webhooks_live_url_topic" }, true],
    ["PostgreSQL, another index", { code: "23505", constraint: "webhooks_pkey" }, false],
    [
      "SQLite, these columns",
      { code: "SQLITE_CONSTRAINT_UNIQUE", message: "UNIQUE constraint failed: webhooks.customer_id, webhooks.url, webhooks.topic" },
      true,
    ],
    ["SQLite, the primary key", { code: "SQLITE_CONSTRAINT_PRIMARYKEY", message: "UNIQUE constraint failed: webhooks.id" }, false],
    ["SQLite, other columns", { code: "SQLITE_CONSTRAINT_UNIQUE", message: "UNIQUE constraint failed: webhooks.customer_id, webhooks.url" }, false],
    ["not a database error", new Error("boom"), false],
    ["nothing", null, false],
  ])("%s: %s", (_name, err, expected) => {
    expect(isUniqueViolation(err, index)).toBe(expected);
  });
});

describe.each(backends)("migration 008 (%s)", (backend) => {
  it("keeps one of each group of live twins, deletes the others with their pending deliveries, then refuses twins", async () => {
    app = await testApp({}, backend);
    const db = app.store.db;
    // The database as it was before 008, with twins the race left behind.
    await undoMigration(db, "008_unique_webhooks", down);
    const original = await db
      .selectFrom("webhooks")
      .selectAll()
      .where("id", "=", await app.hook("http://127.0.0.1:9/twin"))
      .executeTakeFirstOrThrow();
    const twin = (id: string, fields: Partial<typeof original>) =>
      db
        .insertInto("webhooks")
        .values({ ...original, id, ...fields })
        .execute();
    const t = original.created_at;
    await twin("twin-newer", { created_at: t + 1000 });
    await twin("twin-paused-older", { active: 0, created_at: t - 1000 });
    await twin("twin-deleted", { created_at: t - 2000, deleted_at: t });
    await twin("paused-a", { url: "http://127.0.0.1:9/paused", active: 0, created_at: t + 5 });
    await twin("paused-b", { url: "http://127.0.0.1:9/paused", active: 0, created_at: t + 6 });
    await twin("other-topic", { topic: "orders:updated", action: "updated" });
    const event = await publish(db, { customerId: app.customerId, topic: "orders:created", payload: "{}" }, app.publishRules);
    expect(event.deliveries).toBe(2); // the original and twin-newer, the active ones

    expect(await migrateToLatest(db)).toMatchObject({ applied: ["008_unique_webhooks"] });

    const webhooks = await db.selectFrom("webhooks").select(["id", "deleted_at", "active"]).orderBy("id").execute();
    const liveIds = webhooks.filter((w) => w.deleted_at === null).map((w) => w.id);
    expect(liveIds.sort()).toEqual([original.id, "other-topic", "paused-a"].sort());
    for (const id of ["twin-newer", "twin-paused-older", "paused-b"]) expect(webhooks.find((w) => w.id === id)).toMatchObject({ active: 0 });
    const deliveries = await db.selectFrom("deliveries").select(["webhook_id", "status", "finished_at"]).execute();
    expect(deliveries.find((d) => d.webhook_id === original.id)).toMatchObject({ status: "pending", finished_at: null });
    expect(deliveries.find((d) => d.webhook_id === "twin-newer")).toMatchObject({ status: "cancelled" });
    expect(deliveries.find((d) => d.webhook_id === "twin-newer")!.finished_at).not.toBeNull();

    // From now on the database itself refuses a live twin, and the API's 409 still names the one there.
    const refused = await twin("late-twin", {}).then(
      () => null,
      (err: unknown) => err,
    );
    const index = { name: LIVE_WEBHOOK_INDEX, table: "webhooks", columns: ["customer_id", "url", "topic"] };
    expect(isUniqueViolation(refused, index)).toBe(true);
    expect(isUniqueViolation(refused, { ...index, name: "events_customer_idempotency", table: "events", columns: ["customer_id", "idempotency_key"] })).toBe(
      false,
    );
    await expect(
      createWebhook(db, app.keyring, app.customerId, { url: "http://127.0.0.1:9/twin", group: "orders", action: "created" }, app.webhookRules),
    ).rejects.toMatchObject({ code: "conflict", details: [{ field: "url", message: `webhook ${original.id} already has this URL and topic` }] });
    // Only live webhooks count: once paused-a is deleted, its URL and topic may be used again.
    await expect(twin("while-live", { url: "http://127.0.0.1:9/paused" })).rejects.toThrow(/unique|duplicate/i);
    await db
      .updateTable("webhooks")
      .set({ deleted_at: t + 8 })
      .where("id", "=", "paused-a")
      .execute();
    await twin("reused", { url: "http://127.0.0.1:9/paused", created_at: t + 9 });
    expect(await sql<{ n: number }>`select count(*) as n from webhooks where deleted_at is null`.execute(db).then((r) => Number(r.rows[0]!.n))).toBe(3);
  });
});
