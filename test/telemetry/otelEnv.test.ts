import { describe, expect, it } from "vitest";
import { HookdError } from "../../src/errors.js";
import { DEFAULT_OTLP_TRACES_URL, tracingSettingsOf } from "../../src/telemetry/otelEnv.js";

describe("tracingSettingsOf: traces are off unless the OTEL_* variables ask", () => {
  it.each([
    ["nothing set", {}],
    ["only a service name", { OTEL_SERVICE_NAME: "billing" }],
    ["only a protocol", { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }],
    ["empty values", { OTEL_TRACES_EXPORTER: " ", OTEL_EXPORTER_OTLP_ENDPOINT: "" }],
    ["none", { OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }],
    ["NONE, any case", { OTEL_TRACES_EXPORTER: "NONE" }],
    ["the SDK disabled", { OTEL_SDK_DISABLED: "true", OTEL_TRACES_EXPORTER: "otlp" }],
  ])("off: %s", (_case, env) => {
    expect(tracingSettingsOf(env)).toBeNull();
  });

  it.each([
    ["an endpoint alone asks for otlp", { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }, ["otlp"], "http://collector:4318/v1/traces", "http/protobuf"],
    [
      "a base endpoint with a path and a slash",
      { OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example.com/in/" },
      ["otlp"],
      "https://otel.example.com/in/v1/traces",
      "http/protobuf",
    ],
    [
      "the traces endpoint is used as given, and wins",
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b:4318/custom" },
      ["otlp"],
      "http://b:4318/custom",
      "http/protobuf",
    ],
    ["otlp without an endpoint goes to the default collector", { OTEL_TRACES_EXPORTER: "otlp" }, ["otlp"], DEFAULT_OTLP_TRACES_URL, "http/protobuf"],
    ["http/json", { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }, ["otlp"], DEFAULT_OTLP_TRACES_URL, "http/json"],
    [
      "the traces protocol wins",
      { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json" },
      ["otlp"],
      DEFAULT_OTLP_TRACES_URL,
      "http/json",
    ],
    [
      "a list, spaces and case aside, repeats once",
      { OTEL_TRACES_EXPORTER: " OTLP , console,otlp" },
      ["otlp", "console"],
      DEFAULT_OTLP_TRACES_URL,
      "http/protobuf",
    ],
  ])("on: %s", (_case, env, exporters, url, protocol) => {
    expect(tracingSettingsOf(env)).toEqual({ exporters, otlp: { url, protocol }, serviceName: "hookd" });
  });

  it("console alone needs no OTLP settings, and a bad protocol for OTLP is not its business", () => {
    expect(tracingSettingsOf({ OTEL_TRACES_EXPORTER: "console", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toEqual({
      exporters: ["console"],
      otlp: null,
      serviceName: "hookd",
    });
  });

  it("OTEL_SERVICE_NAME names the service", () => {
    expect(tracingSettingsOf({ OTEL_TRACES_EXPORTER: "console", OTEL_SERVICE_NAME: " hookd-eu " })?.serviceName).toBe("hookd-eu");
  });

  it.each([
    ["an unknown exporter", { OTEL_TRACES_EXPORTER: "zipkin" }, "OTEL_TRACES_EXPORTER", /must be one of "otlp", "console", "none".*"zipkin"/],
    ["none beside another", { OTEL_TRACES_EXPORTER: "none,otlp" }, "OTEL_TRACES_EXPORTER", /"none" turns traces off/],
    [
      "grpc",
      { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
      "OTEL_EXPORTER_OTLP_PROTOCOL",
      /http\/protobuf" or "http\/json"; hookd exports over HTTP only/,
    ],
    [
      "an unknown protocol",
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "udp" },
      "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
      /"udp"/,
    ],
    ["an endpoint that is no URL", { OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318:x" }, "OTEL_EXPORTER_OTLP_ENDPOINT", /http:\/\/ or https:\/\/ URL/],
    ["a traces endpoint of another scheme", { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "ftp://c/v1/traces" }, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", /over HTTP/],
  ])("a config error naming the variable: %s", (_case, env, variable, problem) => {
    let caught: unknown;
    try {
      tracingSettingsOf(env);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HookdError);
    const err = caught as HookdError;
    expect(err.code).toBe("config_invalid");
    expect(err.message.startsWith(`${variable} `)).toBe(true);
    expect(err.message).toMatch(problem);
    expect(err.details).toEqual([{ field: variable, message: err.message }]);
  });
});
