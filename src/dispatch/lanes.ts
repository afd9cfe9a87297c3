/**
 * Which of a tick's claimed deliveries may be sent now: at most `limit` at once in all,
 * and at most its lane's limit at once for each webhook; otherwise in the order they
 * were added. Plain queues and counters: two layers of p-limit cost a chain of
 * promises and closures for every held delivery, most of the tick's own garbage.
 */
interface Lane<T> {
  /** sent or admitted to the shared queue, not yet done */
  active: number;
  limit: number;
  waiting: T[];
}

export class Lanes<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  /** admitted by their lanes, waiting for a slot of the overall limit */
  private readonly ready: T[] = [];
  private running = 0;

  constructor(
    private readonly limit: number,
    /** a lane's limit, asked when the lane opens and on `refreshLimits` (never below one) */
    private readonly laneLimit: (laneId: string) => number,
    private readonly laneOf: (item: T) => string,
    /** called once per item when it may be sent; the caller reports `done(item)` after */
    private readonly start: (item: T) => void,
  ) {}

  add(item: T): void {
    const id = this.laneOf(item);
    let lane = this.lanes.get(id);
    if (!lane) {
      lane = { active: 0, limit: Math.max(1, this.laneLimit(id)), waiting: [] };
      this.lanes.set(id, lane);
    }
    lane.waiting.push(item);
    this.admit(lane);
    this.pump();
  }

  done(item: T): void {
    this.running--;
    const id = this.laneOf(item);
    const lane = this.lanes.get(id);
    if (lane) {
      lane.active--;
      this.admit(lane);
      if (lane.active === 0 && lane.waiting.length === 0) this.lanes.delete(id);
    }
    this.pump();
  }

  /** Ask every open lane's limit again. */
  refreshLimits(): void {
    for (const [id, lane] of this.lanes) {
      lane.limit = Math.max(1, this.laneLimit(id));
      this.admit(lane);
    }
    this.pump();
  }

  private admit(lane: Lane<T>): void {
    while (lane.active < lane.limit && lane.waiting.length > 0) {
      lane.active++;
      this.ready.push(lane.waiting.shift()!);
    }
  }

  private pump(): void {
    while (this.running < this.limit && this.ready.length > 0) {
      this.running++;
      this.start(this.ready.shift()!);
    }
  }
}
