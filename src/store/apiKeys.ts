import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { CompiledQuery } from "kysely";
import { compiledOnce } from "./compiledOnce.js";
import type { Db } from "./connect.js";
import type { ApiKeyTable } from "./schema.js";

export interface ApiKeyPrincipal {
  keyId: string;
  /** null for an admin key */
  customerId: string | null;
  /** a console session opened from a portal link: it may not mint links or keys, or publish */
  portal?: boolean;
}

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
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

/**
 * The principal behind a presented key, or null. Looked up by hash, then the hashes
 * compared in constant time so the comparison itself leaks nothing.
 */
export async function authenticate(db: Db, presented: string): Promise<ApiKeyPrincipal | null> {
  const hash = hashKey(presented);
  const { sql, parameters } = selectByHash(db, { hash });
  const [row] = (await db.executeQuery<ApiKeyRow>(CompiledQuery.raw(sql, parameters))).rows;
  if (!row) return null;
  const a = Buffer.from(row.key_hash, "hex");
  const b = Buffer.from(hash, "hex");
  if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
  return { keyId: row.id, customerId: row.customer_id };
}

type ApiKeyRow = Pick<ApiKeyTable, "id" | "customer_id" | "key_hash">;

/** Every API request runs this, so it is compiled once (compiledOnce.ts). */
const selectByHash = compiledOnce<{ hash: string }>(["hash"], (db, p) =>
  db.selectFrom("api_keys").select(["id", "customer_id", "key_hash"]).where("key_hash", "=", p.hash),
);
