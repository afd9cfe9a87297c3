/**
 * A rate-limited webhook's requests in a tick: each waits out of the lanes until the
 * start time its claim booked (domain/pacing.ts), and then, at the last step before the
 * request, until at least one gap (1 s ÷ rate) has passed since the webhook's last
 * start in real time. The booked times space them in the claim; the gap holds them
 * apart after every wait that could release several at once (timers firing late
 * together on a busy event loop, the recorder's backpressure).
 */
import { performance } from "node:perf_hooks";
import type { Unit } from "./units.js";

export class Pace {
  /** requests waiting for their start time */
  private readonly waiting = new Map<NodeJS.Timeout, Unit>();
  /** per rate-limited webhook, when its last request started (performance.now()) */
  private readonly lastStart = new Map<string, number>();

  constructor(
    /** a request whose start time has come (or that a stop let go) */
    private readonly ready: (unit: Unit) => void,
    /** wait `ms`, or less if the tick stops */
    private readonly pause: (ms: number) => Promise<void>,
    private readonly stopped: () => boolean,
  ) {}

  /** `unit` waits `waitMs`, then goes to `ready`. */
  hold(unit: Unit, waitMs: number): void {
    const timer = setTimeout(() => {
      this.waiting.delete(timer);
      this.ready(unit);
    }, waitMs);
    this.waiting.set(timer, unit);
  }

  /** Every waiting request goes to `ready` now (a stop: the lanes hand them back unsent). */
  releaseAll(): void {
    for (const [timer, unit] of this.waiting) {
      clearTimeout(timer);
      this.ready(unit);
    }
    this.waiting.clear();
  }

  /** Resolves when `u` may start: one gap after its webhook's last start, or at once when it has no rate limit or the tick stops. */
  async keepGap(u: Unit): Promise<void> {
    const rate = u.deliveries[0]!.rate_limit;
    if (rate === null) return;
    const gap = 1000 / rate;
    for (;;) {
      const wait = (this.lastStart.get(u.webhookId) ?? Number.NEGATIVE_INFINITY) + gap - performance.now();
      if (wait <= 0 || this.stopped()) break;
      await this.pause(wait);
    }
    this.lastStart.set(u.webhookId, performance.now());
  }
}
