import { describe, expect, it } from "vitest";
import { Lanes } from "../../src/dispatch/lanes.js";

/** Items are "webhook:n"; `started` records what was let through, in order. */
function lanes(limit: number, laneLimit: number | (() => number)) {
  const started: string[] = [];
  const l = new Lanes<string>(
    limit,
    typeof laneLimit === "number" ? () => laneLimit : laneLimit,
    (item) => item.split(":")[0]!,
    () => ({ customerId: "c", weight: 1 }),
    (item) => started.push(item),
  );
  return { l, started };
}

/** Items are "customer/webhook:n": lanes by webhook, each customer of weight 1, 8 per lane. */
function customerLanes(limit: number) {
  const started: string[] = [];
  const l = new Lanes<string>(
    limit,
    () => 8,
    (item) => item.split(":")[0]!,
    (item) => ({ customerId: item.split("/")[0]!, weight: 1 }),
    (item) => started.push(item),
  );
  return { l, started };
}

describe("Lanes", () => {
  it("a new lane takes its limit when it opens, before anything of it is let through", () => {
    const { l, started } = lanes(10, () => 1);
    for (const item of ["a:1", "a:2"]) l.add(item);
    expect(started).toEqual(["a:1"]);
  });

  it("lets items through in order up to the overall limit", () => {
    const { l, started } = lanes(2, 8);
    for (const item of ["a:1", "b:1", "c:1"]) l.add(item);
    expect(started).toEqual(["a:1", "b:1"]);
    l.done("a:1");
    expect(started).toEqual(["a:1", "b:1", "c:1"]);
  });

  it("holds a webhook to its lane limit while others go ahead", () => {
    const { l, started } = lanes(4, 2);
    for (const item of ["a:1", "a:2", "a:3", "b:1", "a:4"]) l.add(item);
    expect(started).toEqual(["a:1", "a:2", "b:1"]);
    l.done("a:1");
    expect(started).toEqual(["a:1", "a:2", "b:1", "a:3"]);
    l.done("b:1");
    l.done("a:2");
    expect(started).toEqual(["a:1", "a:2", "b:1", "a:3", "a:4"]);
  });

  it("an item its lane admitted waits for the overall limit in the order it was admitted", () => {
    const { l, started } = lanes(1, 1);
    for (const item of ["a:1", "a:2", "b:1"]) l.add(item);
    expect(started).toEqual(["a:1"]);
    l.done("a:1");
    // b:1 was admitted when it was added; a:2 only when a:1 finished.
    expect(started).toEqual(["a:1", "b:1"]);
    l.done("b:1");
    expect(started).toEqual(["a:1", "b:1", "a:2"]);
  });

  it("refreshLimits narrows and widens open lanes, never below one", () => {
    let laneLimit = 4;
    const { l, started } = lanes(10, () => laneLimit);
    for (const item of ["a:1", "a:2", "a:3", "a:4", "a:5", "a:6"]) l.add(item);
    expect(started).toHaveLength(4);
    laneLimit = 0;
    l.refreshLimits();
    l.done("a:1");
    l.done("a:2");
    l.done("a:3");
    expect(started).toHaveLength(4);
    l.done("a:4");
    expect(started).toEqual(["a:1", "a:2", "a:3", "a:4", "a:5"]);
    laneLimit = 8;
    l.refreshLimits();
    expect(started).toEqual(["a:1", "a:2", "a:3", "a:4", "a:5", "a:6"]);
  });

  it("shares the slots among customers: one customer's queue does not hold another's back", () => {
    const { l, started } = customerLanes(4);
    for (let i = 0; i < 8; i++) l.add(`a/slow${i % 4}:${i}`);
    l.add("b/fast:1");
    l.add("b/fast:2");
    // A took every slot before B came; B gets the next two that free, not A's queue.
    expect(started).toHaveLength(4);
    for (const item of started.slice(0, 2)) l.done(item);
    expect(started.slice(4)).toEqual(["b/fast:1", "b/fast:2"]);
  });

  it("keeps a slot for a customer with more to come rather than give it past another's share", () => {
    const { l, started } = customerLanes(4);
    l.setBacklog(new Map([["b/fast", { customerId: "b", weight: 1 }]]));
    for (let i = 0; i < 8; i++) l.add(`a/slow:${i}`);
    // B's claim is coming: A gets its half.
    expect(started).toHaveLength(2);
    l.setBacklog(new Map());
    expect(started).toHaveLength(4);
  });
});
