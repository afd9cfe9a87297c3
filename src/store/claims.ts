/**
 * Claims: a dispatcher takes due deliveries under a lease (owner, expiry), and hands
 * back the ones it did not send. Claims are serialised across dispatchers (SQLite's
 * write lock; on PostgreSQL a transaction-scoped advisory lock per schema), so what
 * a claim counts of the other dispatchers' leases is exact: two processes never hold
 * the same row, and together never hold more of one webhook than it may take.
 *
 * A claim is fair (domain/fairShare.ts): it reads each healthy webhook's oldest free due
 * delivery (one index probe each), shares its limit among customers by weight and then
 * among each customer's webhooks, and takes each webhook's part from its own queue
 * (claimQueues.ts): oldest first, first attempts beside retries, strict order where asked.
 * So its cost follows the webhooks with due work and what it takes, not the backlog.
 *
 * Every time here is the database's clock, passed in as `now` by the caller.
 */
import { sql } from "kysely";
import { claimShares, type DueHead } from "../domain/fairShare.js";
import { nextStart, paceSlots } from "../domain/pacing.js";
import { dialectOf, writeTransaction, type Db } from "./connect.js";
import { free, headOf, queued, type QueuedRow } from "./claimQueues.js";
import type { WebhookTable } from "./schema.js";

/** Rows per statement: SQLite caps the bound parameters of one statement (32,766). */
const CHUNK = 500;
/** Passes of a claim: what a webhook could not use goes to those that had more. */
const PASSES = 3;

/** The webhook's delivery settings a claim reads with each delivery (dispatch/deliverySettings.ts applies them). */
const SETTINGS = [
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
 * dispatchPayloads.ts).
 */
export interface ClaimedDelivery extends Pick<WebhookTable, (typeof SETTINGS)[number]> {
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

export interface ClaimRequest {
  owner: string;
  /** only deliveries due at or before this time */
  cutoff: number;
  /** the database's time now */
  now: number;
  limit: number;
  leaseMs: number;
  /** webhooks to leave alone in this claim (failing in this tick, or already holding all they may) */
  exclude?: readonly string[];
  /**
   * How many more requests to a webhook this dispatcher may have, given how many other
   * dispatchers hold. Without it there is no per-webhook limit.
   */
  room?: (webhookId: string, heldElsewhere: number) => number;
  /** webhooks this dispatcher holds deliveries of: the claim says which another has found down */
  holding?: readonly string[];
}

export interface Claim {
  deliveries: ClaimedDelivery[];
  /** no due delivery was left that this claim could have taken */
  exhausted: boolean;
  /** webhooks that had more due deliveries than room */
  full: string[];
  /** webhooks left out because other dispatchers hold all their room */
  crowded: string[];
  /** per webhook, the deliveries other dispatchers held when this claim ran (only with `room`) */
  elsewhere: ReadonlyMap<string, number>;
  /** of `holding`, the webhooks whose breaker is open now (another dispatcher found them down) */
  opened: string[];
  /** the earliest time a rate-limited webhook left out for its pace may start again, or null */
  pacedUntil: number | null;
}

interface Head extends DueHead {
  ordered: boolean;
  batchSize: number;
  rateLimit: number | null;
  rateNextAt: number | null;
}

export async function claimDue(db: Db, o: ClaimRequest): Promise<Claim> {
  const expires = o.now + o.leaseMs;
  const result = await serialisedClaim(db, async (trx) => {
    const elsewhere = o.room ? await leasedElsewhere(trx, o.owner, o.now) : new Map<string, number>();
    const heads = await dueHeads(trx, o, o.exclude ?? []);
    const crowded: string[] = [];
    const full: string[] = [];
    let pacedUntil: number | null = null;
    const starts = new Map<string, number[]>();
    for (const h of heads) {
      // Room counts requests; a batched webhook takes batch_size deliveries per request.
      const held = elsewhere.get(h.webhookId) ?? 0;
      const requests = o.room ? o.room(h.webhookId, Math.ceil(held / h.batchSize)) : Number.POSITIVE_INFINITY;
      h.room = h.ordered ? Math.min(requests, 1) * h.batchSize : requests * h.batchSize;
      // No room: others hold it all (crowded: wait for them), or this dispatcher does (full).
      if (requests <= 0) (held > 0 ? crowded : full).push(h.webhookId);
      if (h.rateLimit !== null && h.room > 0) {
        const slots = paceSlots(h.rateLimit, h.rateNextAt, o.now, h.room);
        if (slots.length === 0) pacedUntil = Math.min(pacedUntil ?? Number.POSITIVE_INFINITY, h.rateNextAt ?? o.now);
        starts.set(h.webhookId, slots);
        h.room = slots.length;
      }
    }
    const taken = new Map<string, QueuedRow[]>();
    const more = new Set<string>();
    let open = heads.filter((h) => h.room > 0);
    let left = o.limit;
    for (let pass = 0; pass < PASSES && left > 0 && open.length > 0; pass++) {
      const shares = claimShares(left, open);
      const next: Head[] = [];
      for (const h of open) {
        const n = shares.get(h.webhookId) ?? 0;
        if (n <= 0) {
          next.push(h);
          continue;
        }
        const rows = h.ordered ? await headOf(trx, h.webhookId, o, n) : await queued(trx, h.webhookId, o, n + 1);
        const got = rows.slice(0, n);
        taken.set(h.webhookId, [...(taken.get(h.webhookId) ?? []), ...got]);
        left -= got.length;
        h.room -= got.length;
        more.delete(h.webhookId);
        if (rows.length > n) {
          more.add(h.webhookId);
          if (h.room > 0) next.push(h);
          else full.push(h.webhookId);
        }
      }
      open = next;
    }
    // Exhausted: every webhook with due work gave what it had, or all this dispatcher's room
    // (full); one whose room others hold (crowded) still has work for whoever frees it.
    const exhausted = open.length === 0 && crowded.length === 0 && heads.every((h) => h.room > 0 || !more.has(h.webhookId) || full.includes(h.webhookId));
    const ids: string[] = [];
    const notBefore = new Map<string, number>();
    const rates = new Map(heads.map((h) => [h.webhookId, h.rateLimit]));
    for (const [hook, rows] of taken) {
      const slots = starts.get(hook);
      rows.forEach((r, i) => {
        ids.push(r.id);
        if (slots) notBefore.set(r.id, slots[i]!);
      });
      if (slots && rows.length > 0) await pace(trx, hook, nextStart(slots, rows.length, rates.get(hook)!));
    }
    const leased = await lease(trx, ids, o.owner, o.now, expires);
    const opened = o.holding && o.holding.length > 0 ? await openedOf(trx, o.holding) : [];
    return { ids: leased, exhausted, full, crowded, elsewhere, opened, pacedUntil, notBefore };
  });
  const { ids, notBefore, ...rest } = result;
  return { ...rest, deliveries: await loadClaimed(db, o.owner, ids, expires, new Set(), notBefore) };
}

/**
 * Each healthy, active webhook's oldest free due delivery, with what the claim plans by.
 * One index probe per webhook (`deliveries_webhook_due`).
 */
async function dueHeads(trx: Db, o: ClaimRequest, exclude: readonly string[]): Promise<Head[]> {
  let hooks = trx
    .selectFrom("webhooks as w")
    .innerJoin("customers as c", "c.id", "w.customer_id")
    .select((eb) => [
      "w.id",
      "w.customer_id",
      "c.weight",
      "w.ordered",
      "w.batch_size",
      "w.rate_limit",
      "w.rate_next_at",
      eb
        .selectFrom("deliveries as d")
        .select((q) => q.fn.min("d.next_attempt_at").as("m"))
        .whereRef("d.webhook_id", "=", "w.id")
        .where("d.status", "=", "pending")
        .where("d.next_attempt_at", "<=", o.cutoff)
        .where(free(o.now))
        .as("oldest"),
    ])
    .where("w.active", "=", 1)
    .where("w.deleted_at", "is", null)
    .where("w.failing_since", "is", null);
  if (exclude.length > 0) hooks = hooks.where("w.id", "not in", exclude);
  const rows = await hooks.execute();
  return rows
    .filter((r) => r.oldest !== null)
    .map((r) => ({
      webhookId: r.id,
      customerId: r.customer_id,
      weight: Number(r.weight),
      room: 0,
      oldest: Number(r.oldest),
      ordered: Number(r.ordered) === 1,
      batchSize: Math.max(1, Number(r.batch_size)),
      rateLimit: r.rate_limit === null ? null : Number(r.rate_limit),
      rateNextAt: r.rate_next_at === null ? null : Number(r.rate_next_at),
    }));
}

/** A rate-limited webhook's next free start moves past the slots this claim used. */
async function pace(trx: Db, webhookId: string, rateNextAt: number): Promise<void> {
  await trx.updateTable("webhooks").set({ rate_next_at: rateNextAt }).where("id", "=", webhookId).execute();
}

/** Of these webhooks, the ones whose breaker is open now. */
async function openedOf(trx: Db, ids: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await trx
      .selectFrom("webhooks")
      .select("id")
      .where("id", "in", ids.slice(i, i + CHUNK))
      .where("failing_since", "is not", null)
      .execute();
    for (const r of rows) out.push(r.id);
  }
  return out;
}

/**
 * One probe per failing webhook whose backoff has passed: the delivery its queue would
 * send first. Taking the probe pushes the webhook's backoff to the lease's end with a
 * conditional update, so however many dispatchers try at once, one wins each step.
 */
export async function claimProbes(db: Db, o: Omit<ClaimRequest, "limit" | "exclude" | "room" | "holding">): Promise<ClaimedDelivery[]> {
  const expires = o.now + o.leaseMs;
  const ids = await serialisedClaim(db, async (trx) => {
    const failing = await trx
      .selectFrom("webhooks")
      .select(["id", "ordered"])
      .where("failing_since", "is not", null)
      .where("active", "=", 1)
      .where("deleted_at", "is", null)
      .where((eb) => eb.or([eb("backoff_until", "is", null), eb("backoff_until", "<=", o.now)]))
      .execute();
    const probes: string[] = [];
    for (const hook of failing) {
      const [first] = Number(hook.ordered) === 1 ? await headOf(trx, hook.id, o, 1) : await queued(trx, hook.id, o, 1, false);
      if (!first) continue;
      const won = await trx
        .updateTable("webhooks")
        .set({ backoff_until: expires })
        .where("id", "=", hook.id)
        .where((eb) => eb.or([eb("backoff_until", "is", null), eb("backoff_until", "<=", o.now)]))
        .executeTakeFirst();
      if (won.numUpdatedRows === 0n) continue;
      probes.push(...(await lease(trx, [first.id], o.owner, o.now, expires)));
    }
    return probes;
  });
  return loadClaimed(db, o.owner, ids, expires, new Set(ids), new Map());
}

/**
 * Run a claim so that no other claim runs at the same time. SQLite: BEGIN IMMEDIATE.
 * PostgreSQL: an advisory lock scoped to this transaction and this schema; each
 * statement after it sees every claim committed before (READ COMMITTED).
 */
function serialisedClaim<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return writeTransaction(db, async (trx) => {
    if (dialectOf(trx) === "postgres") await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.hookd.claim'))`.execute(trx);
    return fn(trx);
  });
}

/**
 * Per webhook, deliveries held right now by other dispatchers. Only pending rows
 * carry a lease (recording clears it), so no status test: with one, SQLite walks
 * every pending row by status instead of the few leased ones.
 */
async function leasedElsewhere(trx: Db, owner: string, now: number): Promise<Map<string, number>> {
  const rows = await trx
    .selectFrom("deliveries")
    .select(["webhook_id", (eb) => eb.fn.countAll<number>().as("n")])
    .where("lease_owner", "is not", null)
    .where("lease_owner", "<>", owner)
    .where("lease_expires_at", ">", now)
    .groupBy("webhook_id")
    .execute();
  return new Map(rows.map((r) => [r.webhook_id, Number(r.n)]));
}

/** Stamp the lease on rows still free; returns the ones taken. */
async function lease(trx: Db, ids: readonly string[], owner: string, now: number, expires: number): Promise<string[]> {
  const taken: string[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await trx
      .updateTable("deliveries")
      .set({ lease_owner: owner, lease_expires_at: expires })
      .where("id", "in", ids.slice(i, i + CHUNK))
      .where("status", "=", "pending")
      .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<=", now)]))
      .returning("id")
      .execute();
    for (const r of rows) taken.push(r.id);
  }
  return taken;
}

async function loadClaimed(
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
        ...SETTINGS.map((c) => `w.${c}` as const),
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

/** Hand claims back untouched (shutdown, endpoint backing off, lease too short to send). */
export async function releaseClaims(db: Db, owner: string, ids: readonly string[], waitReason?: string): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    await db
      .updateTable("deliveries")
      .set(waitReason ? { lease_owner: null, lease_expires_at: null, wait_reason: waitReason } : { lease_owner: null, lease_expires_at: null })
      .where("id", "in", chunk)
      .where("lease_owner", "=", owner)
      .execute();
  }
}

export async function countDue(db: Db, cutoff: number): Promise<number> {
  const { n } = await db
    .selectFrom("deliveries")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", cutoff)
    .executeTakeFirstOrThrow();
  return Number(n);
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
