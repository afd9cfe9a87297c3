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

/** The filter's webhooks: the named one, narrowed by topic, or every webhook of the topic; undefined for any. */
async function webhooksOf(db: Db, f: { customerId: string | null; webhookId?: string; topic?: string }): Promise<string[] | undefined> {
  if (!f.topic && f.webhookId === undefined) return undefined;
  // A delivery's topic is its webhook's (one topic per webhook; deleted ones keep theirs).
  let q = db.selectFrom("webhooks").select("id");
  if (f.topic) q = q.where("topic", "=", f.topic);
  if (f.customerId) q = q.where("customer_id", "=", f.customerId);
  if (f.webhookId) q = q.where("id", "=", f.webhookId);
  return (await q.execute()).map((r) => r.id);
}

/**
 * A topic is resolved to the customer's webhooks first: usually one, so the log walks
 * that webhook's (webhook_id, created_at, id) index in order instead of scanning the
 * customer's history for matches; none answers at once. A delivery belongs to its
 * webhook's customer, so with webhooks resolved the customer needs no second check.
 */
async function deliveryQuery(db: Db, f: DeliveryLogFilter): Promise<From<"deliveries"> | null> {
  const webhooks = await webhooksOf(db, f);
  if (webhooks !== undefined && webhooks.length === 0) return null;
  let q: From<"deliveries"> = db.selectFrom("deliveries");
  if (f.customerId && webhooks === undefined) q = q.where("customer_id", "=", f.customerId);
  if (f.status) q = q.where("status", "=", f.status);
  if (webhooks?.length === 1) q = q.where("webhook_id", "=", webhooks[0]!);
  else if (webhooks) q = q.where("webhook_id", "in", webhooks);
  if (f.eventId) q = q.where("event_id", "=", f.eventId);
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

const NOTHING = { count: 0, countExact: true, rows: [], next: null, previous: null };

async function page<T extends "deliveries" | "events">(db: Db, base: From<T> | null, limit: number, cursor: Cursor | null): Promise<LogPage<Database[T]>> {
  if (base === null) return NOTHING;
  const q = base as unknown as From<"deliveries">;
  let rowsQuery = q.selectAll();
  if (cursor) {
    const op = cursor.dir === "older" ? "<" : ">";
    rowsQuery = rowsQuery.where((eb) => eb(eb.refTuple("created_at", "id"), op, eb.tuple(cursor.t, cursor.id)));
  }
  const order = cursor?.dir === "newer" ? "asc" : "desc";
  const fetched = await rowsQuery
    .orderBy("created_at", order)
    .orderBy("id", order)
    .limit(limit + 1)
    .execute();
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

export async function deliveryLog(db: Db, f: DeliveryLogFilter, limit: number, cursor: Cursor | null): Promise<LogPage<DeliveryTable>> {
  return page(db, await deliveryQuery(db, f), limit, cursor);
}

export function eventLog(db: Db, f: EventLogFilter, limit: number, cursor: Cursor | null): Promise<LogPage<EventTable>> {
  return page(db, eventQuery(db, f), limit, cursor);
}

export interface ReplayFilter extends TimeRange {
  customerId: string | null;
  webhookId?: string;
  topic?: string;
}

/** The failed deliveries a bulk replay would put back in line; null when none can match. */
export function failedMatching(db: Db, f: ReplayFilter): Promise<From<"deliveries"> | null> {
  return deliveryQuery(db, { ...f, status: "failed" });
}
