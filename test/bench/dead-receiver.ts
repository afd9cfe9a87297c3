/**
 * Isolation: what a dead receiver with a big backlog costs one tick, and whether it
 * slows healthy receivers. Healthy and dead receivers run in another process; the
 * tick is the built CLI (a real `hookd tick`), default config (30 s timeout).
 *
 *   npm run build && npx tsx test/bench/dead-receiver.ts [healthy=1000] [dead=10000]
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

const healthyCount = Number(process.argv[2] ?? 1000);
const deadCount = Number(process.argv[3] ?? 10_000);

// One process, two servers: a healthy one that answers 200, and a dead one that
// accepts connections and never answers. Reports when asked on stdin.
const receiverSource = `
  const http = require("node:http");
  const net = require("node:net");
  let healthy = 0, lastHealthyAt = 0, deadConnections = 0;
  const ok = http.createServer((req, res) => { req.resume(); req.on("end", () => { healthy++; lastHealthyAt = Date.now(); res.writeHead(200).end(); }); });
  ok.keepAliveTimeout = 60000;
  const dead = net.createServer((s) => { deadConnections++; s.on("error", () => {}); s.resume(); });
  ok.listen(0, "127.0.0.1", () => dead.listen(0, "127.0.0.1", () =>
    process.stdout.write(JSON.stringify({ ok: ok.address().port, dead: dead.address().port }) + "\\n")));
  process.stdin.on("data", () => {
    process.stdout.write(JSON.stringify({ healthy, lastHealthyAt, deadConnections }) + "\\n");
    healthy = 0; lastHealthyAt = 0; deadConnections = 0;
  });
`;
const receiver = spawn(process.execPath, ["-e", receiverSource], { stdio: ["pipe", "pipe", "inherit"] });
const lines: string[] = [];
let waiting: ((line: string) => void) | null = null;
receiver.stdout!.on("data", (d: Buffer) => {
  for (const line of d.toString().trim().split("\n")) {
    if (waiting) {
      const w = waiting;
      waiting = null;
      w(line);
    } else lines.push(line);
  }
});
const nextLine = () => new Promise<string>((resolve) => (lines.length ? resolve(lines.shift()!) : (waiting = resolve)));
const ports = JSON.parse(await nextLine()) as { ok: number; dead: number };
const report = async () => {
  receiver.stdin!.write("report\n");
  return JSON.parse(await nextLine()) as { healthy: number; lastHealthyAt: number; deadConnections: number };
};

async function scenario(withDead: boolean) {
  const dir = mkdtempSync(path.join(tmpdir(), "hookd-iso-"));
  const env = { HOOKD_ENV: "sandbox", HOOKD_DB: path.join(dir, "hookd.sqlite") };
  const app = await openApp({ env, logger: silentLogger });
  const customer = await createCustomer(app.store.db, "bench");
  for (let i = 0; i < 10; i++) {
    await createWebhook(
      app.store.db,
      app.keyring,
      customer.id,
      { url: `http://127.0.0.1:${ports.ok}/h${i}`, group: "orders", action: "created" },
      app.webhookRules,
    );
  }
  if (withDead) {
    await createWebhook(
      app.store.db,
      app.keyring,
      customer.id,
      { url: `http://127.0.0.1:${ports.dead}/dead`, group: "stock", action: "updated" },
      app.webhookRules,
    );
  }
  await writeTransaction(app.store.db, async (trx) => {
    // The dead webhook's backlog is older, so it sits first in line.
    if (withDead) {
      for (let i = 0; i < deadCount; i++) {
        await publish(trx, { customerId: customer.id, topic: "stock:updated", payload: `{"i":${i}}` }, app.publishRules, Date.now() - 60_000);
      }
    }
    for (let i = 0; i < healthyCount / 10; i++) {
      await publish(trx, { customerId: customer.id, topic: "orders:created", payload: `{"i":${i}}` }, app.publishRules);
    }
  });
  await app.close();
  await report(); // reset counters
  const started = Date.now();
  const tick = spawn(process.execPath, [CLI, "--json", "tick"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  tick.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => tick.on("close", resolve));
  const r = await report();
  rmSync(dir, { recursive: true, force: true });
  const summary = JSON.parse(out);
  return { healthyDrainMs: r.lastHealthyAt - started, healthy: r.healthy, deadRequests: r.deadConnections, tickMs: Date.now() - started, summary };
}

const alone = await scenario(false);
const beside = await scenario(true);
receiver.kill();
console.log(`healthy deliveries: ${alone.healthy} alone, ${beside.healthy} beside the dead receiver`);
console.log(`dead receiver: ${deadCount} due deliveries, ${beside.deadRequests} requests sent in the tick (deferred ${beside.summary.deferred})`);
console.log(
  `healthy drain: ${alone.healthyDrainMs} ms alone, ${beside.healthyDrainMs} ms beside the dead receiver (ratio ${(beside.healthyDrainMs / alone.healthyDrainMs).toFixed(2)})`,
);
console.log(`whole tick: ${alone.tickMs} ms alone, ${beside.tickMs} ms with the dead receiver (its requests wait out the 30 s timeout)`);
