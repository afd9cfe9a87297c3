/**
 * Weighted max-min fair shares (water filling), in whole units. Pure. Used twice a
 * claim (slots among customers with due work, then among each customer's webhooks) and
 * by the tick's lanes (request slots among customers with work waiting).
 *
 * Each claimant gets at most its demand; what one cannot use is shared among the rest
 * in proportion to their weights, so a lone claimant gets everything and a claimant with
 * one due delivery gets it in the first round whatever the others want.
 */

export interface Claimant<K> {
  id: K;
  /** how many units it could use */
  demand: number;
  /** its share relative to the others (≥ 1 in practice) */
  weight: number;
}

/** Shares of `capacity` units: each ≤ its demand, together ≤ capacity, and = capacity when demand allows. */
export function waterFill<K>(capacity: number, claimants: readonly Claimant<K>[]): Map<K, number> {
  const shares = new Map<K, number>();
  for (const c of claimants) shares.set(c.id, 0);
  let left = Math.max(0, Math.floor(capacity));
  let open = claimants.filter((c) => c.demand > 0 && c.weight > 0);
  // Rounds of whole units: each open claimant gets its weighted part of what is left,
  // at least one unit while units last (so small weights are never starved to zero).
  while (left > 0 && open.length > 0) {
    const totalWeight = open.reduce((sum, c) => sum + c.weight, 0);
    const budget = left;
    const next: Claimant<K>[] = [];
    for (const c of open) {
      if (left === 0) break;
      const has = shares.get(c.id)!;
      const part = Math.max(1, Math.floor((budget * c.weight) / totalWeight));
      const give = Math.min(part, c.demand - has, left);
      shares.set(c.id, has + give);
      left -= give;
      if (has + give < c.demand) next.push(c);
    }
    open = next;
  }
  return shares;
}

/** A webhook with due work, as a claim sees it. */
export interface DueHead {
  webhookId: string;
  customerId: string;
  /** the customer's weight */
  weight: number;
  /** deliveries this claim may take of it (its room) */
  room: number;
  /** its oldest due delivery's time: the longest waiting get the units a round cannot split */
  oldest: number;
}

/**
 * How many of each webhook's due deliveries a claim of `limit` takes: customers share
 * the limit by weight, then each customer's share is split evenly among its webhooks,
 * each within its room. Pure.
 */
export function claimShares(limit: number, heads: readonly DueHead[]): Map<string, number> {
  const byCustomer = new Map<string, { weight: number; oldest: number; hooks: DueHead[] }>();
  for (const h of [...heads].sort((a, b) => a.oldest - b.oldest)) {
    if (h.room <= 0) continue;
    const c = byCustomer.get(h.customerId);
    if (c) c.hooks.push(h);
    else byCustomer.set(h.customerId, { weight: h.weight, oldest: h.oldest, hooks: [h] });
  }
  const customers = [...byCustomer].map(([id, c]) => ({ id, weight: c.weight, demand: c.hooks.reduce((n, h) => n + h.room, 0) }));
  const customerShares = waterFill(limit, customers);
  const takes = new Map<string, number>();
  for (const [id, c] of byCustomer) {
    const hooks = waterFill(
      customerShares.get(id) ?? 0,
      c.hooks.map((h) => ({ id: h.webhookId, weight: 1, demand: h.room })),
    );
    for (const [hook, n] of hooks) if (n > 0) takes.set(hook, n);
  }
  return takes;
}
