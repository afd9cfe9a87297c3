/** The API's pure helpers, with literal inputs. */
import { describe, expect, it } from "vitest";
import { bearerToken, ownerOf, scopeOf } from "../../src/api/auth.js";
import { neighbours, withPage } from "../../src/api/pagination.js";
import { idempotencyKeyOf } from "../../src/api/routes/events.js";
import { MAX_TIME_MS, timeParam } from "../../src/api/timeRange.js";

describe("neighbours", () => {
  const cases: [number, number, number, { next: number | null; previous: number | null }][] = [
    [1, 50, 0, { next: null, previous: null }],
    [1, 50, 50, { next: null, previous: null }],
    [1, 50, 51, { next: 2, previous: null }],
    [2, 50, 51, { next: null, previous: 1 }],
    [2, 2, 5, { next: 3, previous: 1 }],
    [9, 2, 5, { next: null, previous: 3 }],
    [4, 10, 0, { next: null, previous: 1 }],
  ];
  for (const [page, limit, count, expected] of cases) {
    it(`page ${page} of ${count} by ${limit}`, () => expect(neighbours(page, limit, count)).toEqual(expected));
  }
  it("withPage replaces or adds page and keeps the rest", () => {
    expect(withPage("/webhooks/?page=3&limit=2", 4)).toBe("/webhooks/?page=4&limit=2");
    expect(withPage("/webhooks/?sort=url", 2)).toBe("/webhooks/?sort=url&page=2");
  });
  it("withPage builds on server.publicUrl when there is one, never on a second host", () => {
    expect(withPage("/webhooks/?page=3", 2, "https://hooks.example.com/api/")).toBe("https://hooks.example.com/api/webhooks/?page=2");
    expect(withPage("//evil.example/webhooks/", 2)).toBe("/evil.example/webhooks/?page=2");
  });
});

describe("bearerToken", () => {
  const cases: [string | undefined, string | null][] = [
    ["Bearer hk_cus_abc", "hk_cus_abc"],
    ["bearer  hk_adm_x-y_z ", "hk_adm_x-y_z"],
    ["Basic dXNlcjpwYXNz", null],
    ["Bearer", null],
    ["Bearer a b", null],
    [undefined, null],
  ];
  for (const [header, token] of cases) it(`${JSON.stringify(header)} → ${token}`, () => expect(bearerToken(header)).toBe(token));
});

describe("scopeOf and ownerOf", () => {
  const customer = { keyId: "k", customerId: "c1" };
  const admin = { keyId: "k", customerId: null };
  it("a customer key acts for its own customer only", () => {
    expect(scopeOf(customer, undefined)).toBe("c1");
    expect(scopeOf(customer, "c1")).toBe("c1");
    expect(() => scopeOf(customer, "c2")).toThrow(/its own customer/);
    expect(ownerOf(customer, undefined)).toBe("c1");
  });
  it("an admin key acts for the customer it names, or all of them for reads", () => {
    expect(scopeOf(admin, "c2")).toBe("c2");
    expect(scopeOf(admin, undefined)).toBeNull();
    expect(ownerOf(admin, "c2")).toBe("c2");
    expect(() => ownerOf(admin, undefined)).toThrow(/required with an admin key/);
  });
});

describe("idempotencyKeyOf", () => {
  it("takes the header or the field, and both only when they agree", () => {
    expect(idempotencyKeyOf("a", undefined)).toBe("a");
    expect(idempotencyKeyOf(undefined, "b")).toBe("b");
    expect(idempotencyKeyOf("c", "c")).toBe("c");
    expect(idempotencyKeyOf(undefined, undefined)).toBeNull();
    expect(() => idempotencyKeyOf("a", "b")).toThrow(/differs/);
  });
});

describe("timeParam", () => {
  const times: [string, number][] = [
    ["2026-01-31", Date.UTC(2026, 0, 31)],
    ["2026-01-31T12:00Z", Date.UTC(2026, 0, 31, 12)],
    ["2026-01-31 12:00:00Z", Date.UTC(2026, 0, 31, 12)],
    ["2026-01-31T12:00:00.123456Z", Date.UTC(2026, 0, 31, 12, 0, 0, 123)],
    ["2026-01-31T12:00:00+02:00", Date.UTC(2026, 0, 31, 10)],
    ["2026-01-31T12:00:00-0130", Date.UTC(2026, 0, 31, 13, 30)],
    ["0", 0],
    ["1767225600000", 1767225600000],
    [String(MAX_TIME_MS), MAX_TIME_MS],
  ];
  for (const [text, ms] of times) it(`reads ${text}`, () => expect(timeParam(text, "since")).toBe(ms));

  // V8's Date.parse guesses at several of these ("1.5" is 5 January 2001).
  const notTimes = [
    "1.5",
    "1,2",
    "-1",
    "1e3",
    "1e400",
    "Infinity",
    "NaN",
    "yesterday",
    "2026-13-01",
    "2026-01-31T25:00Z",
    "2026-01-31T12:00+02",
    " 2026-01-31",
  ];
  for (const text of notTimes) {
    it(`refuses ${JSON.stringify(text)}, naming the field`, () => {
      expect(() => timeParam(text, "until")).toThrow(expect.objectContaining({ details: [expect.objectContaining({ field: "until" })] }));
    });
  }
  it("refuses Unix milliseconds past the last time a date holds, however many digits", () => {
    for (const text of [String(MAX_TIME_MS + 1), "9".repeat(400)]) expect(() => timeParam(text, "since")).toThrow(/must be at most/);
  });
});
