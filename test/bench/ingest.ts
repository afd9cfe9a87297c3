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
import { openHookd } from "../../src/index.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { timeOrderedId } from "../../src/store/timeOrderedId.js";
import { CLI, untilServing } from "../helpers/cli.js";
import { closedPort } from "../helpers/receiver.js";
import { addWebhooks, closeBenchDb, openBenchDb, orderPayload } from "./fixtures.js";
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
    const httpRatio = http.accepted / rawHttp;
    ctx.log(`  raw one by one around it: ${fmt(rawBefore)}/s before, ${fmt(rawAfter)}/s after`);
    rows.push({
      section: "3",
      figure: `HTTP POST /events/ (hookd serve, autocannon, ${HTTP_CONNECTIONS} connections, ${o.httpSeconds} s) / raw one by one`,
      value: `${fmtRatio(httpRatio)} (${fmt(http.accepted)} vs ${fmt(rawHttp)} events/s; p50 ${fmt(http.p50)} ms, p99 ${fmt(http.p99)} ms; ${http.other} other answers, ${http.stored} events stored for ${http.acknowledged} acknowledged)`,
      target: "≥ 1.50×",
      met: httpRatio >= 1.5,
    });
    return { rows, raw: { synchronous: sync, journal: "wal", options: o, rates, ratios, http: { ...http, rawBefore, rawAfter, ratio: httpRatio } } };
  } finally {
    if (raw.open) raw.close();
    await hookd.close();
  }
}

const HTTP_CONNECTIONS = 32;

/**
 * `POST /events/` against a real `hookd serve` process (the built CLI) on the same
 * database, loaded by autocannon from this process. Every 202 is a committed event;
 * afterwards the stored events are counted to show it.
 */
async function httpIngest(ctx: BenchContext, env: Record<string, string>, dbFile: string, seconds: number) {
  const b = await openBenchDb(path.dirname(dbFile), path.basename(dbFile, ".sqlite"));
  const { key } = await createApiKey(b.app.store.db, b.customerId);
  const countEvents = async () =>
    Number(
      (
        await b.app.store.db
          .selectFrom("events")
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const before = await countEvents();

  const port = await closedPort();
  const serve = spawn(process.execPath, [CLI, "serve"], { env: { ...process.env, ...env, HOOKD_PORT: String(port) }, stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  try {
    if (!(await untilServing(base)).ok) throw new Error("hookd serve is not healthy for the HTTP ingest bench");
    const result = await autocannon({
      url: `${base}/events/`,
      method: "POST",
      connections: HTTP_CONNECTIONS,
      duration: seconds,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ topic: "orders:created", payload: JSON.parse(orderPayload(1)) }),
    });
    const acknowledged = result["2xx"];
    const stored = (await countEvents()) - before;
    ctx.log(`  http ingest: ${fmt(result.requests.average)} req/s, ${acknowledged} acknowledged, ${stored} stored`);
    return {
      accepted: acknowledged / seconds,
      acknowledged,
      stored,
      other: result.non2xx + result.errors + result.timeouts,
      p50: result.latency.p50,
      p99: result.latency.p99,
    };
  } finally {
    serve.kill("SIGTERM");
    await new Promise((r) => serve.once("exit", r));
    await closeBenchDb(b);
  }
}
