/** The API's JSON shapes the console reads: the server's own types where it has them (SPEC "HTTP API"). */
import type { AttemptJson, DeliveryJson, EventJson as ServerEvent, WebhookJson } from "../../store/model.js";

export type Attempt = AttemptJson;

/** `previous_secret_expires_at` is on every webhook: when the previous secrets stop signing. */
export type Webhook = WebhookJson;

export interface Delivery extends DeliveryJson {
  topic?: string | null;
}

export interface DeliveryDetail extends Delivery {
  url: string;
  payload: string;
  request_headers: Record<string, string> | null;
}

export type EventJson = ServerEvent;

export interface WebhookStats {
  id: string;
  url: string;
  topic: string;
  active: boolean;
  attempts: number;
  success_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  consecutive_failures: number;
  failing_since: string | null;
  backoff_until: string | null;
  last_error: string | null;
  disabled_reason: string | null;
}

export interface Stats {
  since: string;
  until: string;
  bucket: number;
  attempts: { start: string; success: number; http_error: number; network_error: number }[];
  webhooks: WebhookStats[];
  schedule: string;
  next_tick_at: string | null;
  backlog: Record<Delivery["status"], number>;
  due_now: number;
  failing_webhooks: {
    count: number;
    results: {
      id: string;
      url: string;
      topic: string;
      active: boolean;
      consecutive_failures: number;
      last_error: string | null;
      disabled_reason: string | null;
      /** the circuit breaker: open (backing off) or probing; null when switched off by hookd instead */
      breaker: "open" | "probing" | null;
      breaker_reason: string | null;
      pending: number;
      failed: number;
      next_attempt_at: string | null;
      next_tick_at: string | null;
    }[];
  };
}

export interface TestAttempt extends Attempt {
  ok: boolean;
}
