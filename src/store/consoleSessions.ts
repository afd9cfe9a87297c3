/**
 * Console sessions and portal links. The browser holds a random token (a cookie, or
 * a link's fragment); the store keeps only its sha256, so a copy of the database opens
 * nothing. A link is good once: opening it turns it into a session. Each names the API
 * key it came from and is deleted with it (migration 013), so revoking a key signs out
 * every browser it opened, and voids the portal links it made.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { hashKey } from "./apiKeys.js";
import { writeTransaction, type Db } from "./connect.js";
import type { ConsoleSessionTable } from "./schema.js";

export interface ConsoleSession {
  customerId: string | null;
  /** the API key it was opened with (a portal session: the key that made its link) */
  apiKeyId: string;
  /** opened from a portal link: one customer's webhooks, no new links, keys or events */
  portal: boolean;
  csrfToken: string;
  expiresAt: number;
}

const token = (): string => randomBytes(32).toString("base64url");

/** A new session or link; returns the token, which is not stored. */
export async function createConsoleSession(
  db: Db,
  kind: ConsoleSessionTable["kind"],
  customerId: string | null,
  apiKeyId: string,
  expiresAt: number,
  now = Date.now(),
): Promise<{ token: string; session: ConsoleSession }> {
  const t = token();
  const csrfToken = token();
  await db
    .insertInto("console_sessions")
    .values({ id: hashKey(t), kind, customer_id: customerId, api_key_id: apiKeyId, csrf_token: csrfToken, created_at: now, expires_at: expiresAt })
    .execute();
  return { token: t, session: { customerId, apiKeyId, portal: kind === "portal", csrfToken, expiresAt } };
}

/** The live session behind a cookie's token, or null (unknown, expired or signed out). */
export async function findConsoleSession(db: Db, presented: string, now = Date.now()): Promise<ConsoleSession | null> {
  const row = await db
    .selectFrom("console_sessions")
    .selectAll()
    .where("id", "=", hashKey(presented))
    .where("kind", "in", ["session", "portal"])
    .executeTakeFirst();
  if (!live(row, now)) return null;
  return { customerId: row.customer_id, apiKeyId: row.api_key_id, portal: row.kind === "portal", csrfToken: row.csrf_token, expiresAt: Number(row.expires_at) };
}

/**
 * A portal link's token exchanged for a session that lasts `sessionMs`: the link is
 * deleted in the same transaction, so it opens one browser, once. Null when the link
 * is unknown, used or expired.
 */
export async function openPortalLink(
  db: Db,
  presented: string,
  sessionMs: number,
  now = Date.now(),
): Promise<{ token: string; session: ConsoleSession } | null> {
  const link = await writeTransaction(db, async (trx) => {
    const row = await trx.deleteFrom("console_sessions").where("id", "=", hashKey(presented)).where("kind", "=", "link").returningAll().executeTakeFirst();
    return row ?? null;
  });
  if (!live(link, now)) return null;
  return createConsoleSession(db, "portal", link.customer_id, link.api_key_id, now + sessionMs, now);
}

/** A row that still opens something: not expired, and made with a key (every row since migration 013). */
function live(row: ConsoleSessionTable | null | undefined, now: number): row is ConsoleSessionTable & { api_key_id: string } {
  return !!row && row.api_key_id !== null && Number(row.expires_at) > now;
}

export async function endConsoleSession(db: Db, presented: string): Promise<void> {
  await db.deleteFrom("console_sessions").where("id", "=", hashKey(presented)).execute();
}

/** Expired sessions and links are dropped now and then (on sign-in), so the table stays small. */
export async function pruneConsoleSessions(db: Db, now = Date.now()): Promise<void> {
  await db.deleteFrom("console_sessions").where("expires_at", "<=", now).execute();
}

/** The CSRF header against the session's token, in constant time. Pure. */
export function csrfMatches(session: ConsoleSession, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
