import type { JSONSchemaType } from "ajv";
import type { Brand } from "./brand.js";

export type Environment = "production" | "sandbox" | "test";
export const ENVIRONMENTS: readonly Environment[] = ["production", "sandbox", "test"];

export interface HookdSettings {
  server: {
    host: string;
    port: number;
    /** the API's public base URL (e.g. https://hooks.example.com); list links are built on it, or relative without it */
    publicUrl?: string;
    /** slow clients: time to send the headers, time a body may stall between chunks, time for the whole request */
    headersTimeoutMs: number;
    bodyTimeoutMs: number;
    requestTimeoutMs: number;
    /** open connections at once; more are closed at once */
    maxConnections: number;
  };
  db: { url: string; busyTimeoutMs: number; poolSize: number; statementTimeoutMs: number; connectTimeoutMs: number };
  dispatch: {
    schedule: string;
    concurrency: number;
    perWebhookConcurrency: number;
    batchSize: number;
    timeoutMs: number;
    leaseSeconds: number;
    shutdownGraceMs: number;
    /** the largest `batch_size` a webhook may ask for (deliveries in one batched POST) */
    maxBatchSize: number;
    /** payload bytes a tick holds at most (claims wait while it holds more) */
    maxHeldBytes: number;
    /** when a webhook's endpoint looks down as a whole (domain/breaker.ts) */
    breaker: { consecutiveFailures: number; failureRate: number; window: number };
    /** PEM file of extra certificate authorities trusted for https webhooks (besides the public ones), or null */
    caFile?: string | null;
    /** an `http://[user:pass@]host:port` egress proxy every delivery and token request goes through, or null */
    proxyUrl?: string | null;
  };
  retry: {
    maxAttempts: number;
    maxAgeSeconds: number;
    delaysSeconds: number[];
    retryAfterMaxSeconds: number;
  };
  security: {
    allowHttp: boolean;
    allowPrivateAddresses: boolean;
    secretRotationOverlapSeconds: number;
    /** the key file webhook secrets are sealed with (config/keyFile.ts says where it is looked for without one) */
    encryptionKeyFile?: string | null;
  };
  /** maxAttempts: the most a webhook's own `max_attempts` (and `retry_delays_seconds` entries) may be */
  limits: { maxPayloadBytes: number; maxWebhooksPerCustomer: number; maxAttempts: number };
  /** delivered (and cancelled) deliveries, their attempts and their events are pruned after `days` */
  retention: { days: number };
  topics: string[];
  log: { level: LogLevel };
  /** the web console and customer portal (config/brand.ts checks the brand beyond the schema) */
  console: { brand: Brand };
  /**
   * OpenTelemetry traces are turned on by the SDK's own OTEL_* variables
   * (telemetry/otelEnv.ts); this says what hookd does with them.
   * propagateToReceivers: each delivery request carries its attempt span's W3C `traceparent`.
   */
  telemetry: { propagateToReceivers: boolean };
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The loaded configuration: settings plus where they came from. Frozen after load. */
export interface Config extends HookdSettings {
  env: Environment;
}

const int = (minimum: number, maximum = Number.MAX_SAFE_INTEGER) => ({ type: "integer", minimum, maximum }) as const;

/**
 * The one schema for every config file. `additionalProperties: false` everywhere so a
 * misspelt key stops the process instead of being silently ignored.
 */
export const settingsSchema: JSONSchemaType<HookdSettings> = {
  type: "object",
  additionalProperties: false,
  required: ["server", "db", "dispatch", "retry", "security", "limits", "retention", "topics", "log", "console", "telemetry"],
  properties: {
    server: {
      type: "object",
      additionalProperties: false,
      required: ["host", "port", "headersTimeoutMs", "bodyTimeoutMs", "requestTimeoutMs", "maxConnections"],
      properties: {
        host: { type: "string", minLength: 1 },
        port: int(0, 65535),
        publicUrl: { type: "string", nullable: true, pattern: "^https?://[^/?#\\s]+(/[^?#\\s]*)?$" },
        headersTimeoutMs: int(1000, 600_000),
        bodyTimeoutMs: int(1000, 600_000),
        requestTimeoutMs: int(1000, 3_600_000),
        maxConnections: int(1, 1_000_000),
      },
    },
    db: {
      type: "object",
      additionalProperties: false,
      required: ["url", "busyTimeoutMs", "poolSize", "statementTimeoutMs", "connectTimeoutMs"],
      properties: {
        url: { type: "string", minLength: 1 },
        busyTimeoutMs: int(0, 600_000),
        // PostgreSQL only (below): connections per process, and per-statement / connect timeouts (0: none).
        poolSize: int(1, 1000),
        statementTimeoutMs: int(0, 3_600_000),
        connectTimeoutMs: int(0, 600_000),
      },
    },
    dispatch: {
      type: "object",
      additionalProperties: false,
      required: [
        "schedule",
        "concurrency",
        "perWebhookConcurrency",
        "batchSize",
        "timeoutMs",
        "leaseSeconds",
        "shutdownGraceMs",
        "maxBatchSize",
        "maxHeldBytes",
        "breaker",
      ],
      properties: {
        schedule: { type: "string", minLength: 1 },
        concurrency: int(1, 10_000),
        perWebhookConcurrency: int(1, 10_000),
        batchSize: int(1, 10_000),
        timeoutMs: int(100, 600_000),
        leaseSeconds: int(1, 86_400),
        shutdownGraceMs: int(0, 600_000),
        maxBatchSize: int(1, 10_000),
        maxHeldBytes: int(1_048_576, 17_179_869_184),
        breaker: {
          type: "object",
          additionalProperties: false,
          required: ["consecutiveFailures", "failureRate", "window"],
          properties: {
            consecutiveFailures: int(1, 1000),
            failureRate: { type: "number", exclusiveMinimum: 0, maximum: 1 },
            window: int(2, 1000),
          },
        },
        caFile: { type: "string", minLength: 1, nullable: true },
        proxyUrl: { type: "string", minLength: 1, nullable: true },
      },
    },
    retry: {
      type: "object",
      additionalProperties: false,
      required: ["maxAttempts", "maxAgeSeconds", "delaysSeconds", "retryAfterMaxSeconds"],
      properties: {
        maxAttempts: int(1, 1000),
        maxAgeSeconds: int(1, 365 * 86_400),
        delaysSeconds: { type: "array", minItems: 1, items: int(0, 30 * 86_400) },
        retryAfterMaxSeconds: int(0, 30 * 86_400),
      },
    },
    security: {
      type: "object",
      additionalProperties: false,
      required: ["allowHttp", "allowPrivateAddresses", "secretRotationOverlapSeconds"],
      properties: {
        allowHttp: { type: "boolean" },
        allowPrivateAddresses: { type: "boolean" },
        // how long a rotation keeps the previous secrets valid unless it says otherwise (0 to 30 days)
        secretRotationOverlapSeconds: int(0, 30 * 86_400),
        encryptionKeyFile: { type: "string", minLength: 1, nullable: true },
      },
    },
    limits: {
      type: "object",
      additionalProperties: false,
      required: ["maxPayloadBytes", "maxWebhooksPerCustomer", "maxAttempts"],
      properties: { maxPayloadBytes: int(2, 64 * 1024 * 1024), maxWebhooksPerCustomer: int(1, 1_000_000), maxAttempts: int(1, 1000) },
    },
    retention: {
      type: "object",
      additionalProperties: false,
      required: ["days"],
      properties: { days: int(1, 36_500) },
    },
    topics: {
      type: "array",
      minItems: 1,
      uniqueItems: true,
      items: { type: "string", pattern: "^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$" },
    },
    log: {
      type: "object",
      additionalProperties: false,
      required: ["level"],
      properties: {
        level: { type: "string", enum: LOG_LEVELS },
      },
    },
    console: {
      type: "object",
      additionalProperties: false,
      required: ["brand"],
      properties: {
        brand: {
          type: "object",
          additionalProperties: false,
          required: ["name", "accentColor"],
          properties: {
            // Printable text only: it goes into the page title and header.
            name: { type: "string", minLength: 1, maxLength: 60, pattern: "^[^\\u0000-\\u001f\\u007f]+$" },
            // An https:// or data:image/… URL (brand.ts logoProblem); 64 KiB is a generous inline logo.
            logoUrl: { type: "string", nullable: true, minLength: 1, maxLength: 65_536 },
            accentColor: { type: "string", pattern: "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$" },
          },
        },
      },
    },
    telemetry: {
      type: "object",
      additionalProperties: false,
      required: ["propagateToReceivers"],
      properties: { propagateToReceivers: { type: "boolean" } },
    },
  },
};
