import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { emptyKeyring, generateKeyLine, isSealed, parseKeyFile, SecretKeyError, sealedKeyId } from "../../src/domain/secretBox.js";
import { HookdError } from "../../src/errors.js";

const key = () => randomBytes(32).toString("base64");
const K1 = `k1:${key()}`;
const K2 = `k2:${key()}`;

function thrown(fn: () => unknown): HookdError {
  try {
    fn();
  } catch (err) {
    return err as HookdError;
  }
  throw new Error("no error");
}

describe("parseKeyFile", () => {
  it("reads one key a line, the first one sealing; blank lines, comments and CR LF are fine", () => {
    const ring = parseKeyFile(`# hookd keys\n\n${K2}\r\n  ${K1}  \n# old\n`, "/etc/hookd/hookd.key");
    expect(ring.primaryId).toBe("k2");
    expect(ring.ids).toEqual(["k2", "k1"]);
  });

  it.each([
    ["no colon", "just-some-text", /line 1: expected <id>:<base64 of 32 random bytes>/],
    ["an empty id", `:${key()}`, /line 1: a key id is 1 to 64 letters/],
    ["an id with a space", `my key:${key()}`, /line 1: a key id is 1 to 64 letters/],
    ["16 bytes", `k1:${randomBytes(16).toString("base64")}`, /line 1: the key of "k1" is not base64 of exactly 32 bytes/],
    ["33 bytes", `k1:${randomBytes(33).toString("base64")}`, /line 1: the key of "k1" is not base64 of exactly 32 bytes/],
    ["not base64", `k1:${"!".repeat(44)}`, /line 1: the key of "k1" is not base64/],
    ["base64 with junk inside", `k1:${key().slice(0, 20)}*${key().slice(21)}`, /line 1: the key of "k1" is not base64/],
    ["a duplicate id", `${K1}\n\nk1:${key()}`, /line 3: key id "k1" is already on line 1/],
    ["no key at all", "# nothing yet\n\n", /holds no key/],
  ])("refuses %s, naming the file and the line, never the key", (_name, text, message) => {
    const err = thrown(() => parseKeyFile(text, "/etc/hookd/hookd.key"));
    expect(err).toBeInstanceOf(HookdError);
    expect(err.code).toBe("config_invalid");
    expect(err.message).toMatch(message);
    expect(err.message).toContain("/etc/hookd/hookd.key");
    for (const line of text.split("\n")) {
      const material = line.split(":")[1];
      if (material && material.length > 8) expect(err.message).not.toContain(material);
    }
  });
});

describe("seal and open", () => {
  const ring = parseKeyFile(`${K2}\n${K1}`, "keys");
  const old = parseKeyFile(K1, "keys");

  it("round-trips any text under the first key, with a fresh IV each time", () => {
    for (const secret of ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "ünïcødé 🚚", "", "x".repeat(5000), '[{"secret":"s","expires_at":1}]']) {
      const a = ring.seal(secret);
      const b = ring.seal(secret);
      expect(a).not.toBe(b);
      expect(a).toMatch(/^hkd1:k2:[A-Za-z0-9_-]+$/);
      if (secret.length > 3) expect(a).not.toContain(secret);
      expect(ring.open(a)).toBe(secret);
      expect(isSealed(a)).toBe(true);
      expect(sealedKeyId(a)).toBe("k2");
    }
  });

  it("opens a value sealed under any key of the ring", () => {
    expect(ring.open(old.seal("from before the rotation"))).toBe("from before the rotation");
  });

  it("a key id the ring lacks is secret_key_missing, naming the id and what to do", () => {
    const err = thrown(() => old.open(ring.seal("s"))) as SecretKeyError;
    expect(err).toBeInstanceOf(SecretKeyError);
    expect(err.code).toBe("secret_key_missing");
    expect(err.keyId).toBe("k2");
    expect(err.message).toMatch(/sealed under key "k2", which the key file keys does not hold \(it has k1\): add that key's line/);
    expect(err.reason).toBe("secret_key_missing (k2)");
  });

  it.each([
    ["other key material under the same id", (v: string) => v, parseKeyFile(`k2:${key()}`, "keys")],
    ["a flipped ciphertext byte", (v: string) => v.slice(0, -5) + (v.at(-5) === "A" ? "B" : "A") + v.slice(-4), ring],
    ["the value moved to another key id", (v: string) => v.replace("hkd1:k2:", "hkd1:k1:"), ring],
    ["a value cut short", (v: string) => v.slice(0, 20), ring],
  ])("%s is secret_key_mismatch naming the id, never the plaintext", (_name, alter, opener) => {
    const err = thrown(() => opener.open(alter(ring.seal("top-secret-value")))) as SecretKeyError;
    expect(err.code).toBe("secret_key_mismatch");
    expect(err.message).toMatch(/"k[12]"/);
    expect(err.message).not.toContain("top-secret-value");
  });

  it("text that only starts like sealed text is refused, not used as plaintext, and not quoted", () => {
    const err = thrown(() => ring.open("hkd1:my plain secret")) as SecretKeyError;
    expect(err.code).toBe("secret_key_mismatch");
    expect(err.message).not.toContain("my plain secret");
    expect(isSealed("hkd1:my plain secret")).toBe(true);
    expect(sealedKeyId("hkd1:my plain secret")).toBeNull();
    expect(isSealed("whsec_abc")).toBe(false);
    expect(sealedKeyId("whsec_abc")).toBeNull();
  });

  it("an empty keyring seals nothing and opens nothing, saying why", () => {
    const none = emptyKeyring("there is no key file at /x/hookd.key");
    expect(thrown(() => none.seal("s")).message).toMatch(/no key file at \/x\/hookd.key/);
    const err = thrown(() => none.open(ring.seal("s"))) as SecretKeyError;
    expect(err.code).toBe("secret_key_missing");
    expect(err.keyId).toBe("k2");
  });
});

describe("generateKeyLine", () => {
  it("makes a line parseKeyFile reads, with a random id unless one is given", () => {
    const a = generateKeyLine();
    const b = generateKeyLine();
    expect(a).toMatch(/^k[0-9a-f]{8}:[A-Za-z0-9+/]{43}=$/);
    expect(a.split(":")[0]).not.toBe(b.split(":")[0]);
    expect(parseKeyFile(`${generateKeyLine("2026-05")}\n${a}`, "f").ids).toEqual(["2026-05", a.split(":")[0]]);
    expect(thrown(() => generateKeyLine("bad:id")).code).toBe("validation_failed");
  });
});
