/**
 * Section 13: memory of a tick as payload size × fan-out grows (issue 28). Peak RSS
 * (VmHWM, sampled every 100 ms) of `hookd tick` (the built CLI, its own process) over
 * `bigEvents` events of 250 KB to 20 webhooks each (2,000 deliveries, 500 MB sent, in
 * full) and over `smallEvents` events of 1 KB to the same 20 webhooks (20,000
 * deliveries), alternated; and each tick's rate. There is no other code path to set the
 * rate beside: it is reported as measured, with the RSS of the two side by side.
 */
import { addWebhooks, closeBenchDb, openBenchDb, seed, copyDb, cliEnv } from "./fixtures.js";
import { startCliTick, startReceiver, type CliTick } from "./processes.js";
import type { BenchContext, Row, SectionResult } from "./report.js";
import { fmt, mb, median, perSecond } from "./stats.js";
import path from "node:path";

export interface MemoryOptions {
  bigEvents: number;
  smallEvents: number;
  rounds: number;
}

const TOPIC = "orders:created";
const WEBHOOKS = 20;
const BIG_BYTES = 250_000;
const SMALL_BYTES = 1_024;
const RSS_TARGET_MB = 250;

interface Run {
  big: boolean;
  delivered: number;
  ms: number;
  rate: number;
  peakRssBytes: number;
}

async function template(ctx: BenchContext, url: string, events: number, bytes: number, name: string): Promise<string> {
  const b = await openBenchDb(ctx.dir, name);
  await addWebhooks(b, WEBHOOKS, TOPIC, (i) => `${url}/hooks/${i}`);
  await seed(b, { topic: TOPIC, events, start: Date.now() - 3_600_000, payloadBytes: bytes });
  await closeBenchDb(b);
  return b.file;
}

async function tick(ctx: BenchContext, file: string, big: boolean, expected: number): Promise<Run> {
  const run = copyDb(file, path.join(ctx.dir, "memory-run.sqlite"));
  const t: CliTick = await startCliTick(cliEnv(ctx.dir, run)).done;
  const delivered = t.summary.delivered;
  if (delivered !== expected) throw new Error(`memory: the tick delivered ${delivered} of ${expected}`);
  return { big, delivered, ms: t.summary.duration_ms, rate: perSecond(delivered, t.summary.duration_ms), peakRssBytes: t.peakRssBytes };
}

export async function memorySection(ctx: BenchContext, o: MemoryOptions): Promise<SectionResult> {
  const receiver = await startReceiver();
  try {
    const big = await template(ctx, receiver.url, o.bigEvents, BIG_BYTES, "memory-big");
    const small = await template(ctx, receiver.url, o.smallEvents, SMALL_BYTES, "memory-small");
    const runs: Run[] = [];
    for (let round = 0; round < o.rounds; round++) {
      for (const isBig of round % 2 === 0 ? [true, false] : [false, true]) {
        await receiver.reset();
        const r = await tick(ctx, isBig ? big : small, isBig, (isBig ? o.bigEvents : o.smallEvents) * WEBHOOKS);
        runs.push(r);
        ctx.log(`  memory round ${round + 1}, ${isBig ? "250 KB" : "1 KB"}: peak RSS ${fmt(mb(r.peakRssBytes))} MB, ${fmt(r.rate)}/s (${fmt(r.ms)} ms)`);
      }
    }
    return summarise(o, runs);
  } finally {
    await receiver.close();
  }
}

function summarise(o: MemoryOptions, runs: Run[]): SectionResult {
  const bigRuns = runs.filter((r) => r.big);
  const smallRuns = runs.filter((r) => !r.big);
  const peak = (rs: Run[]) => Math.max(...rs.map((r) => r.peakRssBytes));
  const bigMb = mb(peak(bigRuns));
  const smallMb = mb(peak(smallRuns));
  const rounds = `${o.rounds} round${o.rounds === 1 ? "" : "s"}`;
  const bigRate = median(bigRuns.map((r) => r.rate));
  const rows: Row[] = [
    {
      section: "13",
      figure: `peak RSS of hookd tick, ${fmt(o.bigEvents * WEBHOOKS, 0)} deliveries of 250 KB (${o.bigEvents} events × ${WEBHOOKS} webhooks; maxHeldBytes 32 MiB)`,
      value: `${fmt(bigMb, 0)} MB (${fmt(bigRate)}/s = ${fmt((bigRate * BIG_BYTES) / 1e6, 0)} MB/s; ${rounds}, highest)`,
      target: `< ${RSS_TARGET_MB} MB`,
      met: peak(bigRuns) > 0 ? bigMb < RSS_TARGET_MB : null,
    },
    {
      section: "13",
      figure: `peak RSS of hookd tick, ${fmt(o.smallEvents * WEBHOOKS, 0)} deliveries of 1 KB (${o.smallEvents} events × ${WEBHOOKS} webhooks)`,
      value: `${fmt(smallMb, 0)} MB (250 KB / 1 KB: ${fmt(bigMb / smallMb)}×)`,
      target: "",
      met: null,
    },
    {
      section: "13",
      figure: `hookd tick rate, ${fmt(o.smallEvents * WEBHOOKS, 0)} deliveries of 1 KB (${WEBHOOKS} webhooks, concurrency 64)`,
      value: `${fmt(median(smallRuns.map((r) => r.rate)))}/s (${rounds}, median)`,
      target: "",
      met: null,
    },
  ];
  return { rows, raw: { options: o, runs } };
}
