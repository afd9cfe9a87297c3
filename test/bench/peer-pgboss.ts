/**
 * Peer: the bench database's deliveries done the way a Node team would with pg-boss on
 * the local PostgreSQL: one job per delivery (retry limit 9, backoff), workers
 * fetching batches and posting with got (hookd's agents, headers and bodies), 64
 * requests in flight in all, each job completed (or failed) with its result as output.
 * pg-boss polls; its shortest interval (0.5 s) is used. Enqueueing is not timed. The
 * run's own schema is dropped at the end.
 */
import { parseArgs } from "node:util";
import PgBoss from "pg-boss";
import pLimit from "p-limit";
import { createAgents, destroyAgents } from "../../dist/dispatch/request.js";
import { DISPATCH } from "./fixtures.js";
import { loadJobs, postWithGot, type Job } from "./jobs.js";

const { values } = parseArgs({
  options: {
    db: { type: "string" },
    pg: { type: "string", default: process.env.HOOKD_BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test" },
  },
});
/** Workers × batch, with `DISPATCH.concurrency` requests in flight across them. */
const WORKERS = 4;
const BATCH = 100;
const schema = `hookd_bench_${process.pid}`;
const name = "deliveries";

const jobs = await loadJobs(values.db!);
const boss = new PgBoss({ connectionString: values.pg!, schema, supervise: false, schedule: false, max: WORKERS + 4 });
boss.on("error", (err) => process.stderr.write(`pg-boss: ${err.message}\n`));
const agents = createAgents();
try {
  await boss.start();
  await boss.createQueue(name);
  for (let i = 0; i < jobs.length; i += 1000) {
    await boss.insert(jobs.slice(i, i + 1000).map((job) => ({ name, data: job, retryLimit: 9, retryDelay: 30, retryBackoff: true })));
  }
  let ok = 0;
  let failed = 0;
  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => (finish = resolve));
  const inFlight = pLimit(DISPATCH.concurrency);
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let w = 0; w < WORKERS; w++) {
    await boss.work<Job>(name, { batchSize: BATCH, pollingIntervalSeconds: 0.5 }, async (batch) => {
      await Promise.all(
        batch.map((job) =>
          inFlight(async () => {
            const result = await postWithGot(job.data, agents);
            if (result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300) {
              await boss.complete(name, job.id, { ...result });
              ok++;
            } else {
              await boss.fail(name, job.id, { ...result });
              failed++;
            }
          }),
        ),
      );
      if (ok + failed >= jobs.length) finish();
    });
  }
  await allDone;
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  process.send!({ type: "result", ok, failed, ms, cpuMs: (used.user + used.system) / 1000 });
} finally {
  await boss.stop({ graceful: false, wait: true }).catch(() => {});
  destroyAgents(agents);
  // A plain connection of our own: pg-boss's pool is closed by stop().
  const pg = await import("pg");
  const client = new pg.default.Client({ connectionString: values.pg! });
  await client.connect();
  await client.query(`drop schema if exists "${schema}" cascade`);
  await client.end();
  process.disconnect();
}
