/**
 * After a tick the store cut short, the next one runs as soon as the store answers
 * again, not at the schedule's next firing (up to 30 minutes away): `hookd serve`
 * resumes dispatch by itself within seconds of an outage's end. A tick that keeps
 * ending in error while the store looks fine (statements timing out, a bug) is run
 * again with capped backoff, never in a tight loop. Timers are unref'd.
 */
import { backoffMs } from "../store/outage.js";
import type { StoreHealth } from "../store/storeHealth.js";

/** After the store is back: the first wait before the tick runs again, and the longest. */
const RESUME_FIRST_MS = 500;
const RESUME_CAP_MS = 60_000;

export class TickResume {
  /** ticks in a row that ended in error while the store looked fine */
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly stopping = new AbortController();

  constructor(
    private readonly health: StoreHealth | null,
    /** start a tick now (the scheduler's, unless one runs) */
    private readonly run: () => void,
  ) {}

  /** A tick ended; `failed` when it could not finish because of the store. */
  ended(failed: boolean): void {
    if (!failed) {
      this.failures = 0;
      return;
    }
    // An outage explains the failure, however long it lasts (ticks the schedule fires
    // meanwhile fail too): run again soon after it ends. Otherwise back off.
    const outage = this.health !== null && !this.health.up;
    if (!outage) this.failures++;
    const delay = outage ? RESUME_FIRST_MS : backoffMs(this.failures, RESUME_FIRST_MS, RESUME_CAP_MS);
    const back = this.health?.whenUp(this.stopping.signal) ?? Promise.resolve();
    void back.then(() => {
      if (this.stopping.signal.aborted || this.timer) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.stopping.signal.aborted) this.run();
      }, delay);
      this.timer.unref();
    });
  }

  /** Safe to call twice. */
  stop(): void {
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
