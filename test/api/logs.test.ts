/** GET /events/, GET /deliveries/ (keyset pages, filters), POST /deliveries/retry/ and GET /stats/, per customer. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { closedPort, startReceiver, type Receiver } from "../helpers/receiver.js";

let h: ApiHarness;
let ok: Receiver;
let down: Receiver;
beforeEach(async () => {
  h = await apiHarness({ retry: { maxAttempts: 1 } });
  ok = await startReceiver();
  down = await startReceiver((_req, res) => res.writeHead(500).end("down for maintenance"));
});
afterEach(async () => {
  await ok.close();
  await down.close();
  await h.cleanup();
});

async function webhook(url: string, group: string, action: string, key = h.key) {
  const res = await h.call("POST", "/webhooks/", { key, body: { url, group, action, hash_secret: "s" } });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function publish(topic: string, payload: unknown, extra: Record<string, unknown> = {}, key = h.key) {
  const res = await h.call("POST", "/events/", { key, body: { topic, payload, ...extra } });
  expect(res.status).toBe(202);
  return res.body.id as string;
}

/** Follow `next` links (relative: they never name a host) to the end, collecting ids. */
async function walk(path: string, key = h.key): Promise<string[]> {
  const ids: string[] = [];
  let next: string | null = path;
  while (next) {
    expect(next.startsWith("/")).toBe(true);
    const res = await h.call("GET", next, { key });
    expect(res.status).toBe(200);
    ids.push(...res.body.results.map((r: { id: string }) => r.id));
    next = res.body.next;
  }
  return ids;
}

describe("GET /events/", () => {
  it("lists newest first in keyset pages, filters by topic and idempotency key, and shows only the caller's events", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await publish(i % 2 ? "orders:updated" : "orders:created", { i }, { idempotency_key: `k${i}` }));
    await publish("orders:created", { theirs: true }, {}, h.other.key);

    // Newest first; events of one millisecond are ordered by id, so compare with one full page.
    const whole = await h.call("GET", "/events/?limit=500");
    const order = whole.body.results.map((e: { id: string }) => e.id);
    expect([...order].sort()).toEqual([...ids].sort());
    const times = whole.body.results.map((e: { created_at: string }) => e.created_at);
    expect([...times].sort().reverse()).toEqual(times);
    const first = await h.call("GET", "/events/?limit=2");
    expect(first.body).toMatchObject({ count: 5, count_exact: true, previous: null });
    expect(await walk("/events/?limit=2")).toEqual(order);

    // previous from the second page leads back to the first.
    const second = await h.call("GET", first.body.next);
    const back = await h.call("GET", second.body.previous);
    expect(back.body.results.map((e: { id: string }) => e.id)).toEqual(first.body.results.map((e: { id: string }) => e.id));

    const updated = await h.call("GET", "/events/?topic=orders:updated");
    expect(updated.body.results.map((e: { payload: { i: number } }) => e.payload.i).sort()).toEqual([1, 3]);
    const byKey = await h.call("GET", "/events/?idempotency_key=k2");
    expect(byKey.body.results).toEqual([expect.objectContaining({ id: ids[2], idempotency_key: "k2" })]);
    expect((await h.call("GET", "/events/?until=2000-01-01T00:00:00Z")).body.count).toBe(0);

    expect((await h.call("GET", "/events/", { key: h.other.key })).body.count).toBe(1);
    expect((await h.call("GET", "/events/", { key: h.adminKey })).body.count).toBe(6);
    expect((await h.call("GET", `/events/?customer=${h.other.customerId}`, { key: h.adminKey })).body.count).toBe(1);
  });

  it("names a bad cursor or time", async () => {
    const bad = await h.call("GET", "/events/?cursor=nonsense");
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ field: "cursor", message: expect.stringContaining("not a cursor") }]);
    const since = await h.call("GET", "/events/?since=yesterday");
    expect(since.status).toBe(400);
    expect(since.body.error.details[0].field).toBe("since");
  });
});

describe("GET /deliveries/", () => {
  it("lists across webhooks with status, webhook, topic and event filters; another customer's webhook is a 404", async () => {
    const good = await webhook(`${ok.url}/in`, "orders", "created");
    const bad = await webhook(`${down.url}/in`, "orders", "updated");
    const created = await publish("orders:created", { n: 1 });
    await publish("orders:updated", { n: 2 });
    await publish("orders:updated", { n: 3 });
    await h.app.dispatcher.tick();

    const all = await h.call("GET", "/deliveries/");
    expect(all.body).toMatchObject({ count: 3, count_exact: true, next: null, previous: null });
    expect(all.body.results.filter((d: { webhook: string }) => d.webhook === bad)).toEqual([
      expect.objectContaining({ topic: "orders:updated", status: "failed" }),
      expect.objectContaining({ topic: "orders:updated", status: "failed" }),
    ]);
    expect((await h.call("GET", "/deliveries/?status=failed")).body.count).toBe(2);
    expect((await h.call("GET", `/deliveries/?webhook=${good}`)).body.results).toEqual([expect.objectContaining({ status: "delivered", event: created })]);
    expect((await h.call("GET", "/deliveries/?topic=orders:updated")).body.count).toBe(2);
    expect((await h.call("GET", `/deliveries/?event=${created}`)).body.count).toBe(1);
    expect(await walk("/deliveries/?limit=1")).toEqual(all.body.results.map((d: { id: string }) => d.id));

    expect((await h.call("GET", "/deliveries/", { key: h.other.key })).body.count).toBe(0);
    const theirs = await h.call("GET", `/deliveries/?webhook=${good}`, { key: h.other.key });
    expect(theirs.status).toBe(404);
    const one = all.body.results.find((d: { event: string; webhook: string }) => d.webhook === bad).id;
    expect((await h.call("GET", `/deliveries/${one}/`, { key: h.other.key })).status).toBe(404);

    const detail = await h.call("GET", `/deliveries/${one}/`);
    expect(detail.body).toMatchObject({ id: one, topic: "orders:updated", payload: expect.stringMatching(/^\{"n":[23]\}$/), status: "failed" });
    expect(detail.body.history).toEqual([expect.objectContaining({ number: 1, status_code: 500, response_body: "down for maintenance" })]);
    expect(detail.body.request_headers).toMatchObject({ "x-delivery-id": one, "x-topic": "orders:updated", "x-attempt-number": "1" });
  });

  it("POST /deliveries/retry/ counts first with dry_run, then replays only the matching failed deliveries of the caller", async () => {
    const bad = await webhook(`${down.url}/in`, "orders", "updated");
    await webhook(`${down.url}/other`, "orders", "created");
    await webhook(`${down.url}/theirs`, "orders", "updated", h.other.key);
    await publish("orders:updated", { n: 1 });
    await publish("orders:updated", { n: 2 });
    await publish("orders:created", { n: 3 });
    await publish("orders:updated", { n: 4 }, {}, h.other.key);
    await h.app.dispatcher.tick();

    const dry = await h.call("POST", "/deliveries/retry/", { body: { webhook: bad, dry_run: true } });
    expect(dry.body).toEqual({ count: 2, dry_run: true });
    expect((await h.call("GET", "/deliveries/?status=failed")).body.count).toBe(3);

    expect((await h.call("POST", "/deliveries/retry/", { key: h.other.key, body: { webhook: bad } })).status).toBe(404);
    const done = await h.call("POST", "/deliveries/retry/", { body: { webhook: bad } });
    expect(done.body).toEqual({ count: 2 });
    expect((await h.call("GET", "/deliveries/?status=pending")).body.count).toBe(2);
    expect((await h.call("GET", "/deliveries/?status=failed", { key: h.other.key })).body.count).toBe(1);

    const future = await h.call("POST", "/deliveries/retry/", { body: { since: "2999-01-01T00:00:00Z" } });
    expect(future.body).toEqual({ count: 0 });
  });
});

describe("GET /stats/", () => {
  it("counts attempts by outcome in buckets and gives each webhook its success rate and latency", async () => {
    const good = await webhook(`${ok.url}/in`, "orders", "created");
    const bad = await webhook(`${down.url}/in`, "orders", "updated");
    const gone = await webhook(`http://127.0.0.1:${await closedPort()}/in`, "orders", "deleted");
    await publish("orders:created", {});
    await publish("orders:created", {});
    await publish("orders:updated", {});
    await publish("orders:deleted", {});
    await h.app.dispatcher.tick();

    const res = await h.call("GET", "/stats/?bucket=3600");
    expect(res.status).toBe(200);
    expect(res.body.attempts).toHaveLength(24);
    const totals = res.body.attempts.reduce(
      (t: Record<string, number>, b: Record<string, number>) => ({
        success: t.success! + b.success!,
        http_error: t.http_error! + b.http_error!,
        network_error: t.network_error! + b.network_error!,
      }),
      { success: 0, http_error: 0, network_error: 0 },
    );
    expect(totals).toEqual({ success: 2, http_error: 1, network_error: 1 });
    // The attempts fall in the last bucket: the one that ends now.
    expect(res.body.attempts.at(-1)).toMatchObject({ success: 2, http_error: 1, network_error: 1 });
    const byId = Object.fromEntries(res.body.webhooks.map((w: { id: string }) => [w.id, w]));
    expect(byId[good]).toMatchObject({ attempts: 2, success_rate: 1, p50_ms: expect.any(Number), p95_ms: expect.any(Number) });
    expect(byId[bad]).toMatchObject({ attempts: 1, success_rate: 0, consecutive_failures: 1, last_error: expect.any(String) });
    expect(byId[gone]).toMatchObject({ attempts: 1, success_rate: 0 });
    expect(res.body.backlog).toMatchObject({ delivered: 2, failed: 2 });
    expect(res.body).toHaveProperty("next_tick_at");
    expect(res.body).not.toHaveProperty("database");

    const theirs = await h.call("GET", "/stats/", { key: h.other.key });
    expect(theirs.body.webhooks).toEqual([]);
    expect(theirs.body.backlog).toEqual({ pending: 0, delivered: 0, failed: 0, cancelled: 0 });
    expect((await h.call("GET", "/stats/?bucket=60&since=2020-01-01T00:00:00Z")).status).toBe(400);
  });
});
