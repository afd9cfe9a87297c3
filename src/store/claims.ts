/**
 * Claims: a dispatcher takes due deliveries under a lease (owner, expiry), and hands
 * back the ones it did not send. Claims are serialised across dispatchers (SQLite's
 * write lock; on PostgreSQL a transaction-scoped advisory lock per schema), so what
 * a claim counts of the other dispatchers' leases is exact: two processes never hold
 * the same row, and together never hold more of one webhook than it may take.
 *
 * Every time here is the database's clock, passed in as `now` by the caller.
 */
import { sql } from "kysely";
import { dialectOf, writeTransaction, type Db } from "./connect.js";
import type { WebhookTable } from "./schema.js";

/** Rows per statement: SQLite caps the bound parameters of one statement (32,766). */
const CHUNK = 500;

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

export interface ClaimedDelivery extends Pick<WebhookTable, (typeof SETTINGS)[number]> {
  id: string;
  event_id: string;
  webhook_id: string;
  attempts: number;
  created_at: number;
  lease_expires_at: number;
  topic: string;
  payload: string;
  url: string;
  hash_secret: string | null;
  previous_secrets: string | null;
  /** the webhook's failures in a row so far (0 when healthy) */
  consecutive_failures: number;
  /** true for the one delivery that tests whether a failing webhook has recovered */
  probe: boolean;
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
   * How many more deliveries of a webhook this dispatcher may take, given how many
   * other dispatchers hold right now. Without it there is no per-webhook limit.
   */
  room?: (webhookId: string, heldElsewhere: number) => number;
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
}

/**
 * Due rows a claim reads in due order (`deliveries_due`) before it turns to each
 * webhook's own queue instead. Rows it may not take sit at the front of that order:
 * its own leases and other dispatchers', and every due row of a webhook that is
 * failing, excluded, or has no room. A receiver back after an outage, with 300,000
 * due, would otherwise be walked past on every claim: 0.1x the rate of a small
 * backlog, measured.
 */
const WINDOW = 2_000;

/**
 * Due deliveries of healthy, active webhooks, oldest first, within each webhook's room.
 * Normally one walk over the front of the due order; when that front cannot fill the
 * batch and more may be due behind it, the webhooks' own queues
 * (`deliveries_webhook_due`), oldest first, so the cost of a claim follows what it
 * takes, not the backlog.
 */
export async function claimDue(db: Db, o: ClaimRequest): Promise<Claim> {
  const expires = o.now + o.leaseMs;
  const { ids, exhausted, full, crowded, elsewhere } = await serialisedClaim(db, async (trx) => {
    const elsewhere = o.room ? await leasedElsewhere(trx, o.owner, o.now) : new Map<string, number>();
    const room = (webhookId: string) => o.room?.(webhookId, elsewhere.get(webhookId) ?? 0) ?? Infinity;
    const crowded = [...elsewhere.keys()].filter((id) => room(id) <= 0);
    const exclude = [...(o.exclude ?? []), ...crowded];
    const window = Math.max(WINDOW, 4 * o.limit);
    const candidates = await dueInWindow(trx, o, exclude, window);
    let plan = takeWithinRoom(candidates, room);
    let exhausted = candidates.length < o.limit;
    // Short of a batch while more may wait: behind webhooks that filled their room,
    // or behind the window. Ending here would cost the tick another claim to find out.
    const more = plan.ids.length < o.limit && (!exhausted || (await windowFull(trx, o.cutoff, window)));
    if (more) ({ plan, exhausted } = await duePerWebhook(trx, o, exclude, room));
    const taken = await lease(trx, plan.ids, o.owner, o.now, expires);
    return { ids: taken, exhausted, full: plan.full, crowded, elsewhere };
  });
  return { deliveries: await loadClaimed(db, o.owner, ids, expires, new Set()), exhausted, full, crowded, elsewhere };
}

/** `d` is free to lease now: never leased, or its lease has lapsed. */
function free(now: number) {
  return sql<boolean>`(${sql.ref("d.lease_expires_at")} is null or ${sql.ref("d.lease_expires_at")} <= ${now})`;
}

/** Takeable rows among the first `window` due rows, in due order, at most `limit`. */
async function dueInWindow(trx: Db, o: ClaimRequest, exclude: readonly string[], window: number) {
  let due = trx
    .selectFrom((eb) =>
      eb
        .selectFrom("deliveries")
        .select(["id", "webhook_id", "next_attempt_at", "lease_expires_at"])
        .where("status", "=", "pending")
        .where("next_attempt_at", "<=", o.cutoff)
        .orderBy("next_attempt_at")
        .limit(window)
        .as("d"),
    )
    .innerJoin("webhooks as w", "w.id", "d.webhook_id")
    .select(["d.id", "d.webhook_id"])
    .where(free(o.now))
    .where("w.active", "=", 1)
    .where("w.deleted_at", "is", null)
    .where("w.failing_since", "is", null)
    .orderBy("d.next_attempt_at")
    .limit(o.limit);
  if (exclude.length > 0) due = due.where("d.webhook_id", "not in", exclude);
  return due.execute();
}

/** Whether there are more due rows than the window read. */
async function windowFull(trx: Db, cutoff: number, window: number): Promise<boolean> {
  const behind = await trx
    .selectFrom("deliveries")
    .select("id")
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", cutoff)
    .orderBy("next_attempt_at")
    .offset(window)
    .limit(1)
    .executeTakeFirst();
  return behind !== undefined;
}

/**
 * Webhook by webhook: each healthy webhook's oldest free due row (one index probe
 * each), then, oldest first, up to its room from its own queue until the batch is full.
 */
async function duePerWebhook(
  trx: Db,
  o: ClaimRequest,
  exclude: readonly string[],
  room: (webhookId: string) => number,
): Promise<{ plan: { ids: string[]; full: string[] }; exhausted: boolean }> {
  let hooks = trx
    .selectFrom("webhooks as w")
    .select((eb) => [
      "w.id",
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
  const waiting = (await hooks.execute()).filter((h) => h.oldest !== null).sort((a, b) => Number(a.oldest) - Number(b.oldest));
  const ids: string[] = [];
  const full: string[] = [];
  for (const hook of waiting) {
    if (ids.length >= o.limit) return { plan: { ids, full }, exhausted: false };
    const take = Math.min(room(hook.id), o.limit - ids.length);
    if (take <= 0) {
      full.push(hook.id);
      continue;
    }
    const rows = await queued(trx, hook.id, o, take + 1);
    for (const id of rows.slice(0, take)) ids.push(id);
    // More than it may take: full if its room was the limit, else the batch ran out.
    if (rows.length > take) {
      if (take === room(hook.id)) full.push(hook.id);
      else return { plan: { ids, full }, exhausted: false };
    }
  }
  return { plan: { ids, full }, exhausted: true };
}

/** A webhook's own queue: the ids of its first `n` free due deliveries, oldest first (`deliveries_webhook_due`). */
async function queued(trx: Db, webhookId: string, o: { cutoff: number; now: number }, n: number): Promise<string[]> {
  const rows = await trx
    .selectFrom("deliveries as d")
    .select("d.id")
    .where("d.webhook_id", "=", webhookId)
    .where("d.status", "=", "pending")
    .where("d.next_attempt_at", "<=", o.cutoff)
    .where(free(o.now))
    .orderBy("d.next_attempt_at")
    .limit(n)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Pure: candidates in due order → the ones to take, at most `room(webhook)` of each
 * webhook, and the webhooks that had more than that.
 */
export function takeWithinRoom(
  candidates: readonly { id: string; webhook_id: string }[],
  room: (webhookId: string) => number,
): { ids: string[]; full: string[] } {
  const left = new Map<string, number>();
  const ids: string[] = [];
  const full = new Set<string>();
  for (const c of candidates) {
    const n = left.get(c.webhook_id) ?? room(c.webhook_id);
    if (n > 0) ids.push(c.id);
    else full.add(c.webhook_id);
    left.set(c.webhook_id, n - 1);
  }
  return { ids, full: [...full] };
}

/**
 * One probe per failing webhook whose backoff has passed: its oldest due delivery.
 * Taking the probe pushes the webhook's backoff to the lease's end with a
 * conditional update, so however many dispatchers try at once, one wins each step.
 */
export async function claimProbes(db: Db, o: Omit<ClaimRequest, "limit" | "exclude" | "room">): Promise<ClaimedDelivery[]> {
  const expires = o.now + o.leaseMs;
  const ids = await serialisedClaim(db, async (trx) => {
    const failing = await trx
      .selectFrom("webhooks")
      .select("id")
      .where("failing_since", "is not", null)
      .where("active", "=", 1)
      .where("deleted_at", "is", null)
      .where((eb) => eb.or([eb("backoff_until", "is", null), eb("backoff_until", "<=", o.now)]))
      .execute();
    const probes: string[] = [];
    for (const hook of failing) {
      const [oldest] = await queued(trx, hook.id, o, 1);
      if (!oldest) continue;
      const won = await trx
        .updateTable("webhooks")
        .set({ backoff_until: expires })
        .where("id", "=", hook.id)
        .where((eb) => eb.or([eb("backoff_until", "is", null), eb("backoff_until", "<=", o.now)]))
        .executeTakeFirst();
      if (won.numUpdatedRows === 0n) continue;
      probes.push(...(await lease(trx, [oldest], o.owner, o.now, expires)));
    }
    return probes;
  });
  return loadClaimed(db, o.owner, ids, expires, new Set(ids));
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

async function loadClaimed(db: Db, owner: string, ids: string[], expires: number, probes: Set<string>): Promise<ClaimedDelivery[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom("deliveries as d")
    .innerJoin("events as e", "e.id", "d.event_id")
    .innerJoin("webhooks as w", "w.id", "d.webhook_id")
    .select([
      "d.id",
      "d.event_id",
      "d.webhook_id",
      "d.attempts",
      "d.created_at",
      "e.topic",
      "e.payload",
      "w.url",
      "w.hash_secret",
      "w.previous_secrets",
      "w.consecutive_failures",
      ...SETTINGS.map((c) => `w.${c}` as const),
    ])
    .where("d.id", "in", ids)
    .where("d.lease_owner", "=", owner)
    .orderBy("d.next_attempt_at")
    .execute();
  return rows.map((r) => ({ ...r, lease_expires_at: expires, probe: probes.has(r.id) }));
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
