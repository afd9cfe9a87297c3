import { describe, expect, it } from "vitest";
import { policyFor, timeoutFor } from "../../src/domain/retrySettings.js";
import { throwProblems } from "../../src/domain/settingProblem.js";
import { checkSettings, type SettingsInput } from "../../src/domain/webhookSettings.js";
import type { HookdError } from "../../src/errors.js";

const bounds = { maxTimeoutMs: 30_000, maxAttempts: 25, maxBatchSize: 100 };
const sandbox = { allowHttp: true, allowPrivateAddresses: true };
const production = { allowHttp: false, allowPrivateAddresses: false };
const check = (input: SettingsInput, rules = sandbox) => checkSettings(input, bounds, rules);

describe("delivery settings: accepted", () => {
  it.each([
    ["timeout_ms at both bounds", { timeout_ms: 1000 }, { timeout_ms: 1000 }],
    ["timeout_ms up to dispatch.timeoutMs", { timeout_ms: 30_000 }, { timeout_ms: 30_000 }],
    ["max_attempts", { max_attempts: 25 }, { max_attempts: 25 }],
    ["retry delays (stored as JSON)", { retry_delays_seconds: [60, 300, 86_400] }, { retry_delays_seconds: "[60,300,86400]" }],
    ["a fractional rate limit", { rate_limit: 0.5 }, { rate_limit: 0.5 }],
    ["the highest rate limit", { rate_limit: 1000 }, { rate_limit: 1000 }],
    ["ordered", { ordered: true }, { ordered: 1 }],
    ["batch_size up to dispatch.maxBatchSize", { batch_size: 100 }, { batch_size: 100 }],
    ["signing ed25519", { signing: "ed25519" }, { signing: "ed25519" }],
    ["a filter (stored as JSON)", { filter: { status: "paid" } }, { filter: '{"status":"paid"}' }],
    ["headers", { headers: { "X-Tenant": "acme" } }, { headers: '{"X-Tenant":"acme"}' }],
    ["no headers: the default", { headers: {} }, { headers: null }],
    ["a bearer token (kept apart to be sealed)", { auth: { type: "bearer", token: "tok_123" } }, { auth: '{"type":"bearer"}', auth_secret: "tok_123" }],
    [
      "OAuth2 client credentials; the view keeps no secret",
      { auth: { type: "oauth2", token_url: "http://127.0.0.1:9/token", client_id: "cid", client_secret: "shh", scope: "hooks:write" } },
      { auth: '{"type":"oauth2","token_url":"http://127.0.0.1:9/token","client_id":"cid","scope":"hooks:write"}', auth_secret: "shh" },
    ],
    [
      "null restores each default",
      {
        headers: null,
        auth: null,
        timeout_ms: null,
        max_attempts: null,
        retry_delays_seconds: null,
        rate_limit: null,
        filter: null,
        ordered: null,
        batch_size: null,
        signing: null,
      },
      {
        headers: null,
        auth: null,
        auth_secret: null,
        timeout_ms: null,
        max_attempts: null,
        retry_delays_seconds: null,
        rate_limit: null,
        filter: null,
        ordered: 0,
        batch_size: 1,
        signing: "hmac",
      },
    ],
  ])("%s", async (_name, input, fields) => {
    expect(await check(input)).toEqual({ fields, problems: [] });
  });
});

describe("delivery settings: refused, naming the field", () => {
  it.each([
    ["a timeout under a second", { timeout_ms: 999 }, "timeout_ms", "from 1000 to 30000"],
    ["a timeout over dispatch.timeoutMs", { timeout_ms: 30_001 }, "timeout_ms", "from 1000 to 30000"],
    ["a fractional timeout", { timeout_ms: 1500.5 }, "timeout_ms", "an integer"],
    ["zero attempts", { max_attempts: 0 }, "max_attempts", "from 1 to 25"],
    ["attempts over limits.maxAttempts", { max_attempts: 26 }, "max_attempts", "limits.maxAttempts"],
    ["no delays", { retry_delays_seconds: [] }, "retry_delays_seconds", "1 to 25 delays"],
    ["more delays than attempts allowed", { retry_delays_seconds: Array(26).fill(1) }, "retry_delays_seconds", "1 to 25 delays"],
    ["a zero delay", { retry_delays_seconds: [60, 0] }, "retry_delays_seconds.1", "from 1 to 86400"],
    ["a delay over a day", { retry_delays_seconds: [86_401] }, "retry_delays_seconds.0", "from 1 to 86400"],
    ["a delay as text", { retry_delays_seconds: ["60"] }, "retry_delays_seconds.0", "an integer"],
    ["delays as a string", { retry_delays_seconds: "60,300" }, "retry_delays_seconds", "a list"],
    ["a zero rate limit", { rate_limit: 0 }, "rate_limit", "more than 0"],
    ["a negative rate limit", { rate_limit: -1 }, "rate_limit", "more than 0"],
    ["a rate limit over 1000", { rate_limit: 1000.5 }, "rate_limit", "at most 1000"],
    ["ordered as text", { ordered: "true" }, "ordered", "true or false"],
    ["a batch of 0", { batch_size: 0 }, "batch_size", "from 1 to 100"],
    ["a batch over dispatch.maxBatchSize", { batch_size: 101 }, "batch_size", "dispatch.maxBatchSize"],
    ["an unknown signing scheme", { signing: "rsa" }, "signing", "hmac, ed25519"],
    ["a filter with a bad operator", { filter: { a: { $regex: "x" } } }, 'filter["a"].$regex', "not a known operator"],
    ["auth of no known type", { auth: { type: "basic", user: "u" } }, "auth.type", "bearer or oauth2"],
    ["auth as a string", { auth: "Bearer x" }, "auth", "must be"],
    ["a bearer token with a space", { auth: { type: "bearer", token: "a b" } }, "auth.token", "visible ASCII"],
    ["a bearer token missing", { auth: { type: "bearer" } }, "auth.token", "is required"],
    ["a bearer with OAuth2 fields", { auth: { type: "bearer", token: "t", client_id: "x" } }, "auth.client_id", "is not a field of bearer auth"],
    ["OAuth2 without a token URL", { auth: { type: "oauth2", client_id: "a", client_secret: "b" } }, "auth.token_url", "is required"],
    ["OAuth2 without a client secret", { auth: { type: "oauth2", token_url: "http://127.0.0.1:9/t", client_id: "a" } }, "auth.client_secret", "is required"],
    [
      "OAuth2 with a scope holding a line break",
      { auth: { type: "oauth2", token_url: "http://127.0.0.1:9/t", client_id: "a", client_secret: "b", scope: "a\nb" } },
      "auth.scope",
      "space-separated",
    ],
  ])("refuses %s", async (_name, input, field, message) => {
    const { problems } = await check(input as SettingsInput);
    expect(problems).toEqual([expect.objectContaining({ field, message: expect.stringContaining(message) })]);
  });

  it("holds the token URL to the URL policy of webhook URLs", async () => {
    const auth = (token_url: string) => ({ auth: { type: "oauth2", token_url, client_id: "a", client_secret: "b" } });
    expect((await check(auth("http://93.184.216.34/token"), production)).problems).toEqual([
      { field: "auth.token_url", message: "must use https in this environment" },
    ]);
    expect((await check(auth("https://169.254.169.254/token"), production)).problems).toEqual([
      { field: "auth.token_url", message: "points at a non-public address (169.254.169.254)" },
    ]);
    expect((await check(auth("https://user:pw@93.184.216.34/token"), production)).problems).toEqual([
      { field: "auth.token_url", message: "must not carry credentials" },
    ]);
  });

  it("is a 400 when anything is malformed, and a 422 only when the rest is well-formed", async () => {
    const both = await check({ headers: { Host: "x" }, timeout_ms: 5 });
    const error = (problems: typeof both.problems) => {
      try {
        throwProblems(problems);
      } catch (err) {
        return err as HookdError;
      }
      return null;
    };
    expect(error(both.problems)).toMatchObject({ code: "validation_failed", details: [{ field: "timeout_ms" }] });
    const reserved = await check({ headers: { Host: "x", "X-Ok": "1" } });
    expect(error(reserved.problems)).toMatchObject({
      code: "unprocessable",
      details: [{ field: "headers.Host", message: expect.stringContaining("reserved") }],
    });
    expect(error((await check({ headers: { "X-Ok": "1" } })).problems)).toBeNull();
  });
});

describe("a webhook's retry policy", () => {
  const base = { maxAttempts: 10, maxAgeSeconds: 86_400, delaysSeconds: [30, 120], retryAfterMaxSeconds: 3600 };
  it.each([
    ["no settings: the configuration's", { max_attempts: null, retry_delays_seconds: null }, base],
    ["its own attempts", { max_attempts: 3, retry_delays_seconds: null }, { ...base, maxAttempts: 3 }],
    ["its own delays", { max_attempts: null, retry_delays_seconds: "[5,10]" }, { ...base, delaysSeconds: [5, 10] }],
    ["attempts saved under a looser limit are held to today's", { max_attempts: 40, retry_delays_seconds: null }, { ...base, maxAttempts: 25 }],
  ])("%s", (_name, columns, policy) => {
    expect(policyFor(base, columns, { maxAttempts: 25 })).toEqual(policy);
  });

  it("a timeout never past dispatch.timeoutMs", () => {
    expect(timeoutFor(30_000, null)).toBe(30_000);
    expect(timeoutFor(30_000, 2000)).toBe(2000);
    expect(timeoutFor(10_000, 20_000)).toBe(10_000);
  });
});
