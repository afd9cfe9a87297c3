import { createHmac } from "node:crypto";

/**
 * `X-Signature`: lowercase hex HMAC-SHA256 of the exact body bytes, keyed with the
 * webhook's secret. A string body is signed as its UTF-8 bytes.
 */
export function sign(secret: string, body: Buffer | string): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

const WHSEC = "whsec_";

/**
 * The Standard Webhooks key: the decoded bytes of a `whsec_<base64>` secret (what the
 * `standardwebhooks` and `svix` packages do with such a secret), or the UTF-8 bytes of
 * any other (their `{ format: "raw" }`). X-Signature keeps using the string itself.
 */
export function standardKey(secret: string): Buffer {
  return secret.startsWith(WHSEC) ? Buffer.from(secret.slice(WHSEC.length), "base64") : Buffer.from(secret, "utf8");
}

/** Why a secret cannot be used, or null: a `whsec_` secret must carry real base64, or receivers' libraries throw on it. */
export function secretProblem(secret: string): string | null {
  if (!secret.startsWith(WHSEC)) return null;
  const encoded = secret.slice(WHSEC.length);
  if (encoded === "" || encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    return "a secret starting with whsec_ must continue with base64 (e.g. whsec_ + 32 random bytes in base64)";
  }
  return null;
}

/** One `webhook-signature` entry: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`. */
export function signStandard(secret: string, id: string, timestamp: number, body: Buffer | string): string {
  const mac = createHmac("sha256", standardKey(secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  return `v1,${mac.digest("base64")}`;
}

/** The `webhook-signature` header: one entry per valid secret, in the order given (newest first), space-separated. */
export function standardSignatureHeader(secrets: readonly string[], id: string, timestamp: number, body: Buffer | string): string {
  return secrets.map((s) => signStandard(s, id, timestamp, body)).join(" ");
}
