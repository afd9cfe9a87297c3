/**
 * A webhook's `rate_limit` as start times (pure): starts spaced 1/rate apart from the
 * webhook's next free start, so no 1 s window at the receiver sees more than the limit
 * plus one, however many dispatchers share it (the next free start is on the webhook
 * row, and claims take turns).
 */

/** How far ahead a claim books starts: about a second of a limited webhook's work at a time. */
export const PACE_HORIZON_MS = 1_000;

/** Start times for up to `max` deliveries at `rate` per second, from `nextAt` (or now), within the horizon. */
export function paceSlots(rate: number, nextAt: number | null, now: number, max: number): number[] {
  const gap = 1000 / rate;
  const out: number[] = [];
  for (let t = Math.max(now, nextAt ?? now); out.length < max && t <= now + PACE_HORIZON_MS; t += gap) out.push(t);
  return out;
}

/** The next free start after using the first `used` of `slots`. */
export function nextStart(slots: readonly number[], used: number, rate: number): number {
  return slots[used - 1]! + 1000 / rate;
}
