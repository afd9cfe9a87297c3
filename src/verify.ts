/**
 * Receiver side: `import { verifySignature, verifyStandard } from "hookd/verify"`.
 * Needs nothing beyond node:crypto.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
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

/**
 * Why a Standard Webhooks request is not genuine, or null when it is: the
 * `webhook-id`, `webhook-timestamp` and `webhook-signature` headers present, the
 * timestamp within the tolerance (a replay of an old request fails here), and one
 * `v1,` entry matching the HMAC of `id.timestamp.body` under one of `secrets`.
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

  const given = signature!
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => Buffer.from(entry.slice(3), "base64"));
  for (const secret of typeof secrets === "string" ? [secrets] : secrets) {
    const expected = createHmac("sha256", standardKey(secret)).update(`${id}.${timestamp}.`).update(body).digest();
    if (given.some((g) => g.length === expected.length && timingSafeEqual(g, expected))) return null;
  }
  return "no webhook-signature entry matches this body with these secrets (wrong secret, or the body, id or timestamp was changed)";
}

/**
 * True when a request carries a valid Standard Webhooks signature under any of
 * `secrets`, made within `toleranceSeconds` (default 300) of now. Constant-time
 * comparisons; pass the raw body bytes.
 */
export function verifyStandard(body: Buffer | string, headers: HeaderSource, secrets: string | readonly string[], options: StandardOptions = {}): boolean {
  return standardProblem(body, headers, secrets, options) === null;
}
