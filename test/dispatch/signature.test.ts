import { createHmac, timingSafeEqual } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sign } from "../../src/dispatch/signature.js";
import { verifySignature } from "../../src/verify.js";

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
