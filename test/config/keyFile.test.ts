/** Where the key file is looked for, making one on first use, and reading it again when it changes. */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chooseKeyFile, createKeyFile, readKeyFile, watchedKeyring } from "../../src/config/keyFile.js";
import { loadConfig } from "../../src/config/load.js";
import { generateKeyLine, parseKeyFile } from "../../src/domain/secretBox.js";
import { HookdError } from "../../src/errors.js";
import { tempDir } from "../helpers/app.js";

let dir: ReturnType<typeof tempDir>;
afterEach(() => dir?.cleanup());

describe("chooseKeyFile", () => {
  const config = (env: Record<string, string>, overrides: unknown = {}) => loadConfig({ env, overrides });
  const creds = "/run/credentials/hookd.service";
  const cwd = process.cwd();
  it.each([
    ["the config key", { HOOKD_ENV: "production" }, { security: { encryptionKeyFile: "/etc/hookd/a.key" } }, {}, true, "/etc/hookd/a.key", false],
    [
      "HOOKD_ENCRYPTION_KEY_FILE over the config key",
      { HOOKD_ENV: "production", HOOKD_ENCRYPTION_KEY_FILE: "/etc/hookd/env.key" },
      {},
      {},
      true,
      "/etc/hookd/env.key",
      false,
    ],
    ["a relative path, from the working directory", { HOOKD_ENCRYPTION_KEY_FILE: "keys/h.key" }, {}, {}, true, path.join(cwd, "keys/h.key"), false],
    [
      "the config key over $CREDENTIALS_DIRECTORY",
      { HOOKD_ENV: "production" },
      { security: { encryptionKeyFile: "/etc/hookd/a.key" } },
      { CREDENTIALS_DIRECTORY: creds },
      true,
      "/etc/hookd/a.key",
      false,
    ],
    ["hookd.key from systemd's LoadCredential=", { HOOKD_ENV: "production" }, {}, { CREDENTIALS_DIRECTORY: creds }, true, `${creds}/hookd.key`, false],
    ["$CREDENTIALS_DIRECTORY without hookd.key: production has none", { HOOKD_ENV: "production" }, {}, { CREDENTIALS_DIRECTORY: creds }, false, null, false],
    ["production without any", { HOOKD_ENV: "production", HOOKD_DB: "/var/lib/hookd/hookd.sqlite" }, {}, {}, false, null, false],
    ["sandbox: beside the SQLite database, made on first use", { HOOKD_DB: "/srv/x/hookd.sqlite" }, {}, {}, false, "/srv/x/hookd.key", true],
    ["sandbox: the default database's folder", {}, {}, {}, false, path.join(cwd, "data/hookd.key"), true],
    ["test on PostgreSQL: data/", { HOOKD_ENV: "test", HOOKD_DB: "postgres://u@h/db" }, {}, {}, false, path.join(cwd, "data/hookd.key"), true],
  ])("%s", (_name, env, overrides, extraEnv, credentialThere, file, mayCreate) => {
    const choice = chooseKeyFile(config(env, overrides), { ...env, ...extraEnv }, () => credentialThere);
    expect(choice).toEqual({ file, mayCreate });
  });
});

describe("createKeyFile", () => {
  it("writes one key, mode 0600, and a second maker uses the first one's", () => {
    dir = tempDir("hookd-keyfile-");
    const file = path.join(dir.dir, "hookd.key");
    const first = createKeyFile(file);
    expect(first.created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = createKeyFile(file);
    expect(second.created).toBe(false);
    expect(second.keyring.ids).toEqual(first.keyring.ids);
    expect(second.keyring.open(first.keyring.seal("s"))).toBe("s");
    expect(readFileSync(file, "utf8")).toMatch(/^# .*\nk[0-9a-f]{8}:[A-Za-z0-9+/]{43}=\n$/);
  });

  it("reads nothing from a missing file, and names an unreadable one", () => {
    dir = tempDir("hookd-keyfile-");
    expect(readKeyFile(path.join(dir.dir, "none.key"))).toBeNull();
    let err: unknown;
    try {
      readKeyFile(dir.dir); // a folder
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HookdError);
    expect((err as HookdError).message).toMatch(/security\.encryptionKeyFile \(HOOKD_ENCRYPTION_KEY_FILE\): cannot read the key file .*EISDIR/);
  });
});

describe("watchedKeyring", () => {
  it("seals under a new first line and opens a new key's values once the file changes; a broken file changes nothing", () => {
    dir = tempDir("hookd-keyfile-");
    const file = path.join(dir.dir, "hookd.key");
    const old = generateKeyLine("old");
    writeFileSync(file, `${old}\n`);
    const ring = watchedKeyring(file, readKeyFile(file)!);
    const before = ring.seal("a");
    expect(ring.primaryId).toBe("old");

    const next = generateKeyLine("new");
    const elsewhere = parseKeyFile(next, "another node's file").seal("from another node");
    writeFileSync(file, `${next}\n${old}\n`);
    expect(ring.open(elsewhere)).toBe("from another node");
    expect(ring.seal("b")).toMatch(/^hkd1:new:/);
    expect(ring.open(before)).toBe("a");

    writeFileSync(file, "garbage\n");
    expect(ring.seal("c")).toMatch(/^hkd1:new:/);
  });
});
