/**
 * GET /stats/ arithmetic, pure: the database's counts laid out as time buckets, and
 * per webhook the success rate and latency percentiles. Takes rows, returns numbers.
 */
import type { DurationSample, Outcome, OutcomeCount } from "../store/attemptStats.js";

export interface Bucket extends Record<Outcome, number> {
  start: number;
}

/** One bucket per `bucketMs` from `since` (the last may be shorter), each with a count per outcome. */
export function bucketize(counts: readonly OutcomeCount[], since: number, until: number, bucketMs: number): Bucket[] {
  const buckets: Bucket[] = [];
  for (let start = since; start < until; start += bucketMs) buckets.push({ start, success: 0, http_error: 0, network_error: 0 });
  for (const c of counts) {
    const bucket = buckets[Number(c.key)];
    if (bucket) bucket[c.outcome] += c.n;
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
  /** over the webhook's attempts among the range's most recent (LATENCY_SAMPLE) */
  p50_ms: number | null;
  p95_ms: number | null;
}

export function performanceByWebhook(counts: readonly OutcomeCount[], durations: readonly DurationSample[]): Map<string, WebhookPerformance> {
  const out = new Map<string, WebhookPerformance>();
  for (const c of counts) {
    const id = String(c.key);
    const p = out.get(id) ?? { attempts: 0, succeeded: 0, success_rate: null, p50_ms: null, p95_ms: null };
    p.attempts += c.n;
    if (c.outcome === "success") p.succeeded += c.n;
    p.success_rate = p.attempts === 0 ? null : p.succeeded / p.attempts;
    out.set(id, p);
  }
  const byWebhook = new Map<string, number[]>();
  for (const d of durations) byWebhook.set(d.webhook_id, [...(byWebhook.get(d.webhook_id) ?? []), d.duration_ms]);
  for (const [id, list] of byWebhook) {
    const p = out.get(id);
    if (!p) continue;
    list.sort((a, b) => a - b);
    p.p50_ms = percentile(list, 50);
    p.p95_ms = percentile(list, 95);
  }
  return out;
}
