/** Pure parts of claiming and scheduling: each webhook's room, the start jitter, the database clock's arithmetic. */
import { describe, expect, it } from "vitest";
import { DatabaseClock, ManualClock } from "../../src/dispatch/clock.js";
import { startJitterMs } from "../../src/dispatch/scheduler.js";
import { takeWithinRoom } from "../../src/store/claims.js";

describe("takeWithinRoom", () => {
  const rows = (...hooks: string[]) => hooks.map((webhook_id, i) => ({ id: `d${i}`, webhook_id }));
  it.each([
    ["everything fits", rows("a", "b", "a"), { a: 2, b: 1 }, ["d0", "d1", "d2"], []],
    ["a webhook's surplus is left, in due order", rows("a", "a", "b", "a"), { a: 2, b: 5 }, ["d0", "d1", "d2"], ["a"]],
    ["no room at all", rows("a", "b"), { a: 0, b: 1 }, ["d1"], ["a"]],
    ["negative room (over the cap after a lapse) takes nothing", rows("a"), { a: -3 }, [], ["a"]],
    ["nothing due", [], { a: 4 }, [], []],
  ])("%s", (_name, candidates, room, ids, full) => {
    expect(takeWithinRoom(candidates, (w) => (room as Record<string, number>)[w] ?? 0)).toEqual({ ids, full });
  });
});

describe("startJitterMs", () => {
  it.each([
    [1_000, 0, 0],
    [1_000, 0.999, 99],
    [300_000, 0.5, 15_000],
    [1_800_000, 0.999, 29_970],
    [86_400_000, 0.5, 15_000],
  ])("interval %i ms, random %f → %i ms", (interval, random, expected) => {
    expect(startJitterMs(interval, random)).toBe(expected);
  });
});

describe("DatabaseClock", () => {
  it("runs on the local clock corrected by the offset seen at the last sync", async () => {
    const local = new ManualClock(1_000_000);
    let database = 1_000_000 - 300_000; // the database is five minutes behind this machine
    const clock = new DatabaseClock(async () => database, local);
    await clock.sync();
    expect(clock.now()).toBe(700_000);
    local.advance(2_000);
    expect(clock.now()).toBe(702_000);
    database = 702_500; // drift: the next sync follows the database
    await clock.sync();
    expect(clock.now()).toBe(702_500);
  });

  it("never goes back, though a later read puts the database a little behind", async () => {
    const local = new ManualClock(1_000_000);
    let database = 1_000_000;
    const clock = new DatabaseClock(async () => database, local);
    await clock.sync();
    expect(clock.now()).toBe(1_000_000);
    database = 999_999; // the next read, rounded the other way
    await clock.sync();
    expect(clock.now()).toBe(1_000_000);
    local.advance(5);
    expect(clock.now()).toBe(1_000_004);
  });
});
