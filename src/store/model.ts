/**
 * Row → API shape, in one place. The CLI's --json prints exactly these, so the API
 * and the CLI cannot drift apart.
 */
import { breakerState, describeBreaker, type BreakerState } from "../domain/breaker.js";
import { headersOf } from "../domain/headers.js";
import { authViewOf, type AuthView } from "../domain/receiverAuth.js";
import { delaysOf } from "../domain/retrySettings.js";
import { deliveryWait, type WaitingWebhook } from "../domain/deliveryWait.js";
import { SecretKeyError, type Keyring } from "../domain/secretBox.js";
import { previousExpiresAt } from "../domain/secrets.js";
import type { AttemptTable, DeliveryTable, EventTable, WebhookTable } from "./schema.js";
import { openStored, SEALED_COLUMNS } from "./sealedColumns.js";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export interface WebhookJson {
  id: string;
  customer: string;
  url: string;
  group: string;
  action: string;
  topic: string;
  active: boolean;
  created_at: string;
  updated_at: string;
  /** until when the secrets (and Ed25519 keys) before the last rotation still sign deliveries (null: none do) */
  previous_secret_expires_at: string | null;
  /** why this webhook's stored secrets cannot be opened (its deliveries wait, nothing is sent unsigned), or null */
  secret_error: string | null;
  // Delivery settings (SPEC "Per-webhook delivery settings"); null: the configured default.
  headers: Record<string, string>;
  /** never the token or client secret */
  auth: AuthView | null;
  timeout_ms: number | null;
  max_attempts: number | null;
  retry_delays_seconds: number[] | null;
  rate_limit: number | null;
  filter: Record<string, unknown> | null;
  ordered: boolean;
  batch_size: number;
  signing: WebhookTable["signing"];
  /** `whpk_…` with `signing: "ed25519"`: what receivers verify `v1a` signatures with */
  public_key: string | null;
  /** the circuit breaker: closed (sending), open (backing off until open_until), probing */
  breaker: { state: BreakerState; open_until: string | null; reason: string | null; description: string };
  hash_secret?: string | null;
}

export interface WebhookJsonOptions {
  /** the secret to show, in clear: given only by create and rotate, which just chose it */
  secret?: string | null;
  now?: number;
}

export function webhookJson(row: WebhookTable, keyring: Keyring, options: WebhookJsonOptions = {}): WebhookJson {
  const now = options.now ?? Date.now();
  const { previous, error } = openedForDisplay(row, keyring);
  // Rotation keeps previous HMAC secrets and Ed25519 keys alike; the later expiry is the one to wait for.
  const expiries = previous.map((column) => previousExpiresAt(column, now)).filter((t): t is number => t !== null);
  const json: WebhookJson = {
    id: row.id,
    customer: row.customer_id,
    url: row.url,
    group: row.group,
    action: row.action,
    topic: row.topic,
    active: row.active === 1,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    previous_secret_expires_at: iso(expiries.length === 0 ? null : Math.max(...expiries)),
    secret_error: error,
    headers: headersOf(row.headers),
    auth: authViewOf(row.auth),
    timeout_ms: row.timeout_ms,
    max_attempts: row.max_attempts,
    retry_delays_seconds: delaysOf(row.retry_delays_seconds),
    rate_limit: row.rate_limit === null ? null : Number(row.rate_limit),
    filter: row.filter === null ? null : (JSON.parse(row.filter) as Record<string, unknown>),
    ordered: row.ordered === 1,
    batch_size: row.batch_size,
    signing: row.signing,
    public_key: row.signing === "ed25519" ? row.public_key : null,
    breaker: breakerJson(row, now),
  };
  if (options.secret !== undefined) json.hash_secret = options.secret;
  return json;
}

/** Columns of previous secrets and keys a rotation keeps valid for a while. */
const PREVIOUS = new Set(["previous_secrets", "previous_signing_keys"]);

/** The previous secrets' and keys' JSON (for their expiry), and whether every sealed column of the row opens. */
function openedForDisplay(row: WebhookTable, keyring: Keyring): { previous: (string | null)[]; error: string | null } {
  const previous: (string | null)[] = [];
  try {
    for (const { table, column } of SEALED_COLUMNS) {
      if (table !== "webhooks") continue;
      const opened = openStored(keyring, (row as unknown as Record<string, string | null>)[column] ?? null);
      if (PREVIOUS.has(column)) previous.push(opened);
    }
    return { previous, error: null };
  } catch (err) {
    if (err instanceof SecretKeyError) return { previous: [], error: err.summary };
    throw err;
  }
}

export interface AttemptJson {
  number: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  error_message: string | null;
  response_body: string | null;
}

export function attemptJson(row: AttemptTable): AttemptJson {
  return {
    number: row.number,
    started_at: iso(row.started_at)!,
    duration_ms: row.duration_ms,
    status_code: row.status_code,
    error: row.error,
    error_message: row.error_message,
    response_body: row.response_body,
  };
}

export interface DeliveryJson {
  id: string;
  event: string;
  webhook: string;
  customer: string;
  status: DeliveryTable["status"];
  attempts: number;
  /** when a pending delivery will really be tried at the earliest (its webhook's backoff included); null once done, or while its webhook is switched off */
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  /** the stored code (backoff, retry_after, endpoint_backoff, …), kept for scripts that read it */
  wait_reason: string | null;
  /** why a pending delivery waits and what happens next, in words (domain/deliveryWait.ts) */
  waiting: string | null;
  /** an ordered webhook's delivery waiting its turn: the delivery ahead of it (null: not waiting on another) */
  waiting_for: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  history?: AttemptJson[];
}

/**
 * What a delivery's JSON needs besides its row: the time, and the state of the
 * webhooks it may belong to (store/deliveryViews.ts reads them).
 */
export interface DeliveryView {
  now: number;
  /** the retry budget of a webhook not in `webhooks` */
  maxAttempts: number;
  webhooks: ReadonlyMap<string, WaitingWebhook>;
}

export function deliveryJson(row: DeliveryTable, view: DeliveryView, attempts?: AttemptTable[]): DeliveryJson {
  const webhook = view.webhooks.get(row.webhook_id) ?? {
    active: true,
    disabledReason: null,
    failingSince: null,
    consecutiveFailures: 0,
    backoffUntil: null,
    maxAttempts: view.maxAttempts,
  };
  const wait = deliveryWait(
    {
      status: row.status,
      attempts: row.attempts,
      dueAt: row.next_attempt_at,
      waitReason: row.wait_reason,
      lastStatusCode: row.last_status_code,
      lastError: row.last_error,
      updatedAt: row.updated_at,
      leasedUntil: row.lease_owner === null ? null : row.lease_expires_at,
    },
    webhook,
    view.now,
  );
  // An ordered webhook sends its head first: every other pending delivery waits its turn.
  const waitingFor = row.status === "pending" && webhook.head && webhook.head !== row.id ? webhook.head : null;
  if (wait && waitingFor) wait.message = `waiting its turn: the webhook is ordered and delivery ${waitingFor} goes first (${wait.message})`;
  const json: DeliveryJson = {
    id: row.id,
    event: row.event_id,
    webhook: row.webhook_id,
    customer: row.customer_id,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: iso(wait?.at ?? null),
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    wait_reason: row.status === "pending" ? row.wait_reason : null,
    waiting: wait?.message ?? null,
    waiting_for: waitingFor,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    finished_at: iso(row.finished_at),
  };
  if (attempts) json.history = attempts.map(attemptJson);
  return json;
}

export interface EventJson {
  id: string;
  customer: string;
  topic: string;
  payload: unknown;
  idempotency_key: string | null;
  created_at: string;
  deliveries?: DeliveryJson[];
}

export function eventJson(row: EventTable, deliveries?: DeliveryJson[]): EventJson {
  const json: EventJson = {
    id: row.id,
    customer: row.customer_id,
    topic: row.topic,
    payload: JSON.parse(row.payload),
    idempotency_key: row.idempotency_key,
    created_at: iso(row.created_at)!,
  };
  if (deliveries) json.deliveries = deliveries;
  return json;
}

/** Rows on a list page by default, and at most. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
/** The last page a list takes: (page - 1) × limit stays a safe integer offset in either database. */
export const MAX_PAGE = 1_000_000_000;

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** The circuit breaker as the webhook object shows it. */
export function breakerJson(row: Pick<WebhookTable, "failing_since" | "backoff_until" | "breaker_reason">, now: number): WebhookJson["breaker"] {
  const state = breakerState(row, now);
  return {
    state,
    open_until: state === "open" ? iso(row.backoff_until) : null,
    reason: state === "closed" ? null : row.breaker_reason,
    description: describeBreaker(row, now),
  };
}
