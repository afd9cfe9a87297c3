/**
 * Whether hookd records traces, read from the OpenTelemetry SDK's own environment
 * variables (SPEC "Configuration"). Pure: takes the environment, touches nothing.
 *
 * Off unless asked: with neither `OTEL_TRACES_EXPORTER` nor an OTLP endpoint set,
 * hookd records nothing (the SDK's own default would be `otlp` to localhost, which
 * would make every installation without a collector log export failures). An endpoint
 * alone asks for `otlp`; `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true` turns
 * tracing off whatever else is set. A value hookd cannot honour stops start-up with a
 * message naming the variable, like a bad config key.
 */
import { HookdError } from "../errors.js";

export type TraceExporterKind = "otlp" | "console";
export type OtlpProtocol = "http/protobuf" | "http/json";

export const TRACE_EXPORTERS: readonly TraceExporterKind[] = ["otlp", "console"];
export const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ["http/protobuf", "http/json"];

/** The OTLP/HTTP receiver a collector listens on by default (the SDK's default). */
export const DEFAULT_OTLP_TRACES_URL = "http://localhost:4318/v1/traces";
export const DEFAULT_SERVICE_NAME = "hookd";

export interface TracingSettings {
  /** where spans go: one or more exporters */
  exporters: readonly TraceExporterKind[];
  /** with `otlp`: the traces URL and the encoding */
  otlp: { url: string; protocol: OtlpProtocol } | null;
  /** `service.name` of every span */
  serviceName: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The tracing `env` asks for, or null when tracing is off. Throws a config error naming the variable. */
export function tracingSettingsOf(env: Env): TracingSettings | null {
  if (variable(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true") return null;
  const exporters = exportersOf(env);
  if (exporters.length === 0) return null;
  return {
    exporters,
    otlp: exporters.includes("otlp") ? { url: otlpUrlOf(env), protocol: protocolOf(env) } : null,
    serviceName: variable(env, "OTEL_SERVICE_NAME") ?? DEFAULT_SERVICE_NAME,
  };
}

/** A variable's value, trimmed; unset and empty are the same (as the SDK reads them). */
function variable(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? undefined : v;
}

function exportersOf(env: Env): TraceExporterKind[] {
  const given = variable(env, "OTEL_TRACES_EXPORTER");
  if (given === undefined) {
    const endpoint = variable(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ?? variable(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
    return endpoint === undefined ? [] : ["otlp"];
  }
  const names = given.split(",").map((n) => n.trim().toLowerCase());
  const allowed = `${[...TRACE_EXPORTERS, "none"].map((n) => `"${n}"`).join(", ")} (a comma-separated list)`;
  for (const name of names) {
    if (name !== "none" && !(TRACE_EXPORTERS as readonly string[]).includes(name)) {
      throw otelError("OTEL_TRACES_EXPORTER", `must be one of ${allowed}; hookd does not support ${JSON.stringify(name)} (got ${JSON.stringify(given)})`);
    }
  }
  if (names.includes("none")) {
    if (names.length > 1)
      throw otelError("OTEL_TRACES_EXPORTER", `"none" turns traces off and cannot be listed with other exporters (got ${JSON.stringify(given)})`);
    return [];
  }
  return [...new Set(names as TraceExporterKind[])];
}

/**
 * The traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` with `v1/traces` appended, or the default.
 */
function otlpUrlOf(env: Env): string {
  const specific = variable(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (specific !== undefined) return httpUrl("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", specific, specific);
  const base = variable(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  if (base === undefined) return DEFAULT_OTLP_TRACES_URL;
  return httpUrl("OTEL_EXPORTER_OTLP_ENDPOINT", base, `${base.endsWith("/") ? base : `${base}/`}v1/traces`);
}

function httpUrl(name: string, given: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw otelError(name, `must be an http:// or https:// URL (got ${JSON.stringify(given)})`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw otelError(name, `must be an http:// or https:// URL: hookd exports OTLP over HTTP (got ${JSON.stringify(given)})`);
  }
  return parsed.href;
}

function protocolOf(env: Env): OtlpProtocol {
  for (const name of ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"]) {
    const given = variable(env, name);
    if (given === undefined) continue;
    if ((OTLP_PROTOCOLS as readonly string[]).includes(given)) return given as OtlpProtocol;
    const allowed = OTLP_PROTOCOLS.map((p) => `"${p}"`).join(" or ");
    const why = given === "grpc" ? "; hookd exports over HTTP only (collectors accept it on port 4318)" : "";
    throw otelError(name, `must be ${allowed}${why} (got ${JSON.stringify(given)})`);
  }
  return "http/protobuf";
}

function otelError(name: string, problem: string): HookdError {
  const message = `${name} ${problem}`;
  return new HookdError("config_invalid", message, [{ field: name, message }]);
}
