/**
 * Section 4: backlog scale.
 *   - A backlog of `due` due deliveries (1,000,000 in full), inserted set-based; the
 *     insert rate; the time to claim one batch from it; and the peak RSS of a
 *     `hookd tick` (the built CLI) working through it, stopped with SIGTERM after
 *     `tickSeconds` (all of it would take minutes of HTTP), next to the peak RSS of a
 *     tick over 1,000 due.
 *   - History: 1,000 due deliveries in a table that also holds `history` finished
 *     ones (with their attempts) vs the same 1,000 alone: claim time, alternated,
 *     medians; and one tick over each.
 *   - Delivery rate at depth: a tick over `deepDue` due (500,000 in full, over 100
 *     webhooks) against one over `shallowDue` (15,000), alternated; and the same for one
 *     webhook holding `oneDeepDue` (300,000: a receiver back after an outage). The
 *     shallow tick runs to its end; the deep one is stopped after as long, so both
 *     rates are deliveries ÷ the tick's own duration over the same span of work.
 */
import path from "node:path";
import { claimDue } from "../../src/store/claims.js";
import { releaseClaims } from "../../src/store/leases.js";
import type { Db } from "../../src/store/connect.js";
import { addWebhooks, closeBenchDb, copyDb, DISPATCH, openBenchDb, seed, type BenchDb } from "./fixtures.js";
import { startCliTick, startReceiver, type CliTick } from "./processes.js";
import type { BenchContext, Row, SectionResult } from "./report.js";
import { fmt, fmtRatio, mb, median, perSecond } from "./stats.js";

export interface BacklogOptions {
  due: number;
  history: number;
  tickSeconds: number;
  claimReps: number;
  deepDue: number;
  shallowDue: number;
  oneDeepDue: number;
  rateRounds: number;
}

const WEBHOOKS = 100;
const RSS_TARGET_MB = 150;
/** "Flat": claiming next to the history, or with a deep backlog, takes at most this many times as long as without. */
const FLAT = 1.5;
/** A tick over a deep backlog delivers at least this fraction of the rate of one over a shallow backlog. */
const DEEP_RATE = 0.9;

/** Time one claim of a batch, then hand it back so the next claim sees the same table. */
async function timeClaim(db: Db): Promise<number> {
  const owner = "bench-claim";
  const now = Date.now();
  const started = performance.now();
  // As a tick claims: counting other dispatchers' leases for the per-webhook cap.
  const room = (_webhookId: string, elsewhere: number) => DISPATCH.perWebhookConcurrency - elsewhere;
  const { deliveries: rows } = await claimDue(db, { owner, cutoff: now, now, limit: DISPATCH.batchSize, leaseMs: 60_000, room });
  const ms = performance.now() - started;
  await releaseClaims(
    db,
    owner,
    rows.map((r) => r.id),
  );
  if (rows.length === 0) throw new Error("nothing to claim");
  return ms;
}

async function makeDb(ctx: BenchContext, name: string, url: string, webhooks = WEBHOOKS): Promise<BenchDb> {
  const b = await openBenchDb(ctx.dir, name);
  await addWebhooks(b, webhooks, "orders:created", (i) => `${url}/hooks/${i}`);
  return b;
}

async function tick(b: Pick<BenchDb, "env">, stopAfterMs?: number): Promise<CliTick> {
  const t = startCliTick(b.env);
  const timer = stopAfterMs ? setTimeout(() => t.stop(), stopAfterMs) : null;
  try {
    return await t.done;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export async function backlogSection(ctx: BenchContext, o: BacklogOptions): Promise<SectionResult> {
  const receiver = await startReceiver();
  const dbs: BenchDb[] = [];
  try {
    const start = Date.now() - 86_400_000;
    // The big backlog.
    const big = await makeDb(ctx, "backlog-due", receiver.url);
    dbs.push(big);
    let t = performance.now();
    const due = await seed(big, { topic: "orders:created", events: o.due / WEBHOOKS, start });
    const insertMs = performance.now() - t;
    ctx.log(`backlog: ${fmt(due, 0)} due deliveries inserted in ${fmt(insertMs / 1000, 1)} s`);

    // 1,000 due, with and without history.
    const history = await makeDb(ctx, "backlog-history", receiver.url);
    dbs.push(history);
    t = performance.now();
    const finished = await seed(history, { topic: "orders:created", events: o.history / WEBHOOKS, start, status: "delivered" });
    ctx.log(`backlog: ${fmt(finished, 0)} finished deliveries (+ attempts) inserted in ${fmt((performance.now() - t) / 1000, 1)} s`);
    await seed(history, { topic: "orders:created", events: 1000 / WEBHOOKS, start: Date.now() - 60_000 });
    const alone = await makeDb(ctx, "backlog-alone", receiver.url);
    dbs.push(alone);
    await seed(alone, { topic: "orders:created", events: 1000 / WEBHOOKS, start: Date.now() - 60_000 });

    const claims = { big: [] as number[], history: [] as number[], alone: [] as number[] };
    for (let i = 0; i < o.claimReps; i++) {
      claims.alone.push(await timeClaim(alone.app.store.db));
      claims.history.push(await timeClaim(history.app.store.db));
      claims.big.push(await timeClaim(big.app.store.db));
    }
    const claimRatio = median(claims.history) / median(claims.alone);
    ctx.log(
      `backlog: claim ms median — 1k alone ${fmt(median(claims.alone))}, 1k + history ${fmt(median(claims.history))}, ${fmt(due, 0)} due ${fmt(median(claims.big))}`,
    );
    for (const b of dbs) await b.app.close();

    const tickAlone = await tick(alone);
    const tickHistory = await tick(history);
    const tickBig = await tick(big, o.tickSeconds * 1000);
    ctx.log(
      `backlog: ticks — alone ${tickAlone.summary.duration_ms} ms, with history ${tickHistory.summary.duration_ms} ms; big: ${tickBig.summary.delivered} delivered in ${tickBig.summary.duration_ms} ms, peak RSS ${fmt(mb(tickBig.peakRssBytes))} MB`,
    );

    const rate = await depthRates(ctx, o, receiver.url, start, WEBHOOKS, o.deepDue);
    const one = await depthRates(ctx, o, receiver.url, start, 1, o.oneDeepDue);
    const rssMb = mb(tickBig.peakRssBytes);
    const bigClaimRatio = median(claims.big) / median(claims.alone);
    const rows: Row[] = [
      {
        section: "4",
        figure: `insert ${fmt(due, 0)} due deliveries (set-based SQL through the store)`,
        value: `${fmt(insertMs / 1000, 1)} s (${fmt(perSecond(due, insertMs))} rows/s)`,
        target: "",
        met: null,
      },
      {
        section: "4",
        figure: `peak RSS of hookd tick over ${fmt(due, 0)} due (SIGTERM after ${o.tickSeconds} s, ${fmt(tickBig.summary.delivered, 0)} sent)`,
        value: `${fmt(rssMb)} MB (tick over 1,000 due: ${fmt(mb(tickAlone.peakRssBytes))} MB)`,
        target: `< ${RSS_TARGET_MB} MB`,
        met: tickBig.peakRssBytes > 0 ? rssMb < RSS_TARGET_MB : null,
      },
      {
        section: "4",
        figure: `claim a batch of ${DISPATCH.batchSize}: ${fmt(due, 0)} due vs 1,000 due`,
        value: `${fmtRatio(bigClaimRatio)} (${fmt(median(claims.big))} vs ${fmt(median(claims.alone))} ms)`,
        target: `≤ ${FLAT}×`,
        met: bigClaimRatio <= FLAT,
      },
      {
        section: "4",
        figure: `tick over ${fmt(o.deepDue, 0)} due vs over ${fmt(o.shallowDue, 0)} due (${WEBHOOKS} webhooks): deliveries/s`,
        value: `${fmtRatio(rate.ratio)} (${fmt(rate.deep)} vs ${fmt(rate.shallow)}/s; ${o.rateRounds} rounds, medians)`,
        target: `≥ ${DEEP_RATE}×`,
        met: rate.ratio >= DEEP_RATE,
      },
      {
        section: "4",
        figure: `… one webhook holding ${fmt(o.oneDeepDue, 0)} due vs ${fmt(o.shallowDue, 0)} (a receiver back after an outage)`,
        value: `${fmtRatio(one.ratio)} (${fmt(one.deep)} vs ${fmt(one.shallow)}/s; ${o.rateRounds} rounds, medians)`,
        target: "",
        met: null,
      },
      {
        section: "4",
        figure: `claim 1,000 due: next to ${fmt(finished, 0)} finished vs alone`,
        value: `${fmtRatio(claimRatio)} (${fmt(median(claims.history))} vs ${fmt(median(claims.alone))} ms)`,
        target: `flat (≤ ${FLAT}×)`,
        met: claimRatio <= FLAT,
      },
      {
        section: "4",
        figure: `tick over 1,000 due: next to ${fmt(finished, 0)} finished vs alone`,
        value: `${fmtRatio(tickHistory.summary.duration_ms / tickAlone.summary.duration_ms)} (${tickHistory.summary.duration_ms} vs ${tickAlone.summary.duration_ms} ms)`,
        target: "",
        met: null,
      },
    ];
    return {
      rows,
      raw: {
        options: o,
        due,
        insertMs,
        finished,
        claimMs: claims,
        ticks: { alone: tickAlone, history: tickHistory, big: tickBig },
        depthRates: { spread: rate, one },
        files: dbs.map((b) => path.basename(b.file)),
      },
    };
  } finally {
    for (const b of dbs) await b.app.close();
    await receiver.close();
  }
}

/** Deliveries per second of a tick over a deep backlog and over a shallow one (see the header). */
async function depthRates(ctx: BenchContext, o: BacklogOptions, url: string, start: number, webhooks: number, deepDue: number) {
  const made = async (name: string, due: number) => {
    const b = await makeDb(ctx, `${name}-${webhooks}`, url, webhooks);
    await seed(b, { topic: "orders:created", events: due / webhooks, start });
    await closeBenchDb(b);
    return b;
  };
  const deepDb = await made("backlog-deep", deepDue);
  const shallowDb = await made("backlog-shallow", o.shallowDue);
  const deep: number[] = [];
  const shallow: number[] = [];
  for (let round = 0; round < o.rateRounds; round++) {
    // Fresh copies each round: every tick starts from the same backlog.
    const began = performance.now();
    const s = await tick({ env: { ...shallowDb.env, HOOKD_DB: copyDb(shallowDb.file, path.join(ctx.dir, "backlog-shallow-run.sqlite")) } });
    // The stop timer starts at spawn: allow for the process start the tick's own duration leaves out.
    const wall = performance.now() - began;
    const d = await tick({ env: { ...deepDb.env, HOOKD_DB: copyDb(deepDb.file, path.join(ctx.dir, "backlog-deep-run.sqlite")) } }, wall);
    shallow.push(perSecond(s.summary.delivered, s.summary.duration_ms));
    deep.push(perSecond(d.summary.delivered, d.summary.duration_ms));
    ctx.log(
      `backlog: ${webhooks} webhook(s), round ${round + 1}: over ${fmt(o.shallowDue, 0)} due ${s.summary.delivered} in ${s.summary.duration_ms} ms; over ${fmt(deepDue, 0)} due ${d.summary.delivered} in ${d.summary.duration_ms} ms`,
    );
  }
  return { deep: median(deep), shallow: median(shallow), ratio: median(deep) / median(shallow), rounds: { deep, shallow } };
}
