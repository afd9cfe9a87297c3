/**
 * A dispatcher with nothing to send takes no lock that a publisher would wait for: its
 * claims, probes and housekeeping read first. While another process holds the claim's
 * lock (SQLite: the write lock; PostgreSQL: the claim's advisory lock), a tick with
 * nothing due ends without an error (it used to wait out the lock and give up), and the
 * read first hides no work. Real SQLite file, real PostgreSQL, real receiver.
 */
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { publish } from "../../src/publishing.js";
import { testApp, type TestApp } from "../helpers/app.js";
import { backends } from "../helpers/backends.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { holdWriteLock } from "../helpers/sqliteLock.js";

let app: (TestApp & { cleanup: () => Promise<void> }) | undefined;
let receiver: Receiver | undefined;
let release: (() => Promise<void>) | undefined;
afterEach(async () => {
  await release?.();
  release = undefined;
  await receiver?.close();
  await app?.cleanup();
  app = undefined;
});

/** Hold what a claim must take, from another process or session, until released. */
async function holdClaimLock(a: TestApp): Promise<() => Promise<void>> {
  if (a.backend === "sqlite") {
    const lock = await holdWriteLock(a.dbFile);
    return () => lock.release();
  }
  const client = new pg.Client({ connectionString: a.dbFile });
  await client.connect();
  await client.query("select pg_advisory_lock(hashtext(current_schema() || '.hookd.claim'))");
  return async () => {
    await client.query("select pg_advisory_unlock_all()");
    await client.end();
  };
}

describe.each(backends)("%s", (backend) => {
  it("a tick with nothing due ends at once while another holds the claim lock, and what is due later is still sent", async () => {
    receiver = await startReceiver();
    app = await testApp({ db: { busyTimeoutMs: 300, statementTimeoutMs: 300 }, retry: { maxAttempts: 3 } }, backend);
    await app.hook(`${receiver.url}/in`);
    // A failing webhook's probe and the aged-out check read first too.
    const failing = await app.hook(`${receiver.url}/down`, "orders:updated");
    await app.store.db
      .updateTable("webhooks")
      .set({ failing_since: Date.now(), backoff_until: Date.now() + 60_000 })
      .where("id", "=", failing)
      .execute();
    release = await holdClaimLock(app);

    const idle = await app.dispatcher.tick();
    expect(idle.error).toBeNull();
    expect(idle.claimed).toBe(0);

    // The read first must not hide work: once the lock is free, what is due is sent.
    const unlock = release;
    release = undefined;
    await unlock();
    await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: '{"n":1}' }, app.publishRules);
    const busy = await app.dispatcher.tick();
    expect(busy.error).toBeNull();
    expect(busy.delivered).toBe(1);
    expect(receiver.requests.map((r) => r.body.toString())).toEqual(['{"n":1}']);
  });
});
