/**
 * hookd's tick in its own process, as `hookd tick` runs it (openApp, then
 * dispatcher.tick()), with the CPU time of the tick measured from inside.
 *   (default)  one tick; reports {type: "started", at} then {type: "result", summary, cpuMs, ms}
 *   --loop     ticks back to back until SIGTERM (latency, flaky receivers); reports {type: "ready", at}, then the tick count
 * The database and config come from HOOKD_DB / HOOKD_CONFIG, as for the CLI.
 */
import { parseArgs } from "node:util";
import { openApp } from "../../dist/app.js";
import { keepHeapSmall } from "../../dist/cli/heap.js";

// What the CLI sets at start (src/cli/heap.ts), so this process runs as `hookd tick` does.
keepHeapSmall();

const { values } = parseArgs({ options: { loop: { type: "boolean", default: false } } });
const app = await openApp();
const stop = new AbortController();
process.on("SIGTERM", () => stop.abort());

try {
  if (values.loop) {
    process.send!({ type: "ready", at: Date.now() });
    let ticks = 0;
    while (!stop.signal.aborted) {
      await app.dispatcher.tick({ signal: stop.signal });
      ticks++;
      // Back to back, but let timers and I/O of the process run between ticks.
      await new Promise((resolve) => setImmediate(resolve));
    }
    process.send!({ type: "result", ticks });
  } else {
    process.send!({ type: "started", at: Date.now() });
    const cpu = process.cpuUsage();
    const started = performance.now();
    const summary = await app.dispatcher.tick({ signal: stop.signal });
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    process.send!({ type: "result", summary, ms, cpuMs: (used.user + used.system) / 1000 });
  }
} finally {
  await app.close();
  process.disconnect();
}
