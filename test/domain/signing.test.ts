import { createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkSigning, generateSigningKey, publicKeyOf, signEd25519 } from "../../src/domain/signing.js";
import { standardProblem, verifyStandard } from "../../src/verify.js";

const key = generateSigningKey();
const publicKey = publicKeyOf(key);
const body = Buffer.from('{"order":{"id":1,"name":"Zoë 🚚"}}');
const now = 1_700_000_000_000;
const ts = Math.floor(now / 1000);

/** What a receiver does with node:crypto alone: the 32 raw bytes of whpk_, as a JWK. */
function receiverVerifies(pub: string, id: string, timestamp: number, payload: Buffer, entry: string): boolean {
  const raw = Buffer.from(pub.slice("whpk_".length), "base64");
  const keyObject = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
  const signature = Buffer.from(entry.slice("v1a,".length), "base64");
  return verify(null, Buffer.concat([Buffer.from(`${id}.${timestamp}.`), payload]), keyObject, signature);
}

describe("Ed25519 signing", () => {
  it("makes key pairs in the Standard Webhooks forms", () => {
    expect(key).toMatch(/^whsk_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(key.slice(5), "base64")).toHaveLength(64);
    expect(publicKey).toMatch(/^whpk_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(publicKey.slice(5), "base64")).toHaveLength(32);
    expect(generateSigningKey()).not.toBe(key);
  });

  it("signs id.timestamp.body so that a receiver with only the public key verifies it", () => {
    const entry = signEd25519(key, "evt_1", ts, body);
    expect(entry).toMatch(/^v1a,[A-Za-z0-9+/]+=*$/);
    expect(receiverVerifies(publicKey, "evt_1", ts, body, entry)).toBe(true);
    expect(receiverVerifies(publicKey, "evt_1", ts, Buffer.from('{"order":{"id":2}}'), entry)).toBe(false);
    expect(receiverVerifies(publicKey, "evt_2", ts, body, entry)).toBe(false);
    expect(receiverVerifies(publicKeyOf(generateSigningKey()), "evt_1", ts, body, entry)).toBe(false);
  });

  it("hookd/verify checks v1a entries with a whpk_ key, beside v1 entries with secrets", () => {
    const headers = { "webhook-id": "evt_1", "webhook-timestamp": String(ts), "webhook-signature": `v1,bm9wZQ== ${signEd25519(key, "evt_1", ts, body)}` };
    expect(verifyStandard(body, headers, publicKey, { now })).toBe(true);
    expect(verifyStandard(body, headers, ["wrong-secret", publicKey], { now })).toBe(true);
    expect(verifyStandard(Buffer.from("{}"), headers, publicKey, { now })).toBe(false);
    expect(verifyStandard(body, headers, publicKeyOf(generateSigningKey()), { now })).toBe(false);
    expect(standardProblem(body, headers, "whpk_AAAA", { now })).toContain("is not an Ed25519 public key");
    // A v1a signature is never taken for an HMAC one, nor the other way round.
    expect(verifyStandard(body, { ...headers, "webhook-signature": signEd25519(key, "evt_1", ts, body).replace("v1a,", "v1,") }, publicKey, { now })).toBe(
      false,
    );
  });

  it.each([
    ["hmac", { signing: "hmac" }],
    ["ed25519", { signing: "ed25519" }],
    [null, { signing: "hmac" }],
  ])("accepts signing %s", (value, out) => {
    expect(checkSigning(value)).toEqual(out);
  });

  it("refuses other schemes", () => {
    expect(checkSigning("ED25519")).toEqual({ problems: [{ field: "signing", message: "must be one of hmac, ed25519, or null" }] });
  });
});
