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

/**
 * The deepest nesting a payload may have. Deeper JSON parses, but it does not come back
 * out: JSON.stringify overflows the stack at a few thousand levels, and receivers'
 * parsers give up sooner (Ruby's JSON stops at 100 by default, the strictest of the
 * README's five receivers).
 */
export const MAX_PAYLOAD_DEPTH = 100;

/** How deeply `text` (valid JSON) nests arrays and objects. Pure; no recursion, so any depth is safe to measure. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** A lone UTF-16 surrogate, which no database stores faithfully. */
const LONE_SURROGATE = /\p{Surrogate}/u;

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
      if (nestingDepth(text) > MAX_PAYLOAD_DEPTH) details.push({ field: "payload", message: `must not nest deeper than ${MAX_PAYLOAD_DEPTH} levels` });
    } catch (err) {
      details.push({ field: "payload", message: `must be valid JSON: ${(err as Error).message}` });
    }
  }
  const key = input.idempotencyKey ?? null;
  if (key !== null && (typeof key !== "string" || key.length === 0 || key.length > 255)) {
    details.push({ field: "idempotency_key", message: "must be 1 to 255 characters" });
  } else if (key !== null && LONE_SURROGATE.test(key)) {
    details.push({ field: "idempotency_key", message: "must be valid Unicode (it holds a lone surrogate)" });
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
    const customer = await trx.selectFrom("customers").select("id").where("id", "=", input.customerId).executeTakeFirst();
    if (!customer) throw validationError([{ field: "customer", message: `customer ${input.customerId} does not exist` }]);

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
    const hooks = await trx
      .selectFrom("webhooks")
      .select("id")
      .where("customer_id", "=", input.customerId)
      .where("topic", "=", clean.topic)
      .where("active", "=", 1)
      .where("deleted_at", "is", null)
      .execute();
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
        await trx
          .insertInto("deliveries")
          .values(rows.slice(i, i + 500))
          .execute();
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
