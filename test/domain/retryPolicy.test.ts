import { describe, expect, it } from "vitest";
import { delayAfter, nextStep, parseRetryAfter, type RetryPolicy } from "../../src/domain/retryPolicy.js";
import { loadConfig } from "../../src/config/load.js";

const policy: RetryPolicy = {
  maxAttempts: 10,
  maxAgeSeconds: 86_400,
  delaysSeconds: [30, 120, 600, 1800, 3600, 7200, 10800, 14400, 21600],
  retryAfterMaxSeconds: 3600,
};
const T0 = Date.UTC(2026, 0, 1);

describe("delayAfter", () => {
  it.each([
    [1, 30],
    [2, 120],
    [9, 21600],
    [10, 21600], // the last delay repeats
    [50, 21600],
    [0, 30],
  ])("after attempt %i waits %i s", (attempt, seconds) => {
    expect(delayAfter(policy, attempt)).toBe(seconds);
  });
});

describe("nextStep", () => {
  it.each([
    { attempts: 1, now: T0, expected: { kind: "retry", at: T0 + 30_000, reason: "backoff" } },
    { attempts: 3, now: T0 + 1000, expected: { kind: "retry", at: T0 + 1000 + 600_000, reason: "backoff" } },
    { attempts: 10, now: T0, expected: { kind: "failed", reason: "max_attempts" } },
    { attempts: 9, now: T0 + 80_000_000, expected: { kind: "failed", reason: "max_age" } },
  ])("after $attempts attempts → $expected.kind", ({ attempts, now, expected }) => {
    expect(nextStep({ policy, attempts, createdAt: T0, now })).toEqual(expected);
  });

  it("honours a longer Retry-After, capped", () => {
    expect(nextStep({ policy, attempts: 1, createdAt: T0, now: T0, retryAfterSeconds: 90 })).toEqual({
      kind: "retry",
      at: T0 + 90_000,
      reason: "retry_after",
    });
    expect(nextStep({ policy, attempts: 1, createdAt: T0, now: T0, retryAfterSeconds: 999_999 })).toEqual({
      kind: "retry",
      at: T0 + 3_600_000,
      reason: "retry_after",
    });
  });

  it("keeps its own backoff when Retry-After asks for less", () => {
    expect(nextStep({ policy, attempts: 2, createdAt: T0, now: T0, retryAfterSeconds: 5 })).toEqual({
      kind: "retry",
      at: T0 + 120_000,
      reason: "backoff",
    });
  });

  it("fits ten attempts in 24 hours with the default schedule, even with 30-minute ticks", () => {
    const config = loadConfig({ env: { HOOKD_ENV: "production" } });
    let now = T0;
    let attempts = 0;
    for (;;) {
      attempts++;
      const step = nextStep({ policy: config.retry, attempts, createdAt: T0, now });
      if (step.kind === "failed") {
        expect(step.reason).toBe("max_attempts");
        break;
      }
      now = step.at + 30 * 60_000; // the worst case: the next tick comes a full period later
    }
    expect(attempts).toBe(10);
    expect(now - T0).toBeLessThan(86_400_000);
  });
});

describe("parseRetryAfter", () => {
  it.each([
    ["120", 120],
    [" 7 ", 7],
    ["0", 0],
    [new Date(T0 + 60_000).toUTCString(), 60],
    [new Date(T0 - 60_000).toUTCString(), 0],
    ["soon", null],
    ["-5", null],
    ["1.5", null],
    [undefined, null],
  ])("%s → %s", (value, expected) => {
    expect(parseRetryAfter(value, T0)).toBe(expected);
  });
});
