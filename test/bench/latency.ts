/**
 * Section 6: latency. A dispatcher process runs ticks back to back (tick.ts --loop)
 * while this process publishes through the library at a steady `rate` for
 * `seconds`, each event to one webhook; the receiver notes when each event id
 * arrives. Latency = receipt time − the moment publish was called (one clock: same
 * machine).
 */
// The library as its users load it: the package's build (`npm run bench` builds it first),
// not the TypeScript source through tsx, whose helpers (__name on every closure) cost a publish a few µs.
import { openHookd } from "../../dist/index.js";
import { addWebhooks, cliEnv, closeBenchDb, openBenchDb, orderPayload } from "./fixtures.js";
import { Script, startReceiver } from "./processes.js";
import type { BenchContext, Row, SectionResult } from "./report.js";
import { fmt, percentile } from "./stats.js";

export interface LatencyOptions {
  rate: number;
  seconds: number;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function latencySection(ctx: BenchContext, o: LatencyOptions): Promise<SectionResult> {
  const receiver = await startReceiver({ record: true });
  const b = await openBenchDb(ctx.dir, "latency");
  await addWebhooks(b, 1, "orders:created", () => `${receiver.url}/hooks/0`);
  await closeBenchDb(b);
  const ticker = new Script("./tick.ts", ["--loop"], cliEnv(ctx.dir, b.file));
  const hookd = await openHookd({ env: b.env });
  try {
    await ticker.ready;
    const published = new Map<string, number>();
    const total = o.rate * o.seconds;
    const started = now();
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / o.rate;
      if (due > now()) await sleep(due - now());
      const at = now();
      const { id } = await hookd.publish({ customerId: b.customerId, topic: "orders:created", payload: orderPayload(i, 512) });
      published.set(id, at);
    }
    const deadline = now() + 15_000;
    while ((await receiver.stats()).ok < total && now() < deadline) await sleep(100);
    await ticker.stop();
    const { ticks } = await ticker.result;
    const receipts = await receiver.receipts();
    const latencies: number[] = [];
    for (const [id, at] of published) {
      const got = receipts.get(id);
      if (got !== undefined) latencies.push(got - at);
    }
    const p = (q: number) => percentile(latencies, q);
    ctx.log(`latency: ${latencies.length} of ${total} received over ${ticks} ticks; p50 ${fmt(p(50))} ms, p99 ${fmt(p(99))} ms`);
    const rows: Row[] = [
      {
        section: "6",
        figure: `publish → receipt, ticks back to back (${o.rate} events/s for ${o.seconds} s)`,
        value: `p50 ${fmt(p(50))} ms, p99 ${fmt(p(99))} ms, max ${fmt(p(100))} ms (${latencies.length}/${total} received)`,
        target: "",
        met: null,
      },
    ];
    return { rows, raw: { options: o, received: latencies.length, total, ticks, p50: p(50), p90: p(90), p99: p(99), max: p(100) } };
  } finally {
    await ticker.stop();
    await hookd.close();
    await receiver.close();
  }
}
