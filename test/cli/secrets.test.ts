/**
 * Secrets at rest as an operator meets them, through the built CLI in child processes
 * on both stores: deliveries verify (standardwebhooks) before and after `hookd secrets
 * rekey` and after the old key line is removed; a store without its key (a copied
 * SQLite file, another key file) sends nothing, saying which key it lacks, until the
 * key is back.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openApp } from "../../src/app.js";
import { generateKeyLine } from "../../src/domain/secretBox.js";
import { silentLogger } from "../../src/logger.js";
import { openWebhookSecrets } from "../../src/store/sealedColumns.js";
import { backends, tempDatabase, type TempDatabase } from "../helpers/backends.js";
import { runCli } from "../helpers/cli.js";
import { startVerifyingReceiver, type VerifyingReceiver } from "../helpers/verifyingReceiver.js";

const S1 = `whsec_${Buffer.from("the first secret, 32 bytes long!").toString("base64")}`;

let receiver: VerifyingReceiver;
let database: TempDatabase | undefined;
beforeAll(async () => {
  receiver = await startVerifyingReceiver();
});
afterAll(async () => receiver.close());
afterEach(async () => {
  await database?.drop();
  database = undefined;
  receiver.requests.length = 0;
  receiver.verdicts.length = 0;
});

async function hookd(args: string[], env: Record<string, string>) {
  const r = await runCli(["--json", ...args], env);
  if (r.code !== 0) throw new Error(`hookd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return { out: JSON.parse(r.stdout), stderr: r.stderr };
}

/** A store with a customer and one webhook whose secret was rotated once (so previous_secrets is sealed too). */
async function setUp(kind: (typeof backends)[number], keyLine: string) {
  database = await tempDatabase(kind);
  const keyFile = path.join(database.dir, "keys");
  writeFileSync(keyFile, `${keyLine}\n`, { mode: 0o600 });
  const env = { HOOKD_DB: database.url, HOOKD_ENCRYPTION_KEY_FILE: keyFile };
  await hookd(["migrate"], env);
  const customer = (await hookd(["customers", "create", "Acme"], env)).out;
  const hook = (
    await hookd(
      ["webhooks", "create", "--customer", customer.id, "--url", `${receiver.url}/in`, "--group", "orders", "--action", "created", "--secret", S1],
      env,
    )
  ).out;
  const S2 = (await hookd(["webhooks", "rotate-secret", hook.id], env)).out.hash_secret as string;
  receiver.secrets = [S1, S2];
  const publish = () => hookd(["publish", "--customer", customer.id, "--topic", "orders:created", "--data", '{"n":1}'], env);
  return { env, keyFile, hook, S2, publish };
}

describe.each(backends)("secrets at rest through the CLI (%s)", (kind) => {
  it("deliveries verify before and after hookd secrets rekey, and after the old key line is removed", { timeout: 180_000 }, async () => {
    const old = generateKeyLine("old");
    const { env, keyFile, publish } = await setUp(kind, old);
    const deliverOne = async () => {
      await publish();
      expect((await hookd(["tick"], env)).out).toMatchObject({ delivered: 1, deferred: 0 });
    };
    await deliverOne();

    const line = (await runCli(["secrets", "generate-key", "--id", "new"], {})).stdout.trim();
    expect(line).toMatch(/^new:[A-Za-z0-9+/]{43}=$/);
    writeFileSync(keyFile, `${line}\n${old}\n`);
    const rekey = await hookd(["secrets", "rekey"], env);
    expect(rekey.out).toEqual({ key: "new", resealed: 2, from_plaintext: 0, unreadable: {}, by_key: { new: 2 }, in_clear: 0 });
    await deliverOne();

    writeFileSync(keyFile, `${line}\n`);
    await deliverOne();
    const again = await runCli(["secrets", "rekey"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(
      'encrypted 0 secret(s) anew under key "new"\nevery stored secret is under "new" now: the key file\'s other lines can be removed\n',
    );
    expect((await hookd(["status"], env)).out.secrets).toEqual({ first_key: "new", by_key: { new: 2 }, in_clear: 0, missing_keys: [], waiting: [] });
    expect(receiver.verdicts).toEqual(["ok", "ok", "ok"]);
  });

  it("hookd migrate encrypts the secrets an older hookd stored in clear, says how many, and leaves sealed ones alone", { timeout: 120_000 }, async () => {
    const { env, hook, publish } = await setUp(kind, generateKeyLine("k1"));
    // As an older hookd wrote them: a second webhook with its secret and previous secrets in clear.
    const older = (
      await hookd(["webhooks", "create", "--customer", hook.customer, "--url", `${receiver.url}/older`, "--group", "orders", "--action", "created"], env)
    ).out;
    const app = await openApp({ env: { HOOKD_ENV: "test", ...env }, logger: silentLogger, schema: "use" });
    const previous = JSON.stringify([{ secret: "older-previous", expires_at: Date.now() + 3_600_000 }]);
    await app.store.db.updateTable("webhooks").set({ hash_secret: "older-current", previous_secrets: previous }).where("id", "=", older.id).execute();
    const sealedBefore = await app.store.db
      .selectFrom("webhooks")
      .select(["hash_secret", "previous_secrets"])
      .where("id", "=", hook.id)
      .executeTakeFirstOrThrow();
    try {
      expect((await runCli(["status"], env)).stdout).toContain("2 stored in clear: run `hookd migrate` to encrypt them");
      const migrated = await runCli(["migrate"], env);
      expect(migrated.code, migrated.stderr).toBe(0);
      expect(migrated.stdout).toContain('encrypted 2 secret(s) stored in clear, under key "k1"');
      expect((await hookd(["migrate"], env)).out.secrets_encrypted).toBe(0);

      const rows = await app.store.db.selectFrom("webhooks").select(["id", "hash_secret", "previous_secrets"]).execute();
      expect(rows.find((r) => r.id === hook.id)).toEqual({ id: hook.id, ...sealedBefore });
      const olderRow = rows.find((r) => r.id === older.id)!;
      expect(olderRow.hash_secret).toMatch(/^hkd1:k1:/);
      expect(olderRow.previous_secrets).toMatch(/^hkd1:k1:/);
      expect(openWebhookSecrets(app.keyring, olderRow)).toEqual({ secret: "older-current", previousSecrets: previous });
    } finally {
      await app.close();
    }
    receiver.secrets = [...receiver.secrets, "older-current", "older-previous"];
    await publish();
    expect((await hookd(["tick"], env)).out).toMatchObject({ delivered: 2 });
    expect(receiver.verdicts).toEqual(["ok", "ok"]);
  });

  it("without its key a store sends nothing: the delivery waits naming the key id, and goes once the key is back", { timeout: 180_000 }, async () => {
    const mine = generateKeyLine("mine");
    const { env, hook, publish } = await setUp(kind, mine);
    await publish();
    let elsewhere = env;
    if (kind === "sqlite") {
      // The database file copied to another machine (a folder) that has no key file: test/sandbox would
      // make a new key on first use, but not for a database holding secrets sealed under another.
      const machine = path.join(database!.dir, "machine2");
      mkdirSync(machine);
      copyFileSync(env.HOOKD_DB, path.join(machine, "hookd.sqlite"));
      if (existsSync(`${env.HOOKD_DB}-wal`)) copyFileSync(`${env.HOOKD_DB}-wal`, path.join(machine, "hookd.sqlite-wal"));
      const copied = await runCli(["tick"], { HOOKD_DB: path.join(machine, "hookd.sqlite") });
      expect(copied.code).toBe(2);
      expect(copied.stderr).toContain(`security.encryptionKeyFile (HOOKD_ENCRYPTION_KEY_FILE): there is no key file at ${path.join(machine, "hookd.key")}`);
      expect(copied.stderr).toContain('sealed under key "mine"');
      expect(existsSync(path.join(machine, "hookd.key"))).toBe(false);
      elsewhere = { HOOKD_DB: path.join(machine, "hookd.sqlite"), HOOKD_ENCRYPTION_KEY_FILE: path.join(machine, "keys") };
    } else {
      elsewhere = { ...env, HOOKD_ENCRYPTION_KEY_FILE: path.join(database!.dir, "other-keys") };
    }

    for (const [keyLine, reason] of [
      [generateKeyLine("theirs"), "secret_key_missing (mine)"],
      [generateKeyLine("mine"), "secret_key_mismatch (mine)"], // the same id, other key material
    ] as const) {
      writeFileSync(elsewhere.HOOKD_ENCRYPTION_KEY_FILE!, `${keyLine}\n`);
      const tick = await hookd(["tick"], elsewhere);
      expect(tick.out).toMatchObject({ claimed: 1, delivered: 0, failed: 0, rescheduled: 0, deferred: 1 });
      // One error line for the webhook, naming the key id, without a secret or key material.
      const logged = tick.stderr.split("\n").filter((l) => l.includes("not sending"));
      expect(logged).toHaveLength(1);
      expect(JSON.parse(logged[0]!)).toMatchObject({ webhook: hook.id, key_id: "mine", code: reason.split(" ")[0] });
      for (const secret of [S1, keyLine.split(":")[1]!, mine.split(":")[1]!]) expect(tick.stderr).not.toContain(secret);

      const [delivery] = (await hookd(["deliveries", "list"], elsewhere)).out.results;
      expect(delivery).toMatchObject({ status: "pending", attempts: 0, wait_reason: reason });
      expect((await hookd(["webhooks", "show", hook.id], elsewhere)).out.secret_error).toContain('key "mine"');
      const status = (await hookd(["status"], elsewhere)).out.secrets;
      expect(status.waiting).toEqual([{ reason, deliveries: 1, webhooks: 1 }]);
      expect(status.missing_keys).toEqual(reason.startsWith("secret_key_missing") ? ["mine"] : []);
      const rotate = await runCli(["webhooks", "rotate-secret", hook.id], elsewhere);
      expect(rotate.code).toBe(1);
      expect(rotate.stderr).toContain('key "mine"');
      expect(receiver.requests).toHaveLength(0);
    }

    // The key is back: the delivery goes, signed.
    writeFileSync(elsewhere.HOOKD_ENCRYPTION_KEY_FILE!, `${mine}\n`);
    expect((await hookd(["tick"], elsewhere)).out).toMatchObject({ delivered: 1 });
    expect(receiver.verdicts).toEqual(["ok"]);
  });
});
