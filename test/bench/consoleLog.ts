/**
 * Section 7: the console's delivery log at scale. `deliveries` rows in one store
 * (half delivered with an attempt each, half pending, over two webhooks and a
 * second customer's few), then GET /deliveries/ answered by the real server
 * (fastify inject, no socket): server time from fastify's own clock (reply.elapsedTime),
 * for the first page, filtered pages, and a page a hundred cursors deep.
 */
import { buildServer } from "../../src/api/server.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { createCustomer } from "../../src/store/customers.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { addWebhooks, closeBenchDb, openBenchDb, seed } from "./fixtures.js";
import type { BenchContext, Row, SectionResult } from "./report.js";
import { fmt, median, percentile } from "./stats.js";

export interface ConsoleLogOptions {
  deliveries: number;
  reps: number;
}

const TARGET_MS = 100;

export async function consoleLogSection(ctx: BenchContext, o: ConsoleLogOptions): Promise<SectionResult> {
  const b = await openBenchDb(ctx.dir, "console");
  const [created] = await addWebhooks(b, 1, "orders:created", () => "http://127.0.0.1:9/created");
  const [updated] = await addWebhooks(b, 1, "orders:updated", () => "http://127.0.0.1:9/updated");
  const half = Math.floor(o.deliveries / 2);
  const seedStarted = Date.now();
  const start = Date.now() - 30 * 86_400_000;
  ctx.log(`console: seeding ${o.deliveries.toLocaleString()} deliveries`);
  await seed(b, { topic: "orders:created", events: half, start, stepMs: 2000, status: "delivered", payloadBytes: 100 });
  await seed(b, { topic: "orders:updated", events: o.deliveries - half, start: start + 1000, stepMs: 2000, status: "pending", payloadBytes: 100 });
  // Another customer's handful, so the customer filter has something to leave out.
  const other = await createCustomer(b.app.store.db, "other");
  await createWebhook(
    b.app.store.db,
    b.app.keyring,
    other.id,
    { url: "http://127.0.0.1:9/other", group: "orders", action: "created", hash_secret: null },
    b.app.webhookRules,
  );
  const seedSeconds = (Date.now() - seedStarted) / 1000;
  ctx.log(`console: seeded in ${seedSeconds.toFixed(0)} s`);
  const { key } = await createApiKey(b.app.store.db, b.customerId);

  const server = buildServer(b.app);
  let last = 0;
  server.addHook("onResponse", async (_req, reply) => {
    last = reply.elapsedTime;
  });
  await server.ready();
  const get = async (url: string) => {
    const res = await server.inject({ method: "GET", url, headers: { authorization: `Bearer ${key}` } });
    if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`);
    return { ms: last, body: res.json() as { count: number; next: string | null; results: unknown[] } };
  };
  const measure = async (url: string) => {
    await get(url); // warm: the first read pulls index pages into the cache
    const times: number[] = [];
    let body: Awaited<ReturnType<typeof get>>["body"] | null = null;
    for (let i = 0; i < o.reps; i++) {
      const r = await get(url);
      times.push(r.ms);
      body = r.body;
    }
    return { p50: median(times), p95: percentile(times, 95), count: body!.count, rows: body!.results.length, next: body!.next };
  };

  // A window of a twentieth of the history, in its middle.
  const span = o.deliveries * 1000;
  const since = new Date(start + span * 0.4).toISOString();
  const until = new Date(start + span * 0.45).toISOString();
  const cases: [string, string][] = [
    ["first page", "/deliveries/"],
    ["status=pending", "/deliveries/?status=pending"],
    ["webhook + since/until", `/deliveries/?webhook=${updated}&since=${since}&until=${until}`],
    ["topic=orders:created", "/deliveries/?topic=orders:created"],
    ["status=failed (none)", "/deliveries/?status=failed"],
  ];
  const raw: Record<string, unknown> = { deliveries: o.deliveries, seed_seconds: seedSeconds, webhooks: { created, updated } };
  const rows: Row[] = [];
  for (const [name, url] of cases) {
    const m = await measure(url);
    raw[name] = m;
    rows.push({
      section: "9",
      figure: `GET /deliveries/ ${name} at ${fmt(o.deliveries, 0)} deliveries (server p50 / p95)`,
      value: `${fmt(m.p50)} / ${fmt(m.p95)} ms (${m.rows} rows, count ${fmt(m.count, 0)})`,
      target: `< ${TARGET_MS} ms`,
      met: m.p95 < TARGET_MS,
    });
  }
  // A hundred pages deep by cursor costs what the first page costs.
  let url = "/deliveries/?status=pending";
  for (let i = 0; i < 100; i++) {
    const r = await get(url);
    if (!r.body.next) break;
    url = r.body.next.replace(/^https?:\/\/[^/]+/, "");
  }
  const deep = await measure(url);
  raw["page 101"] = deep;
  rows.push({
    section: "9",
    figure: "GET /deliveries/ status=pending, up to 100 pages deep by cursor (server p50 / p95)",
    value: `${fmt(deep.p50)} / ${fmt(deep.p95)} ms`,
    target: `< ${TARGET_MS} ms`,
    met: deep.p95 < TARGET_MS,
  });
  await server.close();
  await closeBenchDb(b);
  return { rows, raw };
}
