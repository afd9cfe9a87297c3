import { describe, expect, it } from "vitest";
import { bucketize, percentile, performanceByWebhook } from "../../src/api/statsSummary.js";
import { decodeCursor, encodeCursor, keysetPage } from "../../src/store/keyset.js";

describe("stats arithmetic", () => {
  it("nearest-rank percentiles", () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
  });

  it("lays counts out as buckets from since; empty buckets are zeros", () => {
    const counts = [
      { key: 0, outcome: "success", n: 1 },
      { key: 0, outcome: "http_error", n: 2 },
      { key: 2, outcome: "network_error", n: 3 },
    ] as const;
    expect(bucketize(counts, 0, 30, 10)).toEqual([
      { start: 0, success: 1, http_error: 2, network_error: 0 },
      { start: 10, success: 0, http_error: 0, network_error: 0 },
      { start: 20, success: 0, http_error: 0, network_error: 3 },
    ]);
  });

  it("per webhook: success rate from the counts, latency from the sample", () => {
    const counts = [
      { key: "a", outcome: "success", n: 3 },
      { key: "a", outcome: "http_error", n: 1 },
      { key: "b", outcome: "network_error", n: 2 },
    ] as const;
    const durations = [10, 20, 30, 40].map((d) => ({ webhook_id: "a", duration_ms: d }));
    const p = performanceByWebhook(counts, durations);
    expect(p.get("a")).toEqual({ attempts: 4, succeeded: 3, success_rate: 0.75, p50_ms: 20, p95_ms: 40 });
    expect(p.get("b")).toEqual({ attempts: 2, succeeded: 0, success_rate: 0, p50_ms: null, p95_ms: null });
  });
});

describe("keyset pages", () => {
  const rows = [5, 4, 3].map((t) => ({ created_at: t, id: `r${t}` }));

  it("round-trips a cursor and refuses one it did not make", () => {
    const c = { t: 1700000000000, id: "d-1:2", dir: "older" as const };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(() => decodeCursor("bm9wZQ")).toThrow(/cursor/);
  });

  it("first page: next when a row beyond the limit came back, no previous", () => {
    expect(keysetPage(rows, 2, null)).toEqual({ rows: rows.slice(0, 2), next: { t: 4, id: "r4", dir: "older" }, previous: null });
    expect(keysetPage(rows, 3, null)).toEqual({ rows, next: null, previous: null });
  });

  it("going newer: rows come back oldest first and are turned around", () => {
    const fetched = [3, 4, 5].map((t) => ({ created_at: t, id: `r${t}` }));
    const page = keysetPage(fetched, 2, { t: 2, id: "r2", dir: "newer" });
    expect(page.rows.map((r) => r.id)).toEqual(["r4", "r3"]);
    expect(page.previous).toEqual({ t: 4, id: "r4", dir: "newer" });
    expect(page.next).toEqual({ t: 3, id: "r3", dir: "older" });
  });
});
