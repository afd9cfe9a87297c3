/**
 * One attempt with the webhook's `auth` applied: nothing, a static bearer token, or an
 * OAuth2 token (dispatch/oauthTokens.ts). With OAuth2, a 401 from the receiver means
 * the token it was sent may be stale: a new one is fetched and the attempt is sent
 * once more, and what that second request gets is the attempt's outcome. No token to
 * be had is a failed attempt of error class `auth`, saying why.
 */
import type { Agents } from "got";
import type { ReceiverAuth } from "../domain/receiverAuth.js";
import type { AttemptOutcome } from "./outcome.js";
import { TokenError, type OAuthTokens } from "./oauthTokens.js";

export interface AuthContext {
  tokens: OAuthTokens;
  agents: Agents;
  /** the webhook's request timeout, for each HTTP exchange */
  timeoutMs: number;
  /** Date.now() after which no new exchange starts (the claim's lease would not cover it) */
  deadline: number;
  /** now on the clock token expiries are kept on */
  now: () => number;
  signal?: AbortSignal;
}

/** Sends the request with this `Authorization` value (or none), within `timeoutMs`. */
export type Run = (authorization: string | null, timeoutMs: number) => Promise<AttemptOutcome>;

export async function attemptWithAuth(auth: ReceiverAuth | null, run: Run, ctx: AuthContext): Promise<AttemptOutcome> {
  if (auth === null) return run(null, ctx.timeoutMs);
  if (auth.type === "bearer") return run(`Bearer ${auth.token}`, ctx.timeoutMs);
  const startedAt = Date.now();
  const step = () => Math.min(ctx.timeoutMs, ctx.deadline - Date.now());
  /** A token, or the failed attempt that not having one is. */
  const token = async (): Promise<{ token: string } | { failed: AttemptOutcome }> => {
    try {
      return { token: await ctx.tokens.token(auth, { agents: ctx.agents, timeoutMs: step(), now: ctx.now(), signal: ctx.signal }) };
    } catch (err) {
      return { failed: authFailure(startedAt, err, ctx.signal) };
    }
  };

  const first = await token();
  if ("failed" in first) return first.failed;
  const sent = await run(`Bearer ${first.token}`, Math.max(1, step()));
  if (sent.statusCode !== 401 || ctx.signal?.aborted) return sent;
  // Not enough of the lease left for a token request and a second send: the 401 stands.
  if (step() < Math.min(ctx.timeoutMs, 1000)) return sent;
  ctx.tokens.invalidate(auth, first.token);
  const fresh = await token();
  if ("failed" in fresh) return fresh.failed;
  const again = await run(`Bearer ${fresh.token}`, Math.max(1, step()));
  // One attempt, as the receiver's owner sees it: from the first request to the last answer.
  return { ...again, startedAt, durationMs: Date.now() - startedAt };
}

function authFailure(startedAt: number, err: unknown, signal: AbortSignal | undefined): AttemptOutcome {
  const aborted = signal?.aborted === true;
  return {
    startedAt,
    durationMs: Date.now() - startedAt,
    ok: false,
    statusCode: null,
    error: aborted ? "aborted" : "auth",
    errorMessage: err instanceof TokenError ? err.message : "the OAuth2 token request failed",
    responseBody: null,
    retryAfter: null,
  };
}
