import { hash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { CompiledQuery } from "kysely";
import { compiledOnce } from "./compiledOnce.js";
import type { Db } from "./connect.js";
import { readCacheOf } from "./readCache.js";
import type { ApiKeyTable } from "./schema.js";

export interface ApiKeyPrincipal {
  keyId: string;
  /** null for an admin key */
  customerId: string | null;
  /** a console session opened from a portal link: it may not mint links or keys, or publish */
  portal?: boolean;
}

/** SHA-256 of the key, hex. One-shot `hash` (Node 20.12+): every request pays it, and it costs a third of a Hash object's. */
export function hashKey(key: string): string {
  return hash("sha256", key, "hex");
}

/** A new key: shown once to the caller, only its hash is stored. */
export async function createApiKey(
  db: Db,
  customerId: string | null,
  now = Date.now(),
): Promise<{ id: string; key: string; customerId: string | null; createdAt: number }> {
  const key = `${customerId ? "hk_cus" : "hk_adm"}_${randomBytes(24).toString("base64url")}`;
  const id = randomUUID();
  await db
    .insertInto("api_keys")
    .values({ id, customer_id: customerId, key_hash: hashKey(key), prefix: key.slice(0, 12), created_at: now })
    .execute();
  return { id, key, customerId, createdAt: now };
}

/** Delete an API key; false if there is none with this id. Cached principals are forgotten (readCache.ts). */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const { numDeletedRows } = await db.deleteFrom("api_keys").where("id", "=", id).executeTakeFirst();
  return numDeletedRows > 0n;
}

/**
 * The principal behind a presented key, or null. Looked up by hash, then the hashes
 * compared in constant time so the comparison itself leaks nothing.
 */
export async function authenticate(db: Db, presented: string): Promise<ApiKeyPrincipal | null> {
  const hash = hashKey(presented);
  // Every request asks: a key found once is kept until api_keys changes (readCache.ts).
  // Unknown keys are not kept, so guessing cannot fill the cache.
  const cache = readCacheOf(db);
  const key = `key:${hash}`;
  const look = cache?.look<ApiKeyPrincipal>(key);
  if (look?.value) return look.value;
  const { sql, parameters } = selectByHash(db, { hash });
  const [row] = (await db.executeQuery<ApiKeyRow>(CompiledQuery.raw(sql, parameters))).rows;
  if (!row) return null;
  const a = Buffer.from(row.key_hash, "hex");
  const b = Buffer.from(hash, "hex");
  if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
  const principal = Object.freeze({ keyId: row.id, customerId: row.customer_id });
  if (look) cache!.keep(key, principal, look.stamp);
  return principal;
}

type ApiKeyRow = Pick<ApiKeyTable, "id" | "customer_id" | "key_hash">;

/** Every API request runs this, so it is compiled once (compiledOnce.ts). */
const selectByHash = compiledOnce<{ hash: string }>(["hash"], (db, p) =>
  db.selectFrom("api_keys").select(["id", "customer_id", "key_hash"]).where("key_hash", "=", p.hash),
);
