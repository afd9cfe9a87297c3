/**
 * The console's cookie, as an alternative to a Bearer key on every API route. Reads
 * need only the cookie; a write also needs the session's CSRF token in a header (a
 * page on another site can make the browser send the cookie, never read the token)
 * and, when the browser says where it comes from, this very origin.
 */
import type { FastifyRequest } from "fastify";
import { HookdError } from "../errors.js";
import type { ApiKeyPrincipal } from "../store/apiKeys.js";
import type { Db } from "../store/connect.js";
import { csrfMatches, findConsoleSession } from "../store/consoleSessions.js";

export const SESSION_COOKIE = "hookd_session";
export const CSRF_HEADER = "x-csrf-token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** One cookie's value from a Cookie header, or null. Pure. */
export function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/** Whether an Origin header (absent, or this server's own) may write. Pure. */
export function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** The principal behind the console cookie, or null when the request has none. */
export async function consolePrincipal(db: Db, request: FastifyRequest): Promise<ApiKeyPrincipal | null> {
  const token = cookieValue(request.headers.cookie, SESSION_COOKIE);
  if (token === null) return null;
  const session = await findConsoleSession(db, token);
  if (!session) throw new HookdError("unauthorized", "the console session has expired, was signed out, or its API key was revoked: sign in again");
  if (!SAFE_METHODS.has(request.method)) {
    if (!sameOrigin(request.headers.origin, request.headers.host)) {
      throw new HookdError("forbidden", "a console write must come from the console's own origin");
    }
    if (!csrfMatches(session, request.headers[CSRF_HEADER] as string | undefined)) {
      throw new HookdError("forbidden", `a console write needs the session's ${CSRF_HEADER} header`);
    }
  }
  // The key it was opened with: a link made from this session names that key too, and goes with it.
  return { keyId: session.apiKeyId, customerId: session.customerId, portal: session.portal };
}
