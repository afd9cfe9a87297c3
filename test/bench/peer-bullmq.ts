/**
 * Peer: the bench database's deliveries done the way a Node team would with BullMQ on
 * the local Redis: one job per delivery (10 attempts, exponential backoff, results
 * kept), a Worker with concurrency 64 posting with got (hookd's agents, headers and
 * bodies), its return value being the recorded result. Enqueueing is not timed; the
 * clock runs from worker start to the last job completed. Everything under this run's
 * key prefix is removed at the end.
 */
import { parseArgs } from "node:util";
import { Queue, Worker } from "bullmq";
import { createAgents, destroyAgents } from "../../dist/dispatch/request.js";
import { DISPATCH } from "./fixtures.js";
import { loadJobs, postWithGot, type Job } from "./jobs.js";

const { values } = parseArgs({ options: { db: { type: "string" }, redis: { type: "string", default: "redis://127.0.0.1:6379" } } });
const redis = new URL(values.redis!);
const connection = { host: redis.hostname, port: Number(redis.port || 6379), maxRetriesPerRequest: null };
const prefix = `hookd-bench-${process.pid}`;
const name = "deliveries";

const jobs = await loadJobs(values.db!);
const queue = new Queue<Job>(name, { connection, prefix });
const agents = createAgents();
let worker: Worker<Job> | null = null;
try {
  for (let i = 0; i < jobs.length; i += 1000) {
    await queue.addBulk(
      jobs.slice(i, i + 1000).map((job) => ({
        name: "deliver",
        data: job,
        opts: { attempts: 10, backoff: { type: "exponential", delay: 30_000 }, removeOnComplete: false, removeOnFail: false },
      })),
    );
  }
  let ok = 0;
  let failed = 0;
  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => (finish = resolve));
  const settle = () => {
    if (ok + failed >= jobs.length) finish();
  };
  worker = new Worker<Job>(
    name,
    async (job) => {
      const result = await postWithGot(job.data, agents);
      // A non-2xx throws, so BullMQ retries it with backoff.
      if (result.statusCode === null || result.statusCode < 200 || result.statusCode >= 300) throw new Error(result.error ?? `HTTP ${result.statusCode}`);
      return result;
    },
    { connection, prefix, concurrency: DISPATCH.concurrency, autorun: false },
  );
  worker.on("completed", () => {
    ok++;
    settle();
  });
  worker.on("failed", () => {
    failed++;
    settle();
  });
  await worker.waitUntilReady();
  const cpu = process.cpuUsage();
  const started = performance.now();
  void worker.run();
  await allDone;
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  process.send!({ type: "result", ok, failed, ms, cpuMs: (used.user + used.system) / 1000 });
} finally {
  await worker?.close();
  await queue.obliterate({ force: true });
  const client = (await queue.client) as unknown as { keys(pattern: string): Promise<string[]>; del(...keys: string[]): Promise<number> };
  const left = await client.keys(`${prefix}:*`);
  if (left.length > 0) await client.del(...left);
  await queue.close();
  destroyAgents(agents);
  process.disconnect();
}
