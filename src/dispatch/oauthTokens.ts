/**
 * OAuth2 client-credentials tokens for receivers (`auth.type: "oauth2"`): fetched from
 * the webhook's token endpoint (a form POST, the client id and secret as HTTP Basic,
 * RFC 6749 §4.4), cached per credentials until shortly before `expires_in`, shared by
 * every request that needs one at the same time (one token request, however many
 * deliveries are waiting), and dropped when a receiver answers 401 with it.
 *
 * Token requests go through the dispatcher's agents, so the connect-time address
 * guard applies to the token endpoint as to webhook URLs. Neither the client secret
 * nor a token ever reaches a log or an error message: a failure says what the
 * endpoint answered (its status and its OAuth2 `error` code), nothing more.
 */
import { createHash } from "node:crypto";
import type http from "node:http";
import got, { type Agents } from "got";
import type { ReceiverAuth } from "../domain/receiverAuth.js";
import { VERSION } from "../version.js";
import { classifyError } from "./outcome.js";

export type OAuth2 = Extract<ReceiverAuth, { type: "oauth2" }>;

/** Tokens without `expires_in` are kept this long. */
export const DEFAULT_TOKEN_SECONDS = 300;
/** A token is dropped this long before it expires (at most; a tenth of a short life). */
const EXPIRY_MARGIN_MS = 30_000;
/** Token responses read at most this much. */
const MAX_TOKEN_RESPONSE = 64 * 1024;

/** Why no token could be had; its message is safe to store with the attempt. */
export class TokenError extends Error {
  override readonly name = "TokenError";
}

export interface TokenContext {
  agents: Agents;
  timeoutMs: number;
  /** now, in ms, on the clock expiries are kept on */
  now: number;
  signal?: AbortSignal;
}

export interface FetchedToken {
  token: string;
  /** seconds, when the endpoint said */
  expiresIn: number | null;
}

type Entry = { token: string; expiresAt: number } | { pending: Promise<{ token: string; expiresAt: number }> };

/** When a token fetched at `now` with `expiresIn` should no longer be used. Pure. */
export function tokenExpiry(now: number, expiresIn: number | null): number {
  const lifeMs = (expiresIn ?? DEFAULT_TOKEN_SECONDS) * 1000;
  return now + lifeMs - Math.min(EXPIRY_MARGIN_MS, lifeMs / 10);
}

export class OAuthTokens {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly fetcher: (auth: OAuth2, ctx: TokenContext) => Promise<FetchedToken> = fetchToken) {}

  /** A valid token for `auth`: cached, or fetched once for every caller waiting on it. Throws TokenError. */
  async token(auth: OAuth2, ctx: TokenContext): Promise<string> {
    const key = cacheKey(auth);
    const entry = this.entries.get(key);
    if (entry && "token" in entry && entry.expiresAt > ctx.now) return entry.token;
    if (entry && "pending" in entry) return (await entry.pending).token;
    const pending = this.fetcher(auth, ctx).then((t) => ({ token: t.token, expiresAt: tokenExpiry(ctx.now, t.expiresIn) }));
    this.entries.set(key, { pending });
    try {
      const fresh = await pending;
      this.entries.set(key, fresh);
      return fresh.token;
    } catch (err) {
      this.entries.delete(key);
      throw err;
    }
  }

  /** The receiver refused `token`: forget it, unless another request already replaced it. */
  invalidate(auth: OAuth2, token: string): void {
    const key = cacheKey(auth);
    const entry = this.entries.get(key);
    if (entry && "token" in entry && entry.token === token) this.entries.delete(key);
  }
}

/** Credentials, not the webhook, key the cache: two webhooks with one client share its token; a changed secret fetches anew. */
function cacheKey(auth: OAuth2): string {
  return createHash("sha256")
    .update([auth.tokenUrl, auth.clientId, auth.clientSecret, auth.scope ?? ""].join("\u0000"))
    .digest("hex");
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before they go into Basic. */
function basic(auth: OAuth2): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${enc(auth.clientId)}:${enc(auth.clientSecret)}`).toString("base64")}`;
}

/** The client-credentials grant against `auth.tokenUrl`. Throws TokenError saying what went wrong. */
export async function fetchToken(auth: OAuth2, ctx: TokenContext): Promise<FetchedToken> {
  const form = new URLSearchParams({ grant_type: "client_credentials" });
  if (auth.scope) form.set("scope", auth.scope);
  const { status, body } = await postForm(auth.tokenUrl, form.toString(), basic(auth), ctx);
  let parsed: Record<string, unknown> | null = null;
  try {
    const value = JSON.parse(body) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) parsed = value as Record<string, unknown>;
  } catch {
    // not JSON: said below
  }
  if (status < 200 || status >= 300) {
    const code = typeof parsed?.error === "string" ? `: ${parsed.error.slice(0, 100)}` : "";
    throw new TokenError(`the OAuth2 token endpoint answered HTTP ${status}${code}`);
  }
  const token = parsed?.access_token;
  if (typeof token !== "string" || !/^[\x21-\x7e]+$/.test(token)) throw new TokenError("the OAuth2 token endpoint's answer has no usable access_token");
  const type = parsed?.token_type;
  if (type !== undefined && (typeof type !== "string" || type.toLowerCase() !== "bearer")) {
    throw new TokenError(`the OAuth2 token endpoint gave a ${String(type).slice(0, 40)} token; only bearer tokens can be sent`);
  }
  const expiresIn = Number(parsed?.expires_in);
  return { token, expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : null };
}

/** POST a form and read the answer (bounded); transport errors become TokenError naming their class. */
function postForm(url: string, form: string, authorization: string, ctx: TokenContext): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const chunks: Buffer[] = [];
    let bytes = 0;
    const stream = got.stream(url, {
      method: "POST",
      body: form,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
        authorization,
        "user-agent": `hookd/${VERSION}`,
      },
      agent: ctx.agents,
      timeout: { request: ctx.timeoutMs },
      retry: { limit: 0 },
      followRedirect: false,
      throwHttpErrors: false,
      decompress: false,
      signal: ctx.signal,
    });
    stream.on("response", (res: http.IncomingMessage) => {
      status = res.statusCode ?? 0;
    });
    stream.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_TOKEN_RESPONSE) {
        stream.destroy();
        reject(new TokenError(`the OAuth2 token endpoint's answer is larger than ${MAX_TOKEN_RESPONSE} bytes`));
      } else chunks.push(chunk);
    });
    stream.on("end", () => resolve({ status, body: Buffer.concat(chunks).toString("utf8") }));
    stream.on("error", (err: Error & { code?: string }) =>
      reject(new TokenError(`the OAuth2 token request failed (${classifyError(err)}): ${String(err.message).slice(0, 200)}`)),
    );
  });
}
