/**
 * hookd's traces, as the rest of the code sees them: a `Tracing` when the OTEL_*
 * variables ask for traces (otelEnv.ts), null when they do not. Spans (README
 * "Tracing"):
 * - `hookd.publish`: an event published through the API, the CLI or the library; its
 *   context is stored with the event (`events.trace_context`, a W3C traceparent);
 * - `hookd.tick`: one dispatch pass, parent of its claims and attempts;
 * - `hookd.claim`: one claim of due deliveries (or of probes);
 * - `hookd.attempt`: one request to a receiver, linked to the publish span of each
 *   event it carries.
 *
 * Nothing here loads OpenTelemetry: the SDK, the exporters and the span code
 * (spans.ts, sdk.ts) are imported only when tracing is on, so with tracing off no
 * command pays for loading them, and the dispatcher's hot path runs UNTRACED, whose
 * methods do nothing and allocate nothing.
 */
import type { Logger } from "pino";
import type { AttemptOutcome } from "../dispatch/outcome.js";
import type { TickSummary } from "../dispatch/tickSummary.js";
import type { ClaimedDelivery } from "../store/claims.js";
import type { TracingSettings } from "./otelEnv.js";

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

/** How a request ended. */
export type AttemptFacts = Pick<AttemptOutcome, "ok" | "statusCode" | "error" | "errorMessage">;

/** What a tick did. */
export type TickFacts = Omit<TickSummary, "started_at" | "duration_ms">;

const NOTHING: ClaimTrace & AttemptTrace = { headers: undefined, end() {} };

/** A tick with tracing off: every call returns at once, the same object each time. */
export const UNTRACED: TickTrace = {
  claim: () => NOTHING,
  attempt: () => NOTHING,
  end() {},
};

/** `fn` inside a publish span when tracing is on; else `fn(null)` and nothing more. */
export function tracedPublish<T extends PublishFacts>(
  tracing: Tracing | null,
  event: { customerId: string; topic: string },
  fn: (traceparent: string | null) => Promise<T>,
  incoming?: Carrier,
): Promise<T> {
  return tracing ? tracing.publish(event, fn, incoming) : fn(null);
}

/**
 * Tracing as `settings` (otelEnv.ts tracingSettingsOf) ask for it, or null when they
 * say off. The SDK is loaded only then.
 */
export async function openTracing(settings: TracingSettings | null, logger: Logger): Promise<Tracing | null> {
  if (!settings) return null;
  const { sdkTracing } = await import("./sdk.js");
  return sdkTracing(settings, logger);
}
