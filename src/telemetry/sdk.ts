/**
 * The OpenTelemetry SDK as hookd sets it up when the OTEL_* variables ask for traces
 * (otelEnv.ts): a tracer provider of its own, `service.name` from OTEL_SERVICE_NAME
 * (default `hookd`) over OTEL_RESOURCE_ATTRIBUTES, spans batched to each exporter
 * named. Loaded only when tracing is on.
 *
 * The provider is not registered as the process's global one: in an application that
 * uses hookd as a library and has its own OpenTelemetry setup, hookd changes nothing.
 * The SDK reads its other variables itself (OTEL_TRACES_SAMPLER, OTEL_BSP_*,
 * OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, certificates).
 *
 * Export failures are logged once per outage (the SDK alone would drop them
 * silently). Shutdown flushes what is left; the exporter's own timeout
 * (OTEL_EXPORTER_OTLP_TIMEOUT, 10 s by default, retries included) bounds how long a
 * collector that is down holds up a stopping process.
 */
import { ExportResultCode } from "@opentelemetry/core";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type { Logger } from "pino";
import { VERSION } from "../version.js";
import { DEFAULT_SERVICE_NAME, type TraceExporterKind, type TracingSettings } from "./otelEnv.js";
import { spanTracing } from "./spans.js";
import type { Tracing } from "./trace.js";

export async function sdkTracing(settings: TracingSettings, logger: Logger): Promise<Tracing> {
  const processors: SpanProcessor[] = [];
  for (const kind of settings.exporters) {
    const where = kind === "otlp" ? `${settings.otlp!.url} (${settings.otlp!.protocol})` : "standard output";
    processors.push(new BatchSpanProcessor(reportingFailures(await exporterOf(kind, settings), where, logger)));
  }
  logger.info({ service: settings.serviceName, exporters: settings.exporters, url: settings.otlp?.url }, "tracing on: spans are exported");
  return providerTracing(processors, settings.serviceName);
}

/**
 * Tracing that hands every span to `exporter` as it ends (tests: an
 * InMemorySpanExporter), with the same spans and resource as `sdkTracing`.
 */
export function tracingWith(exporter: SpanExporter, serviceName = DEFAULT_SERVICE_NAME): Tracing {
  return providerTracing([new SimpleSpanProcessor(exporter)], serviceName);
}

function providerTracing(spanProcessors: SpanProcessor[], serviceName: string): Tracing {
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName, [ATTR_SERVICE_VERSION]: VERSION }));
  const provider = new BasicTracerProvider({ resource, spanProcessors });
  let closing: Promise<void> | null = null;
  // Flushes, then stops. A failed last export was logged by reportingFailures; it is no reason to fail a stop.
  const shutdown = () => (closing ??= provider.shutdown().catch(() => undefined));
  return spanTracing(provider.getTracer("hookd", VERSION), shutdown);
}

async function exporterOf(kind: TraceExporterKind, settings: TracingSettings): Promise<SpanExporter> {
  if (kind === "console") return new ConsoleSpanExporter();
  const { url, protocol } = settings.otlp!;
  // Only the encoding asked for is loaded.
  const { OTLPTraceExporter } =
    protocol === "http/json" ? await import("@opentelemetry/exporter-trace-otlp-http") : await import("@opentelemetry/exporter-trace-otlp-proto");
  return new OTLPTraceExporter({ url });
}

/** `exporter`, with a warning when exports start failing and a note when they work again. */
function reportingFailures(exporter: SpanExporter, where: string, logger: Logger): SpanExporter {
  let failing = false;
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code === ExportResultCode.FAILED) {
          if (!failing) logger.warn({ err: result.error?.message, exporter: where }, "could not export spans; spans are dropped until the exporter answers");
          failing = true;
        } else if (failing) {
          failing = false;
          logger.info({ exporter: where }, "exporting spans again");
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}
