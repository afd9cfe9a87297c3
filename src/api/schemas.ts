/**
 * Every route's JSON schemas, in one place: the routes validate requests with them,
 * /openapi.json is generated from them (@fastify/swagger), and the typed client
 * (src/client.ts) takes its types from them (schemaTypes.ts), so the three cannot drift
 * apart. Response schemas document; they do not filter (server.ts keeps JSON.stringify
 * as the serializer, so no field is silently dropped), and test/api/openapi.test.ts
 * checks real responses against them.
 */
import { DELIVERY_STATUSES } from "../store/schema.js";
import { WEBHOOK_SORTS } from "../store/webhooks.js";
import { customerParam } from "./auth.js";
import { keysetParams, pageParams } from "./pagination.js";
import { timeRangeParams } from "./timeRange.js";

const str = { type: "string" } as const;
const nullableStr = { type: ["string", "null"] } as const;
const int = { type: "integer" } as const;
const nullableInt = { type: ["integer", "null"] } as const;
const time = { type: "string", format: "date-time" } as const;
const nullableTime = { type: ["string", "null"], format: "date-time" } as const;
const id = { type: "string", minLength: 1, maxLength: 100 } as const;
const topic = { type: "string", minLength: 1, maxLength: 200 } as const;

/** The longest a portal link may live, in seconds. */
export const MAX_LINK_SECONDS = 3600;

/** A closed object: every property listed, all of them required. */
function record<const P extends Record<string, object>>(properties: P, description?: string) {
  return {
    type: "object",
    additionalProperties: false,
    required: Object.keys(properties) as (keyof P & string)[],
    properties,
    ...(description ? { description } : {}),
  } as const;
}

// ---- errors ----

/** `{"error": {code, message, details}}`, every 4xx and 5xx. */
export const errorSchema = {
  ...record({
    error: record({
      code: {
        ...str,
        description:
          "validation_failed, unauthorized, forbidden, not_found, conflict, payload_too_large, unsupported_media_type, unprocessable, store_unavailable, …",
      },
      message: str,
      details: {
        type: "array",
        items: {
          type: "object",
          additionalProperties: false,
          required: ["message"],
          properties: {
            field: { ...str, description: "the request field or parameter" },
            path: { ...str, description: "a JSON Pointer into an event's payload" },
            message: str,
          },
        },
      },
    }),
  }),
  description:
    "An error: 400 invalid input (every bad field named), 401 no or bad key, 404 missing (or another customer's), 409 conflict, 413 too large, 415 not JSON, 422 refused by a rule, 503 store unavailable",
} as const;

const errors = { "4xx": errorSchema, "5xx": errorSchema } as const;
const noContent = { type: "null", description: "No content" } as const;

// ---- shapes ----

const authView = {
  type: ["object", "null"],
  description: "never the token or client secret",
  additionalProperties: false,
  required: ["type"],
  properties: { type: { type: "string", enum: ["bearer", "oauth2"] }, token_url: str, client_id: str, scope: nullableStr },
} as const;

const webhookProperties = {
  id: str,
  customer: str,
  url: str,
  group: str,
  action: str,
  topic: str,
  active: { type: "boolean" },
  created_at: time,
  updated_at: time,
  previous_secret_expires_at: nullableTime,
  secret_error: nullableStr,
  headers: { type: "object", additionalProperties: str },
  auth: authView,
  timeout_ms: nullableInt,
  max_attempts: nullableInt,
  retry_delays_seconds: { type: ["array", "null"], items: int },
  rate_limit: { type: ["number", "null"] },
  filter: { type: ["object", "null"] },
  ordered: { type: "boolean" },
  batch_size: int,
  signing: { type: "string", enum: ["hmac", "ed25519"] },
  public_key: nullableStr,
  breaker: {
    type: "object",
    description: "the circuit breaker: closed (sending), open (backing off as a whole until open_until), probing (the next tick tests it)",
    additionalProperties: false,
    required: ["state", "open_until", "reason", "description"],
    properties: {
      state: { type: "string", enum: ["closed", "open", "probing"] },
      open_until: nullableTime,
      reason: { ...nullableStr, description: "why it opened, in words" },
      description: { type: "string", description: "the state in words" },
    },
  },
} as const;

export const webhookSchema = record(webhookProperties);

/** The webhook as create and rotate-secret answer it: with its (new) secret, shown only then. */
export const webhookWithSecretSchema = record({ ...webhookProperties, hash_secret: nullableStr });

export const attemptSchema = record({
  number: int,
  started_at: time,
  duration_ms: int,
  status_code: nullableInt,
  error: { ...nullableStr, description: "timeout, refused, reset, dns, tls, redirect, blocked, http_4xx, http_5xx, …" },
  error_message: nullableStr,
  response_body: { ...nullableStr, description: "the first 1 KiB of the response" },
});

const deliveryProperties = {
  id: str,
  event: str,
  webhook: str,
  customer: str,
  status: { type: "string", enum: DELIVERY_STATUSES },
  attempts: int,
  next_attempt_at: nullableTime,
  last_status_code: nullableInt,
  last_error: nullableStr,
  wait_reason: nullableStr,
  waiting: { ...nullableStr, description: "why a pending delivery waits, in words" },
  waiting_for: { ...nullableStr, description: "an ordered webhook's delivery ahead of this one" },
  created_at: time,
  updated_at: time,
  finished_at: nullableTime,
} as const;

export const deliverySchema = {
  ...record(deliveryProperties),
  properties: { ...deliveryProperties, history: { type: "array", items: attemptSchema } },
} as const;

/** A delivery in GET /deliveries/: its webhook's topic too. */
const loggedDeliverySchema = record({ ...deliveryProperties, topic: nullableStr });

/** GET /deliveries/:id/: what was (or will be) sent. */
const deliveryDetailSchema = record({
  ...deliveryProperties,
  history: { type: "array", items: attemptSchema },
  topic: str,
  url: str,
  payload: { ...str, description: "the payload's exact text, as published and sent" },
  request_headers: { type: ["object", "null"], additionalProperties: str, description: "the headers of the last attempt (signatures redacted)" },
});

const eventProperties = {
  id: str,
  customer: str,
  topic: str,
  payload: { description: "the payload as published" },
  idempotency_key: nullableStr,
  created_at: time,
} as const;

export const eventSchema = record(eventProperties);
const eventWithDeliveriesSchema = record({ ...eventProperties, deliveries: { type: "array", items: deliverySchema } });

export const eventTypeSchema = record({
  topic: str,
  schema: { description: "a JSON Schema (draft 2020-12)" },
  description: nullableStr,
  created_at: time,
  updated_at: time,
});

/** `{count, next, previous, results}`: next and previous are links (relative, or on server.publicUrl) or null. */
function page<const T extends object>(item: T) {
  return record({ count: int, next: nullableStr, previous: nullableStr, results: { type: "array", items: item } });
}
function keysetPage<const T extends object>(item: T) {
  return record({
    count: int,
    count_exact: { type: "boolean", description: "false when count is an estimate" },
    next: nullableStr,
    previous: nullableStr,
    results: { type: "array", items: item },
  });
}

// ---- requests ----

// Types here; values (URL policy, topic catalog, lengths, settings' bounds) in checkWebhookInput, which the CLI shares.
export const webhookFields = {
  url: str,
  group: str,
  action: str,
  hash_secret: nullableStr,
  active: { type: "boolean" },
  headers: { type: ["object", "null"], description: "{name: value} added to every request" },
  auth: { type: ["object", "null"], description: '{"type":"bearer","token":T} or {"type":"oauth2","token_url","client_id","client_secret","scope"?}' },
  timeout_ms: nullableInt,
  max_attempts: nullableInt,
  retry_delays_seconds: { type: ["array", "null"], items: int },
  rate_limit: { type: ["number", "null"] },
  filter: { type: ["object", "null"] },
  ordered: { type: ["boolean", "null"] },
  batch_size: nullableInt,
  signing: { type: ["string", "null"], description: "hmac (default) or ed25519" },
} as const;

const scopeQuery = { type: "object", additionalProperties: false, properties: customerParam } as const;
const byId = { type: "object", required: ["id"], properties: { id: str } } as const;
const byTopic = { type: "object", required: ["topic"], properties: { topic: { ...str, description: "group:action" } } } as const;

/** PATCH and PUT /webhooks/:id/: one partial update (SPEC), two operations. */
const webhookUpdate = {
  tags: ["webhooks"],
  params: byId,
  querystring: scopeQuery,
  body: { type: "object", additionalProperties: false, properties: webhookFields },
  response: { 200: webhookSchema, ...errors },
} as const;

/** Every API route's schema, by operation id. */
export const routeSchemas = {
  listWebhooks: {
    tags: ["webhooks"],
    summary: "List webhooks",
    querystring: {
      type: "object",
      additionalProperties: false,
      properties: {
        ...pageParams,
        sort: { type: "string", enum: WEBHOOK_SORTS, default: "created_at" },
        direction: { type: "string", enum: ["asc", "desc"], default: "desc" },
        ...customerParam,
      },
    },
    response: { 200: page(webhookSchema), ...errors },
  },
  createWebhook: {
    tags: ["webhooks"],
    summary: "Subscribe a URL to a topic",
    body: { type: "object", additionalProperties: false, required: ["url", "group", "action"], properties: { ...webhookFields, ...customerParam } },
    response: { 201: webhookWithSecretSchema, ...errors },
  },
  getWebhook: { tags: ["webhooks"], summary: "One webhook", params: byId, querystring: scopeQuery, response: { 200: webhookSchema, ...errors } },
  updateWebhook: { ...webhookUpdate, summary: "Change a webhook (a partial update; null restores a setting's default)" },
  replaceWebhook: { ...webhookUpdate, summary: "Change a webhook: the same partial update as PATCH" },
  deleteWebhook: {
    tags: ["webhooks"],
    summary: "Delete a webhook; its pending deliveries become cancelled",
    params: byId,
    querystring: scopeQuery,
    response: { 204: noContent, ...errors },
  },
  rotateWebhookSecret: {
    tags: ["webhooks"],
    summary: "Make a new secret current, keeping the previous ones valid for an overlap",
    params: byId,
    querystring: scopeQuery,
    body: {
      type: ["object", "null"],
      additionalProperties: false,
      properties: { hash_secret: str, overlap_seconds: int },
    },
    response: { 200: webhookWithSecretSchema, ...errors },
  },
  testWebhook: {
    tags: ["webhooks"],
    summary: "Send one signed test request now",
    params: byId,
    querystring: scopeQuery,
    response: { 200: record({ ok: { type: "boolean" }, ...attemptSchema.properties }), ...errors },
  },
  listWebhookDeliveries: {
    tags: ["webhooks", "deliveries"],
    summary: "A webhook's deliveries, with their attempts",
    params: byId,
    querystring: {
      type: "object",
      additionalProperties: false,
      properties: { ...pageParams, status: { type: "string", enum: DELIVERY_STATUSES }, ...customerParam },
    },
    response: { 200: page(deliverySchema), ...errors },
  },
  publishEvent: {
    tags: ["events"],
    summary: "Publish an event (durable before the 202)",
    headers: { type: "object", properties: { "idempotency-key": { ...str, description: "the same as idempotency_key" } } },
    body: {
      type: "object",
      additionalProperties: false,
      required: ["topic", "payload"],
      properties: { topic: str, payload: { description: "any JSON; delivered byte for byte as sent" }, idempotency_key: str, ...customerParam },
    },
    response: { 202: record({ id: str, topic: str, deliveries: { ...int, description: "deliveries created" } }), ...errors },
  },
  listEvents: {
    tags: ["events"],
    summary: "Events, newest first",
    querystring: {
      type: "object",
      additionalProperties: false,
      properties: {
        ...keysetParams,
        topic,
        idempotency_key: { type: "string", minLength: 1, maxLength: 1000 },
        ...timeRangeParams,
        ...customerParam,
      },
    },
    response: { 200: keysetPage(eventSchema), ...errors },
  },
  getEvent: {
    tags: ["events"],
    summary: "An event and its deliveries",
    params: byId,
    querystring: scopeQuery,
    response: { 200: eventWithDeliveriesSchema, ...errors },
  },
  listEventTypes: { tags: ["event-types"], summary: "The event-type catalog", response: { 200: page(eventTypeSchema), ...errors } },
  getEventType: { tags: ["event-types"], summary: "One topic's payload schema", params: byTopic, response: { 200: eventTypeSchema, ...errors } },
  putEventType: {
    tags: ["event-types"],
    summary: "Set a topic's payload schema (admin key)",
    params: byTopic,
    body: {
      type: "object",
      additionalProperties: false,
      required: ["schema"],
      // The schema itself is checked by checkEventType, which says what is wrong with it.
      properties: { schema: { description: "a JSON Schema (draft 2020-12)" }, description: nullableStr },
    },
    response: { 200: eventTypeSchema, 201: eventTypeSchema, ...errors },
  },
  deleteEventType: { tags: ["event-types"], summary: "Remove a topic's payload schema (admin key)", params: byTopic, response: { 204: noContent, ...errors } },
  listDeliveries: {
    tags: ["deliveries"],
    summary: "Deliveries across the customer's webhooks",
    querystring: {
      type: "object",
      additionalProperties: false,
      properties: {
        ...keysetParams,
        status: { type: "string", enum: DELIVERY_STATUSES },
        webhook: id,
        topic,
        event: id,
        ...timeRangeParams,
        ...customerParam,
      },
    },
    response: { 200: keysetPage(loggedDeliverySchema), ...errors },
  },
  getDelivery: {
    tags: ["deliveries"],
    summary: "One delivery, with what was sent",
    params: byId,
    querystring: scopeQuery,
    response: { 200: deliveryDetailSchema, ...errors },
  },
  retryDeliveries: {
    tags: ["deliveries"],
    summary: "Replay every failed delivery matching a filter",
    body: {
      type: "object",
      additionalProperties: false,
      properties: {
        webhook: id,
        topic,
        ...timeRangeParams,
        ...customerParam,
        dry_run: { type: "boolean", description: "count what would be replayed, change nothing" },
      },
    },
    response: { 200: { ...record({ count: int }), properties: { count: int, dry_run: { type: "boolean" } } }, ...errors },
  },
  retryDelivery: {
    tags: ["deliveries"],
    summary: "A failed delivery back to pending, due now",
    params: byId,
    querystring: scopeQuery,
    response: { 200: deliverySchema, ...errors },
  },
  getStats: {
    tags: ["stats"],
    summary: "Attempts by outcome in time buckets, per-webhook success rate and latency, the backlog",
    querystring: {
      type: "object",
      additionalProperties: false,
      properties: { ...timeRangeParams, bucket: { type: "integer", minimum: 60, maximum: 31 * 86_400, default: 3600 }, ...customerParam },
    },
    response: {
      200: {
        type: "object",
        required: ["since", "until", "bucket", "attempts", "webhooks"],
        properties: {
          since: time,
          until: time,
          bucket: int,
          attempts: { type: "array", items: { type: "object", required: ["start"], properties: { start: time } } },
          webhooks: { type: "array", items: { type: "object", required: ["id", "url", "topic"], properties: { id: str, url: str, topic: str } } },
        },
      },
      ...errors,
    },
  },
  createPortalSession: {
    tags: ["portal"],
    summary: "A short-lived link that opens the console as one customer",
    body: {
      type: "object",
      additionalProperties: false,
      properties: { ...customerParam, expires_in: { type: "integer", minimum: 1, maximum: MAX_LINK_SECONDS, description: "seconds (default 300)" } },
    },
    response: { 201: record({ url: str, expires_at: time }), ...errors },
  },
} as const;

export type RouteSchemas = typeof routeSchemas;
export type OperationId = keyof RouteSchemas;

/** A route's `schema` option: its schemas and its operation id (the client's method names follow them). */
export function routeSchema<K extends OperationId>(operationId: K): RouteSchemas[K] & { operationId: K } {
  return { operationId, ...routeSchemas[operationId] };
}

/** GET /healthz and GET /metrics: no key. */
export const healthSchemas = {
  health: {
    operationId: "health",
    tags: ["health"],
    summary: "200 while the store can be read and written",
    security: [],
    response: { 200: record({ status: { type: "string", enum: ["ok"] } }), 503: errorSchema },
  },
  metrics: {
    operationId: "metrics",
    tags: ["health"],
    summary: "Prometheus metrics",
    security: [],
    produces: ["text/plain"],
    response: { 200: { description: "Prometheus text exposition", content: { "text/plain": { schema: { type: "string" } } } } },
  },
  openApi: {
    operationId: "openApi",
    tags: ["health"],
    summary: "This document (OpenAPI 3.1)",
    security: [],
    response: { 200: { type: "object", description: "the OpenAPI document", additionalProperties: true } },
  },
} as const;
