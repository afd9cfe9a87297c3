/**
 * Section 3: ingest. Events per second through the library, each durable (committed
 * with SQLite's synchronous setting as hookd opens it) before publish returns:
 *   one by one   hookd.publish(input): one transaction per event
 *   batched      hookd.publish(input, trx) × BATCH inside one of the caller's transactions
 * each against the same rows written by raw better-sqlite3 prepared statements on the
 * same schema and pragmas (the ceiling for durable inserts on this disk). Rounds alternate.
 */
import autocannon from "autocannon";
import SQLite from "better-sqlite3";
import { spawn } from "node:child_process";
import path from "node:path";
import { sql } from "kysely";
// The library as its users load it: the package's build (`npm run bench` builds it first),
// not the TypeScript source through tsx, whose helpers (__name on every closure) cost a publish a few µs.
import { openHookd } from "../../dist/index.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { timeOrderedId } from "../../src/store/timeOrderedId.js";
import { CLI, untilServing } from "../helpers/cli.js";
import { fileURLToPath } from "node:url";
import { rmSync, writeFileSync } from "node:fs";
import pg from "pg";
import { openApp } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createCustomer } from "../../src/store/customers.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { closedPort } from "../helpers/receiver.js";
import { addWebhooks, closeBenchDb, LIMITS, openBenchDb, orderPayload } from "./fixtures.js";
import type { BenchContext, Row, SectionResult } from "./report.js";
import { fmt, fmtRatio, median, perSecond } from "./stats.js";

export interface IngestOptions {
  single: number;
  batched: number;
  batch: number;
  rounds: number;
  /** how long autocannon posts to `POST /events/` */
  httpSeconds: number;
}

const SYNCHRONOUS = ["OFF", "NORMAL", "FULL", "EXTRA"];

export async function ingestSection(ctx: BenchContext, o: IngestOptions): Promise<SectionResult> {
  const b = await openBenchDb(ctx.dir, "ingest");
  await addWebhooks(b, 1, "orders:created", () => "http://127.0.0.1:9/unused");
  const customerId = b.customerId;
  await closeBenchDb(b);

  const hookd = await openHookd({ env: b.env });
  const raw = new SQLite(b.file);
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = FULL");
  raw.pragma("foreign_keys = ON");
  const insertEvent = raw.prepare("insert into events (id, customer_id, topic, payload, idempotency_key, created_at) values (?, ?, ?, ?, null, ?)");
  const webhookId = (raw.prepare("select id from webhooks").get() as { id: string }).id;
  const insertDelivery = raw.prepare(
    "insert into deliveries (id, event_id, webhook_id, customer_id, status, attempts, next_attempt_at, created_at, updated_at) values (?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
  );
  // The same rows hookd writes, ids included: their order decides which index pages an insert touches.
  const rawPublish = (n: number) => {
    const now = Date.now();
    const id = timeOrderedId(now);
    insertEvent.run(id, customerId, "orders:created", orderPayload(n), now);
    insertDelivery.run(timeOrderedId(now), id, webhookId, customerId, now, now, now);
  };
  const rawOne = raw.transaction(rawPublish);
  const rawMany = raw.transaction((from: number, count: number) => {
    for (let i = 0; i < count; i++) rawPublish(from + i);
  });

  try {
    const { synchronous } = (await sql<{ synchronous: number }>`pragma synchronous`.execute(hookd.app.store.db)).rows[0]!;
    const input = (n: number) => ({ customerId, topic: "orders:created", payload: orderPayload(n) });
    let n = 0;
    const timed = async (count: number, fn: () => Promise<void> | void) => {
      const started = performance.now();
      await fn();
      return perSecond(count, performance.now() - started);
    };
    const kinds = {
      "hookd one by one": () =>
        timed(o.single, async () => {
          for (let i = 0; i < o.single; i++) await hookd.publish(input(n++));
        }),
      "raw one by one": () =>
        timed(o.single, () => {
          for (let i = 0; i < o.single; i++) rawOne(n++);
        }),
      "hookd batched": () =>
        timed(o.batched, async () => {
          for (let i = 0; i < o.batched; i += o.batch) {
            await hookd.app.store.db.transaction().execute(async (trx) => {
              for (let j = 0; j < o.batch; j++) await hookd.publish(input(n++), trx);
            });
          }
        }),
      "raw batched": () =>
        timed(o.batched, () => {
          for (let i = 0; i < o.batched; i += o.batch) {
            rawMany(n, o.batch);
            n += o.batch;
          }
        }),
    } as const;
    type Kind = keyof typeof kinds;
    const rates: Record<Kind, number[]> = { "hookd one by one": [], "raw one by one": [], "hookd batched": [], "raw batched": [] };
    const ratios = { single: [] as number[], batched: [] as number[] };
    for (let round = 0; round < o.rounds; round++) {
      const got: Partial<Record<Kind, number>> = {};
      for (const kind of Object.keys(kinds) as Kind[]) {
        got[kind] = await kinds[kind]();
        rates[kind].push(got[kind]!);
      }
      ratios.single.push(got["hookd one by one"]! / got["raw one by one"]!);
      ratios.batched.push(got["hookd batched"]! / got["raw batched"]!);
      ctx.log(
        `  ingest round ${round + 1}: ${Object.entries(got)
          .map(([k, v]) => `${k} ${fmt(v!)}/s`)
          .join(", ")}`,
      );
    }
    const med = (k: Kind) => median(rates[k]);
    const sync = SYNCHRONOUS[synchronous] ?? String(synchronous);
    const rows: Row[] = [
      {
        section: "3",
        figure: `library publish, one by one (1 webhook; synchronous=${sync}, WAL)`,
        value: `${fmt(med("hookd one by one"))} events/s = ${fmtRatio(median(ratios.single))} of raw SQLite (${fmt(med("raw one by one"))}/s)`,
        target: "",
        met: null,
      },
      {
        section: "3",
        figure: `library publish(input, trx), ${o.batch} per transaction`,
        value: `${fmt(med("hookd batched"))} events/s = ${fmtRatio(median(ratios.batched))} of raw SQLite (${fmt(med("raw batched"))}/s)`,
        target: "≥ 0.80×",
        met: median(ratios.batched) >= 0.8,
      },
    ];
    await hookd.close();
    // The yardstick for HTTP ingest: the bare one-commit-per-event loop, run just before
    // and just after it on the same disk (fsync rates drift), averaged.
    const rawFor = (ms: number) => {
      const started = performance.now();
      let count = 0;
      while (performance.now() - started < ms) {
        rawOne(n++);
        count++;
      }
      return perSecond(count, performance.now() - started);
    };
    const rawMs = Math.min(o.httpSeconds, 5) * 1000;
    const rawBefore = rawFor(rawMs);
    const http = await httpIngest(ctx, b.env, b.file, o.httpSeconds);
    const rawAfter = rawFor(rawMs);
    raw.close();
    const rawHttp = (rawBefore + rawAfter) / 2;
    ctx.log(`  raw one by one around it: ${fmt(rawBefore)}/s before, ${fmt(rawAfter)}/s after`);
    for (const h of http) {
      rows.push({
        section: "3",
        figure: `HTTP POST /events/ on ${h.backend} (hookd serve --role api, autocannon, ${HTTP_CONNECTIONS} connections, ${o.httpSeconds} s a round) / ${h.floorName}`,
        value: `${fmtRatio(h.ratio)} (${fmt(h.hookd.rate)} vs ${fmt(h.floor.rate)}/s; hookd p50 ${fmt(h.hookd.p50)} ms, p99 ${fmt(h.hookd.p99)} ms; ${fmt(h.perCommit)} requests per commit; ${h.hookd.other} other answers, ${h.stored} events stored for ${h.hookd.acknowledged} acknowledged)`,
        target: h.backend === "sqlite" ? "≥ 0.75×" : "≥ 0.60×",
        met: h.ratio >= (h.backend === "sqlite" ? 0.75 : 0.6),
      });
    }
    const sqliteHttp = http.find((h) => h.backend === "sqlite")!;
    const FLOOR_NAMES: Record<string, string> = {
      sqlite: "raw better-sqlite3 group commit on the event loop",
      worker: "raw better-sqlite3 group commit on a worker thread",
    };
    for (const d of sqliteHttp.durable) {
      rows.push({
        section: "3",
        figure: `a bare fastify route writing hookd's rows (${FLOOR_NAMES[d.name]}, synchronous=FULL) / the bare route (parse, 202)`,
        value: `${fmtRatio(d.ratio)} (${fmt(d.load.rate)}/s; p50 ${fmt(d.load.p50)} ms, p99 ${fmt(d.load.p99)} ms); hookd / it: ${fmtRatio(d.hookdRatio)}`,
        target: "",
        met: null,
      });
    }
    rows.push({
      section: "3",
      figure: "HTTP POST /events/ on sqlite / raw one by one (durable inserts on this disk)",
      value: `${fmtRatio(sqliteHttp.hookd.rate / rawHttp)} (${fmt(sqliteHttp.hookd.rate)} vs ${fmt(rawHttp)} events/s)`,
      target: "",
      met: null,
    });
    return { rows, raw: { synchronous: sync, journal: "wal", options: o, rates, ratios, http, rawBefore, rawAfter } };
  } finally {
    if (raw.open) raw.close();
    await hookd.close();
  }
}

const HTTP_CONNECTIONS = 64;
const PG_BASE = process.env.HOOKD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const BARE = fileURLToPath(new URL("./bareIngest.ts", import.meta.url));

interface Load {
  rate: number;
  acknowledged: number;
  other: number;
  p50: number;
  p99: number;
}

/** autocannon posting one event body to `url` for `seconds`. */
async function load(url: string, key: string, seconds: number): Promise<Load> {
  const result = await autocannon({
    url,
    method: "POST",
    connections: HTTP_CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ topic: "orders:created", payload: JSON.parse(orderPayload(1)) }),
  });
  return {
    rate: result["2xx"] / seconds,
    acknowledged: result["2xx"],
    other: result.non2xx + result.errors + result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

/** A server process on `port`, until `stop` is called. */
async function serverProcess(args: string[], env: Record<string, string>, port: number): Promise<{ stop: () => Promise<void> }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: "ignore" });
  await untilServing(`http://127.0.0.1:${port}`);
  return {
    async stop() {
      child.kill("SIGTERM");
      if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
    },
  };
}

/** Events per commit from a hookd server's /metrics (hookd_ingest_commit_events). */
async function perCommit(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  return value("hookd_ingest_commit_events_sum") / value("hookd_ingest_commit_events_count");
}

/**
 * `POST /events/` against a real `hookd serve --role api` process (the built CLI), at the
 * default log level, beside its floor (bareIngest.ts: the same framework, client and body;
 * on PostgreSQL one INSERT per request through a pool), alternating in rounds. Every
 * 202 is a committed event; afterwards the stored events are counted to show it.
 */
async function httpIngest(ctx: BenchContext, env: Record<string, string>, dbFile: string, seconds: number) {
  const results = [];
  for (const backend of ["sqlite", "postgres"] as const) {
    let db = dbFile;
    let dropSchema = async () => {};
    if (backend === "postgres") {
      const schema = `hookd_bench_ingest_${process.pid}`;
      const admin = new pg.Client({ connectionString: PG_BASE });
      await admin.connect();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.query(`create schema ${schema}`);
      db = `${PG_BASE}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      dropSchema = async () => {
        await admin.query(`drop schema if exists ${schema} cascade`);
        await admin.end();
      };
    }
    // The default log level (info), not the bench's warn: the access log's cost is part of ingest.
    const config = path.join(path.dirname(dbFile), `ingest-${backend}.json`);
    writeFileSync(config, JSON.stringify({ limits: LIMITS }));
    const hookdEnv = { ...env, HOOKD_DB: db, HOOKD_CONFIG: config };
    const app = await openApp({ env: hookdEnv, logger: silentLogger });
    try {
      const customer = (await app.store.db.selectFrom("customers").select("id").executeTakeFirst()) ?? (await createCustomer(app.store.db, "bench"));
      await createWebhook(
        app.store.db,
        app.keyring,
        customer.id,
        { url: "http://127.0.0.1:9/unused", group: "orders", action: "created", hash_secret: "s" },
        app.webhookRules,
      ).catch(() => {});
      const { key } = await createApiKey(app.store.db, customer.id);
      const countEvents = async () =>
        Number(
          (
            await app.store.db
              .selectFrom("events")
              .select((eb) => eb.fn.countAll().as("n"))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const before = await countEvents();
      const hookdPort = await closedPort();
      const hookd = await serverProcess([CLI, "serve", "--role", "api"], { ...hookdEnv, HOOKD_PORT: String(hookdPort) }, hookdPort);
      // On SQLite, besides the bare route, the fastest durable ingest into hookd's schema
      // on one thread and with a writer thread (bareIngest.ts), each on a copy of the database.
      const floorKinds: { name: string; arg: string[] }[] =
        backend === "postgres"
          ? [{ name: "bare", arg: [db] }]
          : [
              { name: "bare", arg: [] },
              ...(["sqlite", "worker"] as const).map((kind) => {
                const copy = path.join(path.dirname(dbFile), `floor-${kind}.db`);
                rmSync(copy, { force: true });
                new SQLite(dbFile, { readonly: true }).exec(`vacuum into '${copy}'`).close();
                return { name: kind, arg: [`${kind}:${copy}`] };
              }),
            ];
      const floors: { name: string; port: number; server: { stop: () => Promise<void> } }[] = [];
      const rounds: { hookd: Load; floors: Record<string, Load> }[] = [];
      try {
        for (const kind of floorKinds) {
          const port = await closedPort();
          floors.push({ name: kind.name, port, server: await serverProcess(["--import", "tsx", BARE, String(port), ...kind.arg], {}, port) });
        }
        for (let round = 0; round < 2; round++) {
          const got: Record<string, Load> = {};
          for (const f of floors) got[f.name] = await load(`http://127.0.0.1:${f.port}/events/`, key, seconds);
          const h = await load(`http://127.0.0.1:${hookdPort}/events/`, key, seconds);
          rounds.push({ hookd: h, floors: got });
          ctx.log(
            `  http ingest ${backend} round ${round + 1}: hookd ${fmt(h.rate)}/s (p50 ${h.p50} ms, p99 ${h.p99} ms), ${Object.entries(got)
              .map(([name, l]) => `${name} floor ${fmt(l.rate)}/s (p50 ${l.p50} ms, p99 ${l.p99} ms)`)
              .join(", ")}`,
          );
        }
        const events = await perCommit(`http://127.0.0.1:${hookdPort}`);
        const best = (pick: (r: (typeof rounds)[number]) => Load) => rounds.map(pick).sort((a, b) => b.rate - a.rate)[0]!;
        const ratio = median(rounds.map((r) => r.hookd.rate / r.floors.bare!.rate));
        const acknowledged = rounds.reduce((n, r) => n + r.hookd.acknowledged, 0);
        // Each durable floor against the bare route, in the same rounds: the most any design on this schema and machine reaches.
        const durable = floors
          .filter((f) => f.name !== "bare")
          .map((f) => ({
            name: f.name,
            ratio: median(rounds.map((r) => r.floors[f.name]!.rate / r.floors.bare!.rate)),
            hookdRatio: median(rounds.map((r) => r.hookd.rate / r.floors[f.name]!.rate)),
            load: best((r) => r.floors[f.name]!),
          }));
        results.push({
          backend,
          floorName: backend === "sqlite" ? "a bare fastify route (parse, 202)" : "a bare fastify route doing one pg INSERT per request",
          ratio,
          hookd: { ...best((r) => r.hookd), acknowledged, other: rounds.reduce((n, r) => n + r.hookd.other, 0) },
          floor: best((r) => r.floors.bare!),
          durable,
          perCommit: events,
          stored: (await countEvents()) - before,
        });
      } finally {
        for (const f of floors) await f.server.stop();
        await hookd.stop();
      }
    } finally {
      await app.close();
      await dropSchema();
    }
  }
  return results;
}
