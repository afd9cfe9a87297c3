/**
 * `import { HookdClient } from "hookd/client"`: a typed client of the HTTP API, a
 * method per route of /openapi.json (named after its operation id). Requests and
 * answers are typed from the very schemas the routes validate with and the document
 * is generated from (api/schemas.ts), so a route that changes changes its types here.
 * Only `fetch` at run time: no dependency, works in Node 20+ and browsers. An error
 * answer is thrown as a HookdError carrying the API's status, code, message and details.
 */
import type { FromSchema } from "./api/schemaTypes.js";
import type {
  OperationId,
  RouteSchemas,
  attemptSchema,
  deliverySchema,
  eventSchema,
  eventTypeSchema,
  webhookSchema,
  webhookWithSecretSchema,
} from "./api/schemas.js";

type Schema<K extends OperationId> = RouteSchemas[K];
/** The JSON body route `K` takes. */
export type RequestBody<K extends OperationId> = Schema<K> extends { body: infer B } ? NonNullable<FromSchema<B>> : never;
/** The query parameters route `K` takes. */
export type RequestQuery<K extends OperationId> = Schema<K> extends { querystring: infer Q } ? FromSchema<Q> : never;
/** What route `K` answers on success (undefined for a 204). */
export type ResponseBody<K extends OperationId> = Schema<K>["response"] extends infer R
  ? R extends { 200: infer A }
    ? FromSchema<A>
    : R extends { 201: infer A }
      ? FromSchema<A>
      : R extends { 202: infer A }
        ? FromSchema<A>
        : undefined
  : never;

export type Webhook = FromSchema<typeof webhookSchema>;
/** A webhook as create and rotate-secret answer it, with its secret (shown only then). */
export type WebhookWithSecret = FromSchema<typeof webhookWithSecretSchema>;
export type Delivery = FromSchema<typeof deliverySchema>;
export type Attempt = FromSchema<typeof attemptSchema>;
export type Event = FromSchema<typeof eventSchema>;
export type EventType = FromSchema<typeof eventTypeSchema>;
/** One page of a list: `next` and `previous` are links (see HookdClient.follow) or null. */
export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface ErrorDetail {
  field?: string;
  path?: string;
  message: string;
}

/** The API's error answer (`{"error": {code, message, details}}`), or a request that got no answer (status 0). */
export class HookdError extends Error {
  override readonly name = "HookdError";

  constructor(
    /** the HTTP status; 0 when the server could not be reached */
    readonly status: number,
    /** e.g. validation_failed, unauthorized, not_found, conflict, unprocessable, store_unavailable; network_error for status 0 */
    readonly code: string,
    message: string,
    readonly details: readonly ErrorDetail[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface HookdClientOptions {
  /** where the API is, e.g. https://hooks.example.com or http://127.0.0.1:8080 */
  baseUrl: string;
  /** a customer or admin API key */
  apiKey: string;
  /** defaults to the global fetch */
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | boolean | undefined>;

interface Call {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** read the answer as text (GET /metrics) */
  text?: boolean;
}

const segment = (value: string) => encodeURIComponent(value);

export class HookdClient {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly fetchFn: typeof fetch;

  constructor(options: HookdClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.fetchFn = options.fetch ?? globalThis.fetch;
  }

  // ---- webhooks ----
  listWebhooks(query?: RequestQuery<"listWebhooks">): Promise<ResponseBody<"listWebhooks">> {
    return this.send("GET", "/webhooks/", { query });
  }
  createWebhook(body: RequestBody<"createWebhook">): Promise<ResponseBody<"createWebhook">> {
    return this.send("POST", "/webhooks/", { body });
  }
  getWebhook(id: string, query?: RequestQuery<"getWebhook">): Promise<ResponseBody<"getWebhook">> {
    return this.send("GET", `/webhooks/${segment(id)}/`, { query });
  }
  /** A partial update; `null` restores a setting's default. */
  updateWebhook(id: string, body: RequestBody<"updateWebhook">, query?: RequestQuery<"updateWebhook">): Promise<ResponseBody<"updateWebhook">> {
    return this.send("PATCH", `/webhooks/${segment(id)}/`, { body, query });
  }
  /** PUT: the same partial update as updateWebhook. */
  replaceWebhook(id: string, body: RequestBody<"replaceWebhook">, query?: RequestQuery<"replaceWebhook">): Promise<ResponseBody<"replaceWebhook">> {
    return this.send("PUT", `/webhooks/${segment(id)}/`, { body, query });
  }
  deleteWebhook(id: string, query?: RequestQuery<"deleteWebhook">): Promise<ResponseBody<"deleteWebhook">> {
    return this.send("DELETE", `/webhooks/${segment(id)}/`, { query });
  }
  rotateWebhookSecret(
    id: string,
    body: RequestBody<"rotateWebhookSecret"> = {},
    query?: RequestQuery<"rotateWebhookSecret">,
  ): Promise<ResponseBody<"rotateWebhookSecret">> {
    return this.send("POST", `/webhooks/${segment(id)}/rotate-secret/`, { body, query });
  }
  testWebhook(id: string, query?: RequestQuery<"testWebhook">): Promise<ResponseBody<"testWebhook">> {
    return this.send("POST", `/webhooks/${segment(id)}/test/`, { query });
  }
  listWebhookDeliveries(id: string, query?: RequestQuery<"listWebhookDeliveries">): Promise<ResponseBody<"listWebhookDeliveries">> {
    return this.send("GET", `/webhooks/${segment(id)}/deliveries/`, { query });
  }

  // ---- events ----
  /** `idempotencyKey` is sent as the Idempotency-Key header (or give `idempotency_key` in the body). */
  publishEvent(body: RequestBody<"publishEvent">, options: { idempotencyKey?: string } = {}): Promise<ResponseBody<"publishEvent">> {
    const headers = options.idempotencyKey === undefined ? undefined : { "idempotency-key": options.idempotencyKey };
    return this.send("POST", "/events/", { body, headers });
  }
  listEvents(query?: RequestQuery<"listEvents">): Promise<ResponseBody<"listEvents">> {
    return this.send("GET", "/events/", { query });
  }
  getEvent(id: string, query?: RequestQuery<"getEvent">): Promise<ResponseBody<"getEvent">> {
    return this.send("GET", `/events/${segment(id)}/`, { query });
  }

  // ---- event types ----
  listEventTypes(): Promise<ResponseBody<"listEventTypes">> {
    return this.send("GET", "/event-types/", {});
  }
  getEventType(topic: string): Promise<ResponseBody<"getEventType">> {
    return this.send("GET", `/event-types/${segment(topic)}/`, {});
  }
  /** Admin key. */
  putEventType(topic: string, body: RequestBody<"putEventType">): Promise<ResponseBody<"putEventType">> {
    return this.send("PUT", `/event-types/${segment(topic)}/`, { body });
  }
  /** Admin key. */
  deleteEventType(topic: string): Promise<ResponseBody<"deleteEventType">> {
    return this.send("DELETE", `/event-types/${segment(topic)}/`, {});
  }

  // ---- deliveries ----
  listDeliveries(query?: RequestQuery<"listDeliveries">): Promise<ResponseBody<"listDeliveries">> {
    return this.send("GET", "/deliveries/", { query });
  }
  getDelivery(id: string, query?: RequestQuery<"getDelivery">): Promise<ResponseBody<"getDelivery">> {
    return this.send("GET", `/deliveries/${segment(id)}/`, { query });
  }
  /** Replay every failed delivery matching the filter (`dry_run: true` only counts them). */
  retryDeliveries(body: RequestBody<"retryDeliveries"> = {}): Promise<ResponseBody<"retryDeliveries">> {
    return this.send("POST", "/deliveries/retry/", { body });
  }
  retryDelivery(id: string, query?: RequestQuery<"retryDelivery">): Promise<ResponseBody<"retryDelivery">> {
    return this.send("POST", `/deliveries/${segment(id)}/retry/`, { query });
  }

  // ---- stats, portal, health ----
  getStats(query?: RequestQuery<"getStats">): Promise<ResponseBody<"getStats">> {
    return this.send("GET", "/stats/", { query });
  }
  createPortalSession(body: RequestBody<"createPortalSession"> = {}): Promise<ResponseBody<"createPortalSession">> {
    return this.send("POST", "/portal-sessions/", { body });
  }
  /** `{status: "ok"}`, or a HookdError with status 503. */
  health(): Promise<{ status: "ok" }> {
    return this.send("GET", "/healthz", {});
  }
  /** Prometheus text. */
  metrics(): Promise<string> {
    return this.send("GET", "/metrics", { text: true });
  }
  /** The OpenAPI 3.1 document these methods follow. */
  openApi(): Promise<Record<string, unknown>> {
    return this.send("GET", "/openapi.json", {});
  }

  /** The page a list's `next` or `previous` link names (relative, or on the server's public URL). */
  follow<P extends Page<unknown>>(link: string): Promise<P> {
    const url = new URL(link, `${this.baseUrl}/`);
    return this.send("GET", url.href.startsWith(this.baseUrl) ? url.href.slice(this.baseUrl.length) : url.href, {});
  }

  private async send<T>(method: string, path: string, call: Call): Promise<T> {
    const url = new URL(/^https?:\/\//.test(path) ? path : `${this.baseUrl}${path}`);
    for (const [name, value] of Object.entries(call.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: call.text ? "text/plain" : "application/json", ...call.headers };
    let body: string | undefined;
    if (call.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(call.body);
    }
    let res: Response;
    try {
      res = await this.fetchFn(url, { method, headers, body });
    } catch (err) {
      throw new HookdError(0, "network_error", `could not reach ${url.origin}: ${(err as Error).message}`, [], { cause: err });
    }
    const text = await res.text();
    if (!res.ok) throw errorOf(res.status, text);
    if (call.text) return text as T;
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }
}

function errorOf(status: number, text: string): HookdError {
  try {
    const { error } = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (error && typeof error.code === "string" && typeof error.message === "string") {
      return new HookdError(status, error.code, error.message, Array.isArray(error.details) ? (error.details as ErrorDetail[]) : []);
    }
  } catch {
    // not the API's error shape: said below
  }
  return new HookdError(status, "http_error", `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ""}`);
}
