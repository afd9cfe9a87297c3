/**
 * A pending delivery held back by its webhook's backoff (issue 22, item 5): every
 * surface says when it will really be tried (the backoff's end, not its own due time
 * already in the past) and why, in words: the API's delivery object on each route that
 * returns deliveries, and `hookd deliveries list` (text and --json).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { backends } from "../helpers/backends.js";
import { runCli } from "../helpers/cli.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

const HELD = "first attempt, held: the endpoint is backing off after 1 failure in a row; a probe tests it then, and this delivery follows once one succeeds";

describe.each(backends)("%s", (backend) => {
  let h: ApiHarness;
  let receiver: Receiver;
  beforeEach(async () => {
    // One request at a time to the webhook and a breaker that opens on one failure, so its
    // first failure holds back the rest of the tick.
    h = await apiHarness(
      { dispatch: { perWebhookConcurrency: 1, breaker: { consecutiveFailures: 1, failureRate: 0.5, window: 20 } }, retry: { delaysSeconds: [600] } },
      backend,
    );
    receiver = await startReceiver((_req, res) => res.writeHead(500).end("down"));
  });
  afterEach(async () => {
    await receiver.close();
    await h.cleanup();
  });

  it("a delivery held by its endpoint's backoff says when it will really be tried, and why, in words", async () => {
    const hook = (await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/down`, group: "orders", action: "created" } })).body;
    const published = [];
    for (let i = 0; i < 3; i++) published.push((await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { i } } })).body.id);
    await h.app.dispatcher.tick();
    expect(receiver.requests).toHaveLength(1);
    const state = await h.app.store.db.selectFrom("webhooks").select(["backoff_until"]).where("id", "=", hook.id).executeTakeFirstOrThrow();
    const backoffUntil = new Date(Number(state.backoff_until)).toISOString();
    expect(Date.parse(backoffUntil)).toBeGreaterThan(Date.now());

    const log = (await h.call("GET", `/deliveries/?webhook=${hook.id}`)).body.results;
    const held = log.filter((d: { attempts: number }) => d.attempts === 0);
    expect(held).toHaveLength(2);
    for (const d of held) {
      // The stored code stays for scripts; the time is the backoff's end, the reason in words.
      expect(d).toMatchObject({ status: "pending", wait_reason: "endpoint_backoff", next_attempt_at: backoffUntil, waiting: HELD });
    }
    const [tried] = log.filter((d: { attempts: number }) => d.attempts === 1);
    expect(tried).toMatchObject({ status: "pending", last_status_code: 500, wait_reason: "backoff (attempt 1 failed)" });
    expect(tried.waiting).toBe(
      "attempt 2 of 10 after HTTP 500; the endpoint is backing off after 1 failure in a row: a probe goes first, and the first tick after that sends it once one succeeds",
    );

    // The same words on every route that returns the delivery.
    const one = held[0];
    expect((await h.call("GET", `/deliveries/${one.id}/`)).body).toMatchObject({ next_attempt_at: backoffUntil, waiting: HELD });
    const event = (await h.call("GET", `/events/${one.event}/`)).body;
    expect(event.deliveries[0]).toMatchObject({ next_attempt_at: backoffUntil, waiting: HELD });
    const perHook = (await h.call("GET", `/webhooks/${hook.id}/deliveries/`)).body.results;
    expect(perHook.find((d: { id: string }) => d.id === one.id)).toMatchObject({ next_attempt_at: backoffUntil, waiting: HELD });

    // The CLI: --json is the API's delivery object; the text names the time and the reason.
    const env = { HOOKD_DB: h.app.dbFile };
    const listed = await runCli(["--json", "deliveries", "list", "--webhook", hook.id], env);
    expect(listed.code).toBe(0);
    const cliHeld = JSON.parse(listed.stdout).results.find((d: { id: string }) => d.id === one.id);
    expect(cliHeld).toMatchObject({ wait_reason: "endpoint_backoff", next_attempt_at: backoffUntil, waiting: HELD });
    const text = await runCli(["deliveries", "list", "--webhook", hook.id], env);
    expect(text.code).toBe(0);
    const line = text.stdout.split("\n").find((l) => l.startsWith(one.id));
    expect(line).toContain(backoffUntil);
    expect(line).toContain(HELD);
    expect(text.stdout).not.toContain("endpoint_backoff");

    // Once delivered, nothing waits.
    receiver.respond((_req, res) => res.writeHead(200).end());
    await h.app.store.db.updateTable("webhooks").set({ backoff_until: 0 }).where("id", "=", hook.id).execute();
    await h.app.store.db.updateTable("deliveries").set({ next_attempt_at: 0 }).where("webhook_id", "=", hook.id).execute();
    await h.app.dispatcher.tick();
    const done = (await h.call("GET", `/deliveries/${one.id}/`)).body;
    expect(done).toMatchObject({ status: "delivered", next_attempt_at: null, wait_reason: null, waiting: null });
  });

  it("a webhook switched off: nothing will be tried until it is enabled again", async () => {
    const hook = (await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/off`, group: "orders", action: "created" } })).body;
    await h.call("POST", "/events/", { body: { topic: "orders:created", payload: {} } });
    await h.call("PATCH", `/webhooks/${hook.id}/`, { body: { active: false } });
    const [d] = (await h.call("GET", "/deliveries/")).body.results;
    expect(d).toMatchObject({ status: "pending", next_attempt_at: null, waiting: "webhook disabled: enable it to send this delivery" });
  });
});
