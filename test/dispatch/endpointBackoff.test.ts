/**
 * A dead receiver with a big backlog costs a handful of requests, does not hold up
 * healthy receivers, is probed once per tick after its backoff, and drains at once
 * when the probe succeeds. Time is moved with a manual clock, not slept through.
 */
import { afterEach, expect, it } from "vitest";
import { ManualClock } from "../../src/dispatch/clock.js";
import { Dispatcher } from "../../src/dispatch/dispatcher.js";
import { silentLogger } from "../../src/logger.js";
import { writeTransaction } from "../../src/store/connect.js";
import { publish } from "../../src/publishing.js";
import { updateWebhook } from "../../src/store/webhooks.js";
import { testApp } from "../helpers/app.js";
import { ok, startReceiver, type Receiver } from "../helpers/receiver.js";

type T = Awaited<ReturnType<typeof testApp>>;
let app: T;
let dead: Receiver;
let healthy: Receiver;

afterEach(async () => {
  await dead?.close();
  await healthy?.close();
  await app?.cleanup();
});

const count = async (webhookId: string, where: { status?: string; attempts?: number; wait_reason?: string } = {}) => {
  let q = app.store.db
    .selectFrom("deliveries")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("webhook_id", "=", webhookId);
  if (where.status) q = q.where("status", "=", where.status as "pending");
  if (where.attempts !== undefined) q = q.where("attempts", "=", where.attempts);
  if (where.wait_reason) q = q.where("wait_reason", "=", where.wait_reason);
  return Number((await q.executeTakeFirstOrThrow()).n);
};

/** A dispatcher on the test's clock instead of the database's. */
function onClock(clock: ManualClock): Dispatcher {
  return new Dispatcher(app.store.db, app.config.dispatch, app.config.retry, silentLogger, { clock, keyring: app.keyring });
}

it("backs a dead webhook off as a whole, probes it, and drains it once it answers", async () => {
  dead = await startReceiver(() => {}); // accepts, never answers
  healthy = await startReceiver(ok);
  app = await testApp({ dispatch: { timeoutMs: 1500, perWebhookConcurrency: 4, batchSize: 100 } });
  const deadHook = await app.hook(`${dead.url}/dead`, "orders:created");
  const okHook = await app.hook(`${healthy.url}/ok`, "orders:updated");
  await writeTransaction(app.store.db, async (trx) => {
    for (let i = 0; i < 600; i++) {
      await publish(trx, { customerId: app.customerId, topic: "orders:created", payload: `{"i":${i}}` }, app.publishRules);
      if (i % 3 === 0) await publish(trx, { customerId: app.customerId, topic: "orders:updated", payload: `{"i":${i}}` }, app.publishRules);
    }
  });

  const clock = new ManualClock();
  const dispatcher = onClock(clock);
  const first = await dispatcher.tick();
  // A handful of requests, not 600 timeouts: at most the per-webhook cap was in flight.
  expect(dead.requests.length).toBeGreaterThan(0);
  expect(dead.requests.length).toBeLessThanOrEqual(4);
  expect(healthy.requests).toHaveLength(200);
  expect(await count(okHook, { status: "delivered" })).toBe(200);
  expect(first.delivered).toBe(200);
  expect(first.rescheduled).toBe(dead.requests.length);
  // The rest waits without spending an attempt, and says why.
  expect(await count(deadHook, { status: "pending", attempts: 0 })).toBe(600 - dead.requests.length);
  expect(await count(deadHook, { wait_reason: "endpoint_backoff" })).toBe(600 - dead.requests.length);

  // Before the backoff (30 s after one failure) passes: nothing at all.
  clock.advance(29_000);
  expect(await dispatcher.tick()).toMatchObject({ claimed: 0 });
  expect(dead.requests.length).toBeLessThanOrEqual(4);

  // After it: exactly one probe, which fails again.
  const sentBefore = dead.requests.length;
  clock.advance(2_000);
  expect(await dispatcher.tick()).toMatchObject({ probes: 1, claimed: 1, rescheduled: 1 });
  expect(dead.requests.length).toBe(sentBefore + 1);
  const hook = await app.store.db.selectFrom("webhooks").selectAll().where("id", "=", deadHook).executeTakeFirstOrThrow();
  expect(hook.consecutive_failures).toBe(2);
  expect(hook.last_failure).toBe("timeout");

  // Two failures in a row: the next probe waits 2 minutes.
  clock.advance(119_000);
  expect(await dispatcher.tick()).toMatchObject({ claimed: 0 });

  // The receiver comes back: the probe succeeds and the backlog drains in the same
  // tick, the deliveries that failed earlier too (their own retries are due by now).
  dead.respond(ok);
  clock.advance(2_000);
  const recovery = await dispatcher.tick();
  dispatcher.close();
  expect(recovery.probes).toBe(1);
  expect(await count(deadHook, { status: "delivered" })).toBe(600);
  const healed = await app.store.db.selectFrom("webhooks").selectAll().where("id", "=", deadHook).executeTakeFirstOrThrow();
  expect(healed).toMatchObject({ failing_since: null, consecutive_failures: 0, backoff_until: null });
  expect(await count(deadHook, { wait_reason: "endpoint_backoff" })).toBe(0);
});

it("re-enabling a webhook disabled by 410 Gone delivers what waited", async () => {
  let gone = true;
  healthy = await startReceiver((_req, res) => res.writeHead(gone ? 410 : 200).end());
  app = await testApp({ retry: { delaysSeconds: [0] }, dispatch: { perWebhookConcurrency: 1 } });
  const id = await app.hook(`${healthy.url}/gone`);
  for (let i = 0; i < 3; i++) await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: `{"i":${i}}` }, app.publishRules);
  await app.dispatcher.tick();
  expect(healthy.requests).toHaveLength(1);
  expect(await count(id, { status: "pending" })).toBe(3);
  expect(await app.dispatcher.tick()).toMatchObject({ claimed: 0 });
  gone = false;
  await updateWebhook(app.store.db, app.keyring, id, null, { active: true }, app.webhookRules);
  await app.dispatcher.tick();
  expect(await count(id, { status: "delivered" })).toBe(3);
});
