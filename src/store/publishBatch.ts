/**
 * PostgreSQL group commit for publishing: events published at the same moment (concurrent
 * `POST /events/`, or an application's concurrent `publish` calls) are written by one
 * statement, one round trip and one commit, instead of one each.
 *
 * A publish's reads (its fan-out, its schema) are done before it gets here; what it
 * brings is the event row and its deliveries' ids. Rows that arrive while statements are
 * in flight queue, and the next statement takes the whole queue (up to MAX_BATCH). A few
 * statements may be in flight at once, so the server is never idle while this process
 * gathers the next batch. Every caller's promise settles after the statement that wrote
 * its rows has committed (a statement outside a transaction commits by itself), so an
 * acknowledged event is stored.
 *
 * One bad row must not fail its neighbours: if the database refuses a batch's statement,
 * each of its rows is written again alone, and only the culprit's caller sees the error.
 * If the database is away or too slow, every caller in the batch gets that error at once.
 *
 * Inside a caller's transaction (transactional outbox) nothing is batched: the row is
 * written on that transaction, as its caller expects.
 */
import { CompiledQuery } from "kysely";
import type { Db } from "./connect.js";
import { classifyPostgresError } from "./postgresFaults.js";
import type { EventTable } from "./schema.js";

export interface PublishRow {
  event: EventTable;
  /** one new delivery id per webhook, in the order of `webhookIds` */
  deliveryIds: readonly string[];
  webhookIds: readonly string[];
}

/** What a row's statement did: `inserted` false when its idempotency key was taken. */
export interface PublishWritten {
  inserted: boolean;
  deliveries: number;
}

/** Enough to amortise a round trip and a commit; bounded so one statement stays short. */
const MAX_BATCH = 256;
/** Statements in flight at once, well inside the default pool of 10. */
const MAX_IN_FLIGHT = 3;

interface Waiting {
  row: PublishRow;
  resolve(written: PublishWritten): void;
  reject(err: unknown): void;
}

interface Batcher {
  queue: Waiting[];
  inFlight: number;
  scheduled: boolean;
  /** called with the number of events each statement wrote (the ingest metrics) */
  observers: Set<(events: number) => void>;
}

const batchers = new WeakMap<Db, Batcher>();

function batcherOf(db: Db): Batcher {
  let b = batchers.get(db);
  if (!b) {
    b = { queue: [], inFlight: 0, scheduled: false, observers: new Set() };
    batchers.set(db, b);
  }
  return b;
}

/** Hear how many events each statement on `db` wrote (metrics: events per commit). */
export function observePublishBatches(db: Db, observer: (events: number) => void): void {
  batcherOf(db).observers.add(observer);
}

/** Write `row` (its event and deliveries) on PostgreSQL; batched with concurrent ones unless `db` is a transaction. */
export function writePublishRow(db: Db, row: PublishRow): Promise<PublishWritten> {
  if (db.isTransaction) return writeAlone(db, row);
  const b = batcherOf(db);
  return new Promise((resolve, reject) => {
    b.queue.push({ row, resolve, reject });
    schedule(db, b);
  });
}

// setImmediate, not a microtask: requests whose bytes arrived meanwhile are read in this
// turn's poll phase and join the batch.
function schedule(db: Db, b: Batcher): void {
  if (b.scheduled || b.inFlight >= MAX_IN_FLIGHT || b.queue.length === 0) return;
  b.scheduled = true;
  setImmediate(() => {
    b.scheduled = false;
    if (b.inFlight >= MAX_IN_FLIGHT || b.queue.length === 0) return;
    const batch = b.queue.splice(0, MAX_BATCH);
    b.inFlight++;
    void writeBatch(db, b, batch).finally(() => {
      b.inFlight--;
      schedule(db, b);
    });
    schedule(db, b);
  });
}

async function writeBatch(db: Db, b: Batcher, batch: Waiting[]): Promise<void> {
  let written: PublishWritten[];
  try {
    written = await writeRows(
      db,
      batch.map((w) => w.row),
    );
  } catch (err) {
    // Alone, or the database away or too slow (a lost connection, a statement past its
    // timeout): every caller hears it now, rather than after each row's own try met it again.
    if (batch.length === 1 || classifyPostgresError(err) !== null) {
      for (const w of batch) w.reject(err);
      return;
    }
    // A row the database refused (a constraint, an encoding): which one is unknown, so
    // each is written alone, and only its own caller sees an error.
    await Promise.all(batch.map((w) => writeAlone(db, w.row).then(w.resolve, w.reject)));
    return;
  }
  for (const observe of b.observers) observe(batch.length);
  for (const [i, w] of batch.entries()) w.resolve(written[i]!);
}

/** One statement (atomic by itself) for `rows`, on `db` or the caller's transaction; what it wrote for each. */
async function writeRows(db: Db, rows: readonly PublishRow[]): Promise<PublishWritten[]> {
  const result = await db.executeQuery<{ id: string; deliveries: number | string }>(publishStatement(rows));
  const written = new Map(result.rows.map((r) => [r.id, Number(r.deliveries)]));
  return rows.map((r) => {
    const deliveries = written.get(r.event.id);
    return deliveries === undefined ? { inserted: false, deliveries: 0 } : { inserted: true, deliveries };
  });
}

async function writeAlone(db: Db, row: PublishRow): Promise<PublishWritten> {
  const [written] = await writeRows(db, [row]);
  return written!;
}

/**
 * One statement for one event or many: the events from arrays (ON CONFLICT skips a taken
 * idempotency key, also one taken earlier in the same statement), then the deliveries
 * of those events that were inserted, each only if its webhook is still live (a webhook
 * paused or deleted since its fan-out was cached gets none). It answers each inserted
 * event's id with its count of deliveries.
 */
function publishStatement(rows: readonly PublishRow[]): CompiledQuery {
  const deliveryIds: string[] = [];
  const deliveryEvents: string[] = [];
  const webhookIds: string[] = [];
  for (const { event, deliveryIds: ids, webhookIds: hooks } of rows) {
    for (let i = 0; i < ids.length; i++) {
      deliveryIds.push(ids[i]!);
      deliveryEvents.push(event.id);
      webhookIds.push(hooks[i]!);
    }
  }
  return CompiledQuery.raw(
    `with e as (
      insert into events (id, customer_id, topic, payload, idempotency_key, created_at, trace_context)
      select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])
      on conflict (customer_id, idempotency_key) do nothing
      returning id, customer_id, created_at
    ), d as (
      insert into deliveries (id, event_id, webhook_id, customer_id, status, attempts, next_attempt_at, created_at, updated_at)
      select f.id, e.id, f.webhook_id, e.customer_id, 'pending', 0, e.created_at, e.created_at, e.created_at
      from unnest($8::text[], $9::text[], $10::text[]) as f(id, event_id, webhook_id)
      join e on e.id = f.event_id
      where exists (select 1 from webhooks w where w.id = f.webhook_id and w.active = 1 and w.deleted_at is null)
      returning event_id
    )
    select e.id, (select count(*) from d where d.event_id = e.id) as deliveries from e`,
    [
      rows.map((r) => r.event.id),
      rows.map((r) => r.event.customer_id),
      rows.map((r) => r.event.topic),
      rows.map((r) => r.event.payload),
      rows.map((r) => r.event.idempotency_key),
      rows.map((r) => r.event.created_at),
      rows.map((r) => r.event.trace_context),
      deliveryIds,
      deliveryEvents,
      webhookIds,
    ],
  );
}
