import { describe, expect, it } from "vitest";
import { claimShares, waterFill } from "../../src/domain/fairShare.js";

const shares = (capacity: number, claimants: [string, number, number?][]) =>
  Object.fromEntries(
    waterFill(
      capacity,
      claimants.map(([id, demand, weight]) => ({ id, demand, weight: weight ?? 1 })),
    ),
  );

describe("waterFill", () => {
  it.each([
    ["a lone claimant gets everything it can use", 64, [["a", 1000]], { a: 64 }],
    [
      "a small demand is met in full, the rest goes to the big one",
      64,
      [
        ["a", 1000],
        ["b", 1],
      ],
      { a: 63, b: 1 },
    ],
    [
      "equal weights split evenly",
      64,
      [
        ["a", 1000],
        ["b", 1000],
      ],
      { a: 32, b: 32 },
    ],
    [
      "weights split in proportion",
      60,
      [
        ["a", 1000, 2],
        ["b", 1000, 1],
      ],
      { a: 40, b: 20 },
    ],
    [
      "unused share is shared again",
      10,
      [
        ["a", 2],
        ["b", 100],
        ["c", 100],
      ],
      { a: 2, b: 4, c: 4 },
    ],
    [
      "never more than demand in all",
      64,
      [
        ["a", 3],
        ["b", 4],
      ],
      { a: 3, b: 4 },
    ],
    [
      "more claimants than units: one each, first come first",
      2,
      [
        ["a", 5],
        ["b", 5],
        ["c", 5],
      ],
      { a: 1, b: 1, c: 0 },
    ],
    ["no capacity", 0, [["a", 5]], { a: 0 }],
    [
      "unbounded demand",
      8,
      [
        ["a", Number.POSITIVE_INFINITY],
        ["b", 1],
      ],
      { a: 7, b: 1 },
    ],
  ] as const)("%s", (_name, capacity, claimants, expected) => {
    expect(shares(capacity, claimants as unknown as [string, number, number?][])).toEqual(expected);
  });
});

describe("claimShares", () => {
  it("shares a claim among customers first, then among each customer's webhooks", () => {
    const heads = [
      ...Array.from({ length: 20 }, (_, i) => ({ webhookId: `a${i}`, customerId: "A", weight: 1, room: 32, oldest: i })),
      { webhookId: "b0", customerId: "B", weight: 1, room: 32, oldest: 1000 },
    ];
    const takes = claimShares(500, heads);
    expect(takes.get("b0")).toBe(32);
    const a = [...takes].filter(([id]) => id.startsWith("a")).map(([, n]) => n);
    expect(a.reduce((x, y) => x + y, 0)).toBe(468);
    expect(Math.max(...a) - Math.min(...a)).toBeLessThanOrEqual(1);
  });

  it("the customer with one due delivery gets it even in a claim of one", () => {
    const heads = [
      { webhookId: "a", customerId: "A", weight: 1, room: 32, oldest: 1 },
      { webhookId: "b", customerId: "B", weight: 1, room: 32, oldest: 5 },
    ];
    expect(Object.fromEntries(claimShares(2, heads))).toEqual({ a: 1, b: 1 });
    expect(Object.fromEntries(claimShares(1, heads))).toEqual({ a: 1 });
  });

  it("leaves out webhooks without room", () => {
    const heads = [
      { webhookId: "a", customerId: "A", weight: 1, room: 0, oldest: 1 },
      { webhookId: "b", customerId: "A", weight: 1, room: 3, oldest: 2 },
    ];
    expect(Object.fromEntries(claimShares(10, heads))).toEqual({ b: 3 });
  });
});
