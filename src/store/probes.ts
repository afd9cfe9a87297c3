/**
 * Probes: one request per failing webhook per backoff step tells whether its endpoint
 * has recovered (dispatch/endpointWatch.ts acts on the answer).
 */
import type { ClaimRequest } from "./claims.js";
import { headOf, queued } from "./claimQueues.js";
import { loadClaimed, type ClaimedDelivery } from "./claimed.js";
import type { Db } from "./connect.js";
import { lease, serialisedClaim } from "./leases.js";

/**
 * One probe per failing webhook whose backoff has passed: the delivery its queue would
 * send first. Taking the probe pushes the webhook's backoff to the lease's end with a
 * conditional update, so however many dispatchers try at once, one wins each step.
 */
export async function claimProbes(db: Db, o: Omit<ClaimRequest, "limit" | "exclude" | "room" | "holding">): Promise<ClaimedDelivery[]> {
  // Read first, outside the claim: with no webhook due a probe (the usual case) a tick
  // takes no write lock here, which a publisher in another process would wait for.
  if ((await probeDue(db, o.now)).length === 0) return [];
  const expires = o.now + o.leaseMs;
  const ids = await serialisedClaim(db, async (trx) => {
    const failing = await probeDue(trx, o.now);
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

/** Failing, live webhooks whose backoff step has passed. */
function probeDue(db: Db, now: number) {
  return db
    .selectFrom("webhooks")
    .select(["id", "ordered"])
    .where("failing_since", "is not", null)
    .where("active", "=", 1)
    .where("deleted_at", "is", null)
    .where((eb) => eb.or([eb("backoff_until", "is", null), eb("backoff_until", "<=", now)]))
    .execute();
}
