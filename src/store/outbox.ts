/**
 * Publishing: the event and one delivery per subscribed active webhook, written in
 * one transaction, so an acknowledged event always has its deliveries.
 */
import { randomUUID } from "node:crypto";
import { validationError } from "../errors.js";
import { writeTransaction, type Db } from "./connect.js";
import type { DeliveryTable, EventTable } from "./schema.js";

/** An event that passed the publishing rules (src/publishing.ts). */
export interface CleanEvent {
  customerId: string;
  topic: string;
  /** the payload's JSON text, exactly as published */
  payload: string;
  key: string | null;
}

export interface StoredEvent {
  /** the new event, or for a repeated idempotency key the first one */
  event: EventTable;
  deliveries: number;
  duplicate: boolean;
}

/**
 * Store an event and fan it out in one transaction. With an idempotency key the event
 * is inserted with ON CONFLICT DO NOTHING and, when the key was taken, the first event
 * is read back: concurrent publishers with one key (PostgreSQL: the second insert waits
 * for the first to commit) store one event and all get it, with no unique violation.
 * Inside a caller's transaction it runs there.
 */
export async function insertEvent(db: Db, clean: CleanEvent, now = Date.now()): Promise<StoredEvent> {
  return writeTransaction(db, async (trx) => {
    // One statement for both: the customer (a row only if it exists) and its live webhooks on the topic.
    const subscribed = await trx
      .selectFrom("customers as c")
      .leftJoin("webhooks as w", (join) =>
        join.onRef("w.customer_id", "=", "c.id").on("w.topic", "=", clean.topic).on("w.active", "=", 1).on("w.deleted_at", "is", null),
      )
      .select("w.id")
      .where("c.id", "=", clean.customerId)
      .execute();
    if (subscribed.length === 0) throw validationError([{ field: "customer", message: `customer ${clean.customerId} does not exist` }]);
    const hooks = subscribed.filter((h): h is { id: string } => h.id !== null);

    const event: EventTable = {
      id: randomUUID(),
      customer_id: clean.customerId,
      topic: clean.topic,
      payload: clean.payload,
      idempotency_key: clean.key,
      created_at: now,
    };
    const inserted = await trx
      .insertInto("events")
      .values(event)
      .onConflict((oc) => oc.columns(["customer_id", "idempotency_key"]).doNothing())
      .executeTakeFirst();
    if (clean.key !== null && Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
      const first = await trx
        .selectFrom("events")
        .selectAll()
        .where("customer_id", "=", clean.customerId)
        .where("idempotency_key", "=", clean.key)
        .executeTakeFirstOrThrow();
      const { n } = await trx
        .selectFrom("deliveries")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("event_id", "=", first.id)
        .executeTakeFirstOrThrow();
      return { event: first, deliveries: Number(n), duplicate: true };
    }
    if (hooks.length > 0) {
      const rows: DeliveryTable[] = hooks.map((h) => ({
        id: randomUUID(),
        event_id: event.id,
        webhook_id: h.id,
        customer_id: clean.customerId,
        status: "pending",
        attempts: 0,
        next_attempt_at: now,
        lease_owner: null,
        lease_expires_at: null,
        last_status_code: null,
        last_error: null,
        wait_reason: null,
        created_at: now,
        updated_at: now,
        finished_at: null,
      }));
      // Chunked: SQLite caps the number of bound parameters in one statement.
      for (let i = 0; i < rows.length; i += 500) {
        await trx
          .insertInto("deliveries")
          .values(rows.slice(i, i + 500))
          .execute();
      }
    }
    return { event, deliveries: hooks.length, duplicate: false };
  });
}

export async function getEvent(db: Db, id: string, customerId: string | null): Promise<EventTable | undefined> {
  let q = db.selectFrom("events").selectAll().where("id", "=", id);
  if (customerId) q = q.where("customer_id", "=", customerId);
  return q.executeTakeFirst();
}
