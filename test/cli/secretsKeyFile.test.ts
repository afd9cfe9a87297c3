/**
 * The key file as an operator meets it: made on first use outside production (and said
 * once), never by a read-only command; production without one, or a damaged one, exits
 * 2 naming the setting, the file and the line; an import needs the keys of the store it
 * came from, and a store moved SQLite → PostgreSQL with its key file keeps signing.
 */
import { readFileSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateKeyLine } from "../../src/domain/secretBox.js";
import { tempDir } from "../helpers/app.js";
import { asAdmin, backends, tempDatabase, type TempDatabase } from "../helpers/backends.js";
import { runCli } from "../helpers/cli.js";
import { startVerifyingReceiver, type VerifyingReceiver } from "../helpers/verifyingReceiver.js";

let dir: ReturnType<typeof tempDir>;
let receiver: VerifyingReceiver;
const schemas: TempDatabase[] = [];
beforeAll(async () => {
  receiver = await startVerifyingReceiver();
});
afterAll(async () => receiver.close());
afterEach(async () => {
  dir?.cleanup();
  for (const s of schemas.splice(0)) await s.drop();
});

const made = /made the key file (\S+) \(mode 0600\)/;

describe("the key file", () => {
  it("is made on first use outside production, said once, and never by a read-only command", async () => {
    dir = tempDir("hookd-keyfile-cli-");
    const env = { HOOKD_DB: path.join(dir.dir, "db", "hookd.sqlite") };
    const first = await runCli(["migrate"], env);
    expect(first.code).toBe(0);
    const keyFile = path.join(dir.dir, "db", "hookd.key");
    expect(made.exec(first.stderr)?.[1]).toBe(keyFile);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const second = await runCli(["customers", "create", "Acme"], env);
    expect(second.code).toBe(0);
    expect(second.stderr).not.toMatch(made);

    // Without its key file, a read-only command still reads, and makes none.
    rmSync(keyFile);
    for (const args of [["status"], ["webhooks", "list"], ["export", path.join(dir.dir, "out.ndjson")]]) {
      const r = await runCli(args, env);
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(keyFile)).toBe(false);
    }
    expect((await runCli(["status"], env)).stdout).toContain("secrets    0 in clear (no key file)");
  });

  it("on PostgreSQL is made in data/ of the working folder, the folder too when a fresh folder has none", async () => {
    dir = tempDir("hookd-keyfile-cli-");
    const database = await tempDatabase("postgres");
    schemas.push(database);
    const first = await runCli(["migrate"], { HOOKD_DB: database.url }, { cwd: dir.dir });
    expect(first.code, first.stderr).toBe(0);
    const keyFile = path.join(dir.dir, "data", "hookd.key");
    expect(made.exec(first.stderr)?.[1]).toBe(keyFile);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const created = await runCli(["--json", "customers", "create", "Acme"], { HOOKD_DB: database.url }, { cwd: dir.dir });
    expect(created.code, created.stderr).toBe(0);
  });

  it("production without a readable key file exits 2 naming the setting and the file, and changes nothing", async () => {
    dir = tempDir("hookd-keyfile-cli-");
    const db = path.join(dir.dir, "hookd.sqlite");
    const production = { HOOKD_ENV: "production", HOOKD_DB: db };
    const none = await runCli(["serve"], production);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("security.encryptionKeyFile (HOOKD_ENCRYPTION_KEY_FILE): production needs a key file");
    const missing = path.join(dir.dir, "etc", "hookd.key");
    const gone = await runCli(["migrate"], { ...production, HOOKD_ENCRYPTION_KEY_FILE: missing });
    expect(gone.code).toBe(2);
    expect(gone.stderr).toBe(`hookd: invalid configuration\n  security.encryptionKeyFile (HOOKD_ENCRYPTION_KEY_FILE): there is no key file at ${missing}\n`);
    mkdirSync(missing, { recursive: true }); // a folder where the file should be: unreadable
    const unreadable = await runCli(["migrate"], { ...production, HOOKD_ENCRYPTION_KEY_FILE: missing });
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toContain(`cannot read the key file ${missing}: EISDIR`);
    expect(existsSync(db)).toBe(false);

    // systemd's LoadCredential=hookd.key:… puts it in $CREDENTIALS_DIRECTORY, where production finds it.
    const credentials = path.join(dir.dir, "credentials");
    mkdirSync(credentials);
    writeFileSync(path.join(credentials, "hookd.key"), `${generateKeyLine()}\n`, { mode: 0o600 });
    const started = await runCli(["migrate"], { ...production, CREDENTIALS_DIRECTORY: credentials });
    expect(started.code, started.stderr).toBe(0);
    expect(started.stderr).toBe("");
  });

  it("a damaged line is exit 2 naming the file and the line, never the key material", async () => {
    dir = tempDir("hookd-keyfile-cli-");
    const keyFile = path.join(dir.dir, "hookd.key");
    const short = randomBytes(24).toString("base64");
    writeFileSync(keyFile, `# keys\n${generateKeyLine("good")}\n\nbad:${short}\n`);
    for (const args of [["migrate"], ["status"], ["secrets", "rekey"]]) {
      const r = await runCli(args, { HOOKD_DB: path.join(dir.dir, "hookd.sqlite"), HOOKD_ENCRYPTION_KEY_FILE: keyFile });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`key file ${keyFile}, line 4: the key of "bad" is not base64 of exactly 32 bytes`);
      expect(r.stderr).not.toContain(short);
      expect(r.stderr).not.toContain(readFileSync(keyFile, "utf8").split("\n")[1]!.split(":")[1]);
    }
    const usage = await runCli(["secrets", "generate-key", "--id", "no spaces"], {});
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--id: a key id is 1 to 64 letters");
  });
});

describe.skipIf(!backends.includes("postgres"))("moving a store with its secrets", () => {
  it(
    "import refuses keys its key file lacks (exit 1, nothing imported); with the same key file SQLite → PostgreSQL keeps signing",
    { timeout: 180_000 },
    async () => {
      dir = tempDir("hookd-keyfile-move-");
      const keyFile = path.join(dir.dir, "source.key");
      writeFileSync(keyFile, `${generateKeyLine("src")}\n`, { mode: 0o600 });
      const source = { HOOKD_DB: path.join(dir.dir, "hookd.sqlite"), HOOKD_ENCRYPTION_KEY_FILE: keyFile };
      const json = async (args: string[], env: Record<string, string>) => {
        const r = await runCli(["--json", ...args], env);
        if (r.code !== 0) throw new Error(`hookd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
        return JSON.parse(r.stdout);
      };
      await json(["migrate"], source);
      const customer = await json(["customers", "create", "Acme"], source);
      const secret = `plain-${randomBytes(8).toString("hex")}`;
      const hook = await json(
        ["webhooks", "create", "--customer", customer.id, "--url", `${receiver.url}/in`, "--group", "orders", "--action", "created", "--secret", secret],
        source,
      );
      const rotated = (await json(["webhooks", "rotate-secret", hook.id], source)).hash_secret as string;
      receiver.secrets = [secret, rotated];
      await json(["publish", "--customer", customer.id, "--topic", "orders:created", "--data", "{}"], source);
      const file = path.join(dir.dir, "export.ndjson");
      await json(["export", file], source);
      // Written as stored: ciphertext and key id, never the secrets.
      const exported = readFileSync(file, "utf8");
      expect(exported).toContain('"hash_secret":"hkd1:src:');
      for (const s of [secret, rotated]) expect(exported).not.toContain(s);

      const pg = await tempDatabase("postgres");
      schemas.push(pg);
      const otherKeys = path.join(dir.dir, "other.key");
      writeFileSync(otherKeys, `${generateKeyLine("elsewhere")}\n`);
      const refused = await runCli(["import", file], { HOOKD_DB: pg.url, HOOKD_ENCRYPTION_KEY_FILE: otherKeys });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('the export\'s secrets are sealed under key "src" (not in the key file, first on line');
      expect(refused.stderr).toContain('(it holds "elsewhere")');
      expect(refused.stderr).toContain("nothing was imported");
      const counts = await asAdmin(
        async (c) => (await c.query(`select (select count(*) from ${pg.schema}.customers) + (select count(*) from ${pg.schema}.webhooks) as n`)).rows[0].n,
      );
      expect(Number(counts)).toBe(0);

      const target = { HOOKD_DB: pg.url, HOOKD_ENCRYPTION_KEY_FILE: keyFile };
      expect((await runCli(["import", file], target)).code).toBe(0);
      expect(await json(["tick"], target)).toMatchObject({ delivered: 1 });
      expect(receiver.verdicts).toEqual(["ok"]);
    },
  );
});
