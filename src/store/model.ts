/**
 * Row → API shape, in one place. The CLI's --json prints exactly these, so the API
 * and the CLI cannot drift apart.
 */
import { previousExpiresAt } from "../domain/secrets.js";
import type { AttemptTable, DeliveryTable, EventTable, WebhookTable } from "./schema.js";

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
  /** until when the secrets before the last rotation still sign deliveries (null: none do) */
  previous_secret_expires_at: string | null;
  hash_secret?: string | null;
}

export function webhookJson(row: WebhookTable, options: { withSecret?: boolean; now?: number } = {}): WebhookJson {
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
    previous_secret_expires_at: iso(previousExpiresAt(row.previous_secrets, options.now ?? Date.now())),
  };
  if (options.withSecret) json.hash_secret = row.hash_secret;
  return json;
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
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  wait_reason: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  history?: AttemptJson[];
}

export function deliveryJson(row: DeliveryTable, attempts?: AttemptTable[]): DeliveryJson {
  const json: DeliveryJson = {
    id: row.id,
    event: row.event_id,
    webhook: row.webhook_id,
    customer: row.customer_id,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === "pending" ? iso(row.next_attempt_at) : null,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    wait_reason: row.status === "pending" ? row.wait_reason : null,
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
