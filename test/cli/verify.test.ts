import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveryHeaders } from "../../src/dispatch/request.js";
import { generateSigningKey, publicKeyOf } from "../../src/domain/signing.js";
import { tempDir } from "../helpers/app.js";
import { VERIFY_MAX_BYTES } from "../../src/cli/verify.js";
import { CLI, runCli, runShell } from "../helpers/cli.js";

const body = Buffer.from('{ "order": 1, "note": "🚚" }\n');
const secret = "whsec-test";
const signature = createHmac("sha256", secret).update(body).digest("hex");
let dir: ReturnType<typeof tempDir>;
let file: string;
beforeAll(() => {
  dir = tempDir("hookd-verify-");
  file = path.join(dir.dir, "body.json");
  writeFileSync(file, body);
});
afterAll(() => dir.cleanup());

// No database or config is needed: a broken HOOKD_ENV proves none is read.
const env = { HOOKD_ENV: "nonsense" };

describe("hookd verify", () => {
  it("exits 0 for a valid signature, from a file or stdin", async () => {
    expect(await runCli(["verify", "--secret", secret, "--signature", signature, file], env)).toMatchObject({ code: 0, stdout: "valid signature\n" });
    expect(await runCli(["verify", "--secret", secret, "--signature", signature.toUpperCase()], env, { stdin: body })).toMatchObject({ code: 0 });
    const json = await runCli(["--json", "verify", "--secret", secret, "--signature", signature, file], env);
    expect(JSON.parse(json.stdout)).toEqual({ valid: true, reason: null });
  });

  it.each([
    ["a tampered body", { stdin: Buffer.from('{ "order": 2, "note": "🚚" }\n') }, signature, "does not match"],
    ["a wrong secret", { secret: "other" }, signature, "does not match"],
    ["a malformed signature", {}, "sha256=abc", "malformed"],
  ])("exits 1 for %s, saying why and never the secret", async (_name, change: { stdin?: Buffer; secret?: string }, sig, reason) => {
    const r = await runCli(["verify", "--secret", change.secret ?? secret, "--signature", sig], env, { stdin: change.stdin ?? body });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("hookd: invalid signature: ");
    expect(r.stderr).toContain(reason);
    expect(r.stderr).not.toContain(change.secret ?? secret);
  });

  it("exits 2 for usage errors, 1 when there is no body to check (as the README says: 1 otherwise)", async () => {
    const missing = await runCli(["verify", "--secret", secret, file], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--signature");
    const unreadable = await runCli(["verify", "--secret", secret, "--signature", signature, path.join(dir.dir, "nope.json")], env);
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr).toContain("cannot read");
    expect(unreadable.stderr).not.toMatch(/\n\s+at /);
  });

  it("reads a body piped slowly through a shell, and says when stdin is too large", async () => {
    const big = Buffer.from(JSON.stringify({ items: "x".repeat(70 * 1024) }));
    const bigFile = path.join(dir.dir, "big.json");
    writeFileSync(bigFile, big);
    const sig = createHmac("sha256", secret).update(big).digest("hex");
    // The writer starts late: a synchronous read of a non-blocking pipe fails with EAGAIN.
    const piped = await runShell(`(sleep 0.2; cat ${bigFile}) | "${process.execPath}" "${CLI}" verify --secret ${secret} --signature ${sig}`);
    expect(piped).toMatchObject({ code: 0, stdout: "valid signature\n" });

    const huge = await runShell(`head -c ${VERIFY_MAX_BYTES + 1} /dev/zero | "${process.execPath}" "${CLI}" verify --secret ${secret} --signature ${sig}`);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toContain("stdin is too large");
  });

  it("accepts any of several --secret values (a receiver mid-rotation)", async () => {
    expect(await runCli(["verify", "--secret", "old", "--secret", secret, "--signature", signature, file], env)).toMatchObject({ code: 0 });
  });
});

describe("hookd verify --standard", () => {
  // Headers exactly as hookd sends them, signed `agoMs` ago (a captured request replayed that much later).
  const sent = (agoMs: number) => {
    const h = deliveryHeaders(
      {
        url: "",
        body,
        secret: "new",
        previousSecrets: JSON.stringify([{ secret, expires_at: Date.now() + 60_000 }]),
        webhookId: "w",
        eventId: "evt_1",
        deliveryId: "d",
        topic: "orders:created",
        attemptNumber: 1,
      },
      Date.now() - agoMs,
    );
    return ["--standard", "--id", h["webhook-id"]!, "--timestamp", h["webhook-timestamp"]!, "--signature", h["webhook-signature"]!];
  };

  it("exits 0 for a genuine request, under either valid secret", async () => {
    expect(await runCli(["verify", ...sent(0), "--secret", secret, file], env)).toMatchObject({ code: 0, stdout: "valid signature\n" });
    expect(await runCli(["verify", ...sent(0), "--secret", "new"], env, { stdin: body })).toMatchObject({ code: 0 });
  });

  it("refuses a request replayed after the 5-minute tolerance, unless told a longer one", async () => {
    const replay = await runCli(["verify", ...sent(6 * 60_000), "--secret", secret, file], env);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toMatch(/hookd: invalid signature: webhook-timestamp is 3\d\d s old, more than the 300 s allowed/);
    expect(await runCli(["verify", ...sent(6 * 60_000), "--tolerance", "600", "--secret", secret, file], env)).toMatchObject({ code: 0 });
  });

  it("exits 1 for a tampered body or a wrong secret, never printing the secret", async () => {
    const tampered = await runCli(["--json", "verify", ...sent(0), "--secret", secret], env, { stdin: Buffer.from("{}") });
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout)).toMatchObject({ valid: false, reason: expect.stringContaining("no webhook-signature entry matches") });
    const wrong = await runCli(["verify", ...sent(0), "--secret", "nope-secret", file], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).not.toContain("nope-secret");
  });

  it("checks v1a (signing ed25519) with the webhook's public key as --secret", async () => {
    const key = generateSigningKey();
    const h = deliveryHeaders(
      { url: "", body, secret: null, signingKey: key, webhookId: "w", eventId: "evt_1", deliveryId: "d", topic: "orders:created", attemptNumber: 1 },
      Date.now(),
    );
    const args = ["verify", "--standard", "--id", h["webhook-id"]!, "--timestamp", h["webhook-timestamp"]!, "--signature", h["webhook-signature"]!];
    expect(await runCli([...args, "--secret", publicKeyOf(key), file], env)).toMatchObject({ code: 0, stdout: "valid signature\n" });
    expect((await runCli([...args, "--secret", publicKeyOf(generateSigningKey()), file], env)).code).toBe(1);
  });

  it("exits 2 when --id or --timestamp is missing", async () => {
    const r = await runCli(["verify", "--standard", "--secret", secret, "--signature", "v1,x", file], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--id: is required with --standard");
    expect(r.stderr).toContain("--timestamp: is required with --standard");
  });
});
