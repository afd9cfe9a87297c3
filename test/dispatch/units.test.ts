/** A claim's deliveries → a tick's requests: per webhook, in claim order, cut to batch_size (at most maxBatchSize). */
import { describe, expect, it } from "vitest";
import type { ClaimedDelivery } from "../../src/store/claimed.js";
import { unitsOf } from "../../src/dispatch/units.js";

const d = (id: string, webhook_id: string, batch_size = 1, customer_id = "c1"): ClaimedDelivery =>
  ({ id, webhook_id, batch_size, customer_id, weight: customer_id === "c1" ? 1 : 3 }) as ClaimedDelivery;

const ids = (claimed: ClaimedDelivery[], max: number) => unitsOf(claimed, max).units.map((u) => [u.webhookId, u.deliveries.map((x) => x.id)]);

describe("unitsOf", () => {
  it("makes one request per delivery of an unbatched webhook, in claim order", () => {
    expect(ids([d("a", "w1"), d("b", "w2"), d("c", "w1")], 100)).toEqual([
      ["w1", ["a"]],
      ["w1", ["c"]],
      ["w2", ["b"]],
    ]);
  });

  it("cuts a batched webhook's deliveries into batches of its batch_size, the last one shorter", () => {
    const claimed = ["a", "b", "c", "d", "e"].map((id) => d(id, "w1", 2));
    expect(ids(claimed, 100)).toEqual([
      ["w1", ["a", "b"]],
      ["w1", ["c", "d"]],
      ["w1", ["e"]],
    ]);
    expect(unitsOf(claimed, 100).batchOf.get("w1")).toBe(2);
  });

  it("bounds a batch by maxBatchSize, and a batch_size below one counts as one", () => {
    const claimed = ["a", "b", "c"].map((id) => d(id, "w1", 50));
    expect(ids(claimed, 2)).toEqual([
      ["w1", ["a", "b"]],
      ["w1", ["c"]],
    ]);
    expect(ids([d("x", "w2", 0)], 10)).toEqual([["w2", ["x"]]]);
  });

  it("carries each request's customer and weight for the lanes' fair share", () => {
    const [unit] = unitsOf([d("a", "w9", 1, "c2")], 10).units;
    expect(unit).toMatchObject({ webhookId: "w9", customerId: "c2", weight: 3 });
  });
});
