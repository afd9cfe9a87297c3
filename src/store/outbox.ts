/**
 * Publishing: the event and one delivery per subscribed active webhook, written in
 * one transaction, so an acknowledged event always has its deliveries.
 */
import { randomUUID } from "node:crypto";
import { HookdError, validationError, type ErrorDetail } from "../errors.js";
import { topicProblem } from "../topics.js";
import { writeTransaction, type Db } from "./connect.js";
import type { DeliveryTable, EventTable } from "./schema.js";

export interface PublishInput {
  customerId: string;
  topic: string;
  /** JSON text (stored byte for byte) or a Buffer holding UTF-8 JSON text */
  payload: string | Buffer;
  idempotencyKey?: string | null;
}

export interface PublishRules {
  topics: readonly string[];
  maxPayloadBytes: number;
}

export interface PublishResult {
  id: string;
  topic: string;
  /** deliveries created for this event (for a repeated idempotency key: those of the first) */
  deliveries: number;
  /** true when the idempotency key was already used and the first event is returned */
  duplicate: boolean;
  /** the stored event, e.g. to compare payloads on a repeated key */
  event: EventTable;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Validate and normalise the input; the payload must be UTF-8 JSON text within the size limit. */
export function checkPublishInput(input: PublishInput, rules: PublishRules): { topic: string; payload: string; key: string | null } {
  const details: ErrorDetail[] = [];
  const problem = typeof input.topic === "string" ? topicProblem(rules.topics, input.topic) : "is required";
  if (problem) details.push({ field: "topic", message: problem });

  const bytes = typeof input.payload === "string" ? Buffer.byteLength(input.payload, "utf8") : input.payload.length;
  if (bytes > rules.maxPayloadBytes) {
    throw new HookdError("payload_too_large", `payload is ${bytes} bytes; the limit is ${rules.maxPayloadBytes}`, [
      { field: "payload", message: `is ${bytes} bytes; the limit is ${rules.maxPayloadBytes}` },
    ]);
  }
  let text: string | null = null;
  try {
    text = typeof input.payload === "string" ? input.payload : utf8.decode(input.payload);
  } catch {
    details.push({ field: "payload", message: "must be UTF-8 text" });
  }
  if (text !== null) {
    try {
      JSON.parse(text);
    } catch (err) {
      details.push({ field: "payload", message: `must be valid JSON: ${(err as Error).message}` });
    }
  }
  const key = input.idempotencyKey ?? null;
  if (key !== null && (typeof key !== "string" || key.length === 0 || key.length > 255)) {
    details.push({ field: "idempotency_key", message: "must be 1 to 255 characters" });
  }
  if (details.length > 0) throw validationError(details);
  return { topic: input.topic, payload: text!, key };
}

/**
 * Store an event and fan it out. Pass a Kysely transaction to publish inside your
 * own transaction (transactional outbox); otherwise one is opened here.
 */
export async function publish(db: Db, input: PublishInput, rules: PublishRules, now = Date.now()): Promise<PublishResult> {
  const clean = checkPublishInput(input, rules);
  return writeTransaction(db, async (trx) => {
    // One statement for both: the customer (a row only if it exists) and its live webhooks on the topic.
    const subscribed = await trx
      .selectFrom("customers as c")
      .leftJoin("webhooks as w", (join) =>
        join.onRef("w.customer_id", "=", "c.id").on("w.topic", "=", clean.topic).on("w.active", "=", 1).on("w.deleted_at", "is", null),
      )
      .select("w.id")
      .where("c.id", "=", input.customerId)
      .execute();
    if (subscribed.length === 0) throw validationError([{ field: "customer", message: `customer ${input.customerId} does not exist` }]);
    const hooks = subscribed.filter((h): h is { id: string } => h.id !== null);

    if (clean.key !== null) {
      const first = await trx
        .selectFrom("events")
        .selectAll()
        .where("customer_id", "=", input.customerId)
        .where("idempotency_key", "=", clean.key)
        .executeTakeFirst();
      if (first) {
        const { n } = await trx
          .selectFrom("deliveries")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("event_id", "=", first.id)
          .executeTakeFirstOrThrow();
        return { id: first.id, topic: first.topic, deliveries: Number(n), duplicate: true, event: first };
      }
    }

    const event: EventTable = {
      id: randomUUID(),
      customer_id: input.customerId,
      topic: clean.topic,
      payload: clean.payload,
      idempotency_key: clean.key,
      created_at: now,
    };
    await trx.insertInto("events").values(event).execute();
    if (hooks.length > 0) {
      const rows: DeliveryTable[] = hooks.map((h) => ({
        id: randomUUID(),
        event_id: event.id,
        webhook_id: h.id,
        customer_id: input.customerId,
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
        await trx.insertInto("deliveries").values(rows.slice(i, i + 500)).execute();
      }
    }
    return { id: event.id, topic: event.topic, deliveries: hooks.length, duplicate: false, event };
  });
}

export async function getEvent(db: Db, id: string, customerId: string | null): Promise<EventTable | undefined> {
  let q = db.selectFrom("events").selectAll().where("id", "=", id);
  if (customerId) q = q.where("customer_id", "=", customerId);
  return q.executeTakeFirst();
}
