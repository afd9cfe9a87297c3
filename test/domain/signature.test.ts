import { createHmac, timingSafeEqual } from "node:crypto";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { secretProblem, sign, signStandard, standardKey, standardSignatureHeader } from "../../src/domain/signature.js";
import { standardProblem, verifySignature, verifyStandard } from "../../src/verify.js";

// Known answers computed independently (RFC 4231 test case 2, and openssl dgst -sha256 -hmac).
describe("sign", () => {
  it.each([
    ["Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
    ["your_secret_key", '{"a":1}', "d4144e2427b4bf2da92ac153116587e209bb7d7c5d12fab808edbcae660b71fe"],
    ["s", "", "64eca07cce67929c357d63d0a4aec207e774800403298914fc04e88ce02ac49f"],
  ])("HMAC-SHA256(%j, %j) is lowercase hex", (secret, body, expected) => {
    const sig = sign(secret, body);
    expect(sig).toBe(expected);
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
  });

  it("signs the bytes, so a Buffer and its UTF-8 text agree", () => {
    const text = '{"name":"Zoë 🚚"}';
    expect(sign("k", Buffer.from(text, "utf8"))).toBe(sign("k", text));
  });

  it("is accepted by the seed-003 receiver recipe", () => {
    const secret = "your_secret_key";
    const payload = Buffer.from('{"shipment":{"status":"delivered","note":"\\u00e9té"}}');
    const received = sign(secret, payload);
    const calculated = createHmac("sha256", secret).update(payload).digest("hex");
    expect(timingSafeEqual(Buffer.from(calculated), Buffer.from(received))).toBe(true);
  });
});

describe("verifySignature", () => {
  const body = Buffer.from('{"id":42}');
  const good = sign("secret", body);
  it.each([
    ["the right signature", good, body, true],
    ["the same in upper case", good.toUpperCase(), body, true],
    ["a string body", good, '{"id":42}', true],
    ["a tampered body", good, Buffer.from('{"id":43}'), false],
    ["another secret's signature", sign("other", body), body, false],
    ["a truncated signature", good.slice(0, 63), body, false],
    ["not hex", "z".repeat(64), body, false],
    ["no header", undefined, body, false],
  ])("%s → %s", (_name, signature, b, expected) => {
    expect(verifySignature("secret", b, signature)).toBe(expected);
  });
});

describe("Standard Webhooks signing", () => {
  const whsec = `whsec_${Buffer.from("0123456789abcdef0123456789abcdef").toString("base64")}`;

  it.each([
    ["a whsec_ secret: its decoded bytes", whsec, Buffer.from("0123456789abcdef0123456789abcdef")],
    ["a plain secret: its UTF-8 bytes", "your_secret_key", Buffer.from("your_secret_key")],
    ["a non-ASCII plain secret: UTF-8, not char codes", "clé🔑", Buffer.from("clé🔑", "utf8")],
    ["whsec without the underscore is plain", "whsec-abc", Buffer.from("whsec-abc")],
  ])("key of %s", (_name, secret, key) => {
    expect(standardKey(secret).equals(key)).toBe(true);
  });

  // The standardwebhooks package (its own HMAC and base64 code) is the reference.
  it.each([
    ["whsec_ secret", whsec, new StandardWebhook(whsec)],
    ["plain secret", "your_secret_key", new StandardWebhook("your_secret_key", { format: "raw" })],
    ["non-ASCII plain secret as bytes", "clé🔑", new StandardWebhook(Buffer.from("clé🔑", "utf8"), { format: "raw" })],
  ])("v1 entry for a %s matches the standardwebhooks package", (_name, secret, reference) => {
    const body = '{"name":"Zoë 🚚"}';
    const ts = 1_700_000_000;
    expect(signStandard(secret, "evt_1", ts, Buffer.from(body))).toBe(reference.sign("evt_1", new Date(ts * 1000), body));
  });

  it("one space-separated entry per secret, in the order given", () => {
    const header = standardSignatureHeader(["new", "old"], "id", 1, "{}");
    expect(header.split(" ")).toEqual([signStandard("new", "id", 1, "{}"), signStandard("old", "id", 1, "{}")]);
    expect(header).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
  });

  it.each([
    ["plain", "your_secret_key", null],
    ["whsec_ with base64", whsec, null],
    ["whsec_ with nothing after it", "whsec_", "base64"],
    ["whsec_ with non-base64", "whsec_not base64!", "base64"],
    ["whsec_ with broken padding", "whsec_abc", "base64"],
  ])("secretProblem: %s", (_name, secret, problem) => {
    const found = secretProblem(secret);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});

describe("verifyStandard", () => {
  const body = Buffer.from('{"id":42,"note":"ünï"}');
  const ts = 1_700_000_000;
  const now = ts * 1000;
  const headers = (secrets: string[], t = ts, id = "evt_1") => ({
    "webhook-id": id,
    "webhook-timestamp": String(t),
    "webhook-signature": standardSignatureHeader(secrets, id, t, body),
  });

  it.each([
    ["the right secret", headers(["s"]), "s", body, true],
    ["any of several secrets it holds", headers(["s"]), ["other", "s"], body, true],
    ["one of several entries (rotation)", headers(["new", "old"]), "old", body, true],
    ["a string body", headers(["s"]), "s", body.toString(), true],
    [
      "mixed-case header names",
      { "Webhook-Id": "evt_1", "WEBHOOK-TIMESTAMP": String(ts), "Webhook-Signature": headers(["s"])["webhook-signature"] },
      "s",
      body,
      true,
    ],
    ["4 min 59 s old", headers(["s"], ts - 299), "s", body, true],
    ["a tampered body", headers(["s"]), "s", Buffer.from('{"id":43,"note":"ünï"}'), false],
    ["another id", { ...headers(["s"]), "webhook-id": "evt_2" }, "s", body, false],
    ["a timestamp changed to look fresh", { ...headers(["s"], ts - 600), "webhook-timestamp": String(ts) }, "s", body, false],
    ["a wrong secret", headers(["s"]), "t", body, false],
    ["more than 5 minutes old (replay)", headers(["s"], ts - 301), "s", body, false],
    ["more than 5 minutes in the future", headers(["s"], ts + 301), "s", body, false],
    ["no signature header", { "webhook-id": "evt_1", "webhook-timestamp": String(ts) }, "s", body, false],
    ["a v2 entry only", { ...headers(["s"]), "webhook-signature": headers(["s"])["webhook-signature"].replace("v1,", "v2,") }, "s", body, false],
  ])("%s → %s", (_name, h, secrets, b, expected) => {
    expect(verifyStandard(b, h, secrets, { now })).toBe(expected);
  });

  it("takes its tolerance from the options, and reads a fetch Headers object", () => {
    const old = headers(["s"], ts - 3600);
    expect(verifyStandard(body, old, "s", { now })).toBe(false);
    expect(verifyStandard(body, old, "s", { now, toleranceSeconds: 3600 })).toBe(true);
    expect(verifyStandard(body, new Headers(headers(["s"])), "s", { now })).toBe(true);
  });

  it("says why in standardProblem", () => {
    expect(standardProblem(body, headers(["s"], ts - 400), "s", { now })).toContain("400 s old");
    expect(standardProblem(body, {}, "s", { now })).toBe("missing header webhook-id, webhook-timestamp, webhook-signature");
  });
});
