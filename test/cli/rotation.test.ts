/**
 * `hookd webhooks rotate-secret` as a user runs it: the new secret shown once, the
 * overlap respected by real deliveries, and no secret in any other output or log.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/app.js";
import { runCli } from "../helpers/cli.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

let dir: ReturnType<typeof tempDir>;
let env: Record<string, string>;
let receiver: Receiver;
beforeAll(async () => {
  dir = tempDir("hookd-rotate-");
  // Everything logged, so the test sees any secret that would reach a log.
  const config = path.join(dir.dir, "hookd.json");
  writeFileSync(config, JSON.stringify({ log: { level: "trace" } }));
  env = { HOOKD_DB: path.join(dir.dir, "hookd.sqlite"), HOOKD_CONFIG: config };
  receiver = await startReceiver();
  // As an operator starts: only migrate (or serve) creates the database.
  expect((await runCli(["migrate"], env)).code).toBe(0);
});
afterAll(async () => {
  await receiver.close();
  dir.cleanup();
});

const hookd = (args: string[]) => runCli(args, env);
const json = async (args: string[]) => {
  const r = await hookd(["--json", ...args]);
  if (r.code !== 0) throw new Error(`hookd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

describe("hookd webhooks rotate-secret", () => {
  it("shows the new secret once; deliveries carry both secrets during the overlap; nothing else prints a secret", async () => {
    const customer = await json(["customers", "create", "Acme"]);
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
      "first-secret",
    ]);

    const text = await hookd(["webhooks", "rotate-secret", hook.id]);
    expect(text.code).toBe(0);
    const generated = /^hash_secret: (whsec_\S+)$/m.exec(text.stdout)?.[1];
    expect(generated).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(text.stdout).toContain("shown only this once");
    const expires = Date.parse(/^previous_secret_expires_at: (\S+)$/m.exec(text.stdout)![1]!);
    expect(expires - Date.now()).toBeGreaterThan(86_000_000); // security.secretRotationOverlapSeconds, a day

    await json(["publish", "--customer", customer.id, "--topic", "orders:created", "--data", '{"n":1}']);
    const tick = await hookd(["--json", "tick"]);
    expect(JSON.parse(tick.stdout)).toMatchObject({ delivered: 1 });
    const sent = receiver.requests.at(-1)!;
    const headers = sent.headers as Record<string, string>;
    new StandardWebhook(generated!).verify(sent.body.toString(), headers);
    new StandardWebhook("first-secret", { format: "raw" }).verify(sent.body.toString(), headers);

    const chosen = await json(["webhooks", "rotate-secret", hook.id, "--secret", "third-secret", "--overlap", "0"]);
    expect(chosen).toMatchObject({ id: hook.id, hash_secret: "third-secret", previous_secret_expires_at: null });

    const outputs = [text.stderr, tick.stderr];
    for (const args of [["webhooks", "show", hook.id], ["webhooks", "list"], ["--json", "webhooks", "list"], ["status"], ["deliveries", "list"]]) {
      const r = await hookd(args);
      expect(r.code).toBe(0);
      outputs.push(r.stdout, r.stderr);
    }
    for (const out of outputs) {
      for (const secret of ["first-secret", generated!, "third-secret"]) expect(out).not.toContain(secret);
    }
  }, 60_000);

  it("refuses bad input with exit 2 and a clear message, a missing webhook with exit 1", async () => {
    const overlap = await hookd(["webhooks", "rotate-secret", "00000000-0000-0000-0000-000000000000", "--overlap", "-5"]);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toContain("--overlap must be a whole number of seconds");
    const secret = await hookd(["webhooks", "rotate-secret", "00000000-0000-0000-0000-000000000000", "--secret", "whsec_??"]);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain("hash_secret: a secret starting with whsec_ must continue with base64");
    const missing = await hookd(["webhooks", "rotate-secret", "00000000-0000-0000-0000-000000000000"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("not found");
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });
});
