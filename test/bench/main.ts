/**
 * `npm run bench` — how fast hookd is on this machine, side by side with its ceiling
 * and with peers. Prints a table and writes test/bench/results/<time>.json (and
 * latest.json). Options:
 *   --quick         smaller sizes, under 2 minutes
 *   --only 1,2,4    run only these sections (1 dispatch, 2 peers, 3 ingest, 4 backlog, 5 isolation, 6 latency, 7 scale-out, 8 move,
 *                   9 console log, 10 https, 11 fair share, 12 flaky receivers, 13 memory)
 *   --out FILE      write the JSON there instead
 *   --tiny          a few seconds, for the smoke test: checks the harness, not speed
 */
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { backlogSection } from "./backlog.js";
import { consoleLogSection } from "./consoleLog.js";
import { dispatchSection, type Contender } from "./dispatch.js";
import { fairShareSection } from "./fairShare.js";
import { scratch } from "./fixtures.js";
import { flakySection } from "./flaky.js";
import { httpsSection } from "./https.js";
import { ingestSection } from "./ingest.js";
import { isolationSection } from "./isolation.js";
import { latencySection } from "./latency.js";
import { memorySection } from "./memory.js";
import { moveSection } from "./move.js";
import { killChildren, ROOT } from "./processes.js";
import { printTable, writeResults, type BenchContext, type Row, type SectionResult } from "./report.js";
import { scaleFor, type Size } from "./scale.js";
import { scaleOutSection } from "./scaleOut.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    tiny: { type: "boolean", default: false },
    only: { type: "string" },
    out: { type: "string" },
  },
});
const size: Size = values.tiny ? "tiny" : values.quick ? "quick" : "full";
const scale = scaleFor(size);
const only = new Set((values.only ?? "1,2,3,4,5,6,7,8,9,10,11,12,13").split(",").map((s) => s.trim()));
const started = Date.now();
const work = scratch();
const log = (m: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${m}\n`);
const ctx: BenchContext = { dir: work.dir, quick: size !== "full", log };

const stopOnSignal = () => {
  killChildren();
  work.cleanup();
  process.exit(130);
};
process.on("SIGINT", stopOnSignal);
process.on("SIGTERM", stopOnSignal);

const rows: Row[] = [];
const raw: Record<string, unknown> = {};
async function section(name: string, run: () => Promise<SectionResult>): Promise<void> {
  const result = await run();
  rows.push(...result.rows);
  raw[name] = result.raw;
}

try {
  log(`hookd bench (${size}); scratch ${work.dir}`);
  const contenders: Contender[] = [];
  if (only.has("1")) contenders.push("hookd", "got", "post", "undici");
  if (only.has("2")) contenders.push(...(only.has("1") ? [] : (["hookd"] as const)), "bullmq", "pgboss");
  if (contenders.length > 0) await section("dispatch", () => dispatchSection(ctx, { ...scale.dispatch, contenders }));
  if (only.has("3")) await section("ingest", () => ingestSection(ctx, scale.ingest));
  if (only.has("4")) await section("backlog", () => backlogSection(ctx, scale.backlog));
  if (only.has("5")) await section("isolation", () => isolationSection(ctx, scale.isolation));
  if (only.has("6")) await section("latency", () => latencySection(ctx, scale.latency));
  if (only.has("7")) await section("scaleOut", () => scaleOutSection(ctx, scale.scaleOut));
  if (only.has("8")) await section("move", () => moveSection(ctx, scale.move));
  if (only.has("9")) await section("consoleLog", () => consoleLogSection(ctx, scale.consoleLog));
  if (only.has("10")) await section("https", () => httpsSection(ctx, scale.https));
  if (only.has("11")) await section("fairShare", () => fairShareSection(ctx, scale.fairShare));
  if (only.has("12")) await section("flaky", () => flakySection(ctx, scale.flaky));
  if (only.has("13")) await section("memory", () => memorySection(ctx, scale.memory));
} finally {
  work.cleanup();
}

const table = printTable(rows);
const elapsed = (Date.now() - started) / 1000;
const command = `npm run bench${size === "full" ? "" : ` -- --${size}`}`;
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()}`;
process.stdout.write(`\n${table}\n\n${command} — ${elapsed.toFixed(0)} s on ${machine}\n`);
const stamp = new Date(started).toISOString().replace(/[:.]/g, "-");
const out = values.out ?? path.join(ROOT, "test/bench/results", `${stamp}.json`);
const data = { command, size, started_at: new Date(started).toISOString(), elapsed_s: elapsed, machine, scale, rows, table, raw };
writeResults(out, data);
if (!values.out) writeResults(path.join(ROOT, "test/bench/results/latest.json"), data);
process.stdout.write(`results: ${path.relative(process.cwd(), out)}\n`);
