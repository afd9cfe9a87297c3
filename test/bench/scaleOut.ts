/**
 * Section 7: several dispatcher processes on one store. Deliveries/s with 1, 2 and 3
 * `hookd tick` processes on PostgreSQL and 1 on SQLite, against a fast receiver
 * (CPU-bound on this machine) and against receivers that answer after 100 ms over
 * enough webhooks that the per-webhook cap does not bind (latency-bound: more
 * processes, more requests in flight). The latency-bound runs use concurrency 16 per
 * process: with the shipped 64, three processes would ask for ~1,900 deliveries/s,
 * past what this 2-core machine can do at all (the fast-receiver runs show that
 * ceiling), and the figure would measure the CPU again instead of latency. Then the cluster promises, measured: the most
 * requests in flight to one webhook with 3 dispatchers and a cap of 4, requests per
 * failing webhook per backoff step, and what arrives twice after a SIGKILL of one of
 * three dispatchers 3 s into a drain.
 *
 * Rates are counted at the receiver, first 200 to last, so process start-up is not in them.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { writeTransaction } from "../../src/store/connect.js";
import { createCustomer } from "../../src/store/customers.js";
import { publish } from "../../src/publishing.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { benchKeyFile, DISPATCH, LIMITS, orderPayload } from "./fixtures.js";
import { startCliTick, startReceiver, type Receiver, type ReceiverStats } from "./processes.js";
import type { BenchContext, Row, SectionResult } from "./report.js";
import { fmt, fmtRatio, perSecond } from "./stats.js";

export interface ScaleOutOptions {
  /** deliveries per run, fast receiver (100 webhooks) */
  fast: number;
  /** deliveries per run, 100 ms receivers */
  slow: number;
  slowWebhooks: number;
  /** deliveries in the SIGKILL drain */
  drain: number;
}

/** Per-process concurrency of the latency-bound runs (see above). */
const SLOW_CONCURRENCY = 16;
const PG = process.env.HOOKD_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";
type Backend = "postgres" | "sqlite";

interface Store {
  app: App;
  env: Record<string, string>;
  drop(): Promise<void>;
}

let counter = 0;

/** A fresh store (a PostgreSQL schema of its own, or a new SQLite file) with webhooks and due deliveries. */
async function store(
  ctx: BenchContext,
  backend: Backend,
  o: { webhooks: number; deliveries: number; url: (i: number) => string; dispatch?: Record<string, number> },
): Promise<Store> {
  const name = `hookd_bench_${process.pid}_${++counter}`;
  let url: string;
  let drop = async () => {};
  if (backend === "postgres") {
    const admin = new pg.Client({ connectionString: PG });
    await admin.connect();
    await admin.query(`create schema ${name}`);
    url = `${PG}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
    drop = async () => {
      await admin.query(`drop schema if exists ${name} cascade`);
      await admin.end();
    };
  } else {
    url = path.join(ctx.dir, `${name}.sqlite`);
  }
  const config = path.join(ctx.dir, `${name}.json`);
  writeFileSync(config, JSON.stringify({ dispatch: { ...DISPATCH, ...o.dispatch }, limits: LIMITS, log: { level: "warn" } }));
  const env = { HOOKD_ENV: "sandbox", HOOKD_DB: url, HOOKD_CONFIG: config, HOOKD_ENCRYPTION_KEY_FILE: benchKeyFile(ctx.dir) };
  const app = await openApp({ env, logger: silentLogger });
  const customer = await createCustomer(app.store.db, "bench");
  for (let i = 0; i < o.webhooks; i++) {
    await createWebhook(app.store.db, app.keyring, customer.id, { url: o.url(i), group: "orders", action: "created", hash_secret: "s" }, app.webhookRules);
  }
  await writeTransaction(app.store.db, async (trx) => {
    for (let i = 0; i < Math.ceil(o.deliveries / o.webhooks); i++) {
      await publish(trx, { customerId: customer.id, topic: "orders:created", payload: orderPayload(i) }, app.publishRules);
    }
  });
  return {
    app,
    env,
    async drop() {
      await app.close();
      await drop();
    },
  };
}

/** Requests a failing webhook's first backoff step may cost across 3 processes: the breaker's streak, the cap, one each for the other two. */
const FIRST_STEP_MAX = 5 + 4 + 2;

/** Start `processes` ticks at once on the store; wait for all; the receiver's view of it. */
async function drain(receiver: Receiver, s: Store, processes: number): Promise<ReceiverStats> {
  await receiver.reset();
  const ticks = Array.from({ length: processes }, () => startCliTick(s.env));
  await Promise.all(ticks.map((t) => t.done));
  return receiver.stats();
}

const rateOf = (stats: ReceiverStats) => perSecond(stats.ok, stats.lastOkAt - stats.firstOkAt);

export async function scaleOutSection(ctx: BenchContext, o: ScaleOutOptions): Promise<SectionResult> {
  const receiver = await startReceiver();
  const rows: Row[] = [];
  const raw: Record<string, unknown> = {};
  try {
    for (const kind of ["fast", "slow"] as const) {
      const n = kind === "fast" ? o.fast : o.slow;
      const webhooks = kind === "fast" ? 100 : o.slowWebhooks;
      const url = (i: number) => `${receiver.url}/${kind === "slow" ? "slow/" : ""}${i}`;
      const runs: { backend: Backend; processes: number; rate: number; stats: ReceiverStats }[] = [];
      for (const [backend, processes] of [
        ["postgres", 1],
        ["postgres", 2],
        ["postgres", 3],
        ["sqlite", 1],
      ] as const) {
        const s = await store(ctx, backend, { webhooks, deliveries: n, url, dispatch: kind === "slow" ? { concurrency: SLOW_CONCURRENCY } : {} });
        try {
          const stats = await drain(receiver, s, processes);
          if (stats.distinct < n) throw new Error(`${kind} ${backend} ×${processes}: ${stats.distinct} of ${n} delivered`);
          const rate = rateOf(stats);
          runs.push({ backend, processes, rate, stats });
          ctx.log(`scale-out ${kind}: ${backend} × ${processes} → ${fmt(rate)} deliveries/s (${stats.requests - stats.distinct} twice)`);
        } finally {
          await s.drop();
        }
      }
      raw[kind] = runs;
      const pg1 = runs[0]!.rate;
      const label =
        kind === "fast"
          ? `fast receiver, ${fmt(n, 0)} deliveries, 100 webhooks`
          : `receivers answering after 100 ms, ${fmt(n, 0)} deliveries, ${webhooks} webhooks, concurrency ${SLOW_CONCURRENCY} each`;
      rows.push({
        section: "7",
        figure: `${label}: 1 / 2 / 3 processes on PostgreSQL, 1 on SQLite`,
        value: `${runs.map((r) => fmt(r.rate)).join(" / ")}/s`,
        target: "",
        met: null,
      });
      const three = runs[2]!.rate / pg1;
      rows.push({
        section: "7",
        figure: `${kind === "fast" ? "fast" : "100 ms"} receivers: 3 processes / 1 on PostgreSQL`,
        value: `${fmtRatio(three)} (2 / 1: ${fmtRatio(runs[1]!.rate / pg1)})`,
        target: kind === "slow" ? "≥ 2.50×" : "",
        met: kind === "slow" ? three >= 2.5 : null,
      });
    }

    // The cap across processes: 3 dispatchers, a cap of 4, 20 webhooks answering after 100 ms.
    const capped = await store(ctx, "postgres", {
      webhooks: 20,
      deliveries: 2000,
      url: (i) => `${receiver.url}/slow/${i}`,
      dispatch: { perWebhookConcurrency: 4 },
    });
    const cap = await drain(receiver, capped, 3).finally(() => capped.drop());
    raw.cap = cap;
    rows.push({
      section: "7",
      figure: "most requests in flight to one webhook: 3 processes, cap 4 (PostgreSQL)",
      value: `${cap.maxInFlight}`,
      target: "≤ 4",
      met: cap.maxInFlight <= 4,
    });

    // Failing webhooks answer 500: the first step costs the breaker's failures in a row (5,
    // the shipped dispatch.breaker.consecutiveFailures) plus what was in flight in all when
    // it opened (the cap) and one more each for the two other dispatchers, which hear of it
    // at their next record (the bound test/dispatch/cluster.test.ts holds); then one probe
    // per step in all.
    const failing = await store(ctx, "postgres", {
      webhooks: 20,
      deliveries: 400,
      url: (i) => `${receiver.url}/fail/${i}`,
      dispatch: { perWebhookConcurrency: 4 },
    });
    try {
      const first = await drain(receiver, failing, 3);
      const steps: number[] = [];
      for (let step = 0; step < 2; step++) {
        await failing.app.store.db.updateTable("webhooks").set({ backoff_until: 0 }).execute();
        steps.push((await drain(receiver, failing, 3)).requests / 20);
      }
      const counted = await failing.app.store.db.selectFrom("webhooks").select("consecutive_failures").execute();
      raw.probes = { firstStep: first.requests / 20, laterSteps: steps, consecutiveFailures: counted.map((w) => w.consecutive_failures) };
      rows.push({
        section: "7",
        figure: "requests per failing webhook per backoff step: 3 processes, cap 4 (first step / probes after)",
        value: `${fmt(first.requests / 20)} / ${steps.map((s) => fmt(s)).join(", ")} (consecutive_failures ${[...new Set(counted.map((w) => w.consecutive_failures))].join(",")} after 3 steps)`,
        target: `≤ ${FIRST_STEP_MAX} / 1`,
        met: first.requests <= 20 * FIRST_STEP_MAX && steps.every((s) => s === 1),
      });
    } finally {
      await failing.drop();
    }

    // SIGKILL of one of three dispatchers 3 s into a drain; the rest, and one more tick once its leases lapse.
    const lease = { leaseSeconds: 10, timeoutMs: 5000 };
    const killed = await store(ctx, "postgres", { webhooks: 100, deliveries: o.drain, url: (i) => `${receiver.url}/${i}`, dispatch: lease });
    try {
      await receiver.reset();
      const ticks = [0, 1, 2].map(() => startCliTick(killed.env));
      await new Promise((r) => setTimeout(r, 3000));
      try {
        process.kill(ticks[0]!.pid, "SIGKILL");
      } catch {
        // already done: a small drain (--tiny) can finish inside the 3 s
      }
      await Promise.allSettled(ticks.map((t) => t.done));
      await new Promise((r) => setTimeout(r, lease.leaseSeconds * 1000 + 500));
      await startCliTick(killed.env).done;
      const stats = await receiver.stats();
      const twice = stats.requests - stats.distinct;
      raw.sigkill = { ...stats, twice };
      const bound = DISPATCH.concurrency + DISPATCH.batchSize;
      rows.push({
        section: "7",
        figure: `SIGKILL of 1 of 3 processes 3 s into a ${fmt(o.drain, 0)}-delivery drain (PostgreSQL): lost / sent twice`,
        value: `${o.drain - stats.distinct} / ${twice}`,
        target: `0 / ≤ ${bound}`,
        met: stats.distinct === o.drain && twice <= bound,
      });
    } finally {
      await killed.drop();
    }
  } finally {
    await receiver.close();
  }
  return { rows, raw };
}
