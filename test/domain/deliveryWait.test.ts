import { describe, expect, it } from "vitest";
import { deliveryWait, outcomeWords, type WaitingDelivery, type WaitingWebhook } from "../../src/domain/deliveryWait.js";

const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);
const MIN = 60_000;

const delivery = (d: Partial<WaitingDelivery> = {}): WaitingDelivery => ({
  status: "pending",
  attempts: 0,
  dueAt: NOW - MIN,
  waitReason: null,
  lastStatusCode: null,
  lastError: null,
  updatedAt: NOW - MIN,
  leasedUntil: null,
  ...d,
});
const healthy: WaitingWebhook = { active: true, disabledReason: null, failingSince: null, consecutiveFailures: 0, backoffUntil: null, maxAttempts: 10 };
const backingOff = (until: number, failures = 5): WaitingWebhook => ({
  ...healthy,
  failingSince: NOW - 30 * MIN,
  consecutiveFailures: failures,
  backoffUntil: until,
});

describe("deliveryWait", () => {
  it.each([
    {
      name: "a fresh delivery, due",
      d: delivery(),
      w: healthy,
      at: NOW - MIN,
      message: "first attempt; the next tick sends it",
    },
    {
      name: "its own retry after a 500",
      d: delivery({ attempts: 2, dueAt: NOW + 10 * MIN, waitReason: "backoff (attempt 2 failed)", lastStatusCode: 500, lastError: "http 500" }),
      w: healthy,
      at: NOW + 10 * MIN,
      message: "attempt 3 of 10 after HTTP 500; the first tick after that sends it",
    },
    {
      name: "a retry after a transport error",
      d: delivery({ attempts: 1, dueAt: NOW + MIN, waitReason: "backoff (attempt 1 failed)", lastError: "refused" }),
      w: healthy,
      at: NOW + MIN,
      message: "attempt 2 of 10 after connection refused; the first tick after that sends it",
    },
    {
      name: "the receiver's Retry-After",
      d: delivery({ attempts: 1, dueAt: NOW + 2 * MIN, updatedAt: NOW, waitReason: "retry_after", lastStatusCode: 429, lastError: "http 429" }),
      w: healthy,
      at: NOW + 2 * MIN,
      message: "attempt 2 of 10 after HTTP 429: the receiver asked to wait 120 s (Retry-After); the first tick after that sends it",
    },
    {
      name: "held back by its endpoint's backoff: the real time is the breaker's, not its own past due time",
      d: delivery({ attempts: 2, dueAt: NOW - 5 * MIN, waitReason: "endpoint_backoff", lastStatusCode: 500, lastError: "http 500" }),
      w: backingOff(NOW + 40 * MIN),
      at: NOW + 40 * MIN,
      message:
        "attempt 3 of 10 after HTTP 500, held: the endpoint is backing off after 5 failures in a row; a probe tests it then, and this delivery follows once one succeeds",
    },
    {
      name: "a first attempt held back, the backoff already over",
      d: delivery({ dueAt: NOW - 5 * MIN, waitReason: "endpoint_backoff" }),
      w: backingOff(NOW - MIN, 1),
      at: NOW - MIN,
      message:
        "first attempt, held: the endpoint is backing off after 1 failure in a row; a probe tests it at the next tick, and this delivery follows once one succeeds",
    },
    {
      name: "its own retry comes after the backoff ends",
      d: delivery({ attempts: 4, dueAt: NOW + 60 * MIN, waitReason: "backoff (attempt 4 failed)", lastError: "timeout" }),
      w: backingOff(NOW + 10 * MIN),
      at: NOW + 60 * MIN,
      message:
        "attempt 5 of 10 after a timeout; the endpoint is backing off after 5 failures in a row: a probe goes first, and the first tick after that sends it once one succeeds",
    },
    {
      name: "a breaker opened by the failure rate (no failures in a row)",
      d: delivery({ dueAt: NOW - MIN }),
      w: backingOff(NOW + MIN, 0),
      at: NOW + MIN,
      message:
        "first attempt, held: the endpoint is backing off after too many recent failures; a probe tests it then, and this delivery follows once one succeeds",
    },
    {
      name: "a webhook hookd switched off after 410 Gone",
      d: delivery({ attempts: 1, waitReason: "webhook_disabled", lastStatusCode: 410 }),
      w: { ...healthy, active: false, disabledReason: "410 Gone" },
      at: null,
      message: "webhook disabled by hookd: the receiver answered 410 Gone; enable it again to send this delivery",
    },
    {
      name: "a webhook someone switched off",
      d: delivery(),
      w: { ...healthy, active: false },
      at: null,
      message: "webhook disabled: enable it to send this delivery",
    },
    {
      name: "a failed delivery put back by hand",
      d: delivery({ attempts: 10, dueAt: NOW, waitReason: "manual_retry", lastStatusCode: 500 }),
      w: healthy,
      at: NOW,
      message: "put back in line by hand after 10 attempts; the next tick sends it",
    },
    {
      name: "a delivery being sent",
      d: delivery({ attempts: 1, leasedUntil: NOW + MIN, lastStatusCode: 503, waitReason: "backoff (attempt 1 failed)" }),
      w: healthy,
      at: NOW - MIN,
      message: "being sent now (attempt 2 of 10 after HTTP 503)",
    },
    {
      name: "past its budget after a manual retry, no 'of'",
      d: delivery({ attempts: 11, lastStatusCode: 500, waitReason: "backoff (attempt 11 failed)" }),
      w: healthy,
      at: NOW - MIN,
      message: "attempt 12 after HTTP 500; the next tick sends it",
    },
  ])("$name", ({ d, w, at, message }) => {
    expect(deliveryWait(d, w, NOW)).toEqual({ at, message });
  });

  it.each(["delivered", "failed", "cancelled"] as const)("a %s delivery does not wait", (status) => {
    expect(deliveryWait(delivery({ status }), healthy, NOW)).toBeNull();
  });
});

describe("outcomeWords", () => {
  it.each([
    [500, "http 500", "HTTP 500"],
    [null, "dns", "a DNS failure"],
    [null, "something-new", "something-new"],
    [null, null, "a failed attempt"],
  ])("%s / %s → %s", (code, error, words) => {
    expect(outcomeWords(code, error)).toBe(words);
  });
});
