/**
 * Section 11: fair share between customers (issue 26), one tick (concurrency 64,
 * per-webhook cap 8) each time.
 *   - Burst: customer A has `burstEvents` events due to each of its 20 webhooks (40,000
 *     deliveries in full), then customer B publishes one event to its one webhook. Where
 *     B's request falls among the tick's requests (the receiver numbers them as they
 *     arrive), and the tick's rate with B vs the same tick without B, alternated, medians.
 *   - Slow receivers: A's 10 webhooks answer after 2 s (100 deliveries in all, older than
 *     B's), B's one healthy webhook holds `slowB` deliveries: B's drain time (tick start
 *     → its last delivery received) beside A vs alone, alternated, medians.
 */
import path from "node:path";
import { addWebhooks, cliEnv, closeBenchDb, copyDb, openBenchDb, otherCustomer, seed } from "./fixtures.js";
import { drain, type Drain } from "./isolation.js";
import { Script, startReceiver, type Receiver } from "./processes.js";
import type { BenchContext, Row, SectionResult } from "./report.js";
import { fmt, fmtRatio, median, perSecond } from "./stats.js";

export interface FairShareOptions {
  /** A's events, each to its 20 webhooks */
  burstEvents: number;
  /** B's deliveries beside A's slow receivers */
  slowB: number;
  rounds: number;
  capSeconds: number;
}

const TOPIC = "orders:created";
const A_WEBHOOKS = 20;
const SLOW_WEBHOOKS = 10;
const SLOW_PER_WEBHOOK = 10;
const SLOW_MS = 2_000;
const B_PATH = "/b/0";
/** B's request within this share of the tick's requests … */
const POSITION_SHARE = 0.01;
/** … or within the first round (the tick's concurrency) where 1% is less than a round */
const FIRST_ROUND = 64;
const RATE_TARGET = 0.95;
const SLOW_TARGET = 2;

interface BurstRun {
  withB: boolean;
  delivered: number;
  ms: number;
  rate: number;
  requests: number;
  /** B's request's place among the tick's requests (1-based) */
  position: number | null;
}

async function burstTemplate(ctx: BenchContext, receiver: Receiver, o: FairShareOptions, withB: boolean): Promise<string> {
  const a = await openBenchDb(ctx.dir, withB ? "fair-burst-b" : "fair-burst-alone");
  await addWebhooks(a, A_WEBHOOKS, TOPIC, (i) => `${receiver.url}/a/${i}`);
  const start = Date.now() - 3_600_000;
  await seed(a, { topic: TOPIC, events: o.burstEvents, start });
  if (withB) {
    const b = await otherCustomer(a, "customer-b");
    await addWebhooks(b, 1, TOPIC, () => `${receiver.url}${B_PATH}`);
    // B publishes after the whole burst.
    await seed(b, { topic: TOPIC, events: 1, start: start + o.burstEvents + 1_000 });
  }
  await closeBenchDb(a);
  return a.file;
}

async function burstTick(ctx: BenchContext, receiver: Receiver, file: string, withB: boolean): Promise<BurstRun> {
  await receiver.reset();
  const run = copyDb(file, path.join(ctx.dir, "fair-run.sqlite"));
  const script = new Script("./tick.ts", [], cliEnv(ctx.dir, run));
  const result = await script.result;
  await script.exited;
  const stats = await receiver.stats();
  const position = withB ? ((await receiver.firsts()).get(B_PATH) ?? null) : null;
  const delivered: number = result.summary.delivered;
  return { withB, delivered, ms: result.ms, rate: perSecond(delivered, result.ms), requests: stats.requests, position };
}

async function slowTemplate(ctx: BenchContext, fast: Receiver, slow: Receiver, o: FairShareOptions, besideA: boolean): Promise<string> {
  const a = await openBenchDb(ctx.dir, besideA ? "fair-slow-beside" : "fair-slow-alone");
  const start = Date.now() - 3_600_000;
  if (besideA) {
    // A's deliveries are older: first in line.
    await addWebhooks(a, SLOW_WEBHOOKS, "orders:updated", (i) => `${slow.url}/a/${i}`);
    await seed(a, { topic: "orders:updated", events: SLOW_PER_WEBHOOK, start });
  }
  const b = await otherCustomer(a, "customer-b");
  await addWebhooks(b, 1, TOPIC, () => `${fast.url}${B_PATH}`);
  await seed(b, { topic: TOPIC, events: o.slowB, start: start + 60_000 });
  await closeBenchDb(a);
  return a.file;
}

export async function fairShareSection(ctx: BenchContext, o: FairShareOptions): Promise<SectionResult> {
  const receiver = await startReceiver({ record: true });
  const slow = await startReceiver({ delayMs: SLOW_MS });
  try {
    const withB = await burstTemplate(ctx, receiver, o, true);
    const alone = await burstTemplate(ctx, receiver, o, false);
    const burst: { withB: BurstRun; alone: BurstRun }[] = [];
    for (let round = 0; round < o.rounds; round++) {
      // Alternate who goes first, so a noisy neighbour hits both sides.
      const first = round % 2 === 0;
      const x = await burstTick(ctx, receiver, first ? withB : alone, first);
      const y = await burstTick(ctx, receiver, first ? alone : withB, !first);
      const pair = first ? { withB: x, alone: y } : { withB: y, alone: x };
      burst.push(pair);
      ctx.log(
        `  fair share round ${round + 1}: with B ${fmt(pair.withB.rate)}/s, B's request #${pair.withB.position} of ${pair.withB.requests}; without B ${fmt(pair.alone.rate)}/s`,
      );
    }

    const beside = await slowTemplate(ctx, receiver, slow, o, true);
    const bAlone = await slowTemplate(ctx, receiver, slow, o, false);
    const drains: { beside: Drain; alone: Drain }[] = [];
    for (let round = 0; round < o.rounds; round++) {
      const first = round % 2 === 0;
      const x = await drain(ctx, receiver, first ? beside : bAlone, o.slowB, o.capSeconds * 1000);
      const y = await drain(ctx, receiver, first ? bAlone : beside, o.slowB, o.capSeconds * 1000);
      const pair = first ? { beside: x, alone: y } : { beside: y, alone: x };
      drains.push(pair);
      ctx.log(`  slow receivers round ${round + 1}: B drains in ${fmt(pair.beside.ms)} ms beside A, ${fmt(pair.alone.ms)} ms alone`);
    }
    return summarise(o, burst, drains);
  } finally {
    await receiver.close();
    await slow.close();
  }
}

function summarise(o: FairShareOptions, burst: { withB: BurstRun; alone: BurstRun }[], drains: { beside: Drain; alone: Drain }[]): SectionResult {
  const aDeliveries = o.burstEvents * A_WEBHOOKS;
  const requests = median(burst.map((r) => r.withB.requests));
  const limit = Math.max(FIRST_ROUND, Math.ceil(POSITION_SHARE * aDeliveries));
  const positions = burst.map((r) => r.withB.position ?? Number.POSITIVE_INFINITY);
  const worst = Math.max(...positions);
  const rateRatio = median(burst.map((r) => r.withB.rate / r.alone.rate));
  const drainRatio = median(drains.map((r) => r.beside.ms / r.alone.ms));
  const allDrained = drains.every((r) => r.beside.drained && r.alone.drained);
  const rounds = `${o.rounds} round${o.rounds === 1 ? "" : "s"}`;
  const rows: Row[] = [
    {
      section: "11",
      figure: `B's 1 delivery among a tick's requests after A's burst of ${fmt(aDeliveries, 0)} (20 webhooks; concurrency 64, cap 8)`,
      value: `#${positions.map((p) => (Number.isFinite(p) ? fmt(p, 0) : "never")).join(", #")} of ${fmt(requests, 0)} (${rounds})`,
      target: `≤ ${fmt(limit, 0)} (${limit > Math.ceil(POSITION_SHARE * aDeliveries) ? "first round" : "first 1%"})`,
      met: worst <= limit,
    },
    {
      section: "11",
      figure: `that tick's rate with B vs the same tick without B`,
      value: `${fmtRatio(rateRatio)} (${fmt(median(burst.map((r) => r.withB.rate)))} vs ${fmt(median(burst.map((r) => r.alone.rate)))}/s; ${rounds}, alternated, median)`,
      target: `≥ ${RATE_TARGET}×`,
      met: rateRatio >= RATE_TARGET,
    },
    {
      section: "11",
      figure: `B's ${fmt(o.slowB, 0)} healthy deliveries: drain beside A's ${SLOW_WEBHOOKS} webhooks answering after ${SLOW_MS / 1000} s (${SLOW_WEBHOOKS * SLOW_PER_WEBHOOK} older deliveries) vs alone`,
      value: `${allDrained ? "" : "> "}${fmtRatio(drainRatio)} (${fmt(median(drains.map((r) => r.beside.ms)))} vs ${fmt(median(drains.map((r) => r.alone.ms)))} ms; ${rounds}, median)`,
      target: `≤ ${SLOW_TARGET}×`,
      met: allDrained && drainRatio <= SLOW_TARGET,
    },
  ];
  return { rows, raw: { options: o, burst, drains, positionLimit: limit, rateRatio, drainRatio } };
}
