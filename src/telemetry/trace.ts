/**
 * The shapes of hookd's traces (tracing.ts says which spans there are). A module of
 * its own, below both tracing.ts and the span code it loads on demand (sdk.ts,
 * spans.ts), so neither imports the other back; and it names nothing of dispatch, which
 * uses it.
 */
import type { TickSummary } from "../domain/tickSummary.js";
import type { ClaimedDelivery } from "../store/claimed.js";

export interface Tracing {
  /**
   * `fn` inside a `hookd.publish` span; `fn` gets the traceparent to store with the
   * event (null when the span is not sampled). The parent is the W3C context in
   * `incoming` (an API request's headers) or else the caller's active context (a
   * library caller's own span, where the application set up a context manager).
   */
  publish<T extends PublishFacts>(event: { customerId: string; topic: string }, fn: (traceparent: string | null) => Promise<T>, incoming?: Carrier): Promise<T>;
  /** A `hookd.tick` span, begun now; with `propagate`, attempts give receivers the W3C headers. */
  tick(propagate: boolean): TickTrace;
  /** Export what is left and stop (bounded). Safe to call twice. */
  shutdown(): Promise<void>;
}

/** Incoming headers, as Node gives them. */
export type Carrier = Readonly<Record<string, string | string[] | undefined>>;

/** What a publish span says about its event. */
export interface PublishFacts {
  id: string;
  deliveries: number;
  duplicate: boolean;
}

/** A tick's spans. */
export interface TickTrace {
  /** A `hookd.claim` span (kind "due" or "probes"), begun now. */
  claim(kind: "due" | "probes"): ClaimTrace;
  /** A `hookd.attempt` span for one request carrying `deliveries` (one, or a batch), begun now. */
  attempt(webhookId: string, url: string, deliveries: readonly ClaimedDelivery[]): AttemptTrace;
  /** The tick ended with this summary. */
  end(summary: TickFacts): void;
}

export interface ClaimTrace {
  /** `taken`: deliveries the claim took; null when the store gave up */
  end(taken: number | null): void;
}

export interface AttemptTrace {
  /** `traceparent` (and `tracestate`) for the request; undefined unless propagating */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** `verdict`: what the attempt decided (delivered, rescheduled, failed), or null when it was cut off */
  end(outcome: AttemptFacts, verdict: string | null): void;
}

/** How a request ended (what a span says of dispatch/outcome.ts's AttemptOutcome). */
export interface AttemptFacts {
  ok: boolean;
  statusCode: number | null;
  /** the error class (dispatch/outcome.ts), null when it answered 2xx */
  error: string | null;
  errorMessage: string | null;
}

/** What a tick did. */
export type TickFacts = Omit<TickSummary, "started_at" | "duration_ms">;
