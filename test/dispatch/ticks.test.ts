import { describe, expect, it } from "vitest";
import { firstTickAtOrAfter, upcomingTicks } from "../../src/dispatch/ticks.js";
import { nextEligibleAt } from "../../src/store/status.js";

const MIN = 60_000;

describe("upcoming ticks", () => {
  it("follow the cron expression, far enough to pass the time asked for", () => {
    const now = Date.now();
    const ticks = upcomingTicks("*/5 * * * *", now + 2 * 60 * MIN);
    expect(ticks[0]!.getTime()).toBeGreaterThan(now);
    expect(ticks[0]!.getTime() - now).toBeLessThanOrEqual(5 * MIN);
    expect(ticks[0]!.getUTCMinutes() % 5).toBe(0);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.getTime() - ticks[i - 1]!.getTime()).toBe(5 * MIN);
    expect(ticks.at(-1)!.getTime()).toBeGreaterThanOrEqual(now + 2 * 60 * MIN);
  });

  it.each([
    [0, "2030-01-01T00:00:00.000Z"],
    [Date.parse("2030-01-01T00:00:00Z"), "2030-01-01T00:00:00.000Z"],
    [Date.parse("2030-01-01T00:00:01Z"), "2030-01-01T00:30:00.000Z"],
    [Date.parse("2030-01-01T01:00:00Z"), null],
  ])("the first tick at or after %s is %s", (at, expected) => {
    const ticks = [new Date("2030-01-01T00:00:00Z"), new Date("2030-01-01T00:30:00Z")];
    expect(firstTickAtOrAfter(ticks, at)?.toISOString() ?? null).toBe(expected);
  });
});

describe("when a failing webhook is eligible again", () => {
  it.each([
    [{ active: 1, pending: 2, next_due: 100, backoff_until: 500 }, 500],
    [{ active: 1, pending: 2, next_due: 900, backoff_until: 500 }, 900],
    [{ active: 1, pending: 1, next_due: 100, backoff_until: null }, 100],
    [{ active: 1, pending: 0, next_due: null, backoff_until: 500 }, null],
    [{ active: 0, pending: 3, next_due: 100, backoff_until: null }, null],
  ])("%j → %s", (w, expected) => {
    expect(nextEligibleAt(w)).toBe(expected);
  });
});
