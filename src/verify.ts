/**
 * Receiver side: `import { verifySignature } from "hookd/verify"`. Dependency-free.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * True when `signature` (the X-Signature header) is the HMAC-SHA256 of `body`
 * under `secret`. Compared in constant time; a malformed header is simply false.
 * Pass the raw body bytes (a Buffer) or the exact text; never re-serialised JSON.
 */
export function verifySignature(secret: string, body: Buffer | string, signature: string | undefined | null): boolean {
  if (typeof signature !== "string" || !/^[0-9a-fA-F]{64}$/.test(signature.trim())) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  const given = Buffer.from(signature.trim(), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
