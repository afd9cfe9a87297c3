/**
 * A webhook's signing scheme (`signing`): `hmac` (the default: `webhook-signature`
 * carries `v1,` HMAC entries under `hash_secret`) or `ed25519` (Standard Webhooks'
 * asymmetric scheme: hookd holds an Ed25519 key pair per webhook and
 * `webhook-signature` carries `v1a,` entries a receiver checks with the public key
 * alone). The keys, their text forms and the signatures; no I/O.
 *
 * Text forms, as Standard Webhooks spells them: a secret key is `whsk_` + base64 of
 * the 32-byte seed and the 32-byte public key (64 bytes, libsodium's layout), a
 * public key `whpk_` + base64 of its 32 raw bytes.
 */
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import type { SettingProblem } from "./settingProblem.js";

export const SIGNING_SCHEMES = ["hmac", "ed25519"] as const;
export type SigningScheme = (typeof SIGNING_SCHEMES)[number];

const SECRET_PREFIX = "whsk_";
const PUBLIC_PREFIX = "whpk_";

/** Check a `signing` value; null restores the default, hmac. */
export function checkSigning(value: unknown): { signing: SigningScheme } | { problems: SettingProblem[] } {
  if (value === null) return { signing: "hmac" };
  if (typeof value === "string" && (SIGNING_SCHEMES as readonly string[]).includes(value)) return { signing: value as SigningScheme };
  return { problems: [{ field: "signing", message: `must be one of ${SIGNING_SCHEMES.join(", ")}, or null` }] };
}

/** A new Ed25519 key pair, as its `whsk_` secret key (the public key is derived from it). */
export function generateSigningKey(): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const seed = Buffer.from(jwk.d!, "base64url");
  const pub = Buffer.from(jwk.x!, "base64url");
  return SECRET_PREFIX + Buffer.concat([seed, pub]).toString("base64");
}

function keyBytes(secretKey: string): { seed: Buffer; pub: Buffer } {
  const raw = Buffer.from(secretKey.slice(SECRET_PREFIX.length), "base64");
  if (!secretKey.startsWith(SECRET_PREFIX) || raw.length !== 64) throw new Error("not a whsk_ Ed25519 secret key");
  return { seed: raw.subarray(0, 32), pub: raw.subarray(32) };
}

/** `whpk_` + base64 of the 32 raw bytes: what receivers verify with. */
export function publicKeyOf(secretKey: string): string {
  return PUBLIC_PREFIX + keyBytes(secretKey).pub.toString("base64");
}

/** Parsed keys by their text: each delivery signs with the same few keys. */
const keyObjects = new Map<string, KeyObject>();
const MAX_KEYS = 1000;

function keyObject(secretKey: string): KeyObject {
  let key = keyObjects.get(secretKey);
  if (!key) {
    const { seed, pub } = keyBytes(secretKey);
    key = createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: seed.toString("base64url"), x: pub.toString("base64url") }, format: "jwk" });
    if (keyObjects.size >= MAX_KEYS) keyObjects.delete(keyObjects.keys().next().value!);
    keyObjects.set(secretKey, key);
  }
  return key;
}

/** One `webhook-signature` entry: `v1a,` + base64 of the Ed25519 signature of `id.timestamp.body`. */
export function signEd25519(secretKey: string, id: string, timestamp: number, body: Buffer | string): string {
  const message = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), typeof body === "string" ? Buffer.from(body) : body]);
  return `v1a,${sign(null, message, keyObject(secretKey)).toString("base64")}`;
}
