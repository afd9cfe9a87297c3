/** `hookd serve` as systemd runs it: a real process serving the API beside the scheduler. */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/app.js";
import { collect, spawnCli, untilServing } from "../helpers/cli.js";
import { closedPort } from "../helpers/receiver.js";
import { serveSetup } from "../helpers/serve.js";

let dir: ReturnType<typeof tempDir> | undefined;
afterEach(() => dir?.cleanup());

describe("hookd serve", () => {
  it("serves the HTTP API on server.host/server.port and exits 0 on SIGTERM", async () => {
    dir = tempDir("hookd-serve-");
    const { env, url, key, customerId } = await serveSetup(dir.dir);
    const child = spawnCli(["serve"], env);
    const done = collect(child);
    expect((await untilServing(url)).status).toBe(200);
    const created = await fetch(`${url}/webhooks/`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ url: "http://127.0.0.1:9/hook", group: "orders", action: "created" }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { customer: string }).customer).toBe(customerId);

    child.kill("SIGTERM");
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/error/i);
  });

  it("exits 1 with a clear message when the port is taken", async () => {
    dir = tempDir("hookd-serve-");
    const env = { HOOKD_DB: path.join(dir.dir, "hookd.sqlite"), HOOKD_PORT: String(await closedPort()) };
    const first = spawnCli(["serve"], env);
    const firstDone = collect(first);
    await untilServing(`http://127.0.0.1:${env.HOOKD_PORT}`);
    const second = await collect(spawnCli(["serve"], env));
    first.kill("SIGTERM");
    expect((await firstDone).code).toBe(0);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/EADDRINUSE/);
  });
});
