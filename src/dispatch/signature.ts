import { createHmac } from "node:crypto";

/**
 * `X-Signature`: lowercase hex HMAC-SHA256 of the exact body bytes, keyed with the
 * webhook's secret. A string body is signed as its UTF-8 bytes.
 */
export function sign(secret: string, body: Buffer | string): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}
