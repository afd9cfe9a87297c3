/**
 * What a dispatcher reports while it works. Metrics (src/api/metrics.ts) listen here,
 * so dispatch code knows nothing about Prometheus.
 */
import type { TickSummary } from "../domain/tickSummary.js";
import type { AttemptOutcome } from "./outcome.js";
import type { Verdict } from "./verdict.js";

export interface DispatchObserver {
  /** An attempt was made (a request cut off by shutdown is not one), and what it decided. */
  attempt?(outcome: AttemptOutcome, verdict: Verdict): void;
  /** Deliveries of a rate-limited webhook wait for their start time. */
  paced?(deliveries: number): void;
  /** This dispatcher opened a webhook's circuit breaker. */
  breakerOpened?(webhookId: string, reason: string): void;
  /** A tick finished. */
  tick?(summary: TickSummary): void;
}
