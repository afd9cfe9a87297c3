/** Event and delivery ids: version 7 UUIDs that sort by creation time. */
import { expect, it } from "vitest";
import { nextTimeOrderedId, timeOrderedId } from "../../src/store/timeOrderedId.js";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

it.each([
  [0, "00000000-0000-7"],
  [1, "00000000-0001-7"],
  [Date.UTC(2026, 10, 23, 22, 30), "01a20a87-c640-7"],
  [2 ** 48 - 1, "ffffffff-ffff-7"],
])("puts the time %d ms in the first 48 bits", (now, prefix) => {
  const id = timeOrderedId(now, "0a1b2c3d-4e5f-4a6b-9c7d-8e9fa0b1c2d3");
  expect(id).toBe(`${prefix}a6b-9c7d-8e9fa0b1c2d3`);
  expect(id).toMatch(V7);
});

it("sorts by time as text, and ids made in one millisecond differ", () => {
  const now = Date.now();
  const ids = [now - 1000, now - 1, now, now + 1].map((t) => timeOrderedId(t));
  expect([...ids].sort()).toEqual(ids);
  for (const id of ids) expect(id).toMatch(V7);
  const same = new Set(Array.from({ length: 1000 }, () => timeOrderedId(now)));
  expect(same.size).toBe(1000);
});

it("ids made one after another sort in that order, within one millisecond too", () => {
  const now = Date.now();
  const ids = Array.from({ length: 5000 }, (_, i) => nextTimeOrderedId(now + Math.floor(i / 2000)));
  expect([...ids].sort()).toEqual(ids);
  for (const id of ids) expect(id).toMatch(V7);
  expect(new Set(ids).size).toBe(5000);
  // A clock that steps back does not reorder them either.
  const after = nextTimeOrderedId(now - 10_000);
  expect(after > ids[ids.length - 1]!).toBe(true);
});
