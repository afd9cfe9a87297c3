/** Group commit: concurrent publishes share a transaction, settle only once it commits, and fail alone. */
import SQLite from "better-sqlite3";
import { sql } from "kysely";
import { afterEach, expect, it } from "vitest";
import { HookdError } from "../../src/errors.js";
import { groupCommit } from "../../src/store/groupCommit.js";
import { publish } from "../../src/publishing.js";
import { testApp, type TestApp } from "../helpers/app.js";

let app: (TestApp & { cleanup: () => Promise<void> }) | undefined;
let other: SQLite.Database | undefined;
afterEach(async () => {
  other?.close();
  other = undefined;
  await app?.cleanup();
  app = undefined;
});

const input = (customerId: string, n: number) => ({ customerId, topic: "orders:created", payload: `{"n":${n}}` });

it("publishes started together commit together: none settles before the commit that holds it", async () => {
  app = await testApp();
  await app.hook("http://127.0.0.1:9/in");
  const ingest = groupCommit(app.store.db);
  // A second connection sees only what is committed.
  other = new SQLite(app.dbFile, { readonly: true });
  const committedEvents = () => (other!.prepare("select count(*) as n from events").get() as { n: number }).n;

  let firstSettled = false;
  let seenFromOutside: number | null = null;
  const first = ingest
    .run((trx) => publish(trx, input(app!.customerId, 1), app!.publishRules))
    .then((r) => {
      firstSettled = true;
      return r;
    });
  const probe = ingest.run(async () => {
    seenFromOutside = committedEvents();
    return firstSettled;
  });
  const third = ingest.run((trx) => publish(trx, input(app!.customerId, 3), app!.publishRules));

  expect(await probe).toBe(false); // the first had not settled while the batch was still open…
  expect(seenFromOutside).toBe(0); // …because its event was not yet committed
  const [a, c] = await Promise.all([first, third]);
  expect(a.deliveries).toBe(1);
  expect(c.deliveries).toBe(1);
  expect(committedEvents()).toBe(2);
});

it("one bad publish in a batch fails alone; the others commit", async () => {
  app = await testApp();
  await app.hook("http://127.0.0.1:9/in");
  const ingest = groupCommit(app.store.db);
  const results = await Promise.allSettled([
    ingest.run((trx) => publish(trx, input(app!.customerId, 1), app!.publishRules)),
    // A missing customer is found inside the transaction, after its own writes could have begun.
    ingest.run((trx) => publish(trx, input("no-such-customer", 2), app!.publishRules)),
    ingest.run(async (trx) => {
      await trx.insertInto("customers").values({ id: "half-done", name: "x", weight: 1, created_at: 0 }).execute();
      throw new Error("changed its mind after writing");
    }),
    ingest.run((trx) => publish(trx, input(app!.customerId, 4), app!.publishRules)),
  ]);
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled"]);
  expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(HookdError);
  expect((results[2] as PromiseRejectedResult).reason.message).toBe("changed its mind after writing");

  const events = await app.store.db.selectFrom("events").select("payload").orderBy("payload").execute();
  expect(events.map((e) => e.payload)).toEqual(['{"n":1}', '{"n":4}']);
  expect(await app.store.db.selectFrom("deliveries").select("id").execute()).toHaveLength(2);
  // The failed one's own write was rolled back with it.
  expect(await app.store.db.selectFrom("customers").select("id").where("id", "=", "half-done").execute()).toEqual([]);
});

it("publishes refused by their checks fail alone, and the publishes around them commit", async () => {
  app = await testApp();
  await app.hook("http://127.0.0.1:9/in");
  const ingest = groupCommit(app.store.db);
  const results = await Promise.allSettled(
    [app.customerId, "no-such-customer", app.customerId, "nor-this-one", app.customerId].map((customerId, n) =>
      ingest.run((trx) => publish(trx, input(customerId, n), app!.publishRules)),
    ),
  );
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected", "fulfilled"]);
  const events = await app.store.db.selectFrom("events").select("payload").orderBy("payload").execute();
  expect(events.map((e) => e.payload)).toEqual(['{"n":0}', '{"n":2}', '{"n":4}']);
  expect(await app.store.db.selectFrom("deliveries").select("id").execute()).toHaveLength(3);
});

it("work that ends the transaction itself fails the whole batch, and nothing after it is committed on its own", async () => {
  app = await testApp();
  await app.hook("http://127.0.0.1:9/in");
  const ingest = groupCommit(app.store.db);
  const results = await Promise.allSettled([
    ingest.run((trx) => publish(trx, input(app!.customerId, 1), app!.publishRules)),
    // As SQLite does on some errors (disk full): the transaction is gone when the work throws.
    ingest.run(async (trx) => {
      await sql`rollback`.execute(trx);
      throw new Error("the transaction ended under it");
    }),
    ingest.run((trx) => publish(trx, input(app!.customerId, 3), app!.publishRules)),
  ]);
  expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
  expect(await app.store.db.selectFrom("events").select("id").execute()).toEqual([]);
  // The store goes on: the next batch commits.
  await expect(ingest.run((trx) => publish(trx, input(app!.customerId, 4), app!.publishRules))).resolves.toMatchObject({ deliveries: 1 });
});

it("when the transaction cannot start, every publish in the batch fails and nothing is stored", async () => {
  app = await testApp({ db: { busyTimeoutMs: 50 } });
  await app.hook("http://127.0.0.1:9/in");
  const ingest = groupCommit(app.store.db);
  other = new SQLite(app.dbFile);
  other.prepare("begin immediate").run(); // another process holds the write lock
  const results = await Promise.allSettled([1, 2, 3].map((n) => ingest.run((trx) => publish(trx, input(app!.customerId, n), app!.publishRules))));
  other.prepare("rollback").run();
  expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
  expect(await app.store.db.selectFrom("events").select("id").execute()).toEqual([]);
});
