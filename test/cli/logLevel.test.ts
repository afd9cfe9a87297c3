/**
 * `hookd tick` on a terminal shows the progress bar and the summary, not pino's JSON
 * lines beside them, unless something went wrong or more was asked for (issue 22,
 * item 10). Piped (cron, systemd), the logs are kept as log.level says.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliLogLevel } from "../../src/cli/logLevel.js";
import { tempDir } from "../helpers/app.js";
import { hasScript, runCli, runOnTerminal } from "../helpers/cli.js";
import { closedPort, startReceiver, type Receiver } from "../helpers/receiver.js";

describe("cliLogLevel", () => {
  it.each([
    { flag: undefined, configured: "info", terminal: true, daemon: false, level: "warn" },
    { flag: undefined, configured: "info", terminal: false, daemon: false, level: "info" },
    { flag: undefined, configured: "info", terminal: true, daemon: true, level: "info" },
    { flag: undefined, configured: "debug", terminal: true, daemon: false, level: "debug" },
    { flag: undefined, configured: "error", terminal: true, daemon: false, level: "error" },
    { flag: undefined, configured: "silent", terminal: true, daemon: false, level: "silent" },
    { flag: "info", configured: "info", terminal: true, daemon: false, level: "info" },
    { flag: "silent", configured: "info", terminal: false, daemon: false, level: "silent" },
  ] as const)("$configured on a terminal: $terminal, daemon: $daemon, --log-level $flag → $level", ({ level, ...input }) => {
    expect(cliLogLevel(input)).toBe(level);
  });
});

describe("hookd tick's logs", () => {
  let dir: ReturnType<typeof tempDir>;
  let env: Record<string, string>;
  let receiver: Receiver;
  let customer: string;
  const run = async (...args: string[]) => JSON.parse((await runCli(["--json", ...args], env)).stdout);
  /** pino's JSON lines in some output (on a terminal, maybe after the bar's control sequences on the same line) */
  const logLines = (text: string) => text.match(/\{"level":[^\r\n]*\}/g) ?? [];
  const publish = () => run("publish", "--customer", customer, "--topic", "orders:created", "--data", "{}");

  beforeAll(async () => {
    dir = tempDir("hookd-loglevel-");
    // sandbox: the shipped log.level (info), as a new user has it.
    env = { HOOKD_ENV: "sandbox", HOOKD_DB: path.join(dir.dir, "hookd.sqlite") };
    receiver = await startReceiver();
    expect((await runCli(["migrate"], env)).code).toBe(0);
    customer = (await run("customers", "create", "acme")).id;
    await run("webhooks", "create", "--customer", customer, "--url", `${receiver.url}/in`, "--group", "orders", "--action", "created");
  });
  afterAll(async () => {
    await receiver.close();
    dir.cleanup();
  });

  it("piped: log.level's lines on stderr, as a journal or a cron mail wants them; --log-level sets the level", async () => {
    await publish();
    const piped = await runCli(["tick"], env);
    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(/^delivered 1, failed 0/);
    expect(logLines(piped.stdout)).toEqual([]);
    expect(logLines(piped.stderr).map((l) => JSON.parse(l).msg)).toContain("tick");

    await publish();
    const quiet = await runCli(["--log-level", "warn", "tick"], env);
    expect(quiet.stdout).toMatch(/^delivered 1, failed 0/);
    expect(quiet.stderr).toBe("");

    const bad = await runCli(["--log-level", "loud", "tick"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--log-level must be one of fatal, error, warn, info, debug, trace, silent");
  });

  it.skipIf(!hasScript)("on a terminal: the summary alone unless something went wrong; --log-level info for more", async () => {
    await publish();
    const tty = await runOnTerminal(["tick"], env);
    expect(tty.code).toBe(0);
    expect(tty.stdout).toContain("delivered 1, failed 0");
    expect(logLines(tty.stdout)).toEqual([]);

    await publish();
    const more = await runOnTerminal(["--log-level", "info", "tick"], env);
    expect(logLines(more.stdout).map((l) => JSON.parse(l).msg)).toContain("tick");

    // Something went wrong: a warning still shows.
    const dead = `http://127.0.0.1:${await closedPort()}/in`;
    await run("webhooks", "create", "--customer", customer, "--url", dead, "--group", "orders", "--action", "updated");
    await run("publish", "--customer", customer, "--topic", "orders:updated", "--data", "{}");
    const failing = await runOnTerminal(["tick"], env);
    expect(failing.stdout).toContain("rescheduled 1");
    const lines = logLines(failing.stdout).map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.level >= 40)).toBe(true);
  });
});
