/**
 * `npm run build:binary` makes one file that runs hookd on its own: copied into an
 * empty folder, with no node_modules or config/ around it, it runs on the embedded
 * Node 24, migrates, publishes and delivers a signed event to a real receiver.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { copyFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE_VERSION } from "../../src/build/nodeRuntime.js";
import { verifySignature } from "../../src/verify.js";
import { VERSION } from "../../src/version.js";
import { tempDir } from "../helpers/app.js";
import { collect, untilServing } from "../helpers/cli.js";
import { closedPort, startReceiver, type Receiver } from "../helpers/receiver.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
let dir: ReturnType<typeof tempDir>;
let binary: string;
let receiver: Receiver;

beforeAll(async () => {
  // Built once per run: seconds once the Node 24 addon is cached (CI builds it in a step of
  // its own); the first build compiles it, so the timeout is generous. Not execFileSync:
  // blocking this worker for the minute and a half of a first build made vitest's own
  // calls from it time out ("Timeout calling onTaskUpdate").
  await promisify(execFile)("npm", ["run", "--silent", "build:binary"], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  dir = tempDir("hookd-binary-");
  binary = path.join(dir.dir, "hookd");
  copyFileSync(path.join(root, "dist", "hookd"), binary);
  receiver = await startReceiver();
}, 900_000);

afterAll(async () => {
  await receiver?.close();
  dir?.cleanup();
});

async function hookd(...args: string[]) {
  const child = spawn(binary, ["--json", ...args], {
    cwd: dir.dir,
    // No PATH: nothing from this machine's Node or node_modules can be found.
    env: { HOOKD_ENV: "test", HOOKD_DB: path.join(dir.dir, "hookd.sqlite"), TMPDIR: dir.dir },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const r = await collect(child);
  if (r.code !== 0) throw new Error(`hookd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("the single binary", () => {
  it("runs from an empty folder: version, migrate, publish, tick", async () => {
    expect(readdirSync(dir.dir)).toEqual(["hookd"]);
    expect(statSync(binary).mode & 0o111).not.toBe(0);

    const version = await collect(spawn(binary, ["--version"], { cwd: dir.dir, env: {} }));
    // Node 24 LTS, whichever Node ran the build.
    expect(version).toMatchObject({ code: 0, stdout: `hookd ${VERSION} (Node.js v${NODE_VERSION})\n` });

    const migrated = await hookd("migrate");
    expect(migrated.applied).toContain("001_initial");
    const customer = await hookd("customers", "create", "acme");
    await hookd(
      "webhooks",
      "create",
      "--customer",
      customer.id,
      "--url",
      `${receiver.url}/in`,
      "--group",
      "orders",
      "--action",
      "created",
      "--secret",
      "binsecret",
    );
    const published = await hookd("publish", "--customer", customer.id, "--topic", "orders:created", "--data", '{"order":1}');
    expect(published.deliveries).toBe(1);

    const summary = await hookd("tick");
    expect(summary).toMatchObject({ claimed: 1, delivered: 1, failed: 0 });
    const [request] = receiver.requests;
    expect(request!.body.toString()).toBe('{"order":1}');
    expect(request!.headers["x-event-id"]).toBe(published.id);
    expect(verifySignature("binsecret", request!.body, request!.headers["x-signature"] as string)).toBe(true);
    // The addon was unpacked to a private folder and removed again.
    expect(readdirSync(dir.dir).filter((f) => f.startsWith("hookd-"))).toEqual([]);
  });

  it("serves the console at /ui/ from its embedded files", async () => {
    const port = await closedPort();
    const child = spawn(binary, ["serve"], {
      cwd: dir.dir,
      env: { HOOKD_ENV: "test", HOOKD_DB: path.join(dir.dir, "ui.sqlite"), HOOKD_PORT: String(port), TMPDIR: dir.dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const done = collect(child);
    try {
      const url = `http://127.0.0.1:${port}`;
      await untilServing(url);
      const page = await fetch(`${url}/ui/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script src="/ui/app.js"');
      const script = await fetch(`${url}/ui/app.js`);
      expect(script.headers.get("content-type")).toMatch(/javascript/);
      expect(await script.text()).toContain("/ui/session");
    } finally {
      child.kill("SIGTERM");
      expect((await done).code).toBe(0);
    }
  });
});
