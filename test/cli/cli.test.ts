import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { asAdmin, backends, migratedDatabase, tempDatabase, type Backend, type TempDatabase } from "../helpers/backends.js";
import { VERSION } from "../../src/version.js";
import { CLI, runCli, runShell } from "../helpers/cli.js";

let database: TempDatabase | undefined;
let dir: { dir: string };
let env: Record<string, string>;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver((req, res) => res.writeHead(req.path === "/fail" ? 500 : 200).end());
});
afterAll(async () => receiver.close());
afterEach(async () => {
  await database?.drop();
  database = undefined;
});

const tablesIn = (schema: string) =>
  asAdmin(async (c) => (await c.query("select table_name from information_schema.tables where table_schema = $1", [schema])).rows);

/** This test's database: fresh (as a new user has it) or migrated. */
async function use(backend: Backend, migrated = true): Promise<void> {
  database = migrated ? await migratedDatabase(backend) : await tempDatabase(backend);
  dir = { dir: database.dir };
  env = { HOOKD_DB: database.url };
}

const json = async (args: string[], options: { stdin?: string | Buffer } = {}) => {
  const r = await runCli(["--json", ...args], env, options);
  expect(r.stderr).not.toMatch(/\n\s+at /); // never a stack trace
  if (r.code !== 0) throw new Error(`hookd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

describe.each(backends)("%s", (backend) => {
  describe("hookd CLI", () => {
    // About twenty CLI processes one after another: room for a busy machine.
    it("runs the whole flow with --json output in the API's shapes", { timeout: 180_000 }, async () => {
      await use(backend, false);
      const migrated = await json(["migrate"]);
      expect(migrated.applied[0]).toBe("001_initial");
      expect(migrated.applied.at(-1)).toBe(migrated.current);
      const customer = await json(["customers", "create", "Acme Inc"]);
      expect(customer).toMatchObject({ name: "Acme Inc" });
      expect(customer.api_key).toMatch(/^hk_cus_/);
      const admin = await json(["keys", "create", "--admin"]);
      expect(admin).toMatchObject({ admin: true, customer: null });
      const key = await json(["keys", "create", "--customer", customer.id]);
      expect(key).toMatchObject({ admin: false, customer: customer.id });
      // The same field name as customers create.
      expect(key.api_key).toMatch(/^hk_cus_/);
      expect(admin.api_key).toMatch(/^hk_adm_/);

      const hook = await json([
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
        "topsecret",
      ]);
      expect(hook).toMatchObject({
        customer: customer.id,
        group: "orders",
        action: "created",
        topic: "orders:created",
        active: true,
        hash_secret: "topsecret",
      });
      const failing = await json([
        "webhooks",
        "create",
        "--customer",
        customer.id,
        "--url",
        `${receiver.url}/fail`,
        "--group",
        "orders",
        "--action",
        "created",
      ]);

      const page = await json(["webhooks", "list"]);
      expect(page).toMatchObject({ count: 2, next: null, previous: null });
      expect(page.results.map((w: { id: string }) => w.id).sort()).toEqual([hook.id, failing.id].sort());
      expect(page.results[0]).not.toHaveProperty("hash_secret");

      const exact = Buffer.from('{ "emoji": "🚚",  "spaced" : true }\n', "utf8");
      const file = path.join(dir.dir, "payload.json");
      writeFileSync(file, exact);
      const published = await json(["publish", "--customer", customer.id, "--topic", "orders:created", "--file", file, "--idempotency-key", "k1"]);
      expect(published).toEqual({ id: expect.any(String), topic: "orders:created", deliveries: 2 });
      const repeated = await json(["publish", "--customer", customer.id, "--topic", "orders:created", "--file", file, "--idempotency-key", "k1"]);
      expect(repeated.id).toBe(published.id);
      const reused = await runCli(["publish", "--customer", customer.id, "--topic", "orders:created", "--data", "{}", "--idempotency-key", "k1"], env);
      expect(reused.code).toBe(1);
      expect(reused.stderr).toContain(`hookd: idempotency key "k1" was already used for a different event (${published.id})`);
      const fromStdin = await json(["publish", "--customer", customer.id, "--topic", "orders:updated", "--file", "-"], { stdin: "[1,2,3]" });
      expect(fromStdin.deliveries).toBe(0);

      const summary = await json(["tick"]);
      expect(summary).toMatchObject({ claimed: 2, delivered: 1, rescheduled: 1, failed: 0, deferred: 0, interrupted: false, error: null });
      expect(receiver.requests.find((r) => r.path === "/in")!.body.equals(exact)).toBe(true);

      const pending = await json(["deliveries", "list", "--status", "pending"]);
      expect(pending.count).toBe(1);
      expect(pending.results[0]).toMatchObject({ webhook: failing.id, attempts: 1, last_status_code: 500 });
      expect(pending.results[0].history).toHaveLength(1);
      const byHook = await json(["deliveries", "list", "--webhook", hook.id]);
      expect(byHook.results.map((d: { status: string }) => d.status)).toEqual(["delivered"]);

      const updated = await json(["webhooks", "update", failing.id, "--active", "false"]);
      expect(updated.active).toBe(false);
      await json(["webhooks", "delete", failing.id]);
      const cancelled = await json(["deliveries", "list", "--status", "cancelled"]);
      expect(cancelled.count).toBe(1);
      expect((await json(["webhooks", "list"])).count).toBe(1);
    });

    it("publishes a large payload piped slowly to --file -, and says when stdin is too large", async () => {
      await use(backend);
      const big = JSON.stringify({ items: "x".repeat(70 * 1024) });
      const file = path.join(dir.dir, "order.json");
      writeFileSync(file, big);
      const existing = JSON.parse((await runCli(["--json", "customers", "create", "Existing"], env)).stdout).id;
      const cli = `"${process.execPath}" "${CLI}" --json publish --customer ${existing} --topic orders:created --file -`;
      const piped = await runShell(`(sleep 0.2; cat ${file}) | ${cli}`, env);
      expect(piped.stderr).toBe("");
      expect(piped.code).toBe(0);
      expect(JSON.parse(piped.stdout)).toMatchObject({ topic: "orders:created" });

      writeFileSync(path.join(dir.dir, "small.json"), JSON.stringify({ limits: { maxPayloadBytes: 1024 } }));
      const limited = await runShell(`cat ${file} | ${cli}`, { ...env, HOOKD_CONFIG: path.join(dir.dir, "small.json") });
      expect(limited.code).toBe(2);
      expect(limited.stderr).toContain("stdin is too large: more than 1024 bytes");
    });

    it("escapes control characters a tenant put in a URL before the operator's terminal sees them", async () => {
      await use(backend);
      const customer = JSON.parse((await runCli(["--json", "customers", "create", "Evil\u001b]0;owned\u0007"], env)).stdout);
      const list = await runCli(["customers", "create", "Evil\u001b[2J"], env);
      expect(list.stdout).toContain("Evil\\x1b[2J");
      expect(list.stdout).not.toContain("\u001b");
      const created = await runCli(
        ["webhooks", "create", "--customer", customer.id, "--url", `${receiver.url}/a\u001b[2Jb`, "--group", "orders", "--action", "created"],
        env,
      );
      expect(created.code).toBe(2);
      expect(created.stderr).toContain("must not contain whitespace, control characters");
      expect(created.stderr).not.toContain("\u001b");
    });

    it("replays failed deliveries", async () => {
      await use(backend);
      const failEnv = { ...env, HOOKD_CONFIG: path.join(dir.dir, "one-try.json") };
      writeFileSync(failEnv.HOOKD_CONFIG, JSON.stringify({ retry: { maxAttempts: 1 } }));
      const run = async (args: string[]) => JSON.parse((await runCli(["--json", ...args], failEnv)).stdout);
      const customer = await run(["customers", "create", "Replay"]);
      await run(["webhooks", "create", "--customer", customer.id, "--url", `${receiver.url}/fail`, "--group", "stock", "--action", "updated"]);
      await run(["publish", "--customer", customer.id, "--topic", "stock:updated", "--data", "{}"]);
      expect(await run(["tick"])).toMatchObject({ failed: 1 });
      const failed = await run(["deliveries", "list", "--status", "failed", "--customer", customer.id]);
      expect(failed.count).toBe(1);
      const retried = await run(["deliveries", "retry", failed.results[0].id]);
      expect(retried).toMatchObject({ status: "pending", attempts: 1 });
      expect(await run(["tick"])).toMatchObject({ failed: 1 });
      expect(await run(["deliveries", "retry", "--failed"])).toEqual({ retried: 1 });
    });

    it("works only on an existing hookd database except migrate and serve: a mistyped one is exit 1, named, and not created", async () => {
      await use(backend, false); // SQLite: a folder without the file; PostgreSQL: an empty schema
      const url = backend === "sqlite" ? path.join(dir.dir, "hookd.sqlte") : env.HOOKD_DB!;
      for (const args of [["status"], ["webhooks", "list"], ["customers", "create", "Acme"], ["tick"]]) {
        const r = await runCli(args, { HOOKD_DB: url });
        expect(r.code, args.join(" ")).toBe(1);
        expect(r.stderr).toContain(
          backend === "sqlite" ? `hookd: there is no database at ${url}: check HOOKD_DB` : `hookd: the database ${url} has no hookd tables`,
        );
      }
      if (backend === "sqlite") expect(existsSync(url)).toBe(false);
      else expect(await tablesIn(database!.schema!)).toEqual([]);
      expect((await runCli(["migrate"], { HOOKD_DB: url })).code).toBe(0);
      expect((await runCli(["status"], { HOOKD_DB: url })).code).toBe(0);
    });

    const cases: [string[], number, string][] = [
      [["webhooks", "create", "--url", "http://x.test/"], 2, "required option '--customer"],
      [["webhooks", "list", "--customer", ""], 2, "--customer must be a customer id, not empty"],
      [["webhooks", "list", "--customer", "missing"], 1, "customer missing not found"],
      [["webhooks", "create", "--customer", "missing", "--url", "http://x.test/", "--group", "orders", "--action", "created"], 1, "customer missing not found"],
      [["publish", "--customer", "missing", "--topic", "orders:created", "--data", "{}"], 1, "customer missing not found"],
      [["keys", "create", "--customer", "missing"], 1, "customer missing not found"],
      [["deliveries", "list", "--customer", "missing"], 1, "customer missing not found"],
      [["nonsense\u001b[31m"], 2, "unknown command 'nonsense\\x1b[31m'"],
      [["nonsense"], 2, "unknown command"],
      [["webhooks", "update", "abc", "--active", "maybe"], 2, "--active must be true or false"],
      [["webhooks", "list", "--limit", "0"], 2, "--limit must be a whole number"],
      // Numbers as the API reads them (issue 19): decimal digits within the range, or exit 2 naming the flag.
      [["webhooks", "list", "--page", "1e400"], 2, "--page must be a whole number from 1 to 1000000000"],
      [["webhooks", "list", "--page", "1000000001"], 2, "--page must be a whole number from 1 to 1000000000"],
      [["deliveries", "list", "--limit", "9".repeat(400)], 2, "--limit must be a whole number from 1 to 500"],
      [["webhooks", "rotate-secret", "abc", "--overlap", "Infinity"], 2, "--overlap must be a whole number of seconds from 0 to 2592000"],
      [["prune", "--days", "1e3"], 2, "--days must be a whole number from 1 to 36500"],
      [
        ["verify", "--secret", "s", "--signature", "v1,x", "--standard", "--tolerance", "9".repeat(400)],
        2,
        "--tolerance must be a whole number of seconds from 0 to 31536000",
      ],
      [["webhooks", "create", "--customer", "CUSTOMER", "--url", "ftp://x", "--group", "orders", "--action", "created"], 2, "url:"],
      [["publish", "--customer", "CUSTOMER", "--topic", "orders:created", "--data", "{oops"], 2, "payload: must be valid JSON"],
      [["publish", "--customer", "CUSTOMER", "--topic", "orders:created"], 2, "give exactly one of --data JSON or --file FILE"],
      [["publish", "--customer", "CUSTOMER", "--topic", "orders:created", "--file", "/nonexistent.json"], 2, "cannot read /nonexistent.json"],
      [["webhooks", "delete", "00000000-0000-0000-0000-000000000000"], 1, "webhook 00000000-0000-0000-0000-000000000000 not found"],
      [["deliveries", "retry", "nope"], 1, "delivery nope not found"],
    ];
    // Usage errors stop before the database is used: one backend is enough for them.
    it.each(cases.filter(([, code]) => code === 1 || backend === "sqlite"))("hookd %j exits %i with a clear message", async (args, code, message) => {
      await use(backend);
      // A customer that exists, for the cases that must fail on something else.
      const existing = JSON.parse((await runCli(["--json", "customers", "create", "Existing"], env)).stdout).id;
      const r = await runCli(
        args.map((a) => (a === "CUSTOMER" ? existing : a)),
        env,
      );
      expect(r.code).toBe(code);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });

    // Usage and config errors stop before the database is used: one backend is enough.
    if (backend === "sqlite")
      it("stops on a bad config with exit 2, naming the key and the file", async () => {
        await use(backend);
        const bad = path.join(dir.dir, "bad.json");
        writeFileSync(bad, JSON.stringify({ dispatch: { concurency: 3 } }));
        const r = await runCli(["--config", bad, "tick"], env);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain('unknown key "dispatch.concurency"');
        expect(r.stderr).toContain(bad);
        const badEnv = await runCli(["tick"], { ...env, HOOKD_ENV: "staging" });
        expect(badEnv.code).toBe(2);
        expect(badEnv.stderr).toContain("HOOKD_ENV must be one of production, sandbox, test");
      });

    // Usage and file-level behaviour: the same on every backend, so once.
    if (backend === "sqlite")
      it("exits 1 when the database cannot be opened", async () => {
        await use(backend);
        const notADir = path.join(dir.dir, "a-file");
        writeFileSync(notADir, "not a folder");
        const r = await runCli(["migrate"], { HOOKD_DB: `${notADir}/db.sqlite` });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`cannot open the SQLite database ${notADir}/db.sqlite`);
      });

    // Usage and file-level behaviour: the same on every backend, so once.
    if (backend === "sqlite")
      it("prints its version and help with exit 0", async () => {
        await use(backend);
        const v = await runCli(["--version"], env);
        expect(v.code).toBe(0);
        expect(v.stdout).toBe(`hookd ${VERSION} (Node.js ${process.version})\n`);
        expect((await runCli(["--help"], env)).code).toBe(0);
      });
  });
});
