/**
 * The store's health, one per opened store. Every path that meets a store error reports
 * it here (the API, ticks, the recorder, retention, metrics, /healthz), so an outage is
 * one warning when it begins and one info line when it ends, however many queries fail
 * in between. While the store is down this probes it (a read and a write, rolled back)
 * with capped backoff, and wakes whoever waits for it (the scheduler, to resume
 * dispatch) as soon as it answers. The rules are pure, in outage.ts; this does the
 * logging and the timers (unref'd: a probe never keeps a process alive).
 */
import type { Logger } from "pino";
import { afterFailure, afterProbe, HEALTHY, nextProbeInMs, outageOf, type HealthStep, type OutageKind, type StoreHealthState } from "./outage.js";

/** What /healthz and /metrics show of it: a plain object. */
export interface StoreHealthView {
  readonly up: boolean;
  /** ISO time the outage began, null while up */
  readonly down_since: string | null;
  readonly reason: OutageKind | null;
}

export interface StoreHealthOptions {
  logger: Logger;
  /** Throws unless the store can be read and written right now (store/probe.ts). */
  probe: () => Promise<void>;
  /** An error in words for the operator (connect.ts explainStoreError). */
  describe: (err: unknown) => string;
  now?: () => number;
}

export class StoreHealth {
  private current: StoreHealthState = HEALTHY;
  private timer: NodeJS.Timeout | null = null;
  private probing: Promise<boolean> | null = null;
  private closed = false;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: StoreHealthOptions) {}

  get up(): boolean {
    return this.current.up;
  }

  get view(): StoreHealthView {
    const { up, downSince, kind } = this.current;
    return { up, down_since: downSince === null ? null : new Date(downSince).toISOString(), reason: kind };
  }

  /**
   * A store call failed with `err`. Returns whether it means the store is unavailable:
   * then it is reported (the first of an outage is logged here) and the caller need not
   * log it again. Any other error (a bug in a query) is the caller's to report.
   */
  failed(err: unknown): boolean {
    const kind = outageOf(err);
    if (!kind) return false;
    this.apply(afterFailure(this.current, kind, this.now()), err);
    return true;
  }

  /**
   * Probe now, or join the probe under way (the recovery probe, see `probe`); while the
   * store is down, a success ends the outage. Resolves with whether the store answered.
   */
  check(): Promise<boolean> {
    if (this.probing) return this.probing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.probing = this.options.probe().then(
      () => this.probed(true),
      () => this.probed(false),
    );
    return this.probing;
  }

  /** Resolves once the store is up: at once if it is, or when `signal` aborts or the store closes. */
  whenUp(signal?: AbortSignal): Promise<void> {
    if (this.current.up || this.closed || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Stop probing and release every waiter. Safe to call twice. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.wakeAll();
  }

  private apply(step: HealthStep, err?: unknown): void {
    this.current = step.state;
    const { logger } = this.options;
    if (step.say === "down") {
      // One line, no stack: what is wrong and that nobody needs to restart anything.
      logger.warn(
        { reason: step.state.kind, error: this.options.describe(err) },
        "the database is unavailable: hookd keeps trying and resumes by itself once it answers",
      );
    } else if (step.say === "back") {
      const seconds = Math.round(step.downMs / 100) / 10;
      logger.info({ down_seconds: seconds }, `the database is back after ${seconds} s`);
      this.wakeAll();
    }
    if (!this.current.up) this.probeLater();
  }

  private probeLater(): void {
    if (this.timer || this.probing || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.check();
    }, nextProbeInMs(this.current));
    this.timer.unref();
  }

  private probed(ok: boolean): boolean {
    this.probing = null;
    if (!this.closed) this.apply(afterProbe(this.current, ok, this.now()));
    return ok;
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}
