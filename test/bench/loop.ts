/**
 * A bare send loop, run as its own process: the bench database's deliveries POSTed
 * with `concurrency` workers and nothing else (no claims, no records).
 *   --client got     got the plain way (its promise API) with hookd's keep-alive agents
 *   --client post    hookd's own send path (dispatch/request.ts post), so hookd / this is
 *                    what the store and the scheduling cost on top of sending
 *   --client undici  the machine's ceiling: undici's request on its own pool
 * Reports {type: "result", ok, failed, ms, cpuMs} over IPC; loading the jobs is not timed.
 */
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { createAgents, destroyAgents, post } from "../../dist/dispatch/request.js";
import { DISPATCH } from "./fixtures.js";
import { loadJobs, pool, postWithGot, requestFor, type Job } from "./jobs.js";

const { values } = parseArgs({ options: { client: { type: "string" }, db: { type: "string" } } });
const jobs = await loadJobs(values.db!);
let ok = 0;
let failed = 0;
const count = (good: boolean): void => {
  if (good) ok++;
  else failed++;
};

let send: (job: Job) => Promise<void>;
let close: () => Promise<void>;
if (values.client === "got") {
  const agents = createAgents();
  send = async (job) => count((await postWithGot(job, agents)).statusCode === 200);
  close = async () => destroyAgents(agents);
} else if (values.client === "post") {
  const agents = createAgents();
  send = async (job) => {
    const { body, headers } = requestFor(job);
    count((await post(job.url, body, () => headers, { timeoutMs: DISPATCH.timeoutMs, agents })).ok);
  };
  close = async () => destroyAgents(agents);
} else if (values.client === "undici") {
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
  send = async (job) => {
    const { body, headers } = requestFor(job);
    try {
      const res = await request(job.url, { method: "POST", body, headers, dispatcher, headersTimeout: DISPATCH.timeoutMs });
      await res.body.dump();
      count(res.statusCode === 200);
    } catch {
      count(false);
    }
  };
  close = () => dispatcher.close();
} else {
  throw new Error(`--client must be got, post or undici, not ${values.client}`);
}

const cpu = process.cpuUsage();
const started = performance.now();
await pool(jobs, DISPATCH.concurrency, send);
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
await close();
process.send!({ type: "result", ok, failed, ms, cpuMs: (used.user + used.system) / 1000 });
process.disconnect();
