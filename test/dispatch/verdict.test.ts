/**
 * The status and Retry-After rules, as a table: one attempt → the delivery's next state and
 * the webhook's change. "breaker": no change at once; an endpoint failure for the circuit
 * breaker, whose first step would end `backoff` s from now.
 */
import { describe, expect, it } from "vitest";
import type { RetryPolicy } from "../../src/domain/retryPolicy.js";
import type { AttemptOutcome } from "../../src/dispatch/outcome.js";
import { judge, type JudgedDelivery } from "../../src/dispatch/verdict.js";

const policy: RetryPolicy = { maxAttempts: 10, maxAgeSeconds: 86_400, delaysSeconds: [30, 120, 600], retryAfterMaxSeconds: 3600 };
const NOW = Date.UTC(2026, 0, 1, 12);
const S = 1000;

const delivery = (over: Partial<JudgedDelivery> = {}): JudgedDelivery => ({
  id: "d1",
  webhook_id: "w1",
  attempts: 0,
  created_at: NOW - 60 * S,
  consecutive_failures: 0,
  probe: false,
  ...over,
});

const answered = (statusCode: number, retryAfter: string | null = null): AttemptOutcome => ({
  startedAt: NOW,
  durationMs: 5,
  ok: statusCode >= 200 && statusCode < 300,
  statusCode,
  error: statusCode >= 200 && statusCode < 300 ? null : statusCode < 400 ? "redirect" : "http",
  errorMessage: null,
  responseBody: "",
  retryAfter,
});

const failedWith = (error: AttemptOutcome["error"]): AttemptOutcome => ({ ...answered(0), ok: false, statusCode: null, error });

describe("judge", () => {
  it.each([
    // [case, outcome, delivery, verdict, next try (s from now), wait reason, webhook change]
    ["200", answered(200), {}, "delivered", null, null, null],
    ["204 from a probe: recovered", answered(204), { probe: true }, "delivered", null, null, { kind: "up" }],
    ["301 is a failure of the endpoint", answered(301), {}, "rescheduled", 30, "backoff (attempt 1 failed)", { kind: "breaker", backoff: 30 }],
    ["500", answered(500), {}, "rescheduled", 30, "backoff (attempt 1 failed)", { kind: "breaker", backoff: 30 }],
    ["refused", failedWith("refused"), {}, "rescheduled", 30, "backoff (attempt 1 failed)", { kind: "breaker", backoff: 30 }],
    ["timeout on attempt 3", failedWith("timeout"), { attempts: 2 }, "rescheduled", 600, "backoff (attempt 3 failed)", { kind: "breaker", backoff: 30 }],
    ["400 blames the payload", answered(400), {}, "rescheduled", 30, "backoff (attempt 1 failed)", null],
    ["422 from a probe: the endpoint answers", answered(422), { probe: true }, "rescheduled", 30, "backoff (attempt 1 failed)", { kind: "up" }],
    ["410 disables", answered(410), {}, "rescheduled", 30, "backoff (attempt 1 failed)", { kind: "gone" }],
    ["429 Retry-After 600 s", answered(429, "600"), {}, "rescheduled", 600, "retry_after", { kind: "breaker", backoff: 600 }],
    ["503 Retry-After shorter than the backoff", answered(503, "5"), {}, "rescheduled", 30, "backoff (attempt 1 failed)", { kind: "breaker", backoff: 30 }],
    ["503 Retry-After capped", answered(503, "999999"), {}, "rescheduled", 3600, "retry_after", { kind: "breaker", backoff: 3600 }],
    [
      "503 Retry-After as a date",
      answered(503, new Date(NOW + 900 * S).toUTCString()),
      {},
      "rescheduled",
      900,
      "retry_after",
      { kind: "breaker", backoff: 900 },
    ],
    ["500 with Retry-After: ignored", answered(500, "600"), {}, "rescheduled", 30, "backoff (attempt 1 failed)", { kind: "breaker", backoff: 30 }],
    [
      "a failed probe extends the backoff by the failures in a row",
      answered(500),
      { probe: true, consecutive_failures: 2 },
      "rescheduled",
      30,
      "backoff (attempt 1 failed)",
      { kind: "down", backoff: 600, probe: true },
    ],
  ] as const)("%s", (_name, outcome, over, verdict, nextIn, waitReason, change) => {
    const j = judge(delivery(over), outcome, policy, NOW);
    expect(j.verdict).toBe(verdict);
    expect(j.record.nextAttemptAt === null ? null : (j.record.nextAttemptAt - NOW) / S).toBe(nextIn);
    expect(j.record.waitReason).toBe(waitReason);
    expect(j.record.attempt).toMatchObject({ delivery_id: "d1", number: (over as { attempts?: number }).attempts === undefined ? 1 : 3 });
    if (change === null) return expect([j.change, j.endpoint]).toEqual([null, "healthy"]);
    if (change.kind === "breaker") {
      expect(j.change).toBeNull();
      expect(j.endpoint).toBe("failing");
      return expect(j.openUntil).toBe(NOW + change.backoff * S);
    }
    expect(j.change).toMatchObject({ kind: change.kind, webhookId: "w1" });
    if (change.kind === "down") {
      expect(j.change).toMatchObject({ probe: change.probe, backoffUntil: NOW + change.backoff * S });
    }
  });

  it("spends the budget: the 10th failure fails the delivery, and the breaker still hears of it", () => {
    const j = judge(delivery({ attempts: 9 }), answered(500), policy, NOW);
    expect(j.verdict).toBe("failed");
    expect(j.record).toMatchObject({ status: "failed", nextAttemptAt: null, lastError: "http 500 (max_attempts)" });
    expect([j.endpoint, j.error]).toEqual(["failing", "http 500"]);
  });

  it("gives up when the retry would land past maxAge", () => {
    const j = judge(delivery({ created_at: NOW - 86_390 * S }), failedWith("reset"), policy, NOW);
    expect(j.record).toMatchObject({ status: "failed", lastError: "reset (max_age)" });
  });
});
