/**
 * Claims: a dispatcher takes due deliveries under a lease (leases.ts), and hands back
 * the ones it did not send. Claims are serialised across dispatchers, so what a claim
 * counts of the other dispatchers' leases is exact: together they never hold more of
 * one webhook than it may take. Probes of failing webhooks: probes.ts.
 *
 * A claim is fair (domain/fairShare.ts): it reads each healthy webhook's oldest free due
 * delivery (one index probe each), shares its limit among customers by weight and then
 * among each customer's webhooks, and takes each webhook's part from its own queue
 * (claimQueues.ts): oldest first, first attempts beside retries, strict order where asked.
 * So its cost follows the webhooks with due work and what it takes, not the backlog.
 *
 * Every time here is the database's clock, passed in as `now` by the caller.
 */
import { claimShares, type DueHead } from "../domain/fairShare.js";
import { nextStart, paceSlots } from "../domain/pacing.js";
import { loadClaimed, type ClaimedDelivery } from "./claimed.js";
import { free, headOf, queued, type QueuedRow } from "./claimQueues.js";
import type { Db } from "./connect.js";
import { sql } from "kysely";
import { CHUNK, lease, leasedElsewhere, serialisedClaim } from "./leases.js";
/** Passes of a claim: what a webhook could not use goes to those that had more. */
const PASSES = 3;

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
  // Read first, outside the claim: when nothing due is free (an idle dispatcher, ticking
  // back to back or on its schedule), the answer is known without the write lock that a
  // publisher in another process would wait for.
  if (!(await mayHaveFreeDue(db, o))) {
    return {
      deliveries: [],
      exhausted: true,
      full: [],
      crowded: [],
      elsewhere: o.room ? await leasedElsewhere(db, o.owner, o.now) : new Map(),
      opened: o.holding && o.holding.length > 0 ? await openedOf(db, o.holding) : [],
      pacedUntil: null,
    };
  }
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

/** Due rows a hint reads at most; past them (all leased: a busy backlog) it says "maybe". */
const HINT_SCAN = 256;

/**
 * Whether a claim could find anything: false only when every due delivery (within the
 * first HINT_SCAN in due order) is leased. A plain read (`deliveries_due`), no lock.
 */
async function mayHaveFreeDue(db: Db, o: ClaimRequest): Promise<boolean> {
  const due = db
    .selectFrom("deliveries")
    .select("lease_expires_at")
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", o.cutoff)
    .orderBy("next_attempt_at")
    .limit(HINT_SCAN);
  const { scanned, free: unleased } = await db
    .selectFrom(due.as("d"))
    .select((eb) => [
      eb.fn.countAll<number | string>().as("scanned"),
      eb.fn.sum<number | string | null>(sql`case when ${free(o.now)} then 1 else 0 end`).as("free"),
    ])
    .executeTakeFirstOrThrow();
  return Number(unleased ?? 0) > 0 || Number(scanned) >= HINT_SCAN;
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

export async function countDue(db: Db, cutoff: number): Promise<number> {
  const { n } = await db
    .selectFrom("deliveries")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", cutoff)
    .executeTakeFirstOrThrow();
  return Number(n);
}
