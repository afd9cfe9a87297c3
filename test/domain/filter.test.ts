import { describe, expect, it } from "vitest";
import { compileFilter, filterProblems, MAX_FILTER_DEPTH } from "../../src/domain/filter.js";

const order = {
  id: 1001,
  status: "paid",
  total: 99.5,
  currency: "EUR",
  customer: { email: "ann@example.com", tier: "gold", tags: ["vip", "eu"] },
  items: [
    { sku: "SKU-1", qty: 2 },
    { sku: "SKU-2", qty: 1 },
  ],
  coupon: null,
};

describe("filter evaluation", () => {
  it.each([
    ["a path equal to a value", { status: "paid" }, true],
    ["a path not equal", { status: "refunded" }, false],
    ["a nested path", { "customer.tier": "gold" }, true],
    ["an array index in the path", { "items.1.sku": "SKU-2" }, true],
    ["an index past the end", { "items.5.sku": "SKU-2" }, false],
    ["an index on an object is a key, and missing here", { "customer.0": "x" }, false],
    ["deep equality of an object, keys in any order", { "items.0": { qty: 2, sku: "SKU-1" } }, true],
    ["deep equality of an array", { "customer.tags": ["vip", "eu"] }, true],
    ["an array in another order is not equal", { "customer.tags": ["eu", "vip"] }, false],
    ["null equals a null value", { coupon: null }, true],
    ["null does not equal a missing path", { voucher: null }, false],
    ["every entry must hold", { status: "paid", currency: "USD" }, false],
    ["$eq", { total: { $eq: 99.5 } }, true],
    ["$ne on a different value", { status: { $ne: "refunded" } }, true],
    ["$ne on a missing path holds", { refund: { $ne: true } }, true],
    ["$gt on numbers", { total: { $gt: 50 } }, true],
    ["$gte at the bound", { total: { $gte: 99.5 } }, true],
    ["$lt false", { total: { $lt: 10 } }, false],
    ["$lte and $gt together (a range)", { total: { $gt: 10, $lte: 100 } }, true],
    ["$gt on strings compares them", { currency: { $gt: "AUD" } }, true],
    ["$gt across types never holds", { total: { $gt: "50" } }, false],
    ["$gt on a missing path does not hold", { weight: { $gt: 1 } }, false],
    ["$in", { currency: { $in: ["EUR", "GBP"] } }, true],
    ["$in with no match", { currency: { $in: ["USD"] } }, false],
    ["$in compares deeply", { "items.1": { $in: [{ sku: "SKU-2", qty: 1 }] } }, true],
    ["$nin", { currency: { $nin: ["USD", "JPY"] } }, true],
    ["$nin on a missing path holds", { region: { $nin: ["eu"] } }, true],
    ["$exists true", { "customer.email": { $exists: true } }, true],
    ["$exists false on a missing path", { "customer.phone": { $exists: false } }, true],
    ["$exists true on a null value", { coupon: { $exists: true } }, true],
    ["$prefix", { "items.0.sku": { $prefix: "SKU-" } }, true],
    ["$prefix on a number does not hold", { id: { $prefix: "10" } }, false],
    ["$and", { $and: [{ status: "paid" }, { total: { $gt: 90 } }] }, true],
    ["$or", { $or: [{ status: "refunded" }, { "customer.tier": "gold" }] }, true],
    ["$or with none holding", { $or: [{ status: "refunded" }, { currency: "USD" }] }, false],
    ["$not", { $not: { status: "refunded" } }, true],
    ["$not of a missing path's equality holds", { $not: { region: "eu" } }, true],
    ["an empty filter matches everything", {}, true],
    ["an object without $ keys is a value", { customer: { tier: "gold" } }, false],
  ])("%s", (_name, filter, expected) => {
    expect(filterProblems(filter)).toEqual([]);
    expect(compileFilter(filter)(order)).toBe(expected);
  });

  it("reads a payload that is not an object: a path simply does not match", () => {
    expect(compileFilter({ a: 1 })([1, 2])).toBe(false);
    expect(compileFilter({ "0": 1 })([1, 2])).toBe(true);
    expect(compileFilter({ a: { $exists: false } })("text")).toBe(true);
  });
});

describe("filter validation", () => {
  const nested = (depth: number): Record<string, unknown> => (depth === 1 ? { a: 1 } : { $not: nested(depth - 1) });

  it.each([
    ["not an object", [{ a: 1 }], [{ place: "filter", message: "must be a JSON object (or null for no filter)" }]],
    ["a string", "status=paid", [{ place: "filter", message: "must be a JSON object (or null for no filter)" }]],
    ["an unknown operator", { total: { $gtx: 5 } }, [{ place: 'filter["total"].$gtx', message: expect.stringContaining("is not a known operator") }]],
    ["a comparison with an object", { total: { $gt: { n: 5 } } }, [{ place: 'filter["total"].$gt', message: "must be a number or a string" }]],
    ["a comparison with a boolean", { total: { $lte: true } }, [{ place: 'filter["total"].$lte', message: "must be a number or a string" }]],
    ["$in with a string", { a: { $in: "x" } }, [{ place: 'filter["a"].$in', message: "must be a list of values" }]],
    ["$nin with an object", { a: { $nin: {} } }, [{ place: 'filter["a"].$nin', message: "must be a list of values" }]],
    ["$exists with a string", { a: { $exists: "yes" } }, [{ place: 'filter["a"].$exists', message: "must be true or false" }]],
    ["$prefix with a number", { a: { $prefix: 1 } }, [{ place: 'filter["a"].$prefix', message: "must be a string" }]],
    ["operators mixed with a field", { a: { $gt: 1, b: 2 } }, [{ place: 'filter["a"].b', message: expect.stringContaining("mixes a field with operators") }]],
    ["an operator at the top", { $gt: 1 }, [{ place: "filter.$gt", message: expect.stringContaining("is not an operator here") }]],
    ["an empty $or", { $or: [] }, [{ place: "filter.$or", message: "must be a non-empty list of filters" }]],
    ["$and of a non-filter", { $and: [{ a: 1 }, 3] }, [{ place: "filter.$and[1]", message: "must be a filter (a JSON object)" }]],
    ["$not of a list", { $not: [{ a: 1 }] }, [{ place: "filter.$not", message: "must be a filter (a JSON object)" }]],
    [
      "a bad operator deep inside",
      { $or: [{ a: 1 }, { $and: [{ "b.c": { $in: 5 } }] }] },
      [{ place: 'filter.$or[1].$and[0]["b.c"].$in', message: "must be a list of values" }],
    ],
    ["an empty path segment", { "a..b": 1 }, [{ place: 'filter["a..b"]', message: expect.stringContaining("is not a valid path") }]],
    ["an empty path", { "": 1 }, [{ place: 'filter[""]', message: expect.stringContaining("is not a valid path") }]],
    [
      "nesting deeper than the limit",
      nested(MAX_FILTER_DEPTH + 1),
      [{ place: `filter${".$not".repeat(MAX_FILTER_DEPTH)}`, message: `nests filters deeper than ${MAX_FILTER_DEPTH} levels` }],
    ],
    ["over 4 KiB", { a: "x".repeat(4100) }, [{ place: "filter", message: expect.stringMatching(/^must be at most 4096 bytes of JSON \(got \d+\)$/) }]],
  ])("refuses %s, naming the place", (_name, filter, problems) => {
    expect(filterProblems(filter)).toEqual(problems);
  });

  it("accepts nesting up to the limit", () => {
    expect(filterProblems(nested(MAX_FILTER_DEPTH))).toEqual([]);
  });

  it("names every problem at once", () => {
    expect(filterProblems({ a: { $gt: [] }, b: { $regex: "x" } }).map((p) => p.place)).toEqual(['filter["a"].$gt', 'filter["b"].$regex']);
  });
});
