/**
 * Section 5: isolation. `healthy` due deliveries over 99 webhooks that answer at once;
 * drain time (tick start → the last of them received) alone, and again with one
 * more webhook whose receiver never answers holding `dead` due deliveries,
 * interleaved with the healthy ones in due order. The shipped settings (timeout
 * 30 s, per-webhook cap 8). A run that has not drained by `capSeconds` is stopped
 * and reported as "more than" the cap.
 */
import path from "node:path";
import { addWebhooks, cliEnv, closeBenchDb, copyDb, openBenchDb, seed, type ConfigExtra } from "./fixtures.js";
import { Script, startReceiver, type Receiver } from "./processes.js";
import type { BenchContext, Row, SectionResult } from "./report.js";
import { fmt, fmtRatio, median } from "./stats.js";

export interface IsolationOptions {
  healthy: number;
  dead: number;
  rounds: number;
  capSeconds: number;
}

const HEALTHY_WEBHOOKS = 99;
const TARGET = 1.2;

export interface Drain {
  ms: number;
  drained: boolean;
  received: number;
  /** the database the tick ran on (a copy of the template), for counting what it left */
  file: string;
}

export interface DrainOptions {
  /** ticks back to back (as `hookd serve` with work waiting) instead of one tick */
  loop?: boolean;
  config?: ConfigExtra;
}

async function template(ctx: BenchContext, receiver: Receiver, o: IsolationOptions, withDead: boolean): Promise<string> {
  const b = await openBenchDb(ctx.dir, withDead ? "isolation-dead" : "isolation-alone");
  await addWebhooks(b, HEALTHY_WEBHOOKS, "orders:updated", (i) => `${receiver.url}/ok/${i}`);
  const start = Date.now() - 3_600_000;
  const span = o.dead * 2;
  const events = Math.ceil(o.healthy / HEALTHY_WEBHOOKS);
  await seed(b, { topic: "orders:updated", events, start: start + 1, stepMs: Math.max(1, Math.floor(span / events)) });
  if (withDead) {
    await addWebhooks(b, 1, "orders:created", () => `${receiver.url}/hang/0`);
    await seed(b, { topic: "orders:created", events: o.dead, start, stepMs: 2 });
  }
  await closeBenchDb(b);
  return b.file;
}

/**
 * Tick over a copy of `file` until `receiver` has answered `count` requests 200 (or
 * `capMs` passed), then stop the tick: the drain time is the tick's start to that last answer.
 */
export async function drain(ctx: BenchContext, receiver: Receiver, file: string, count: number, capMs: number, o: DrainOptions = {}): Promise<Drain> {
  await receiver.reset();
  const run = copyDb(file, path.join(ctx.dir, "isolation-run.sqlite"));
  const script = new Script("./tick.ts", o.loop ? ["--loop"] : [], cliEnv(ctx.dir, run, o.config));
  const { at } = await (o.loop ? script.ready : script.started);
  let stats = await receiver.stats();
  while (stats.ok < count && Date.now() - at < capMs) {
    await new Promise((r) => setTimeout(r, 50));
    stats = await receiver.stats();
  }
  const drained = stats.ok >= count;
  const ms = drained ? stats.lastOkAt - at : Date.now() - at;
  await script.stop();
  return { ms, drained, received: stats.ok, file: run };
}

export async function isolationSection(ctx: BenchContext, o: IsolationOptions): Promise<SectionResult> {
  const receiver = await startReceiver();
  try {
    const alone = await template(ctx, receiver, o, false);
    const dead = await template(ctx, receiver, o, true);
    const healthy = Math.ceil(o.healthy / HEALTHY_WEBHOOKS) * HEALTHY_WEBHOOKS;
    const runs: { alone: Drain; dead: Drain }[] = [];
    for (let round = 0; round < o.rounds; round++) {
      const a = await drain(ctx, receiver, alone, healthy, o.capSeconds * 1000);
      const d = await drain(ctx, receiver, dead, healthy, o.capSeconds * 1000);
      runs.push({ alone: a, dead: d });
      ctx.log(
        `  isolation round ${round + 1}: alone ${fmt(a.ms)} ms; with a dead receiver ${d.drained ? "" : "> "}${fmt(d.ms)} ms (${d.received} of ${healthy} healthy received)`,
      );
    }
    const ratio = median(runs.map((r) => r.dead.ms / r.alone.ms));
    const allDrained = runs.every((r) => r.dead.drained);
    const deadMs = median(runs.map((r) => r.dead.ms));
    const rows: Row[] = [
      {
        section: "5",
        figure: `drain ${fmt(healthy, 0)} healthy: with a dead receiver holding ${fmt(o.dead, 0)} due vs without (${o.rounds} round${o.rounds === 1 ? "" : "s"}, alternated, median)`,
        value: `${allDrained ? "" : "> "}${fmtRatio(ratio)} (${allDrained ? "" : "> "}${fmt(deadMs / 1000, 1)} s vs ${fmt(median(runs.map((r) => r.alone.ms)) / 1000, 2)} s${allDrained ? "" : `; stopped at the ${o.capSeconds} s cap with ${median(runs.map((r) => r.dead.received))} of ${healthy} received`})`,
        target: `≤ ${TARGET}×`,
        met: allDrained && ratio <= TARGET,
      },
    ];
    return { rows, raw: { options: o, healthy, runs, ratio, drained: allDrained } };
  } finally {
    await receiver.close();
  }
}
