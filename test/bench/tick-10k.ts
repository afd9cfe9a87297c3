/**
 * How long one `hookd tick` (the built CLI, a real process) takes to deliver N
 * deliveries to a local receiver running in another process.
 *
 *   npm run build && npx tsx test/bench/tick-10k.ts [N=10000] [webhooks=100]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openApp } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { writeTransaction } from "../../src/store/connect.js";
import { createCustomer } from "../../src/store/customers.js";
import { publish } from "../../src/publishing.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { CLI } from "../helpers/cli.js";

const total = Number(process.argv[2] ?? 10_000);
const webhooks = Number(process.argv[3] ?? 100);

const receiverSource = `
  const http = require("node:http");
  let n = 0;
  const s = http.createServer((req, res) => { req.resume(); req.on("end", () => { n++; res.writeHead(200).end(); }); });
  s.keepAliveTimeout = 60000;
  s.listen(0, "127.0.0.1", () => process.stdout.write(String(s.address().port) + "\\n"));
  process.on("SIGTERM", () => { process.stdout.write("received " + n + "\\n"); process.exit(0); });
`;
const receiver = spawn(process.execPath, ["-e", receiverSource], { stdio: ["ignore", "pipe", "inherit"] });
const port = await new Promise<number>((resolve) => receiver.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))));

const dir = mkdtempSync(path.join(tmpdir(), "hookd-bench-"));
const env = { HOOKD_ENV: "sandbox", HOOKD_DB: path.join(dir, "hookd.sqlite") };
const app = await openApp({ env, logger: silentLogger });
const customer = await createCustomer(app.store.db, "bench");
for (let i = 0; i < webhooks; i++) {
  await createWebhook(
    app.store.db,
    app.keyring,
    customer.id,
    { url: `http://127.0.0.1:${port}/h${i}`, group: "orders", action: "created", hash_secret: `secret-${i}` },
    app.webhookRules,
  );
}
const body = JSON.stringify({ order: { id: 0, lines: [{ sku: "SKU-1", qty: 2 }], total: "19.99", note: "bench payload" } });
await writeTransaction(app.store.db, async (trx) => {
  for (let i = 0; i < total / webhooks; i++) {
    await publish(trx, { customerId: customer.id, topic: "orders:created", payload: body.replace('"id":0', `"id":${i}`) }, app.publishRules);
  }
});
await app.close();

const started = process.hrtime.bigint();
const tick = spawn(
  process.execPath,
  [...(process.env.HOOKD_BENCH_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.HOOKD_BENCH_PROF}`] : []), CLI, "--json", "tick"],
  { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] },
);
let out = "";
tick.stdout!.on("data", (d: Buffer) => (out += d.toString()));
await new Promise((resolve) => tick.on("close", resolve));
const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
const summary = JSON.parse(out);
receiver.kill("SIGTERM");
rmSync(dir, { recursive: true, force: true });

console.log(
  `${summary.delivered}/${total} delivered to ${webhooks} webhooks: tick ${summary.duration_ms} ms ` +
    `(${Math.round(summary.delivered / (summary.duration_ms / 1000))}/s), process wall ${wallMs.toFixed(0)} ms`,
);
