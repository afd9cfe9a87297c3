/**
 * SQLite going bad under a running `hookd serve` (the SQLite side of issue 27): another
 * process holding the write lock past db.busyTimeoutMs, and the disk under the file
 * going read-only (ext4 aborting after an error, on a loop device of the test's own).
 * The process stays alive; /healthz is 503, /metrics says the store is down, writes
 * through the API are 503 store_unavailable while reads still work, and the log has one
 * warning for the outage; a lock released is followed by dispatch resuming by itself.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { publish } from "../../src/publishing.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { writeTransaction } from "../../src/store/connect.js";
import { createCustomer } from "../../src/store/customers.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { tempDir } from "../helpers/app.js";
import { countByStatus } from "../helpers/deliveries.js";
import { sleep, until } from "../helpers/until.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { callNode, startServeNode, warnings, type ServeNode } from "../helpers/serveNode.js";
import { holdWriteLock } from "../helpers/sqliteLock.js";

const CONFIG = {
  db: { busyTimeoutMs: 100 },
  dispatch: { schedule: "* * * * * *", concurrency: 4, batchSize: 20, leaseSeconds: 30, timeoutMs: 2000, shutdownGraceMs: 1000 },
  log: { level: "info" },
};
const SKIPPED_TICK = "previous tick still running; skipping this one";
const UNAVAILABLE = "the database is unavailable: hookd keeps trying and resumes by itself once it answers";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Scene {
  dbFile: string;
  receiver: Receiver;
  key: string;
  node: ServeNode;
  /** the test's own connection (closed by `closeApp`) */
  app: App | null;
  closeApp(): Promise<void>;
}

/** `events` events to 2 webhooks in a database at `dbFile`, and `hookd serve --role all` on it. */
async function scene(dbFile: string, events: number): Promise<Scene> {
  // Sending pauses for seconds during an outage: keep idle connections open past it.
  const receiver = await startReceiver((_req, res) => setTimeout(() => res.writeHead(200).end(), 40), { keepAliveTimeoutMs: 60_000 });
  cleanups.push(() => receiver.close());
  const dir = tempDir("hookd-sqlite-outage-");
  cleanups.push(() => dir.cleanup());
  const configFile = path.join(dir.dir, "config.json");
  writeFileSync(configFile, JSON.stringify(CONFIG));
  const env = { HOOKD_DB: dbFile, HOOKD_CONFIG: configFile };
  let app: App | null = await openApp({ env: { HOOKD_ENV: "test", ...env }, logger: silentLogger });
  const closeApp = async () => {
    await app?.close();
    app = null;
  };
  cleanups.push(closeApp);
  const customer = await createCustomer(app.store.db, "acme");
  const { key } = await createApiKey(app.store.db, customer.id);
  for (const name of ["a", "b"]) {
    await createWebhook(app.store.db, app.keyring, customer.id, { url: `${receiver.url}/${name}`, group: "orders", action: "created" }, app.webhookRules);
  }
  await writeTransaction(app.store.db, async (trx) => {
    for (let i = 0; i < events; i++) await publish(trx, { customerId: customer.id, topic: "orders:created", payload: `{"i":${i}}` }, app!.publishRules);
  });
  const node = await startServeNode("all", env);
  cleanups.push(() => node.stop());
  return {
    dbFile,
    receiver,
    key,
    node,
    get app() {
      return app;
    },
    closeApp,
  };
}

/** While the store cannot be written: what the node answers. */
async function expectDown(s: Scene): Promise<void> {
  const health = await callNode(s.node, "GET", "/healthz");
  expect(health.status).toBe(503);
  expect(health.body.error.code).toBe("store_unavailable");
  const metrics = await callNode(s.node, "GET", "/metrics");
  expect(metrics.status).toBe(200);
  expect(metrics.text).toContain("\nhookd_store_up 0\n");
  const published = await callNode(s.node, "POST", "/events/", s.key, { topic: "orders:created", payload: {} });
  expect({ status: published.status, code: published.body?.error?.code }).toEqual({ status: 503, code: "store_unavailable" });
  // Reads still work.
  expect((await callNode(s.node, "GET", "/webhooks/", s.key)).status).toBe(200);
}

function expectOneWarning(node: ServeNode): void {
  expect(warnings(node, [SKIPPED_TICK]).map((l) => l.msg)).toEqual([UNAVAILABLE]);
  expect(node.stderr()).not.toMatch(/\n\s+at /);
}

/** An ext4 filesystem of the test's own on a loop device, made to fail as a dying disk does; null without root. */
function ext4Disk(): { dir: string; fail(): void } | null {
  const dir = tempDir("hookd-ext4-");
  cleanups.push(() => dir.cleanup());
  const image = path.join(dir.dir, "disk.img");
  const mountPoint = path.join(dir.dir, "disk");
  mkdirSync(mountPoint);
  try {
    execFileSync("truncate", ["-s", "16M", image]);
    execFileSync("mkfs.ext4", ["-q", "-F", image], { stdio: "ignore" });
    execFileSync("mount", ["-o", "loop,errors=remount-ro", image, mountPoint], { stdio: "ignore" });
  } catch {
    return null;
  }
  cleanups.push(() => execFileSync("umount", ["-l", mountPoint]));
  const device = path.basename(execFileSync("findmnt", ["-no", "SOURCE", mountPoint], { encoding: "utf8" }).trim());
  return {
    dir: mountPoint,
    // What the kernel does on an I/O error with errors=remount-ro: the filesystem turns read-only under open files.
    fail: () => writeFileSync(`/sys/fs/ext4/${device}/trigger_fs_error`, "1"),
  };
}

describe("SQLite going bad under hookd serve", () => {
  it("a write lock held past the busy timeout: 503s and one warning while it lasts, then dispatch resumes by itself", async () => {
    const dir = tempDir("hookd-sqlite-lock-");
    cleanups.push(() => dir.cleanup());
    const s = await scene(path.join(dir.dir, "hookd.sqlite"), 100);
    await until("the drain is under way", () => s.receiver.requests.length >= 20);
    const lock = await holdWriteLock(s.dbFile);
    cleanups.push(() => lock.kill());
    await expectDown(s);
    // Long enough for the running tick to give up claiming.
    await sleep(3_000);
    expect(s.receiver.requests.length).toBeLessThan(200);
    await lock.release();

    await until("everything is delivered", async () => (await countByStatus(s.app!.store.db)).delivered === 200);
    expect(new Set(s.receiver.requests.map((r) => r.headers["x-delivery-id"])).size).toBe(200);
    await until("it says the database is back", () => s.node.logs().some((l) => l.msg?.startsWith("the database is back after")));
    expect((await callNode(s.node, "GET", "/healthz")).status).toBe(200);
    expect(s.node.alive()).toBe(true);
    expectOneWarning(s.node);
  });

  it("the disk going read-only: the process stays up, says so once, answers reads, and stops cleanly", async (ctx) => {
    const disk = ext4Disk();
    if (!disk) return ctx.skip(); // needs root and loop devices
    const s = await scene(path.join(disk.dir, "hookd.sqlite"), 100);
    await until("the drain is under way", () => s.receiver.requests.length >= 20);
    await s.closeApp();
    disk.fail();
    await expectDown(s);
    await sleep(2_000);
    await expectDown(s);
    expect(s.node.alive()).toBe(true);
    expectOneWarning(s.node);
    expect(await s.node.stop()).toBe(0);
  });
});
