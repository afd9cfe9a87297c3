/**
 * /healthz and /metrics answer whatever the store does: a load balancer's check and a
 * Prometheus scrape give up after a few seconds, and one that hangs tells nobody
 * anything. What they ask of the store is bounded here.
 */
import { NoAnswerError } from "../store/outage.js";

const CAP_MS = 5_000;

/** How long /healthz and /metrics wait for the store: db.connectTimeoutMs, at most 5 s. */
export function storeAnswerBoundMs(db: { connectTimeoutMs: number }): number {
  return Math.min(db.connectTimeoutMs > 0 ? db.connectTimeoutMs : CAP_MS, CAP_MS);
}

/** `work`'s outcome, or a NoAnswerError after `ms` (the work itself goes on, under the pool's own deadlines). */
export function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new NoAnswerError(ms)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
