/**
 * What a dispatcher reads of the deliveries it claimed: each row with its webhook's
 * settings and breaker memory, and each event's payload once (a tick shares it among
 * the deliveries it holds: dispatch/heldPayloads.ts).
 */
import type { Db } from "./connect.js";
import { CHUNK } from "./leases.js";
import type { WebhookTable } from "./schema.js";

/** The webhook's delivery settings a claim reads with each delivery (dispatch/deliverySettings.ts applies them). */
export const WEBHOOK_SETTINGS = [
  "headers",
  "auth",
  "auth_secret",
  "timeout_ms",
  "max_attempts",
  "retry_delays_seconds",
  "rate_limit",
  "ordered",
  "batch_size",
  "signing",
  "signing_key",
  "previous_signing_keys",
] as const satisfies readonly (keyof WebhookTable)[];

/**
 * A claimed delivery: its row, its webhook's settings and breaker memory, never its
 * payload (a tick reads each event's payload once however many deliveries it has:
 * loadPayloads below).
 */
export interface ClaimedDelivery extends Pick<WebhookTable, (typeof WEBHOOK_SETTINGS)[number]> {
  id: string;
  event_id: string;
  webhook_id: string;
  customer_id: string;
  /** the customer's weight */
  weight: number;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  lease_expires_at: number;
  topic: string;
  url: string;
  hash_secret: string | null;
  previous_secrets: string | null;
  /** the webhook's breaker steps so far (0 when healthy) */
  consecutive_failures: number;
  /** the breaker's shared memory as of the claim */
  failure_streak: number;
  recent_outcomes: string;
  /** true for the one delivery that tests whether a failing webhook has recovered */
  probe: boolean;
  /** database time before which it may not start (a rate-limited webhook's pace), or 0 */
  not_before: number;
  /** the traceparent of its event's publish span, or null (attempts link to it: telemetry/spans.ts) */
  trace_context: string | null;
}

export async function loadClaimed(
  db: Db,
  owner: string,
  ids: string[],
  expires: number,
  probes: Set<string>,
  notBefore: ReadonlyMap<string, number>,
): Promise<ClaimedDelivery[]> {
  const out: ClaimedDelivery[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db
      .selectFrom("deliveries as d")
      .innerJoin("events as e", "e.id", "d.event_id")
      .innerJoin("webhooks as w", "w.id", "d.webhook_id")
      .innerJoin("customers as c", "c.id", "w.customer_id")
      .select([
        "d.id",
        "d.event_id",
        "d.webhook_id",
        "w.customer_id",
        "c.weight",
        "d.attempts",
        "d.created_at",
        "d.next_attempt_at",
        "e.topic",
        "e.trace_context",
        "w.url",
        "w.hash_secret",
        "w.previous_secrets",
        "w.consecutive_failures",
        "w.failure_streak",
        "w.recent_outcomes",
        ...WEBHOOK_SETTINGS.map((c) => `w.${c}` as const),
      ])
      .where("d.id", "in", ids.slice(i, i + CHUNK))
      .where("d.lease_owner", "=", owner)
      .execute();
    for (const r of rows) {
      out.push({
        ...r,
        weight: Number(r.weight),
        next_attempt_at: Number(r.next_attempt_at),
        lease_expires_at: expires,
        probe: probes.has(r.id),
        not_before: notBefore.get(r.id) ?? 0,
      });
    }
  }
  // Publish order within a webhook (batches and ordered webhooks go in it), oldest due first otherwise.
  return out.sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.created_at - b.created_at || (a.event_id < b.event_id ? -1 : 1));
}

/** Events' payloads as bytes, each read once (a tick shares them among the deliveries it holds). */
export async function loadPayloads(db: Db, eventIds: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (let i = 0; i < eventIds.length; i += CHUNK) {
    const rows = await db
      .selectFrom("events")
      .select(["id", "payload"])
      .where("id", "in", eventIds.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) out.set(r.id, Buffer.from(r.payload, "utf8"));
  }
  return out;
}
