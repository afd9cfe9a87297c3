import type { Agents } from "got";
import { describe, expect, it } from "vitest";
import { OAuthTokens, TokenError, tokenExpiry, type FetchedToken, type OAuth2 } from "../../src/dispatch/oauthTokens.js";

const auth: OAuth2 = { type: "oauth2", tokenUrl: "https://auth.example/token", clientId: "id", clientSecret: "s", scope: null };
const ctx = (now: number) => ({ agents: {} as Agents, timeoutMs: 1000, now });

/** A token endpoint in memory: counts fetches, answers after `delayMs`. */
function fetcher(answers: (FetchedToken | Error)[], delayMs = 0) {
  let calls = 0;
  const fetch = async () => {
    const answer = answers[Math.min(calls++, answers.length - 1)]!;
    await new Promise((r) => setTimeout(r, delayMs));
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { fetch, calls: () => calls };
}

describe("OAuth2 token cache", () => {
  it.each([
    ["an hour: 30 s early", 3600, 3_570_000],
    ["a minute: a tenth early", 60, 54_000],
    ["no expires_in: five minutes, 30 s early", null, 270_000],
  ])("keeps a token with %s", (_name, expiresIn, expiresAt) => {
    expect(tokenExpiry(0, expiresIn)).toBe(expiresAt);
  });

  it("fetches once for every request waiting at the same time, and again only after expiry", async () => {
    const f = fetcher(
      [
        { token: "t1", expiresIn: 60 },
        { token: "t2", expiresIn: 60 },
      ],
      20,
    );
    const tokens = new OAuthTokens(f.fetch);
    expect(await Promise.all(Array.from({ length: 10 }, () => tokens.token(auth, ctx(0))))).toEqual(Array(10).fill("t1"));
    expect(f.calls()).toBe(1);
    expect(await tokens.token(auth, ctx(53_999))).toBe("t1");
    expect(await tokens.token(auth, ctx(54_000))).toBe("t2");
    expect(f.calls()).toBe(2);
  });

  it("forgets a token a receiver refused, unless it was already replaced", async () => {
    const f = fetcher([
      { token: "t1", expiresIn: 60 },
      { token: "t2", expiresIn: 60 },
    ]);
    const tokens = new OAuthTokens(f.fetch);
    await tokens.token(auth, ctx(0));
    tokens.invalidate(auth, "t1");
    expect(await tokens.token(auth, ctx(1))).toBe("t2");
    tokens.invalidate(auth, "t1"); // a late 401 for the old token
    expect(await tokens.token(auth, ctx(2))).toBe("t2");
    expect(f.calls()).toBe(2);
  });

  it("keeps no failure: every waiting request gets the error, the next one tries again", async () => {
    const f = fetcher([new TokenError("the OAuth2 token endpoint answered HTTP 503"), { token: "t1", expiresIn: 60 }], 10);
    const tokens = new OAuthTokens(f.fetch);
    const waiting = await Promise.allSettled([tokens.token(auth, ctx(0)), tokens.token(auth, ctx(0))]);
    expect(waiting.map((w) => w.status)).toEqual(["rejected", "rejected"]);
    expect(await tokens.token(auth, ctx(1))).toBe("t1");
  });

  it("keys tokens by credentials: another client, scope or secret gets its own", async () => {
    const f = fetcher([
      { token: "a", expiresIn: 60 },
      { token: "b", expiresIn: 60 },
      { token: "c", expiresIn: 60 },
    ]);
    const tokens = new OAuthTokens(f.fetch);
    expect(await tokens.token(auth, ctx(0))).toBe("a");
    expect(await tokens.token({ ...auth, scope: "x" }, ctx(0))).toBe("b");
    expect(await tokens.token({ ...auth, clientSecret: "rotated" }, ctx(0))).toBe("c");
    expect(await tokens.token({ ...auth }, ctx(0))).toBe("a");
  });
});
