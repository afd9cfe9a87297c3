/**
 * Section 12: receivers that fail now and then (issue 25). One webhook, `deliveries`
 * due, at a receiver that answers every request 200, one that answers 10% of them 500
 * and one 20% (a seeded generator: the same failures each run). Ticks run back to back
 * (as `hookd serve` with work waiting) with `retry.delaysSeconds: [0]`, so a failed
 * delivery is due again at once and the next tick sends it: the time to the last of
 * them delivered is the steady throughput with retries flowing, not the retry
 * schedule's waits. Rounds alternate the three; ratios per round, medians. Afterwards
 * the run's database is counted: every delivery delivered, or pending for a retry.
 */
import { sql } from "kysely";
import { addWebhooks, closeBenchDb, openBenchDb, seed, type ConfigExtra } from "./fixtures.js";
import { drain, type Drain } from "./isolation.js";
import { startReceiver, type Receiver } from "./processes.js";
import type { BenchContext, Row, SectionResult } from "./report.js";
import { fmt, fmtRatio, median, perSecond } from "./stats.js";

export interface FlakyOptions {
  deliveries: number;
  rounds: number;
  capSeconds: number;
}

const TOPIC = "orders:created";
const RETRY_AT_ONCE: ConfigExtra = { name: "retry-at-once", settings: { retry: { delaysSeconds: [0] } } };
/** failing share (%) → the flaky/healthy throughput goal */
const FLAKY: readonly (readonly [number, number])[] = [
  [10, 0.8],
  [20, 0.6],
];

interface Count {
  delivered: number;
  /** pending with an attempt behind it: waiting for a retry */
  retrying: number;
  /** pending, never attempted */
  untried: number;
  /** anything else (failed, dead, expired): lost */
  other: number;
  /** attempts made in all */
  attempts: number;
}

interface Run extends Drain {
  failPct: number;
  rate: number;
  count: Count;
}

async function template(ctx: BenchContext, receiver: Receiver, o: FlakyOptions, failPct: number): Promise<string> {
  const b = await openBenchDb(ctx.dir, `flaky-${failPct}`);
  await addWebhooks(b, 1, TOPIC, () => `${receiver.url}${failPct > 0 ? `/flaky/${failPct}/0` : "/ok/0"}`);
  await seed(b, { topic: TOPIC, events: o.deliveries, start: Date.now() - 3_600_000 });
  await closeBenchDb(b);
  return b.file;
}

/** What the run left in its database. */
async function count(ctx: BenchContext, file: string): Promise<Count> {
  const b = await openBenchDb(ctx.dir, file.slice(ctx.dir.length + 1).replace(/\.sqlite$/, ""));
  try {
    const rows = await sql<{ status: string; tried: number; n: number; attempts: number }>`
      select status, attempts > 0 as tried, count(*) as n, sum(attempts) as attempts from deliveries group by status, tried`.execute(b.app.store.db);
    const c: Count = { delivered: 0, retrying: 0, untried: 0, other: 0, attempts: 0 };
    for (const r of rows.rows) {
      const n = Number(r.n);
      c.attempts += Number(r.attempts);
      if (r.status === "delivered") c.delivered += n;
      else if (r.status === "pending") c[Number(r.tried) ? "retrying" : "untried"] += n;
      else c.other += n;
    }
    return c;
  } finally {
    await closeBenchDb(b);
  }
}

export async function flakySection(ctx: BenchContext, o: FlakyOptions): Promise<SectionResult> {
  const receiver = await startReceiver();
  try {
    const pcts = [0, ...FLAKY.map(([p]) => p)];
    const templates = new Map<number, string>();
    for (const p of pcts) templates.set(p, await template(ctx, receiver, o, p));
    const runs: (Run & { round: number })[] = [];
    for (let round = 0; round < o.rounds; round++) {
      const order = pcts.map((_, i) => pcts[(i + round) % pcts.length]!);
      for (const failPct of order) {
        const d = await drain(ctx, receiver, templates.get(failPct)!, o.deliveries, o.capSeconds * 1000, { loop: true, config: RETRY_AT_ONCE });
        const c = await count(ctx, d.file);
        const run = { ...d, failPct, rate: perSecond(d.received, d.ms), count: c, round };
        runs.push(run);
        ctx.log(
          `  flaky round ${round + 1}, failing ${failPct}%: ${fmt(run.rate)}/s (${fmt(d.ms)} ms); delivered ${c.delivered}, retrying ${c.retrying}, untried ${c.untried}, other ${c.other}; ${c.attempts} attempts`,
        );
      }
    }
    return summarise(o, runs);
  } finally {
    await receiver.close();
  }
}

function summarise(o: FlakyOptions, runs: (Run & { round: number })[]): SectionResult {
  const of = (p: number) => runs.filter((r) => r.failPct === p);
  const rows: Row[] = [];
  const healthyRate = median(of(0).map((r) => r.rate));
  for (const [p, goal] of FLAKY) {
    const ratio = median(
      of(p)
        .map((r) => r.rate / (runs.find((h) => h.failPct === 0 && h.round === r.round)?.rate ?? Number.NaN))
        .filter(Number.isFinite),
    );
    const drained = of(p).every((r) => r.drained);
    const attempts = median(of(p).map((r) => r.count.attempts));
    rows.push({
      section: "12",
      figure: `1 webhook, ${fmt(o.deliveries, 0)} deliveries, receiver failing ${p}% (seeded) / healthy: throughput (ticks back to back, retry.delaysSeconds [0]: time to the last delivered)`,
      value: `${drained ? "" : "> "}${fmtRatio(ratio)} (${fmt(median(of(p).map((r) => r.rate)))} vs ${fmt(healthyRate)}/s; ${fmt(attempts, 0)} attempts; ${o.rounds} round${o.rounds === 1 ? "" : "s"}, median)`,
      target: `≥ ${goal.toFixed(2)}×`,
      met: drained && ratio >= goal,
    });
  }
  const flaky = runs.filter((r) => r.failPct > 0);
  const lost = flaky.map((r) => o.deliveries - r.count.delivered - r.count.retrying - r.count.untried);
  rows.push({
    section: "12",
    figure: `lost at the flaky receivers (neither delivered nor pending), ${flaky.length} runs`,
    value: `${Math.max(...lost)} (${flaky.map((r) => `${r.failPct}%: ${r.count.delivered} delivered, ${r.count.retrying + r.count.untried} pending`).join("; ")})`,
    target: "0",
    met: lost.every((n) => n === 0),
  });
  return { rows, raw: { options: o, config: RETRY_AT_ONCE.settings, runs } };
}
