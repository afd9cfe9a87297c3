/**
 * Section 8: moving a store. A SQLite store holding `deliveries` deliveries (half
 * delivered with one attempt each, half pending, over 100 webhooks) is exported to a
 * file with `hookd export FILE` and loaded into an empty PostgreSQL schema with
 * `hookd import FILE`, each the built CLI in its own process: wall time, file size,
 * its CPU time (the machine may be busy with other work), and each process's peak RSS
 * (streamed, so it must not grow with the store).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { addWebhooks, closeBenchDb, openBenchDb, seed } from "./fixtures.js";
import { peakRss, ROOT } from "./processes.js";
import type { BenchContext, Row, SectionResult } from "./report.js";
import { fmt, mb, perSecond } from "./stats.js";

export interface MoveOptions {
  deliveries: number;
}

const WEBHOOKS = 100;
const RSS_TARGET_MB = 200;
const PG_BASE = process.env.HOOKD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

interface Run {
  ms: number;
  /** user + system CPU seconds of the process (as last sampled): what the run costs whatever else the machine does */
  cpuSeconds: number;
  peakRssBytes: number;
  stdout: string;
}

/** utime + stime of a live process, in seconds; 0 where /proc is not there. */
function cpuSeconds(pid: number): number {
  try {
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15 (clock ticks, 100 a second).
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** One CLI command, timed, its peak RSS sampled every 100 ms (VmHWM only grows). */
function measure(args: string[], env: Record<string, string>): Promise<Run> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let peak = 0;
  let cpu = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, peakRss(child.pid!));
    cpu = Math.max(cpu, cpuSeconds(child.pid!));
  }, 100);
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => {
      clearInterval(sampler);
      const ms = performance.now() - started;
      if (code !== 0) reject(new Error(`hookd ${args.join(" ")} exited with ${code}:\n${stderr}`));
      else resolve({ ms, cpuSeconds: cpu, peakRssBytes: peak, stdout });
    });
  });
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_BASE });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function moveSection(ctx: BenchContext, o: MoveOptions): Promise<SectionResult> {
  const source = await openBenchDb(ctx.dir, "move-source");
  await addWebhooks(source, WEBHOOKS, "orders:created", (i) => `http://127.0.0.1:9/hooks/${i}`);
  const t = performance.now();
  const half = o.deliveries / WEBHOOKS / 2;
  const start = Date.now() - 86_400_000;
  let made = await seed(source, { topic: "orders:created", events: half, start, status: "delivered" });
  made += await seed(source, { topic: "orders:created", events: half, start: start + half });
  await closeBenchDb(source);
  ctx.log(`move: ${fmt(made, 0)} deliveries in SQLite in ${fmt((performance.now() - t) / 1000, 1)} s`);

  const schema = `hookd_bench_move_${randomBytes(4).toString("hex")}`;
  await withAdmin((c) => c.query(`create schema ${schema}`));
  try {
    const file = path.join(ctx.dir, "move.ndjson");
    const exported = await measure(["export", file], source.env);
    const bytes = statSync(file).size;
    ctx.log(`move: exported in ${fmt(exported.ms / 1000, 1)} s, ${fmt(mb(bytes), 0)} MB`);
    const target = { ...source.env, HOOKD_DB: `${PG_BASE}?options=${encodeURIComponent(`-c search_path=${schema}`)}` };
    const imported = await measure(["import", file], target);
    ctx.log(`move: imported into PostgreSQL in ${fmt(imported.ms / 1000, 1)} s: ${imported.stdout.trim()}`);
    if (!imported.stdout.includes(` ${made} deliveries`)) throw new Error(`import did not load ${made} deliveries: ${imported.stdout}`);
    const n = fmt(made, 0);
    const rssMet = (r: Run) => mb(r.peakRssBytes) <= RSS_TARGET_MB;
    const rows: Row[] = [
      {
        section: "8",
        figure: `export ${n} deliveries, SQLite → file`,
        value: `${fmt(exported.ms / 1000, 1)} s (${fmt(perSecond(made, exported.ms), 0)} deliveries/s; ${fmt(exported.cpuSeconds, 1)} s CPU)`,
        target: "",
        met: null,
      },
      {
        section: "8",
        figure: `import ${n} deliveries, file → PostgreSQL`,
        value: `${fmt(imported.ms / 1000, 1)} s (${fmt(perSecond(made, imported.ms), 0)} deliveries/s; ${fmt(imported.cpuSeconds, 1)} s CPU in hookd)`,
        target: "",
        met: null,
      },
      { section: "8", figure: "export file size", value: `${fmt(mb(bytes), 0)} MB`, target: "", met: null },
      {
        section: "8",
        figure: "peak RSS of hookd export",
        value: `${fmt(mb(exported.peakRssBytes), 0)} MB`,
        target: `< ${RSS_TARGET_MB} MB`,
        met: rssMet(exported),
      },
      {
        section: "8",
        figure: "peak RSS of hookd import",
        value: `${fmt(mb(imported.peakRssBytes), 0)} MB`,
        target: `< ${RSS_TARGET_MB} MB`,
        met: rssMet(imported),
      },
    ];
    return {
      rows,
      raw: {
        deliveries: made,
        export_ms: exported.ms,
        import_ms: imported.ms,
        export_cpu_s: exported.cpuSeconds,
        import_cpu_s: imported.cpuSeconds,
        file_bytes: bytes,
        export_peak_rss: exported.peakRssBytes,
        import_peak_rss: imported.peakRssBytes,
      },
    };
  } finally {
    await withAdmin((c) => c.query(`drop schema if exists ${schema} cascade`));
  }
}
