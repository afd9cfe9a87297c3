/**
 * Secrets at rest (pure: node:crypto only, no file I/O). Every secret hookd must read
 * back is stored sealed with AES-256-GCM under a key from the operator's key file, so
 * a copy of the database, a backup or an export cannot sign deliveries.
 *
 * The key file: one key a line, `<id>:<base64 of 32 random bytes>`; blank lines and
 * `#` comments are ignored. The first key seals; every key opens, so keys can be
 * rotated: put a new line first, `hookd secrets rekey`, then remove the old line.
 *
 * Sealed text is self-describing: `hkd1:<keyId>:<base64url(iv | ciphertext | tag)>`,
 * a fresh 12-byte IV per value and a 16-byte tag. The header `hkd1:<keyId>` is the
 * additional authenticated data, so a value cannot be passed off under another key id
 * or format version. Which key opens a value is read from the value itself: after a
 * partial rekey, old and new values open side by side.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { HookdError } from "../errors.js";

/** What every sealed value starts with (the format version). */
export const SEALED_PREFIX = "hkd1:";
const PREFIX = SEALED_PREFIX;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A key id: short, and never a ':' (it ends the id in sealed text). */
const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const SEALED = /^hkd1:([A-Za-z0-9_.-]{1,64}):([A-Za-z0-9_-]+)$/;

export interface Keyring {
  /** the id of the key that seals (the key file's first line) */
  readonly primaryId: string;
  /** every key id, in file order */
  readonly ids: readonly string[];
  /** Seal under the first key. */
  seal(plaintext: string): string;
  /** Open a value sealed under any key of the ring; throws SecretKeyError when it cannot. */
  open(sealed: string): string;
}

export type SecretKeyProblem = "secret_key_missing" | "secret_key_mismatch";

/**
 * A stored secret that cannot be opened: its key id is not in the key file
 * (`secret_key_missing`), or the key under that id is not the one it was sealed with,
 * or the value was altered (`secret_key_mismatch`). Never carries key material.
 */
export class SecretKeyError extends HookdError {
  readonly keyId: string;
  constructor(code: SecretKeyProblem, keyId: string, message: string) {
    super(code, message);
    this.name = "SecretKeyError";
    this.keyId = keyId;
  }

  /** A short label for a delivery's wait reason, e.g. `secret_key_missing (k2)`. */
  get reason(): string {
    return `${this.code} (${this.keyId})`;
  }

  /** The problem without the key file's path: what a tenant may be told. */
  get summary(): string {
    return this.code === "secret_key_missing"
      ? `the webhook's secrets are sealed under key "${this.keyId}", which hookd's key file does not hold: nothing is sent until an operator adds it`
      : `the webhook's secrets do not open with hookd's key "${this.keyId}": nothing is sent until an operator restores the key they were sealed with`;
  }
}

/** Whether `value` is sealed text (or pretends to be: it is then refused, never used as plaintext). */
export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** The key id a sealed value names, or null for anything else. */
export function sealedKeyId(value: string): string | null {
  return SEALED.exec(value)?.[1] ?? null;
}

/** A new key line, `<id>:<base64 of 32 random bytes>`; the id defaults to `k` + 8 random hex digits. */
export function generateKeyLine(id?: string): string {
  const keyId = id ?? `k${randomBytes(4).toString("hex")}`;
  if (!KEY_ID.test(keyId)) {
    throw new HookdError("validation_failed", `--id: ${keyIdRule}`, [{ field: "--id", message: keyIdRule }]);
  }
  return `${keyId}:${randomBytes(KEY_BYTES).toString("base64")}`;
}

const keyIdRule = "a key id is 1 to 64 letters, digits, '.', '_' or '-'";

/**
 * The keys of a key file's text. `source` names the file in errors; a bad line is named
 * by number and never quoted, so no key material reaches a terminal or a log.
 */
export function parseKeyFile(text: string, source: string): Keyring {
  const keys = new Map<string, Buffer>();
  const lineOf = new Map<string, number>();
  const bad = (line: number, problem: string): never => {
    const message = `key file ${source}, line ${line}: ${problem}`;
    throw new HookdError("config_invalid", message, [{ field: "security.encryptionKeyFile", message }]);
  };
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const n = index + 1;
    const colon = line.indexOf(":");
    if (colon < 0) bad(n, "expected <id>:<base64 of 32 random bytes> (`hookd secrets generate-key` prints one)");
    const id = line.slice(0, colon);
    const encoded = line.slice(colon + 1);
    if (!KEY_ID.test(id)) bad(n, keyIdRule);
    const key = Buffer.from(encoded, "base64");
    // Buffer.from skips what is not base64: re-encoding tells a clean value from a mangled one.
    if (key.length !== KEY_BYTES || key.toString("base64").replace(/=+$/, "") !== encoded.replace(/=+$/, "")) {
      bad(n, `the key of "${id}" is not base64 of exactly ${KEY_BYTES} bytes`);
    }
    const first = lineOf.get(id);
    if (first !== undefined) bad(n, `key id "${id}" is already on line ${first}; each id may appear once`);
    keys.set(id, key);
    lineOf.set(id, n);
  }
  if (keys.size === 0) {
    const message = `key file ${source} holds no key: add a line made by \`hookd secrets generate-key\``;
    throw new HookdError("config_invalid", message, [{ field: "security.encryptionKeyFile", message }]);
  }
  return ring(keys, source);
}

function ring(keys: ReadonlyMap<string, Buffer>, source: string): Keyring {
  const ids = [...keys.keys()];
  const primaryId = ids[0]!;
  return {
    primaryId,
    ids,
    seal: (plaintext) => seal(primaryId, keys.get(primaryId)!, plaintext),
    open(sealed) {
      const parsed = SEALED.exec(sealed);
      if (!parsed) {
        // Never quoted: a value this broken could be anything, a secret's text included.
        throw new SecretKeyError(
          "secret_key_mismatch",
          "?",
          "a stored secret starts like sealed text (hkd1:) but is not well-formed: it was altered or cut short",
        );
      }
      const id = parsed[1]!;
      const key = keys.get(id);
      if (!key) {
        throw new SecretKeyError(
          "secret_key_missing",
          id,
          `a secret is sealed under key "${id}", which the key file ${source} does not hold (it has ${ids.join(", ")}): ` +
            `add that key's line to the file (security.encryptionKeyFile)`,
        );
      }
      const opened = tryOpen(id, key, parsed[2]!);
      if (opened === null) {
        throw new SecretKeyError(
          "secret_key_mismatch",
          id,
          `a secret sealed under key "${id}" does not open with the key file ${source}: ` +
            `its line "${id}" holds other key material than the one the secret was sealed with, or the stored value was altered`,
        );
      }
      return opened;
    },
  };
}

function seal(id: string, key: Buffer, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(`${PREFIX}${id}`, "utf8"));
  const body = Buffer.concat([iv, cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `${PREFIX}${id}:${body.toString("base64url")}`;
}

/** The plaintext, or null when the value does not authenticate under `key`. */
function tryOpen(id: string, key: Buffer, encoded: string): string | null {
  const body = Buffer.from(encoded, "base64url");
  if (body.length < IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, body.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(`${PREFIX}${id}`, "utf8"));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

/**
 * A keyring with no key: what a read-only command has when no key file exists. It
 * seals nothing and opens nothing, saying why.
 */
export function emptyKeyring(why: string): Keyring {
  return {
    primaryId: "",
    ids: [],
    seal() {
      throw new HookdError("config_invalid", `cannot encrypt a secret: ${why}`);
    },
    open(sealed) {
      const id = sealedKeyId(sealed) ?? "?";
      throw new SecretKeyError("secret_key_missing", id, `a secret is sealed under key "${id}", and ${why}`);
    },
  };
}
