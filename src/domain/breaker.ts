/**
 * The circuit breaker: when a webhook's endpoint looks down as a whole, as opposed to
 * failing now and then. Pure: the memory comes in and goes out as values; the store
 * keeps it on the webhook row (so every dispatcher shares it) and the tick folds each
 * attempt's outcome into it.
 *
 * Modelled on Envoy's outlier detection (consecutive 5xx; success rate) and Convoy's
 * breaker (failure rate over a window with a minimum of requests). It opens on:
 * - `consecutiveFailures` endpoint failures in a row;
 * - more than `failureRate` of the last `window` attempts failed (only once `window`
 *   attempts are known: a few early failures are not a rate);
 * - every request of a round (the requests in flight together, at least two) timed out
 *   or was refused: nothing answers, so waiting for five more would only cost timeouts.
 * Below that each failed delivery waits on its own retry schedule and the rest flow.
 */

export interface BreakerRules {
  consecutiveFailures: number;
  /** 0 < rate ≤ 1: opens when more than this share of the window failed */
  failureRate: number;
  /** attempts the failure rate is taken over */
  window: number;
}

export interface BreakerMemory {
  /** endpoint failures in a row, up to now */
  streak: number;
  /** the last `window` outcomes, oldest first: "1" failed, "0" answered well */
  recent: string;
}

export const FRESH_MEMORY: BreakerMemory = { streak: 0, recent: "" };

/** The memory after one more outcome. */
export function remember(m: BreakerMemory, failed: boolean, rules: BreakerRules): BreakerMemory {
  const recent = (m.recent + (failed ? "1" : "0")).slice(-rules.window);
  return { streak: failed ? m.streak + 1 : 0, recent };
}

/** Why the breaker opens on this memory, in words; null while it stays closed. */
export function tripReason(m: BreakerMemory, rules: BreakerRules): string | null {
  if (m.streak >= rules.consecutiveFailures) return `${m.streak} failure${m.streak === 1 ? "" : "s"} in a row`;
  if (m.recent.length >= rules.window) {
    const failed = countFailed(m.recent);
    if (failed / m.recent.length > rules.failureRate) return `${Math.round((100 * failed) / m.recent.length)}% of the last ${m.recent.length} attempts failed`;
  }
  return null;
}

function countFailed(recent: string): number {
  let n = 0;
  for (let i = 0; i < recent.length; i++) if (recent.charCodeAt(i) === 49) n++;
  return n;
}

/**
 * Rounds of one webhook within a tick: the requests started while none of the round had
 * finished. When a round of two or more ends with every request unanswered (timed out,
 * refused, unreachable), the endpoint is down whatever its memory says.
 */
export class Rounds {
  private round = 0;
  private size = 0;
  private done = 0;
  private unanswered = 0;
  /** a request of the current round has finished: later starts wait for the next round */
  private closing = false;

  /** A request starts; returns its round (pass it to `finish`), or -1 when it is in none. */
  start(): number {
    if (this.closing && this.done === this.size) {
      this.round++;
      this.size = this.done = this.unanswered = 0;
      this.closing = false;
    }
    if (this.closing) return -1;
    this.size++;
    return this.round;
  }

  /** Some of the current round went unanswered and the rest are still out: wait for them before sending more. */
  get doubtful(): boolean {
    return this.unanswered > 0 && this.done < this.size;
  }

  /** A request of round `round` finished; the reason to open when it completed a round of which nothing answered. */
  finish(round: number, unanswered: boolean): string | null {
    if (round !== this.round || this.done >= this.size) return null;
    this.closing = true;
    this.done++;
    if (unanswered) this.unanswered++;
    if (this.done < this.size || this.size < 2 || this.unanswered < this.size) return null;
    return `all ${this.size} requests of a round timed out or were refused`;
  }
}

/** Transport errors that mean nobody answered. */
const UNANSWERED = new Set(["timeout", "refused", "unreachable", "dns", "reset"]);

export function isUnanswered(error: string | null): boolean {
  return error !== null && UNANSWERED.has(error);
}

export type BreakerState = "closed" | "open" | "probing";

/**
 * The breaker's state as the API, status and console show it: closed (sending), open
 * (waiting out a backoff step), probing (the step has passed; the next tick's probe decides).
 */
export function breakerState(w: { failing_since: number | null; backoff_until: number | null }, now: number): BreakerState {
  if (w.failing_since === null) return "closed";
  return w.backoff_until !== null && w.backoff_until > now ? "open" : "probing";
}

/** The state in words, e.g. "open until 2026-12-06T09:00:00.000Z: 5 failures in a row". */
export function describeBreaker(w: { failing_since: number | null; backoff_until: number | null; breaker_reason: string | null }, now: number): string {
  const state = breakerState(w, now);
  const why = w.breaker_reason ? `: ${w.breaker_reason}` : "";
  if (state === "closed") return "closed: sending";
  if (state === "open") return `open until ${new Date(w.backoff_until!).toISOString()}${why}`;
  return `probing: the next tick sends one delivery to test the endpoint${why}`;
}
