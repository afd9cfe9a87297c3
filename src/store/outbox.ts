/**
 * Publishing: the event and one delivery per subscribed active webhook, written in
 * one transaction, so an acknowledged event always has its deliveries.
 */
import { sql } from "kysely";
import { nextTimeOrderedId } from "./timeOrderedId.js";
import { validationError } from "../errors.js";
import { dialectOf, runSteps, writeTransaction, type Db, type Steps } from "./connect.js";
import { compiledOnce } from "./compiledOnce.js";
import { checkPayloadSchema } from "../domain/eventTypes.js";
import { matcherOf } from "../domain/filter.js";
import { writePublishRow } from "./publishBatch.js";
import { readCacheOf } from "./readCache.js";
import type { EventTable } from "./schema.js";

/** An event that passed the publishing rules (src/publishing.ts). */
export interface CleanEvent {
  customerId: string;
  topic: string;
  /** the payload's JSON text, exactly as published */
  payload: string;
  key: string | null;
  /** the payload parsed, when the caller already has it (filters and schemas read it; parsed once) */
  parsed?: unknown;
  /** the traceparent of the span publishing it (telemetry/tracing.ts), stored for the attempts to link to */
  traceContext?: string | null;
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
  const store = async (trx: Db): Promise<StoredEvent> => {
    const stored = await storeNew(trx, clean, now);
    if (stored) return stored;
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
  };
  // PostgreSQL writes the event and its deliveries in one statement (atomic by itself),
  // so a publish whose fan-out is cached is one round trip, with no transaction around it.
  return dialectOf(db) === "postgres" ? store(db) : writeTransaction(db, store);
}

/** The new event and its deliveries; null if the idempotency key was taken. */
function storeNew(trx: Db, clean: CleanEvent, now: number): Promise<StoredEvent | null> {
  return dialectOf(trx) === "sqlite" ? runSteps(trx, storeSqlite(trx, clean, now)) : storePostgres(trx, clean, now);
}

/** PostgreSQL: the reads, then one statement for the event and its deliveries, shared with events published at the same moment (publishBatch.ts). */
async function storePostgres(trx: Db, clean: CleanEvent, now: number): Promise<StoredEvent | null> {
  const { event, webhookIds } = await runSteps(trx, planNew(trx, clean, now));
  const written = await writePublishRow(trx, { event, webhookIds, deliveryIds: webhookIds.map(() => nextTimeOrderedId(now)) });
  return written.inserted ? { event, deliveries: written.deliveries, duplicate: false } : null;
}

interface PlannedEvent {
  event: EventTable;
  /** the webhooks that get a delivery */
  webhookIds: string[];
}

/**
 * What a new event writes, from reads run statement by statement (connect.ts runSteps).
 * The topic's event type, if it has one, must accept the payload (else a 422 and nothing
 * is stored); a webhook with a filter gets a delivery only when the payload matches it.
 * The payload is parsed once, and only when one of them needs it.
 */
function* planNew(trx: Db, clean: CleanEvent, now: number): Steps<PlannedEvent> {
  // Read for every event, changed rarely: kept until those tables change (readCache.ts).
  const cache = readCacheOf(trx);
  const key = `fanout:${clean.customerId}\0${clean.topic}`;
  const look = cache?.look<SubscribedRow[]>(key);
  let subscribed = look?.value;
  if (!subscribed) {
    subscribed = (yield selectSubscribed(trx, { customerId: clean.customerId, topic: clean.topic })).rows as SubscribedRow[];
    if (subscribed.length > 0 && look) cache!.keep(key, subscribed, look.stamp);
  }
  if (subscribed.length === 0) throw validationError([{ field: "customer", message: `customer ${clean.customerId} does not exist` }]);
  let parsed: { value: unknown } | null = "parsed" in clean ? { value: clean.parsed } : null;
  const payload = () => (parsed ??= { value: JSON.parse(clean.payload) }).value;
  const schemaAt = subscribed[0]!.schema_at;
  if (schemaAt !== null) {
    let schema = schemas.get(clean.topic);
    if (schema?.updatedAt !== Number(schemaAt)) {
      const [row] = (yield selectSchema(trx, { topic: clean.topic })).rows as { schema: string; updated_at: number | string }[];
      // Deleted since the first statement: nothing to check against.
      schema = row ? { updatedAt: Number(row.updated_at), text: row.schema } : undefined;
      if (schema) schemas.set(clean.topic, schema);
    }
    if (schema) checkPayloadSchema(clean.topic, schema.text, payload());
  }

  const event: EventTable = {
    id: nextTimeOrderedId(now),
    customer_id: clean.customerId,
    topic: clean.topic,
    payload: clean.payload,
    idempotency_key: clean.key,
    created_at: now,
    trace_context: clean.traceContext ?? null,
  };
  // the customer's row has a null id when no webhook matched
  const webhookIds = subscribed.flatMap(({ id, filter }) => (id === null || (filter !== null && !matcherOf(filter)(payload())) ? [] : [id]));
  return { event, webhookIds };
}

/** SQLite: the reads, the event row, then a row per delivery; null if the idempotency key was taken. */
function* storeSqlite(trx: Db, clean: CleanEvent, now: number): Steps<StoredEvent | null> {
  const { event, webhookIds } = yield* planNew(trx, clean, now);
  const inserted = yield insertEventRow(trx, event);
  if (clean.key !== null && Number(inserted.numAffectedRows ?? 0) === 0) return null;
  for (const webhookId of webhookIds) {
    yield insertDelivery(trx, { id: nextTimeOrderedId(now), eventId: event.id, webhookId, customerId: clean.customerId, now });
  }
  return { event, deliveries: webhookIds.length, duplicate: false };
}

interface SubscribedRow {
  id: string | null;
  /** the webhook's filter (JSON), or null */
  filter: string | null;
  /** when the topic's event type was last saved, or null without one (the same on every row) */
  schema_at: number | string | null;
}

/**
 * One statement for all three: the customer (a row only if it exists), its live
 * webhooks on the topic with their filters, and whether the topic has an event type
 * (its schema's text is read only when this process has not compiled that version).
 */
const selectSubscribed = compiledOnce<{ customerId: string; topic: string }>(["customerId", "topic"], (db, p) =>
  db
    .selectFrom("customers as c")
    .leftJoin("webhooks as w", (join) =>
      join.onRef("w.customer_id", "=", "c.id").on("w.topic", "=", p.topic).on("w.active", "=", 1).on("w.deleted_at", "is", null),
    )
    .leftJoin("event_types as t", (join) => join.on("t.topic", "=", p.topic))
    .select(["w.id", "w.filter", "t.updated_at as schema_at"])
    .where("c.id", "=", p.customerId),
);

const selectSchema = compiledOnce<{ topic: string }>(["topic"], (db, p) =>
  db.selectFrom("event_types").select(["schema", "updated_at"]).where("topic", "=", p.topic),
);

/** Schemas this process has read, by topic, with the version (updated_at) they are. */
const schemas = new Map<string, { updatedAt: number; text: string }>();

/** A repeated idempotency key inserts nothing (no unique violation): the caller reads the first event back. */
const insertEventRow = compiledOnce<EventTable>(["id", "customer_id", "topic", "payload", "idempotency_key", "created_at", "trace_context"], (db, event) =>
  db
    .insertInto("events")
    .values(event)
    .onConflict((oc) => oc.columns(["customer_id", "idempotency_key"]).doNothing()),
);

interface NewDelivery {
  id: string;
  eventId: string;
  webhookId: string;
  customerId: string;
  now: number;
}

/**
 * SQLite: one row per subscribed webhook, each its own statement. With the statement
 * compiled once, a row costs one bind and one step in-process, and no fan-out meets
 * SQLite's cap on parameters in one statement. A new delivery's fixed columns are
 * written into the SQL (the rest default to null), so a row binds its seven values only:
 * binding the other eight cost a batched publish about a microsecond an event.
 */
const insertDelivery = compiledOnce<NewDelivery>(["id", "eventId", "webhookId", "customerId", "now"], (db, p) =>
  db.insertInto("deliveries").values({
    id: p.id,
    event_id: p.eventId,
    webhook_id: p.webhookId,
    customer_id: p.customerId,
    status: sql.lit("pending"),
    attempts: sql.lit(0),
    next_attempt_at: p.now,
    created_at: p.now,
    updated_at: p.now,
  }),
);

export async function getEvent(db: Db, id: string, customerId: string | null): Promise<EventTable | undefined> {
  let q = db.selectFrom("events").selectAll().where("id", "=", id);
  if (customerId) q = q.where("customer_id", "=", customerId);
  return q.executeTakeFirst();
}
