/**
 * The delivery and event logs the console reads: filtered, newest first, a keyset
 * page at a time (store/keyset), with a count that stays cheap at millions of rows.
 */
import { sql, type SelectQueryBuilder } from "kysely";
import type { Db } from "./connect.js";
import { keysetPage, type Cursor } from "./keyset.js";
import type { Database, DeliveryStatus, DeliveryTable, EventTable } from "./schema.js";

/**
 * Counted exactly up to here; past it a list says "more than COUNT_CAP" (count_exact
 * false). Counting every match of a broad filter at millions of rows would cost more
 * than the page itself, and nobody pages through ten thousand rows.
 */
export const COUNT_CAP = 10_000;

export interface TimeRange {
  /** created_at >= since (ms) */
  since?: number;
  /** created_at < until (ms) */
  until?: number;
}

export interface DeliveryLogFilter extends TimeRange {
  customerId: string | null;
  status?: DeliveryStatus;
  webhookId?: string;
  topic?: string;
  eventId?: string;
}

export interface EventLogFilter extends TimeRange {
  customerId: string | null;
  topic?: string;
  idempotencyKey?: string;
}

export interface LogPage<T> {
  count: number;
  countExact: boolean;
  rows: T[];
  next: Cursor | null;
  previous: Cursor | null;
}

type From<T extends keyof Database> = SelectQueryBuilder<Database, T, object>;

function deliveryQuery(db: Db, f: DeliveryLogFilter): From<"deliveries"> {
  let q: From<"deliveries"> = db.selectFrom("deliveries");
  if (f.customerId) q = q.where("customer_id", "=", f.customerId);
  if (f.status) q = q.where("status", "=", f.status);
  if (f.webhookId) q = q.where("webhook_id", "=", f.webhookId);
  if (f.eventId) q = q.where("event_id", "=", f.eventId);
  // A delivery's topic is its webhook's: one topic per webhook.
  if (f.topic) q = q.where("webhook_id", "in", db.selectFrom("webhooks").select("id").where("topic", "=", f.topic));
  return inRange(q, f);
}

function eventQuery(db: Db, f: EventLogFilter): From<"events"> {
  let q: From<"events"> = db.selectFrom("events");
  if (f.customerId) q = q.where("customer_id", "=", f.customerId);
  if (f.topic) q = q.where("topic", "=", f.topic);
  if (f.idempotencyKey) q = q.where("idempotency_key", "=", f.idempotencyKey);
  return inRange(q, f);
}

function inRange<T extends "deliveries" | "events">(q: From<T>, r: TimeRange): From<T> {
  // Both tables have created_at; the generic builder cannot see that on its own.
  const loose = q as unknown as From<"deliveries">;
  let out = loose;
  if (r.since !== undefined) out = out.where("created_at", ">=", r.since);
  if (r.until !== undefined) out = out.where("created_at", "<", r.until);
  return out as unknown as From<T>;
}

async function page<T extends "deliveries" | "events">(
  db: Db,
  base: From<T>,
  limit: number,
  cursor: Cursor | null,
): Promise<LogPage<Database[T]>> {
  const q = base as unknown as From<"deliveries">;
  let rowsQuery = q.selectAll();
  if (cursor) {
    const op = cursor.dir === "older" ? "<" : ">";
    rowsQuery = rowsQuery.where((eb) => eb(eb.refTuple("created_at", "id"), op, eb.tuple(cursor.t, cursor.id)));
  }
  const order = cursor?.dir === "newer" ? "asc" : "desc";
  const fetched = await rowsQuery.orderBy("created_at", order).orderBy("id", order).limit(limit + 1).execute();
  const capped = q.select(sql<number>`1`.as("one")).limit(COUNT_CAP + 1);
  const { n } = await db
    .selectFrom(capped.as("matches"))
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  const count = Number(n);
  const { rows, next, previous } = keysetPage(fetched, limit, cursor);
  return {
    count: Math.min(count, COUNT_CAP),
    countExact: count <= COUNT_CAP,
    rows: rows as unknown as Database[T][],
    next,
    previous,
  };
}

export function deliveryLog(db: Db, f: DeliveryLogFilter, limit: number, cursor: Cursor | null): Promise<LogPage<DeliveryTable>> {
  return page(db, deliveryQuery(db, f), limit, cursor);
}

export function eventLog(db: Db, f: EventLogFilter, limit: number, cursor: Cursor | null): Promise<LogPage<EventTable>> {
  return page(db, eventQuery(db, f), limit, cursor);
}

export interface ReplayFilter extends TimeRange {
  customerId: string | null;
  webhookId?: string;
  topic?: string;
}

/** The failed deliveries a bulk replay would put back in line. */
export function failedMatching(db: Db, f: ReplayFilter): From<"deliveries"> {
  return deliveryQuery(db, { ...f, status: "failed" });
}
