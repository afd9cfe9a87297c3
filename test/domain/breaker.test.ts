import { describe, expect, it } from "vitest";
import { breakerState, describeBreaker, FRESH_MEMORY, isUnanswered, remember, Rounds, tripReason, type BreakerMemory } from "../../src/domain/breaker.js";

const RULES = { consecutiveFailures: 5, failureRate: 0.5, window: 20 };

/** The memory after outcomes written as a string: "1" failed, "0" answered well. */
function memoryAfter(outcomes: string, rules = RULES): BreakerMemory {
  let m = FRESH_MEMORY;
  for (const o of outcomes) m = remember(m, o === "1", rules);
  return m;
}

describe("the breaker's memory and when it opens", () => {
  it.each([
    ["nothing yet", "", null],
    ["one failure", "1", null],
    ["four in a row", "01111", null],
    ["five in a row", "011111", "5 failures in a row"],
    ["a success ends the streak", "11110", null],
    ["one in ten failing, forever", "0000000001".repeat(10), null],
    ["one in five failing", "00001".repeat(20), null],
    ["half of the window failing is not more than half", "10".repeat(10), null],
    ["11 of the last 20 failing", `${"10".repeat(9)}11`, "55% of the last 20 attempts failed"],
    ["a rate needs a full window first", "1101101101", null],
    ["old failures leave the window", `${"1".repeat(4)}0${"1".repeat(4)}0${"0".repeat(30)}`, null],
  ])("%s", (_name, outcomes, reason) => {
    expect(tripReason(memoryAfter(outcomes), RULES)).toBe(reason);
  });

  it("keeps only the window's outcomes", () => {
    expect(memoryAfter("1".repeat(3) + "0".repeat(25)).recent).toBe("0".repeat(20));
    expect(memoryAfter("0110").streak).toBe(0);
    expect(memoryAfter("0111").streak).toBe(3);
  });

  it("follows its rules", () => {
    expect(tripReason(memoryAfter("11"), { ...RULES, consecutiveFailures: 2 })).toBe("2 failures in a row");
    expect(tripReason(memoryAfter("0101"), { consecutiveFailures: 5, failureRate: 0.4, window: 4 })).toBe("50% of the last 4 attempts failed");
  });
});

describe("rounds: requests in flight together", () => {
  it("opens when every request of a round of two or more went unanswered", () => {
    const r = new Rounds();
    const a = r.start();
    const b = r.start();
    const c = r.start();
    expect(r.finish(a, true)).toBeNull();
    expect(r.finish(b, true)).toBeNull();
    expect(r.finish(c, true)).toBe("all 3 requests of a round timed out or were refused");
  });

  it("stays closed when one answered, or when the round had one request", () => {
    const r = new Rounds();
    const a = r.start();
    const b = r.start();
    expect(r.finish(a, true)).toBeNull();
    expect(r.finish(b, false)).toBeNull();
    const alone = new Rounds();
    expect(alone.finish(alone.start(), true)).toBeNull();
  });

  it("requests started after a round began to finish wait for the next round", () => {
    const r = new Rounds();
    const a = r.start();
    const b = r.start();
    expect(r.finish(a, true)).toBeNull();
    const late = r.start();
    expect(late).toBe(-1);
    expect(r.finish(late, false)).toBeNull();
    expect(r.finish(b, true)).toBe("all 2 requests of a round timed out or were refused");
    const next = r.start();
    const next2 = r.start();
    expect(next).not.toBe(a);
    expect(r.finish(next, true)).toBeNull();
    expect(r.finish(next2, true)).toBe("all 2 requests of a round timed out or were refused");
  });

  it("names what nobody answering means", () => {
    expect(["timeout", "refused", "unreachable", "dns", "reset"].every(isUnanswered)).toBe(true);
    expect([null, "http", "tls", "redirect", "blocked"].some((e) => isUnanswered(e))).toBe(false);
  });
});

describe("the breaker's state in words", () => {
  const now = Date.parse("2026-12-06T09:00:00Z");
  it.each([
    [{ failing_since: null, backoff_until: null, breaker_reason: null }, "closed", "closed: sending"],
    [
      { failing_since: now - 1000, backoff_until: now + 60_000, breaker_reason: "5 failures in a row" },
      "open",
      "open until 2026-12-06T09:01:00.000Z: 5 failures in a row",
    ],
    [
      { failing_since: now - 1000, backoff_until: now - 1, breaker_reason: "5 failures in a row" },
      "probing",
      "probing: the next tick sends one delivery to test the endpoint: 5 failures in a row",
    ],
  ])("%o is %s", (w, state, words) => {
    expect(breakerState(w, now)).toBe(state);
    expect(describeBreaker(w, now)).toBe(words);
  });
});
