/**
 * The database on a bad day: another process holding the write lock, a full disk, a
 * read-only file. hookd says what is wrong, changes nothing, and loses nothing.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/app.js";
import { runCli } from "../helpers/cli.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { holdWriteLock, type WriteLock } from "../helpers/sqliteLock.js";

let dir: ReturnType<typeof tempDir>;
let receiver: Receiver | undefined;
let holder: WriteLock | undefined;
let mounted: string | undefined;

afterEach(async () => {
  holder?.kill();
  holder = undefined;
  await receiver?.close();
  receiver = undefined;
  if (mounted) execFileSync("umount", ["-l", mounted]);
  mounted = undefined;
  dir?.cleanup();
});

async function cli(env: Record<string, string>, ...args: string[]) {
  const r = await runCli(["--json", ...args], env);
  return { ...r, json: r.stdout ? JSON.parse(r.stdout) : null };
}

/** A customer, a webhook and `events` published through the CLI. */
async function seed(env: Record<string, string>, url: string, events: number) {
  expect((await cli(env, "migrate")).code).toBe(0);
  const customer = (await cli(env, "customers", "create", "acme")).json;
  await cli(env, "webhooks", "create", "--customer", customer.id, "--url", url, "--group", "orders", "--action", "created");
  for (let i = 0; i < events; i++) await cli(env, "publish", "--customer", customer.id, "--topic", "orders:created", "--data", `{"i":${i}}`);
  return customer.id as string;
}

/** A tiny filesystem of our own (tmpfs), so it can be filled up or made read-only. */
function smallDisk(): string | null {
  const mountPoint = path.join(dir.dir, "disk");
  mkdirSync(mountPoint);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint], { stdio: "ignore" });
  } catch {
    return null;
  }
  mounted = mountPoint;
  return mountPoint;
}

describe("the database under stress", () => {
  it("a write lock held past the busy timeout makes a tick report and give up cleanly; the next one delivers", async () => {
    dir = tempDir("hookd-lock-");
    receiver = await startReceiver();
    const config = path.join(dir.dir, "config.json");
    writeFileSync(config, JSON.stringify({ db: { busyTimeoutMs: 100 } }));
    const env = { HOOKD_DB: path.join(dir.dir, "hookd.sqlite"), HOOKD_CONFIG: config };
    await seed(env, `${receiver.url}/in`, 5);

    holder = await holdWriteLock(env.HOOKD_DB);
    const release = holder.release;
    const blocked = await cli(env, "tick");
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain("is locked by another process");
    expect(blocked.stderr).not.toMatch(/\n\s+at /);
    expect(blocked.json).toMatchObject({ delivered: 0, claimed: 0 });
    expect(receiver.requests).toHaveLength(0);
    // Reads still work while the lock is held.
    expect((await cli(env, "deliveries", "list", "--status", "pending")).json.count).toBe(5);

    await release();
    const after = await cli(env, "tick");
    expect(after.code).toBe(0);
    expect(after.json).toMatchObject({ delivered: 5 });
    expect(receiver.requests).toHaveLength(5);
  });

  it("a publish refused by a held lock says so and stores nothing", async () => {
    dir = tempDir("hookd-lock-");
    const config = path.join(dir.dir, "config.json");
    writeFileSync(config, JSON.stringify({ db: { busyTimeoutMs: 100 } }));
    const env = { HOOKD_DB: path.join(dir.dir, "hookd.sqlite"), HOOKD_CONFIG: config };
    const customer = await seed(env, "http://127.0.0.1:9/in", 1);
    holder = await holdWriteLock(env.HOOKD_DB);
    const release = holder.release;
    const r = await cli(env, "publish", "--customer", customer, "--topic", "orders:created", "--data", "{}");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is locked by another process; nothing was changed");
    await release();
    expect((await cli(env, "deliveries", "list")).json.count).toBe(1);
  });

  it("a full disk fails with a clear message and loses nothing already stored", async (ctx) => {
    dir = tempDir("hookd-full-");
    const disk = smallDisk();
    if (!disk) return ctx.skip(); // needs root to mount a tmpfs
    const env = { HOOKD_DB: path.join(disk, "hookd.sqlite") };
    const customer = await seed(env, "http://127.0.0.1:9/in", 2);
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${path.join(disk, "filler")}`, "bs=64k"], { stdio: "ignore" });
    } catch {
      // dd stops with ENOSPC: the disk is now full, as wanted
    }
    const r = await cli(env, "publish", "--customer", customer, "--topic", "orders:created", "--data", JSON.stringify({ big: "x".repeat(50_000) }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/disk holding the database .* is full/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    rmSync(path.join(disk, "filler"));
    const list = await cli(env, "deliveries", "list");
    expect(list.json.count).toBe(2);
  });

  it("a read-only database fails with a clear message and keeps its data", async (ctx) => {
    dir = tempDir("hookd-ro-");
    const disk = smallDisk();
    if (!disk) return ctx.skip();
    const env = { HOOKD_DB: path.join(disk, "hookd.sqlite") };
    const customer = await seed(env, "http://127.0.0.1:9/in", 1);
    execFileSync("mount", ["-o", "remount,ro", disk]);
    const r = await cli(env, "publish", "--customer", customer, "--topic", "orders:created", "--data", "{}");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is read-only");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    execFileSync("mount", ["-o", "remount,rw", disk]);
    expect((await cli(env, "deliveries", "list")).json.count).toBe(1);
  });
});
