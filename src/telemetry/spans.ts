/**
 * hookd's spans on an OpenTelemetry tracer (tracing.ts says which and why). Loaded
 * only when tracing is on. Parents are passed explicitly, never through a global
 * context manager, so a library caller's own OpenTelemetry setup is left alone.
 *
 * Attribute names: OpenTelemetry's semantic conventions where one fits
 * (`http.request.method`, `http.response.status_code`, `error.type`,
 * `server.address`, `server.port`), `hookd.*` for the rest.
 */
import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import { parseTraceParent, W3CTraceContextPropagator } from "@opentelemetry/core";
import type { ClaimedDelivery } from "../store/claimed.js";
import type { AttemptFacts, AttemptTrace, Carrier, ClaimTrace, PublishFacts, TickFacts, TickTrace, Tracing } from "./trace.js";

const propagator = new W3CTraceContextPropagator();

/** A `Tracing` that records hookd's spans on `tracer`; `shutdown` ends whatever made the tracer. */
export function spanTracing(tracer: Tracer, shutdown: () => Promise<void>): Tracing {
  return {
    async publish<T extends PublishFacts>(event: { customerId: string; topic: string }, fn: (traceparent: string | null) => Promise<T>, incoming?: Carrier) {
      const parent = incoming ? propagator.extract(ROOT_CONTEXT, incoming, defaultTextMapGetter) : context.active();
      const span = tracer.startSpan(
        "hookd.publish",
        { kind: SpanKind.PRODUCER, attributes: { "hookd.customer.id": event.customerId, "hookd.event.topic": event.topic } },
        parent,
      );
      try {
        const result = await fn(traceparentOf(span));
        span.setAttributes({ "hookd.event.id": result.id, "hookd.event.deliveries": result.deliveries, "hookd.event.duplicate": result.duplicate });
        return result;
      } catch (err) {
        failed(span, errorType(err), (err as Error).message);
        throw err;
      } finally {
        span.end();
      }
    },
    tick: (propagate) => new SpanTick(tracer, propagate),
    shutdown,
  };
}

/**
 * The traceparent stored with an event: only for a span that is sampled, since a link
 * to a span no backend received leads nowhere.
 */
function traceparentOf(span: Span): string | null {
  if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return null;
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return carrier.traceparent ?? null;
}

class SpanTick implements TickTrace {
  private readonly span: Span;
  private readonly parent: Context;

  constructor(
    private readonly tracer: Tracer,
    private readonly propagate: boolean,
  ) {
    this.span = tracer.startSpan("hookd.tick", {}, ROOT_CONTEXT);
    this.parent = trace.setSpan(ROOT_CONTEXT, this.span);
  }

  claim(kind: "due" | "probes"): ClaimTrace {
    const span = this.tracer.startSpan("hookd.claim", { attributes: { "hookd.claim.kind": kind } }, this.parent);
    return {
      end(taken) {
        if (taken === null) failed(span, "store", "the store did not answer; the tick claims no more");
        else span.setAttribute("hookd.claim.deliveries", taken);
        span.end();
      },
    };
  }

  attempt(webhookId: string, url: string, deliveries: readonly ClaimedDelivery[]): AttemptTrace {
    const span = this.tracer.startSpan(
      "hookd.attempt",
      { kind: SpanKind.CLIENT, attributes: attemptAttributes(webhookId, url, deliveries), links: publishLinks(deliveries) },
      this.parent,
    );
    let headers: Record<string, string> | undefined;
    if (this.propagate) {
      headers = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
    }
    return {
      headers,
      end(outcome: AttemptFacts, verdict: string | null) {
        if (outcome.statusCode !== null) span.setAttribute("http.response.status_code", outcome.statusCode);
        if (verdict !== null) span.setAttribute("hookd.attempt.verdict", verdict);
        if (!outcome.ok)
          failed(span, outcome.error ?? "unknown", verdict === null ? "cut off by shutdown: not counted, sent again later" : outcome.errorMessage);
        span.end();
      },
    };
  }

  end(s: TickFacts): void {
    this.span.setAttributes({
      "hookd.tick.claimed": s.claimed,
      "hookd.tick.delivered": s.delivered,
      "hookd.tick.failed": s.failed,
      "hookd.tick.rescheduled": s.rescheduled,
      "hookd.tick.deferred": s.deferred,
      "hookd.tick.probes": s.probes,
      "hookd.tick.interrupted": s.interrupted,
    });
    if (s.error !== null) failed(this.span, "store", s.error);
    this.span.end();
  }
}

function attemptAttributes(webhookId: string, url: string, deliveries: readonly ClaimedDelivery[]): Attributes {
  const first = deliveries[0]!;
  const attributes: Attributes = {
    "hookd.webhook.id": webhookId,
    "hookd.event.topic": first.topic,
    "http.request.method": "POST",
    // Host and port only: a webhook URL's path or query may hold a receiver's token.
    ...serverOf(url),
  };
  if (deliveries.length === 1) {
    attributes["hookd.delivery.id"] = first.id;
    attributes["hookd.event.id"] = first.event_id;
    attributes["hookd.attempt.number"] = first.attempts + 1;
  } else {
    attributes["hookd.batch.size"] = deliveries.length;
    attributes["hookd.delivery.ids"] = deliveries.map((d) => d.id);
    attributes["hookd.event.ids"] = deliveries.map((d) => d.event_id);
    // A batch is retried as a unit: its number is its members' most attempts, plus one (dispatch/batchRequest.ts).
    attributes["hookd.attempt.number"] = Math.max(...deliveries.map((d) => d.attempts)) + 1;
  }
  if (first.probe) attributes["hookd.attempt.probe"] = true;
  return attributes;
}

function serverOf(url: string): Attributes {
  try {
    const u = new URL(url);
    return { "server.address": u.hostname, "server.port": Number(u.port || (u.protocol === "https:" ? 443 : 80)) };
  } catch {
    return {};
  }
}

/** A link to the publish span of each event the request carries (those published with tracing on). */
function publishLinks(deliveries: readonly ClaimedDelivery[]): Link[] {
  const links: Link[] = [];
  for (const d of deliveries) {
    if (d.trace_context === null) continue;
    const published = parseTraceParent(d.trace_context);
    if (published) links.push({ context: { ...published, isRemote: true }, attributes: { "hookd.event.id": d.event_id } });
  }
  return links;
}

function failed(span: Span, type: string, message: string | null): void {
  span.setAttribute("error.type", type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? undefined });
}

/** `error.type` of a publish that threw: hookd's error code (validation_failed, conflict, …) or the error's name. */
function errorType(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : err instanceof Error ? err.name : "unknown";
}
