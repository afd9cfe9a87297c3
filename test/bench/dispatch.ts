/**
 * Sections 1 and 2: the same N due deliveries (over 100 webhooks) sent to the same
 * receiver process by
 *   hookd   one hookd tick (tick.ts: openApp + dispatcher.tick(), as `hookd tick`, its own process),
 *   got     a bare got loop with hookd's agents, concurrency, bodies and headers,
 *   post    the same loop sending through hookd's own send path (what the store costs on top),
 *   undici  undici's request, same concurrency (the machine's ceiling),
 *   bullmq  BullMQ on the local Redis, a worker posting with got and keeping results,
 *   pgboss  pg-boss on the local PostgreSQL, workers posting with got, results kept.
 * Every contender that uses hookd's code (its tick, its send path, its headers) loads
 * it from dist/, the build users run (`npm run bench` builds it first), not the
 * sources through tsx, whose keepNames helper wraps closures made per delivery.
 * Rounds alternate the contenders (rotating who goes first); ratios are per round,
 * then the median across rounds, so a noisy neighbour hits both sides of a ratio.
 * Set HOOKD_BENCH_CPU_PROF=DIR to write a --cpu-prof profile of each hookd and bare-loop run there.
 */
import path from "node:path";
import { addWebhooks, closeBenchDb, copyDb, DISPATCH, openBenchDb, seed, cliEnv } from "./fixtures.js";
import { Script, startReceiver, type Receiver } from "./processes.js";
import type { BenchContext, Row, SectionResult } from "./report.js";
import { fmt, fmtRatio, median, perSecond } from "./stats.js";

export const CONTENDERS = ["hookd", "got", "post", "undici", "bullmq", "pgboss"] as const;
export type Contender = (typeof CONTENDERS)[number];

export interface DispatchOptions {
  deliveries: number;
  webhooks: number;
  rounds: number;
  /** the slow peers (pg-boss, about 3x hookd's time) take part in the first this-many rounds only (paired with hookd's run of the same round) */
  slowPeerRounds: number;
  contenders: readonly Contender[];
}

// BullMQ runs every round, as the loops do: hookd / BullMQ from one round's pair read
// 1.41x, 1.11x and 0.98x in three runs of one day, within the noise of one pair.
const SLOW_PEERS: readonly Contender[] = ["pgboss"];

interface Run {
  contender: Contender;
  round: number;
  ok: number;
  ms: number;
  rate: number;
  /** CPU time of the contender's process per delivery, µs (not counting Redis / PostgreSQL servers) */
  cpuUsPer: number;
}

async function runOnce(c: Contender, template: string, receiver: Receiver, ctx: BenchContext, n: number, round: number): Promise<Omit<Run, "round">> {
  await receiver.reset();
  const profileDir = process.env.HOOKD_BENCH_CPU_PROF;
  const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=dispatch-${c}-${round + 1}.cpuprofile`] : [];
  let script: Script;
  if (c === "hookd") {
    const file = copyDb(template, path.join(ctx.dir, "dispatch-run.sqlite"));
    script = new Script("./tick.ts", [], cliEnv(ctx.dir, file), profile);
  } else if (c === "got" || c === "post" || c === "undici") {
    script = new Script("./loop.ts", ["--client", c, "--db", template], {}, profile);
  } else {
    script = new Script(c === "bullmq" ? "./peer-bullmq.ts" : "./peer-pgboss.ts", ["--db", template]);
  }
  const result = await script.result;
  await script.exited;
  const ms: number = result.ms;
  const ok: number = c === "hookd" ? result.summary.delivered : result.ok;
  const received = (await receiver.stats()).ok;
  if (ok !== n || received < n) throw new Error(`${c}: ${ok} of ${n} sent ok, receiver saw ${received}`);
  return { contender: c, ok, ms, rate: perSecond(ok, ms), cpuUsPer: (result.cpuMs * 1000) / ok };
}

export async function dispatchSection(ctx: BenchContext, o: DispatchOptions): Promise<SectionResult> {
  const receiver = await startReceiver();
  try {
    const b = await openBenchDb(ctx.dir, "dispatch-template");
    await addWebhooks(b, o.webhooks, "orders:created", (i) => `${receiver.url}/hooks/${i}`);
    const made = await seed(b, { topic: "orders:created", events: Math.ceil(o.deliveries / o.webhooks), start: Date.now() - 60_000 });
    await closeBenchDb(b);
    ctx.log(`dispatch: ${made} due deliveries over ${o.webhooks} webhooks, ${o.rounds} rounds of ${o.contenders.join(", ")} (pg-boss in ${o.slowPeerRounds})`);

    const runs: Run[] = [];
    for (let round = 0; round < o.rounds; round++) {
      const these = o.contenders.filter((c) => round < o.slowPeerRounds || !SLOW_PEERS.includes(c));
      const order = these.map((_, i) => these[(i + round) % these.length]!);
      for (const c of order) {
        const run = { ...(await runOnce(c, b.file, receiver, ctx, made, round)), round };
        runs.push(run);
        ctx.log(`  round ${round + 1} ${c.padEnd(7)} ${fmt(run.rate)} deliveries/s (${fmt(run.ms / 1000, 1)} s)`);
      }
    }
    return summarise(runs, o, made);
  } finally {
    await receiver.close();
  }
}

function summarise(runs: Run[], o: DispatchOptions, n: number): SectionResult {
  const rateOf = (c: Contender) => median(runs.filter((r) => r.contender === c).map((r) => r.rate));
  const cpuOf = (c: Contender) => median(runs.filter((r) => r.contender === c).map((r) => r.cpuUsPer));
  /** median over rounds of (a's rate / b's rate) in the same round */
  const ratio = (a: Contender, b: Contender) =>
    median(
      Array.from({ length: o.rounds }, (_, round) => {
        const ra = runs.find((r) => r.contender === a && r.round === round);
        const rb = runs.find((r) => r.contender === b && r.round === round);
        return ra && rb ? ra.rate / rb.rate : Number.NaN;
      }).filter(Number.isFinite),
    );
  const has = (c: Contender) => o.contenders.includes(c);
  const rows: Row[] = [];
  const setup = `${fmt(n, 0)} deliveries, ${o.webhooks} webhooks, concurrency ${DISPATCH.concurrency}`;
  if (has("hookd"))
    rows.push({
      section: "1",
      figure: `hookd tick (${setup})`,
      value: `${fmt(rateOf("hookd"))}/s, CPU ${fmt(cpuOf("hookd"))} µs/delivery`,
      target: "",
      met: null,
    });
  const versus: [Contender, string, string, (r: number) => boolean][] = [
    ["got", "1", "≥ 0.95×", (r) => r >= 0.95],
    ["post", "1", "", () => true],
    ["undici", "1", "", () => true],
    ["bullmq", "2", "> 1.00×", (r) => r > 1],
    ["pgboss", "2", "> 1.00×", (r) => r > 1],
  ];
  const names: Record<Contender, string> = {
    hookd: "hookd",
    got: "bare got loop",
    post: "the same loop through hookd's own send path (no store)",
    undici: "undici request loop",
    bullmq: "BullMQ (Redis) + got worker",
    pgboss: "pg-boss (PostgreSQL) + got workers",
  };
  for (const [c, section, target, meets] of versus) {
    if (!has(c)) continue;
    const r = has("hookd") ? ratio("hookd", c) : Number.NaN;
    rows.push({
      section,
      figure: `hookd / ${names[c]}`,
      value: `${fmtRatio(r)} (${fmt(rateOf("hookd"))} vs ${fmt(rateOf(c))}/s; CPU ${fmt(cpuOf(c))} µs/delivery)`,
      target,
      met: target === "" || !Number.isFinite(r) ? null : meets(r),
    });
  }
  const ratios = Object.fromEntries(o.contenders.filter((c) => c !== "hookd").map((c) => [c, ratio("hookd", c)]));
  const medians = Object.fromEntries(o.contenders.map((c) => [c, rateOf(c)]));
  const cpu = Object.fromEntries(o.contenders.map((c) => [c, cpuOf(c)]));
  return {
    rows,
    raw: {
      deliveries: n,
      webhooks: o.webhooks,
      dispatch: DISPATCH,
      rounds: o.rounds,
      runs,
      medianRate: medians,
      medianCpuUsPerDelivery: cpu,
      hookdOver: ratios,
    },
  };
}
