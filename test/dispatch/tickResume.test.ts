/**
 * `hookd serve`'s scheduler after a tick the store cut short: the next tick runs as soon
 * as the store answers again, not at the schedule's next firing; and the tick that was
 * cut short keeps the results of what it had in flight until it can write them. A real
 * SQLite file whose write lock another process holds, a real receiver, a schedule that
 * fires once a year (so only the resume can run the second tick).
 */
import { afterEach, describe, expect, it } from "vitest";
import { Scheduler } from "../../src/dispatch/scheduler.js";
import { publish } from "../../src/publishing.js";
import type { TickSummary } from "../../src/domain/tickSummary.js";
import { testApp, type TestApp } from "../helpers/app.js";
import { countByStatus } from "../helpers/deliveries.js";
import { memoryLogger } from "../helpers/logs.js";
import { sleep, until } from "../helpers/until.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { holdWriteLock, type WriteLock } from "../helpers/sqliteLock.js";

let app: (TestApp & { cleanup: () => Promise<void> }) | undefined;
let receiver: Receiver | undefined;
let lock: WriteLock | undefined;
let scheduler: Scheduler | undefined;
afterEach(async () => {
  await scheduler?.stop();
  lock?.kill();
  await receiver?.close();
  await app?.cleanup();
});

describe("after a tick the store cut short", () => {
  it("the next runs as soon as the store is back, whatever the schedule, and nothing in flight is sent twice", async () => {
    const log = memoryLogger("info");
    // Payloads of 200 KB under a 1 MiB held-bytes bound: the tick holds a few deliveries at
    // a time and claims again every few, while its recorder takes 20 before sending waits
    // on it. So a claim meets the lock, whatever the machine's speed.
    app = await testApp(
      { db: { busyTimeoutMs: 50 }, dispatch: { concurrency: 4, batchSize: 20, leaseSeconds: 60, maxHeldBytes: 1_048_576 } },
      "sqlite",
      log.logger,
    );
    receiver = await startReceiver((_req, res) => setTimeout(() => res.writeHead(200).end(), 30), { keepAliveTimeoutMs: 60_000 });
    await app.hook(`${receiver.url}/a`);
    await app.hook(`${receiver.url}/b`);
    for (let i = 0; i < 60; i++)
      await publish(
        app.store.db,
        { customerId: app.customerId, topic: "orders:created", payload: `{"i":${i},"pad":"${"x".repeat(200_000)}"}` },
        app.publishRules,
      );
    const ticks: TickSummary[] = [];
    app.dispatcher.observe({ tick: (s) => ticks.push(s) });
    scheduler = new Scheduler(app.dispatcher, "0 0 1 1 *", log.logger, app.health);

    void scheduler.fire();
    await until("the drain is under way", () => receiver!.requests.length >= 20);
    lock = await holdWriteLock(app.dbFile);
    await until("the store is reported unavailable", () => log.entries().some((e) => e.msg?.startsWith("the database is unavailable")));
    await sleep(3_000);
    expect(receiver.requests.length).toBeLessThan(120);
    await lock.release();

    await until("everything is delivered", async () => (await countByStatus(app!.store.db)).delivered === 120);
    // The tick that delivered the last of them ends just after writing it.
    await until("the resumed tick has ended", () => ticks.length >= 2 && ticks.at(-1)!.error === null);
    expect(ticks[0]!.error).toContain("is locked by another process");
    expect(ticks.at(-1)!.error).toBeNull();
    // What was in flight when the lock was taken was recorded once it was released: not sent again.
    expect(receiver.requests).toHaveLength(120);
    const said = log.entries().filter((e) => e.level >= 40);
    expect(said.map((e) => e.msg)).toEqual(["the database is unavailable: hookd keeps trying and resumes by itself once it answers"]);
    expect(log.entries().filter((e) => e.msg?.startsWith("the database is back after"))).toHaveLength(1);
  });
});
