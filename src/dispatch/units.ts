/**
 * A tick's requests: a claim's deliveries grouped per webhook, in the claim's order
 * (publish order within a webhook), cut into batches of the webhook's batch_size
 * (bounded by dispatch.maxBatchSize); one delivery is a request of its own. Pure.
 */
import type { ClaimedDelivery } from "../store/claimed.js";

/** One request: a delivery, or a batch of one webhook's deliveries in publish order. */
export interface Unit {
  webhookId: string;
  customerId: string;
  weight: number;
  deliveries: ClaimedDelivery[];
}

export interface Units {
  units: Unit[];
  /** per webhook, deliveries per request */
  batchOf: Map<string, number>;
}

export function unitsOf(claimed: readonly ClaimedDelivery[], maxBatchSize: number): Units {
  const byHook = new Map<string, ClaimedDelivery[]>();
  for (const d of claimed) {
    const list = byHook.get(d.webhook_id);
    if (list) list.push(d);
    else byHook.set(d.webhook_id, [d]);
  }
  const units: Unit[] = [];
  const batchOf = new Map<string, number>();
  for (const [webhookId, list] of byHook) {
    const first = list[0]!;
    const size = Math.max(1, Math.min(first.batch_size, maxBatchSize));
    batchOf.set(webhookId, size);
    for (let i = 0; i < list.length; i += size) {
      units.push({ webhookId, customerId: first.customer_id, weight: first.weight, deliveries: list.slice(i, i + size) });
    }
  }
  return { units, batchOf };
}
