/**
 * The key file that seals webhook secrets (domain/secretBox.ts): where it is, reading
 * it, and making one on first use outside production.
 *
 * Where, first match wins:
 * 1. `security.encryptionKeyFile`, or `HOOKD_ENCRYPTION_KEY_FILE` over it (the usual
 *    config order: an environment variable beats the files);
 * 2. `hookd.key` in `$CREDENTIALS_DIRECTORY`, where systemd puts what the unit's
 *    `LoadCredential=hookd.key:/etc/hookd/hookd.key` passes (only the service sees it);
 * 3. outside production: `hookd.key` in the SQLite database's folder, or in `data/` for
 *    PostgreSQL, made on first use. Production has no such default: a key beside the
 *    database would travel with every copy of it, the very thing the key protects from.
 */
import { randomBytes } from "node:crypto";
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { HookdError } from "../errors.js";
import { generateKeyLine, parseKeyFile, SecretKeyError, type Keyring } from "../domain/secretBox.js";
import { isPostgresUrl, sqliteFileOf } from "./databaseUrl.js";
import type { Config } from "./schema.js";

export const KEY_FILE_NAME = "hookd.key";
const KEY_SETTING = "security.encryptionKeyFile (HOOKD_ENCRYPTION_KEY_FILE)";

export interface KeyFileChoice {
  /** null: none is configured and there is no default (production) */
  file: string | null;
  /** made on first use when missing (the default place outside production) */
  mayCreate: boolean;
}

/** Where the key file is (see the top of this file). `exists` is the only look at the disk. */
export function chooseKeyFile(config: Config, env: NodeJS.ProcessEnv, exists: (file: string) => boolean = existsSync): KeyFileChoice {
  const configured = config.security.encryptionKeyFile;
  if (configured) return { file: path.resolve(configured), mayCreate: false };
  if (env.CREDENTIALS_DIRECTORY) {
    const passed = path.join(env.CREDENTIALS_DIRECTORY, KEY_FILE_NAME);
    if (exists(passed)) return { file: passed, mayCreate: false };
  }
  if (config.env === "production") return { file: null, mayCreate: false };
  const url = config.db.url;
  const sqliteFile = sqliteFileOf(url);
  const folder = isPostgresUrl(url) || sqliteFile === ":memory:" ? "data" : path.dirname(sqliteFile);
  return { file: path.resolve(folder, KEY_FILE_NAME), mayCreate: true };
}

/** Exit 2 (config_invalid) naming the setting and the file. */
export function keyFileError(problem: string): HookdError {
  const message = `${KEY_SETTING}: ${problem}`;
  return new HookdError("config_invalid", message, [{ field: "security.encryptionKeyFile", message }]);
}

/** What production says without a key file. */
export function noKeyFileError(env: NodeJS.ProcessEnv): HookdError {
  const looked = env.CREDENTIALS_DIRECTORY ? ` (nor is there ${path.join(env.CREDENTIALS_DIRECTORY, KEY_FILE_NAME)})` : "";
  return keyFileError(
    `production needs a key file to encrypt webhook secrets, and none is set${looked}: ` +
      "make one with `hookd secrets generate-key > FILE` (mode 0600) and set this key to it, or pass it with systemd's LoadCredential=hookd.key:FILE",
  );
}

/** The key file's keys, or null when there is no file at `file`. Unreadable or malformed: exit 2. */
export function readKeyFile(file: string): Keyring | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Not there (ENOTDIR: a folder on the way is a file): the caller decides.
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw keyFileError(`cannot read the key file ${file}: ${code ?? (err as Error).message}`);
  }
  return parseKeyFile(text, file);
}

/**
 * A new key file (mode 0600) with one key. Written under a temporary name and linked
 * into place, so two processes starting at once never see a half-written file: the
 * second finds the first one's and uses it. Its folder is made when missing, as the
 * SQLite store makes its database's: on PostgreSQL the default is `data/` in the working
 * directory, which a fresh folder has not got.
 */
export function createKeyFile(file: string): { keyring: Keyring; created: boolean } {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
  } catch (err) {
    throw keyFileError(`cannot create the key file ${file}: ${(err as Error).message}`);
  }
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const text = `# hookd's encryption key for webhook secrets: keep it apart from the database's backups.\n${generateKeyLine()}\n`;
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: "wx" });
    linkSync(temporary, file);
    return { keyring: parseKeyFile(text, file), created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw keyFileError(`cannot create the key file ${file}: ${(err as Error).message}`);
    const theirs = readKeyFile(file);
    if (!theirs) throw keyFileError(`the key file ${file} vanished while it was being created`);
    return { keyring: theirs, created: false };
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Opened values kept per process: a tick opens the same webhook's secrets for each of its deliveries. */
const OPENED_MAX = 10_000;
/** How often opening looks whether the file changed (sealing always looks). */
const CHECK_EVERY_MS = 5_000;

/**
 * The key file's keyring, read again when the file changes: a new first line seals
 * from the next write on, and a value under a key id added since start opens, without
 * a restart (`LoadCredential=` copies the file at start: there, restart the service).
 * A file that became unreadable or malformed leaves the keys as they were. Opened
 * values are remembered (bounded) until the file changes.
 */
export function watchedKeyring(file: string, initial: Keyring): Keyring {
  let current = initial;
  let seen = signature(file);
  let checked = Date.now();
  const opened = new Map<string, string>();
  const refresh = (): boolean => {
    checked = Date.now();
    const now = signature(file);
    if (now === seen) return false;
    seen = now;
    try {
      const next = readKeyFile(file);
      if (!next) return false;
      current = next;
      opened.clear();
      return true;
    } catch {
      return false;
    }
  };
  const open = (sealed: string): string => {
    const plaintext = current.open(sealed);
    if (opened.size >= OPENED_MAX) opened.clear();
    opened.set(sealed, plaintext);
    return plaintext;
  };
  return {
    get primaryId() {
      return current.primaryId;
    },
    get ids() {
      return current.ids;
    },
    seal(plaintext) {
      refresh();
      return current.seal(plaintext);
    },
    open(sealed) {
      if (Date.now() - checked > CHECK_EVERY_MS) refresh();
      const known = opened.get(sealed);
      if (known !== undefined) return known;
      try {
        return open(sealed);
      } catch (err) {
        if (err instanceof SecretKeyError && err.code === "secret_key_missing" && refresh()) return open(sealed);
        throw err;
      }
    },
  };
}

function signature(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return "";
  }
}
