import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends, migratedDatabase, type TempDatabase } from "../helpers/backends.js";
import { runCli } from "../helpers/cli.js";
import { closedPort, startReceiver, type Receiver } from "../helpers/receiver.js";

let database: TempDatabase | undefined;
let env: Record<string, string>;
let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => receiver.close());
afterEach(async () => database?.drop());

async function cli(...args: string[]) {
  const r = await runCli(args, env);
  if (r.code !== 0) throw new Error(`hookd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return args[0] === "--json" ? JSON.parse(r.stdout) : r.stdout;
}

describe.each(backends)("%s", (backend) => {
  describe("hookd status", () => {
    it("shows the backlog, what is due, the next tick and the failing webhooks", async () => {
      database = await migratedDatabase(backend);
      env = { HOOKD_DB: database.url };
      const empty = await cli("--json", "status");
      expect(empty).toMatchObject({
        env: "test",
        schedule: "*/5 * * * *",
        backlog: { pending: 0, delivered: 0, failed: 0, cancelled: 0 },
        due_now: 0,
        failing_webhooks: { count: 0, results: [] },
      });
      const nextTick = Date.parse(empty.next_tick_at);
      expect(nextTick).toBeGreaterThan(Date.parse(empty.now));
      expect(new Date(nextTick).getUTCMinutes() % 5).toBe(0);

      const customer = await cli("--json", "customers", "create", "acme");
      const dead = `http://127.0.0.1:${await closedPort()}/in`;
      const down = await cli("--json", "webhooks", "create", "--customer", customer.id, "--url", dead, "--group", "orders", "--action", "created");
      await cli("--json", "webhooks", "create", "--customer", customer.id, "--url", `${receiver.url}/ok`, "--group", "orders", "--action", "created");
      for (let i = 0; i < 2; i++) await cli("--json", "publish", "--customer", customer.id, "--topic", "orders:created", "--data", "{}");
      const before = await cli("--json", "status");
      expect(before).toMatchObject({ backlog: { pending: 4 }, due_now: 4 });

      await cli("--json", "tick");
      const after = await cli("--json", "status");
      expect(after).toMatchObject({ backlog: { pending: 2, delivered: 2, failed: 0 }, due_now: 0 });
      expect(after.failing_webhooks.count).toBe(1);
      const [failing] = after.failing_webhooks.results;
      expect(failing).toMatchObject({ id: down.id, url: dead, active: true, last_error: "refused", pending: 2, consecutive_failures: 1 });
      expect(Date.parse(failing.next_attempt_at)).toBeGreaterThan(Date.parse(after.now));
      // Tried by the first scheduled tick once it is eligible.
      expect(Date.parse(failing.next_tick_at)).toBeGreaterThanOrEqual(Date.parse(failing.next_attempt_at));
      expect(Date.parse(failing.next_tick_at) - Date.parse(failing.next_attempt_at)).toBeLessThanOrEqual(5 * 60_000);

      const human = await cli("status");
      expect(human).toContain("backlog    pending 2 (due now 0), failed 0, delivered 2, cancelled 0");
      expect(human).toContain("failing    1 webhook(s)");
      // Two requests in flight together, both refused: the breaker opened on that round.
      expect(failing).toMatchObject({ breaker: "open", breaker_reason: "all 2 requests of a round timed out or were refused" });
      expect(human).toMatch(
        new RegExp(
          `${down.id}\\s+orders:created\\s+\\S+\\s+\\S+\\s+1\\s+2\\s+refused\\s+open: all 2 requests of a round timed out or were refused\\s+${failing.next_tick_at}`,
        ),
      );
    });
  });
});
