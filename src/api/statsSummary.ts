/**
 * GET /stats/ arithmetic, pure: attempts counted by outcome in time buckets, and per
 * webhook the success rate and latency percentiles. Takes rows, returns numbers.
 */

export type Outcome = "success" | "http_error" | "network_error";
export const OUTCOMES: readonly Outcome[] = ["success", "http_error", "network_error"];

import type { AttemptSample } from "../store/attemptStats.js";

/** 2xx is success; any other answer an HTTP error; no answer (timeout, refused, tls, …) a network error. */
export function outcomeOf(statusCode: number | null): Outcome {
  if (statusCode === null) return "network_error";
  return statusCode >= 200 && statusCode < 300 ? "success" : "http_error";
}

export interface Bucket extends Record<Outcome, number> {
  start: number;
}

/** One bucket per `bucketMs` from `since` (the last may be shorter), each with a count per outcome. */
export function bucketize(samples: readonly AttemptSample[], since: number, until: number, bucketMs: number): Bucket[] {
  const buckets: Bucket[] = [];
  for (let start = since; start < until; start += bucketMs) buckets.push({ start, success: 0, http_error: 0, network_error: 0 });
  for (const s of samples) {
    if (s.started_at < since || s.started_at >= until) continue;
    buckets[Math.floor((s.started_at - since) / bucketMs)]![outcomeOf(s.status_code)]++;
  }
  return buckets;
}

/** The nearest-rank percentile of sorted values (p in 0..100), or null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface WebhookPerformance {
  attempts: number;
  succeeded: number;
  /** succeeded / attempts, or null without attempts */
  success_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
}

export function performanceByWebhook(samples: readonly AttemptSample[]): Map<string, WebhookPerformance> {
  const grouped = new Map<string, AttemptSample[]>();
  for (const s of samples) {
    const list = grouped.get(s.webhook_id) ?? [];
    list.push(s);
    grouped.set(s.webhook_id, list);
  }
  const out = new Map<string, WebhookPerformance>();
  for (const [id, list] of grouped) {
    const durations = list.map((s) => s.duration_ms).sort((a, b) => a - b);
    const succeeded = list.filter((s) => outcomeOf(s.status_code) === "success").length;
    out.set(id, {
      attempts: list.length,
      succeeded,
      success_rate: succeeded / list.length,
      p50_ms: percentile(durations, 50),
      p95_ms: percentile(durations, 95),
    });
  }
  return out;
}
