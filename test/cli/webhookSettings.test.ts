/**
 * `hookd webhooks create|update` with the delivery-settings flags and `hookd
 * event-types`, as a user runs them, on both stores: the same JSON as the API, bad
 * input exit 2 naming what is wrong with nothing changed, secrets never printed.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backends, migratedDatabase, type TempDatabase } from "../helpers/backends.js";
import { runCli } from "../helpers/cli.js";

const SECRET = "cli-client-secret-canary";

describe.each(backends)("settings from the command line (%s)", (backend) => {
  let database: TempDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  async function setup() {
    database = await migratedDatabase(backend);
    const env = { HOOKD_DB: database.url };
    const run = (args: string[]) => runCli(args, env);
    const json = async (args: string[]) => {
      const r = await run(["--json", ...args]);
      if (r.code !== 0) throw new Error(`hookd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
      return { out: JSON.parse(r.stdout), text: r.stdout };
    };
    const customer = (await json(["customers", "create", "Acme"])).out.id as string;
    return { run, json, customer, dir: database.dir };
  }

  it("webhooks create and update take every setting's flag; --reset restores defaults; secrets are never printed", { timeout: 120_000 }, async () => {
    const { run, json, customer } = await setup();
    const created = await json([
      "webhooks",
      "create",
      "--customer",
      customer,
      "--url",
      "http://127.0.0.1:9/in",
      "--group",
      "orders",
      "--action",
      "created",
      "--header",
      "X-Tenant: acme",
      "--header",
      "X-Api-Version:2",
      "--auth-oauth2-token-url",
      "http://127.0.0.1:9/token",
      "--auth-oauth2-client-id",
      "cid",
      "--auth-oauth2-client-secret",
      SECRET,
      "--auth-oauth2-scope",
      "hooks",
      "--timeout-ms",
      "5000",
      "--max-attempts",
      "4",
      "--retry-delays",
      "60, 300,3600",
      "--rate-limit",
      "2.5",
      "--filter",
      '{"status": "paid"}',
      "--ordered",
      "true",
      "--batch-size",
      "20",
      "--signing",
      "ed25519",
    ]);
    expect(created.out).toMatchObject({
      headers: { "X-Tenant": "acme", "X-Api-Version": "2" },
      auth: { type: "oauth2", token_url: "http://127.0.0.1:9/token", client_id: "cid", scope: "hooks" },
      timeout_ms: 5000,
      max_attempts: 4,
      retry_delays_seconds: [60, 300, 3600],
      rate_limit: 2.5,
      filter: { status: "paid" },
      ordered: true,
      batch_size: 20,
      signing: "ed25519",
      public_key: expect.stringMatching(/^whpk_/),
    });
    expect(created.text).not.toContain(SECRET);
    const id = created.out.id as string;

    const updated = await json(["webhooks", "update", id, "--auth-bearer", "tok-canary", "--ordered", "false", "--reset", "filter", "--reset", "headers"]);
    expect(updated.out).toMatchObject({ auth: { type: "bearer" }, ordered: false, filter: null, headers: {}, timeout_ms: 5000 });
    expect(updated.text).not.toContain("tok-canary");

    const shown = await run(["webhooks", "show", id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("retry_delays_seconds: [60,300,3600]");
    expect(shown.stdout).toContain('auth: {"type":"bearer"}');
    expect(shown.stdout).not.toContain("tok-canary");

    const reset = await json(["webhooks", "update", id, "--reset", "timeout_ms", "--reset", "signing", "--reset", "auth", "--reset", "batch_size"]);
    expect(reset.out).toMatchObject({ timeout_ms: null, signing: "hmac", public_key: null, auth: null, batch_size: 1 });
  });

  it("refuses bad flags with exit 2, naming what is wrong, and changes nothing", { timeout: 240_000 }, async () => {
    const { run, json, customer } = await setup();
    const base = ["webhooks", "create", "--customer", customer, "--url", "http://127.0.0.1:9/in", "--group", "orders", "--action", "created"];
    const cases: [string[], string][] = [
      [["--header", "X-Tenant"], "--header must be 'Name: value'"],
      [["--header", "Bad Name: x"], "headers.Bad Name: is not a valid header name"],
      [["--header", "host: example.com"], "headers.host: is reserved"],
      [["--timeout-ms", "soon"], "--timeout-ms must be a whole number"],
      [["--timeout-ms", "10"], "timeout_ms: must be an integer from 1000 to 10000"],
      [["--rate-limit", "0"], "rate_limit: must be a number of deliveries per second"],
      [["--filter", "{status"], "--filter must be JSON"],
      [["--filter", '{"a": {"$like": "x"}}'], 'filter["a"].$like: is not a known operator'],
      [["--batch-size", "1000"], "batch_size: must be an integer from 1 to 100"],
      [["--auth-bearer", "t", "--auth-oauth2-client-id", "c"], "either --auth-bearer or the --auth-oauth2-* options"],
      [["--auth-oauth2-client-id", "c"], "auth.token_url: is required"],
    ];
    // Side by side: each is refused before it writes anything.
    const refused = await Promise.all(cases.map(([flags]) => run([...base, ...flags])));
    for (const [i, [flags, message]] of cases.entries()) {
      expect(refused[i]!.code, flags.join(" ")).toBe(2);
      expect(refused[i]!.stderr, flags.join(" ")).toContain(message);
    }
    expect((await json(["webhooks", "list"])).out.count).toBe(0);

    const { out: hook } = await json([...base, "--timeout-ms", "3000"]);
    const bad = await run(["webhooks", "update", hook.id, "--reset", "colour"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--reset must name one of headers, auth");
    const both = await run(["webhooks", "update", hook.id, "--timeout-ms", "2000", "--reset", "timeout_ms"]);
    expect(both.code).toBe(2);
    expect((await json(["webhooks", "show", hook.id])).out.timeout_ms).toBe(3000);
  });

  it("event-types set, list, show and delete; publish then checks payloads (exit 2 naming each path)", { timeout: 120_000 }, async () => {
    const { run, json, customer, dir } = await setup();
    const file = path.join(dir, "order.schema.json");
    writeFileSync(file, JSON.stringify({ type: "object", required: ["id"], properties: { id: { type: "integer" } } }));
    const set = await json(["event-types", "set", "orders:created", "--schema", file, "--description", "a new order"]);
    expect(set.out).toMatchObject({ topic: "orders:created", description: "a new order", schema: { required: ["id"] } });
    expect((await json(["event-types", "list"])).out).toMatchObject({ count: 1, results: [{ topic: "orders:created" }] });
    expect((await json(["event-types", "show", "orders:created"])).out.description).toBe("a new order");

    const refused = await run(["publish", "--customer", customer, "--topic", "orders:created", "--data", '{"id": "x"}']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("does not match the schema of event type orders:created");
    expect(refused.stderr).toContain("payload /id: must be integer");
    expect((await run(["publish", "--customer", customer, "--topic", "orders:created", "--data", '{"id": 7}'])).code).toBe(0);

    writeFileSync(file, '{"type": "whole"}');
    const badSchema = await run(["event-types", "set", "orders:created", "--schema", file]);
    expect(badSchema.code).toBe(2);
    expect(badSchema.stderr).toContain("schema: does not compile");
    writeFileSync(file, "{not json");
    expect((await run(["event-types", "set", "orders:created", "--schema", file])).stderr).toContain("--schema: must be a file of JSON");
    expect((await json(["event-types", "show", "orders:created"])).out.schema.required).toEqual(["id"]);

    expect((await run(["event-types", "delete", "orders:created"])).code).toBe(0);
    const missing = await run(["event-types", "delete", "orders:created"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("event type orders:created not found");
  });
});
