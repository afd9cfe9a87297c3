/**
 * The one `Database` type: an interface per table. Times are Unix milliseconds in
 * integer columns so SQLite and PostgreSQL (bigint) store and compare them alike.
 */

export interface CustomerTable {
  id: string;
  name: string;
  /** its share of a tick's slots against other customers with due work (1 … 1000) */
  weight: number;
  created_at: number;
}

export interface ApiKeyTable {
  id: string;
  /** null for an admin key */
  customer_id: string | null;
  /** sha256 hex of the key; the key itself is never stored */
  key_hash: string;
  /** first characters of the key, to tell keys apart in listings */
  prefix: string;
  created_at: number;
}

export interface WebhookTable {
  id: string;
  customer_id: string;
  url: string;
  group: string;
  action: string;
  topic: string;
  hash_secret: string | null;
  /** secrets a rotation keeps valid for a while: JSON `[{secret, expires_at}]`, newest first, or null */
  previous_secrets: string | null;
  /** 1 or 0: an integer so both dialects store it alike */
  active: number;
  created_at: number;
  updated_at: number;
  /** soft delete: history (deliveries, attempts) keeps pointing at it */
  deleted_at: number | null;
  /** endpoint health: set while the webhook as a whole is failing */
  failing_since: number | null;
  consecutive_failures: number;
  /** no request before this time, except the one probe that tests recovery */
  backoff_until: number | null;
  last_failure: string | null;
  /** why hookd itself set active = 0 (e.g. the receiver answered 410 Gone) */
  disabled_reason: string | null;
  // Per-webhook delivery settings (migration 009); null: the configured default.
  /** JSON `{name: value}` added to every request */
  headers: string | null;
  /** JSON of auth as reads show it: `{type, token_url?, client_id?, scope?}` */
  auth: string | null;
  /** sealed: the bearer token or the OAuth2 client secret */
  auth_secret: string | null;
  timeout_ms: number | null;
  max_attempts: number | null;
  /** JSON list of seconds; the last repeats */
  retry_delays_seconds: string | null;
  /** deliveries started per second */
  rate_limit: number | null;
  /** JSON of the payload filter as saved */
  filter: string | null;
  /** 1: strict first-in-first-out */
  ordered: number;
  /** deliveries per request; 1 sends each alone */
  batch_size: number;
  signing: "hmac" | "ed25519";
  /** sealed: the current Ed25519 secret key (`whsk_…`) */
  signing_key: string | null;
  /** sealed: JSON `[{secret, expires_at}]` of keys a rotation keeps valid, newest first */
  previous_signing_keys: string | null;
  /** `whpk_…`, the public half of signing_key */
  public_key: string | null;
  // The circuit breaker's memory, shared by every dispatcher (migration 010, domain/breaker.ts).
  /** endpoint failures in a row */
  failure_streak: number;
  /** the last dispatch.breaker.window outcomes, oldest first: "1" failed, "0" answered well */
  recent_outcomes: string;
  /** why the breaker last opened, in words */
  breaker_reason: string | null;
  /** rate_limit's pacing: the database time from which the next delivery may start */
  rate_next_at: number | null;
}

/** A topic's entry in the event-type catalog: the schema its payloads must match. */
export interface EventTypeTable {
  topic: string;
  /** JSON Schema (draft 2020-12), as saved */
  schema: string;
  description: string | null;
  created_at: number;
  updated_at: number;
}

export interface EventTable {
  id: string;
  customer_id: string;
  topic: string;
  /** the JSON text exactly as published */
  payload: string;
  idempotency_key: string | null;
  created_at: number;
  /** the W3C traceparent of the span that published it (migration 011), or null when tracing was off */
  trace_context: string | null;
}

export type DeliveryStatus = "pending" | "delivered" | "failed" | "cancelled";
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ["pending", "delivered", "failed", "cancelled"];

export interface DeliveryTable {
  id: string;
  event_id: string;
  webhook_id: string;
  customer_id: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  /** which dispatcher holds the row, and until when; null when nobody does */
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  /** why a pending delivery is waiting: backoff, retry_after, endpoint_backoff, … */
  wait_reason: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface AttemptTable {
  delivery_id: string;
  number: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  /** error class: timeout, refused, reset, dns, tls, redirect, http, protocol, blocked, … */
  error: string | null;
  error_message: string | null;
  /** first 1 KiB of the response body */
  response_body: string | null;
}

/**
 * A console sign-in with a key ("session", a cookie), a portal link not yet opened
 * ("link"), or the session a portal link opened ("portal", a cookie that may do less);
 * `id` is the token's sha256.
 */
export interface ConsoleSessionTable {
  id: string;
  kind: "session" | "link" | "portal";
  /** null for an admin session */
  customer_id: string | null;
  csrf_token: string;
  created_at: number;
  expires_at: number;
  /** the API key it was opened with (a portal link's: the key that made the link); revoking the key deletes it */
  api_key_id: string | null;
}

export interface Database {
  customers: CustomerTable;
  api_keys: ApiKeyTable;
  webhooks: WebhookTable;
  events: EventTable;
  deliveries: DeliveryTable;
  attempts: AttemptTable;
  console_sessions: ConsoleSessionTable;
  event_types: EventTypeTable;
}
