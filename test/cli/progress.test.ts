import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { barValues } from "../../src/cli/progress.js";
import { tempDir } from "../helpers/app.js";
import { hasScript, runCli, runOnTerminal } from "../helpers/cli.js";
import { closedPort, startReceiver, type Receiver } from "../helpers/receiver.js";

describe("the tick progress bar's numbers", () => {
  it.each([
    [
      { total: 10, delivered: 0, failed: 0, rescheduled: 0, deferred: 0 },
      { done: 0, total: 10, delivered: 0, failed: 0, remaining: 10 },
    ],
    [
      { total: 10, delivered: 4, failed: 1, rescheduled: 2, deferred: 1 },
      { done: 8, total: 10, delivered: 4, failed: 3, remaining: 2 },
    ],
    // More than counted at the start (probes, deliveries that came due meanwhile): never negative.
    [
      { total: 2, delivered: 3, failed: 0, rescheduled: 0, deferred: 0 },
      { done: 3, total: 3, delivered: 3, failed: 0, remaining: 0 },
    ],
  ])("%j → %j", (progress, expected) => {
    expect(barValues(progress)).toEqual(expected);
  });
});

describe("hookd tick", () => {
  let dir: ReturnType<typeof tempDir>;
  let env: Record<string, string>;
  let receiver: Receiver;
  beforeAll(async () => {
    dir = tempDir("hookd-progress-");
    env = { HOOKD_DB: path.join(dir.dir, "hookd.sqlite") };
    receiver = await startReceiver();
    // The bar is the terminal's business, not the database's: SQLite only.
    expect((await runCli(["migrate"], env)).code).toBe(0);
  });
  afterAll(async () => {
    await receiver.close();
    dir.cleanup();
  });

  /** Publish `n` events to one working and one dead webhook. */
  async function backlog(n: number) {
    const run = async (...args: string[]) => JSON.parse((await runCli(["--json", ...args], env)).stdout);
    const customer = await run("customers", "create", "acme");
    await run("webhooks", "create", "--customer", customer.id, "--url", `${receiver.url}/in`, "--group", "orders", "--action", "created");
    const dead = `http://127.0.0.1:${await closedPort()}/in`;
    await run("webhooks", "create", "--customer", customer.id, "--url", dead, "--group", "orders", "--action", "created");
    for (let i = 0; i < n; i++) await run("publish", "--customer", customer.id, "--topic", "orders:created", "--data", "{}");
  }

  it.skipIf(!hasScript)("draws a bar on a terminal, and only there", async () => {
    await backlog(3);
    const tty = await runOnTerminal(["tick"], env);
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/sending \[.*\] \d+\/6 \| delivered \d+ \| failed \d+ \| remaining \d+/);
    expect(tty.stdout).toContain("delivered 3, failed 0, rescheduled 3");

    await backlog(1);
    const piped = await runCli(["tick"], env);
    expect(piped.stdout).not.toContain("sending [");
    expect(piped.stdout).toMatch(/^delivered 1, failed 0, rescheduled \d+/);
    const json = await runOnTerminal(["--json", "tick"], env);
    expect(json.stdout).not.toContain("sending [");
    expect(json.stdout).toContain('"claimed"');
  });
});
