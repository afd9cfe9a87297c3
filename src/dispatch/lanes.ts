/**
 * Which of a tick's claimed requests start now: at most `limit` at once in all, at most
 * its lane's limit at once for each webhook, and the slots shared fairly among customers
 * with work waiting (weighted water filling: domain/fairShare.ts), then round robin among
 * each customer's webhooks. A customer's slow receivers hold only its share of the slots,
 * and a customer with one request waiting gets a slot as soon as one frees, whatever
 * another customer has queued. Plain queues and counters: no promise per waiting item.
 */
import { waterFill } from "../domain/fairShare.js";

interface Lane<T> {
  id: string;
  running: number;
  limit: number;
  waiting: T[];
  customer: Customer<T>;
  /** in its customer's round robin */
  queued: boolean;
  /** starts nothing until resumed */
  paused: boolean;
}

interface Customer<T> {
  id: string;
  weight: number;
  running: number;
  /** lanes that could start an item now, round robin */
  ready: Lane<T>[];
  lanes: number;
}

export interface LaneOwner {
  customerId: string;
  weight: number;
}

export class Lanes<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  private readonly customers = new Map<string, Customer<T>>();
  /** lanes with more due than the tick holds (claimed again soon): their customer's demand counts them */
  private readonly backlog = new Map<string, LaneOwner>();
  private running = 0;

  constructor(
    private readonly limit: number,
    /** a lane's limit, asked when the lane opens and on `refreshLimits` (never below one) */
    private readonly laneLimit: (laneId: string) => number,
    private readonly laneOf: (item: T) => string,
    private readonly ownerOf: (item: T) => LaneOwner,
    /** called once per item when it may be sent; the caller reports `done(item)` after */
    private readonly start: (item: T) => void,
  ) {}

  add(item: T): void {
    this.put(item);
    this.pump();
  }

  /**
   * A claim's worth at once: every item goes to its lane before any slot is filled, so
   * the first items of a batch (one customer's, say) do not take every free slot before
   * the others are even in line.
   */
  addAll(items: Iterable<T>): void {
    for (const item of items) this.put(item);
    this.pump();
  }

  private put(item: T): void {
    const id = this.laneOf(item);
    let lane = this.lanes.get(id);
    if (!lane) {
      const owner = this.ownerOf(item);
      let customer = this.customers.get(owner.customerId);
      if (!customer) {
        customer = { id: owner.customerId, weight: Math.max(1, owner.weight), running: 0, ready: [], lanes: 0 };
        this.customers.set(customer.id, customer);
      }
      customer.lanes++;
      lane = { id, running: 0, limit: Math.max(1, this.laneLimit(id)), waiting: [], customer, queued: false, paused: false };
      this.lanes.set(id, lane);
    }
    lane.waiting.push(item);
    this.offer(lane);
  }

  done(item: T): void {
    this.running--;
    const lane = this.lanes.get(this.laneOf(item));
    if (lane) {
      lane.running--;
      lane.customer.running--;
      this.offer(lane);
      this.close(lane);
    }
    this.pump();
  }

  /** Ask every open lane's limit again. */
  refreshLimits(): void {
    for (const [id, lane] of this.lanes) {
      lane.limit = Math.max(1, this.laneLimit(id));
      this.offer(lane);
    }
    this.pump();
  }

  /**
   * The webhooks with more due than the tick holds, replacing the last list. Their
   * customers' shares count them as wanting their lane limit, so the slots they will
   * use once their next claim is in are not given to another customer's slow requests.
   */
  setBacklog(lanes: ReadonlyMap<string, LaneOwner>): void {
    this.backlog.clear();
    for (const [id, owner] of lanes) this.backlog.set(id, owner);
    this.pump();
  }

  /** Start nothing more of this lane until `resume` (its items wait). */
  pause(laneId: string): void {
    const lane = this.lanes.get(laneId);
    if (lane) lane.paused = true;
  }

  resume(laneId: string): void {
    const lane = this.lanes.get(laneId);
    if (!lane?.paused) return;
    lane.paused = false;
    this.offer(lane);
    this.pump();
  }

  private offer(lane: Lane<T>): void {
    if (!lane.queued && !lane.paused && lane.waiting.length > 0 && lane.running < lane.limit) {
      lane.queued = true;
      lane.customer.ready.push(lane);
    }
  }

  private close(lane: Lane<T>): void {
    if (lane.running > 0 || lane.waiting.length > 0 || lane.queued) return;
    this.lanes.delete(lane.id);
    const c = lane.customer;
    if (--c.lanes === 0 && c.running === 0) this.customers.delete(c.id);
  }

  private pump(): void {
    while (this.running < this.limit) {
      const customer = this.nextCustomer();
      if (!customer) return;
      const lane = customer.ready.shift()!;
      lane.queued = false;
      if (lane.paused) continue;
      const item = lane.waiting.shift()!;
      lane.running++;
      customer.running++;
      this.running++;
      this.offer(lane);
      this.start(item);
    }
  }

  /**
   * The customer to start next: among those with a lane ready, one below its fair share
   * of the slots (demand: what it runs plus what it has waiting), the furthest below first.
   */
  private nextCustomer(): Customer<T> | null {
    const ready: Customer<T>[] = [];
    for (const c of this.customers.values()) if (c.ready.length > 0) ready.push(c);
    if (ready.length === 0) return null;
    if (ready.length === 1 && this.backlog.size === 0) return ready[0]!;
    // Demand: what runs, what waits, and the lane limits of webhooks with more to come.
    const demand = new Map<string, { weight: number; demand: number; running: number }>();
    for (const c of this.customers.values()) demand.set(c.id, { weight: c.weight, demand: c.running + this.waitingOf(c), running: c.running });
    for (const [laneId, owner] of this.backlog) {
      const lane = this.lanes.get(laneId);
      const d = demand.get(owner.customerId) ?? { weight: Math.max(1, owner.weight), demand: 0, running: 0 };
      d.demand += Math.max(0, Math.max(1, this.laneLimit(laneId)) - (lane ? lane.running + lane.waiting.length : 0));
      demand.set(owner.customerId, d);
    }
    const shares = waterFill(
      this.limit,
      [...demand].map(([id, d]) => ({ id, weight: d.weight, demand: d.demand })),
    );
    // Among those below their share, the one running the least for its weight: a customer
    // with one request waiting starts it among the first, not after another's whole share.
    let best: Customer<T> | null = null;
    for (const c of ready) {
      if (c.running >= (shares.get(c.id) ?? 0)) continue;
      if (best === null || c.running / c.weight < best.running / best.weight) best = c;
    }
    if (best) return best;
    // Everyone ready has its share: a slot stays free for a customer whose next claim is
    // coming in (its share is not used up), else it goes to whoever can use it.
    for (const [id, d] of demand) if (d.running < (shares.get(id) ?? 0) && !ready.some((c) => c.id === id)) return null;
    return ready.reduce((a, c) => (c.running / c.weight < a.running / a.weight ? c : a));
  }

  private waitingOf(c: Customer<T>): number {
    let n = 0;
    for (const lane of c.ready) n += lane.waiting.length;
    return n;
  }
}
