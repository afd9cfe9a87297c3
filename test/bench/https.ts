/**
 * Section 7: a realistic figure. Receivers behind HTTPS, with a certificate from a CA
 * made for this run and trusted by hookd through `dispatch.caFile`, each answering
 * 100 ms after the request arrived (a receiver doing some work). One hookd tick (its
 * own process) at dispatch.concurrency 64, 256 and 1,024. With every request taking
 * at least the latency, no dispatcher can beat concurrency ÷ latency: that bound is
 * the yardstick. The tick's CPU (cores busy) says whether CPU is what binds instead.
 * Set HOOKD_BENCH_CPU_PROF=DIR to write a --cpu-prof profile of each tick there.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { makePrivateCa } from "../helpers/ca.js";
import { addWebhooks, closeBenchDb, DISPATCH, openBenchDb, seed } from "./fixtures.js";
import { peakRss, Script, startReceiver } from "./processes.js";
import type { BenchContext, Row, SectionResult } from "./report.js";
import { fmt, fmtRatio, mb, perSecond } from "./stats.js";

export interface HttpsOptions {
  concurrencies: number[];
  /** deliveries for a run at concurrency c: enough for several seconds at the bound */
  deliveriesPer: number;
  maxDeliveries: number;
  webhooks: number;
  latencyMs: number;
}

/** A tick process using this much of a core is CPU-bound: Node runs JavaScript on one thread. */
const CPU_BOUND = 0.85;

export async function httpsSection(ctx: BenchContext, o: HttpsOptions): Promise<SectionResult> {
  const ca = makePrivateCa(ctx.dir);
  const receiver = await startReceiver({ tls: ca, delayMs: o.latencyMs });
  const profileDir = process.env.HOOKD_BENCH_CPU_PROF;
  const rows: Row[] = [];
  const runs = [];
  try {
    for (const concurrency of o.concurrencies) {
      const b = await openBenchDb(ctx.dir, `https-${concurrency}`);
      await addWebhooks(b, o.webhooks, "orders:created", (i) => `${receiver.url}/hooks/${i}`);
      const wanted = Math.min(o.maxDeliveries, concurrency * o.deliveriesPer);
      const made = await seed(b, { topic: "orders:created", events: Math.ceil(wanted / o.webhooks), start: Date.now() - 60_000 });
      await closeBenchDb(b);
      // Enough per webhook that the global limit is the one that binds.
      const perWebhook = Math.max(DISPATCH.perWebhookConcurrency, Math.ceil((2 * concurrency) / o.webhooks));
      const config = path.join(ctx.dir, `https-${concurrency}.json`);
      writeFileSync(
        config,
        JSON.stringify({ dispatch: { ...DISPATCH, concurrency, perWebhookConcurrency: perWebhook, caFile: ca.caFile }, log: { level: "warn" } }),
      );
      await receiver.reset();

      const env: Record<string, string> = { HOOKD_ENV: "sandbox", HOOKD_DB: b.file, HOOKD_CONFIG: config };
      const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=https-${concurrency}.cpuprofile`] : [];
      const script = new Script("./tick.ts", [], env, profile);
      const result = await script.result;
      const rssBytes = peakRss(script.child.pid!);
      await script.exited;

      // Counted as delivered only: a request that timed out or failed is rescheduled, not a delivery.
      const delivered: number = result.summary.delivered;
      const rate = perSecond(delivered, result.ms);
      const bound = concurrency / (o.latencyMs / 1000);
      const cores = result.cpuMs / result.ms;
      const run = {
        concurrency,
        perWebhook,
        deliveries: made,
        ms: result.ms,
        rate,
        bound,
        ratio: rate / bound,
        cores,
        cpuUsPer: (result.cpuMs * 1000) / delivered,
        rssMb: mb(rssBytes),
      };
      runs.push(run);
      ctx.log(`  https c=${concurrency}: ${fmt(rate)}/s of ${fmt(bound)}/s bound, ${fmt(cores, 2)} cores, peak RSS ${fmt(run.rssMb)} MB`);
      const cpuBound = cores >= CPU_BOUND;
      rows.push({
        section: "10",
        figure: `HTTPS receivers (private CA, answer after ${o.latencyMs} ms), concurrency ${fmt(concurrency, 0)}: ${fmt(made, 0)} deliveries / bound`,
        value: `${fmtRatio(run.ratio)} (${fmt(rate)} vs ${fmt(bound)}/s = ${concurrency} ÷ ${o.latencyMs} ms; ${delivered < made ? `${fmt(made - delivered, 0)} not delivered; ` : ""}tick CPU ${fmt(cores, 2)} cores, ${fmt(run.cpuUsPer)} µs/delivery${cpuBound ? ", CPU-bound" : ""}; peak RSS ${fmt(run.rssMb)} MB)`,
        target: "≥ 0.90× until CPU binds",
        met: run.ratio >= 0.9 || cpuBound,
      });
    }
    return { rows, raw: { latencyMs: o.latencyMs, webhooks: o.webhooks, dispatch: DISPATCH, cpuBoundAt: CPU_BOUND, runs } };
  } finally {
    await receiver.close();
  }
}
