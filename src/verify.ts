/**
 * Receiver side: `import { verifySignature, verifyStandard } from "hookd/verify"`.
 * Needs nothing beyond node:crypto.
 */
import { createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from "node:crypto";
import { standardKey } from "./domain/signature.js";

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

/** Node's `req.headers`, a plain object (any case), or a fetch `Headers`. */
export type HeaderSource = Record<string, string | string[] | undefined> | { get(name: string): string | null };

export interface StandardOptions {
  /** how far `webhook-timestamp` may be from now, either way (default 300 s) */
  toleranceSeconds?: number;
  /** now, in Unix ms (default Date.now()) */
  now?: number;
}

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof headers.get === "function") return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

const PUBLIC_KEY = "whpk_";

/** An Ed25519 public key from its `whpk_` + base64 form, or null when it is not one. */
function publicKey(text: string): KeyObject | null {
  const raw = Buffer.from(text.slice(PUBLIC_KEY.length), "base64");
  if (raw.length !== 32) return null;
  try {
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
  } catch {
    return null;
  }
}

/** Whether one of `given` (signature bytes) is `key`'s Ed25519 signature of `message`. */
function ed25519Matches(key: KeyObject, message: Buffer, given: readonly Buffer[]): boolean {
  return given.some((g) => g.length === 64 && verify(null, message, key, g));
}

/**
 * Why a Standard Webhooks request is not genuine, or null when it is: the
 * `webhook-id`, `webhook-timestamp` and `webhook-signature` headers present, the
 * timestamp within the tolerance (a replay of an old request fails here), and one
 * entry matching `id.timestamp.body` under one of `secrets`: a `v1,` HMAC for a
 * secret, a `v1a,` Ed25519 signature for a public key (`whpk_…`, `signing: "ed25519"`).
 */
export function standardProblem(
  body: Buffer | string,
  headers: HeaderSource,
  secrets: string | readonly string[],
  options: StandardOptions = {},
): string | null {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signature = header(headers, "webhook-signature");
  const missing = [
    ["webhook-id", id],
    ["webhook-timestamp", timestamp],
    ["webhook-signature", signature],
  ].filter(([, v]) => !v);
  if (missing.length > 0) return `missing header ${missing.map(([n]) => n).join(", ")}`;
  if (!/^\d+$/.test(timestamp!)) return "webhook-timestamp is not Unix seconds";
  const tolerance = options.toleranceSeconds ?? 300;
  const age = Math.floor((options.now ?? Date.now()) / 1000) - Number(timestamp);
  if (age > tolerance) return `webhook-timestamp is ${age} s old, more than the ${tolerance} s allowed (a replay?)`;
  if (-age > tolerance) return `webhook-timestamp is ${-age} s in the future, more than the ${tolerance} s allowed`;

  const entries = signature!.split(" ");
  const given = (version: string) => entries.filter((e) => e.startsWith(`${version},`)).map((e) => Buffer.from(e.slice(version.length + 1), "base64"));
  const hmacs = given("v1");
  const ed25519 = given("v1a");
  for (const secret of typeof secrets === "string" ? [secrets] : secrets) {
    if (secret.startsWith(PUBLIC_KEY)) {
      const key = publicKey(secret);
      if (!key) return `${secret.slice(0, 12)}… is not an Ed25519 public key (whpk_ + base64 of 32 bytes)`;
      const message = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), typeof body === "string" ? Buffer.from(body) : body]);
      if (ed25519Matches(key, message, ed25519)) return null;
      continue;
    }
    const expected = createHmac("sha256", standardKey(secret)).update(`${id}.${timestamp}.`).update(body).digest();
    if (hmacs.some((g) => g.length === expected.length && timingSafeEqual(g, expected))) return null;
  }
  return "no webhook-signature entry matches this body with these secrets or public keys (wrong secret or key, or the body, id or timestamp was changed)";
}

/**
 * True when a request carries a valid Standard Webhooks signature under any of
 * `secrets` (HMAC secrets for `v1,` entries, `whpk_` public keys for `v1a,` entries),
 * made within `toleranceSeconds` (default 300) of now. Constant-time comparisons;
 * pass the raw body bytes.
 */
export function verifyStandard(body: Buffer | string, headers: HeaderSource, secrets: string | readonly string[], options: StandardOptions = {}): boolean {
  return standardProblem(body, headers, secrets, options) === null;
}
