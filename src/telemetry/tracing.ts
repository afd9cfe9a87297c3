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
import type { TracingSettings } from "./otelEnv.js";
import type { AttemptTrace, Carrier, ClaimTrace, PublishFacts, TickTrace, Tracing } from "./trace.js";

export type { AttemptFacts, AttemptTrace, Carrier, ClaimTrace, PublishFacts, TickFacts, TickTrace, Tracing } from "./trace.js";

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
