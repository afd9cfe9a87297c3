/**
 * One tick: claim due deliveries under a lease, send them under a global concurrency
 * limit, record every attempt, until nothing due (as of the tick's start) remains.
 * No transaction is ever open across a request. A tick is an object: its state is
 * its fields, each step a small method, and its clock is injected.
 *
 * Cluster-wide rules, with any number of dispatchers on one store:
 * - Per-webhook cap: every claim (claims are serialised) counts the deliveries other
 *   dispatchers hold of each webhook, E. With E = 0 a tick may queue many of that
 *   webhook's deliveries and sends up to the cap at once; with E > 0 it holds at most
 *   cap − E of them and sends at most cap − E at once. What a dispatcher holds
 *   (queued, in flight, or sent and not yet recorded) is never less than what it
 *   sends, so requests in flight to a webhook stay within the cap in all, and a
 *   single dispatcher drains a long queue without a claim per request.
 * - Endpoint backoff: the first failure marks the webhook failing for every
 *   dispatcher (it is left out of claims); this tick hands back what it holds of it
 *   unsent. Later ticks send one probe per backoff step (claimProbes).
 * - Time is the database's: the clock is synced before every claim.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import type { Agents } from "got";
import type { Logger } from "pino";
import type { HookdSettings } from "../config/schema.js";
import { claimDue, claimProbes, countDue, type ClaimedDelivery } from "../store/claims.js";
import { purgeExpiredSecrets } from "../store/rotation.js";
import { explainStoreError, type Db } from "../store/connect.js";
import { expireWaiting } from "../store/endpointHealth.js";
import type { StoreHealth } from "../store/storeHealth.js";
import type { RetryPolicy } from "../domain/retryPolicy.js";
import { SecretKeyError, type Keyring } from "../domain/secretBox.js";
import { attemptDelivery } from "./attempt.js";
import type { TickClock } from "./clock.js";
import { deliverySettingsOf, type DeliverySettings } from "./deliverySettings.js";
import type { OAuthTokens } from "./oauthTokens.js";
import type { DispatchObserver } from "./observer.js";
import { AttemptRecorder } from "./recorder.js";
import { Lanes } from "./lanes.js";
import type { TickProgress, TickSummary } from "./tickSummary.js";
import { judge, type Judgement } from "./verdict.js";

export type { TickProgress, TickSummary } from "./tickSummary.js";

/** The `dispatch` config a tick runs by (the schedule is the scheduler's). */
export type DispatchSettings = Omit<HookdSettings["dispatch"], "schedule">;

export interface TickOptions {
  /** Abort to stop: no more claims, queued claims are handed back, in-flight requests get `shutdownGraceMs`. */
  signal?: AbortSignal;
  onProgress?: (p: TickProgress) => void;
}

/** What a tick works with; the dispatcher owns these across ticks. */
export interface TickDeps {
  db: Db;
  settings: DispatchSettings;
  policy: RetryPolicy;
  logger: Logger;
  clock: TickClock;
  agents: Agents;
  observers: ReadonlySet<DispatchObserver>;
  /** named in error messages */
  storeLocation: string;
  /** opens the sealed secrets of claimed deliveries' webhooks */
  keyring: Keyring;
  /** OAuth2 tokens for receivers, kept across ticks */
  tokens: OAuthTokens;
  /** limits.maxAttempts: bounds a webhook's own max_attempts */
  maxAttempts: number;
  /** where store errors are reported: an outage is logged there, once */
  health?: StoreHealth | null;
}

/** Margin kept between a request's deadline and its lease's end (less when leases are short). */
const LEASE_MARGIN_MS = 5_000;
const STORE_TRIES = 3;
const STORE_RETRY_MS = 1_000;

export class Tick {
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly summary: TickSummary = {
    started_at: "",
    duration_ms: 0,
    claimed: 0,
    delivered: 0,
    failed: 0,
    rescheduled: 0,
    deferred: 0,
    probes: 0,
    interrupted: false,
    error: null,
  };
  private readonly recorder: AttemptRecorder;
  /** what may be sent now: the global limit, and per webhook the cap less what others held at the last claim */
  private readonly lanes: Lanes<ClaimedDelivery>;
  /** deliveries of each webhook this tick holds: claimed and not yet finished */
  private readonly load = new Map<string, number>();
  /** webhooks whose endpoint failed during this tick: nothing more is sent to them */
  private readonly down = new Set<string>();
  /** webhooks that had more due than room; claimed again once half drained */
  private readonly full = new Set<string>();
  /** webhooks whose secrets cannot be opened (settingsOf): nothing is sent to them */
  private readonly sealedShut = new Set<string>();
  /** deliveries held: claimed and not yet finished */
  private held = 0;
  /** One controller per request, aborted together when the grace period ends. */
  private readonly inFlight = new Set<AbortController>();
  /** the last claim found nothing more it could take */
  private exhausted = false;
  /** webhooks that recovered during this tick, so far: a claim under way may not have seen the last one */
  private recoveries = 0;
  /**
   * No other dispatcher held anything at the last claim. Then claims are whole
   * batches; with others about, a tick holds about two rounds of work, so that what
   * it holds does not take room the others could be sending with.
   */
  private alone = false;
  /** per webhook, what other dispatchers held at the last claim */
  private elsewhere: ReadonlyMap<string, number> = new Map();
  private cutoff = 0;
  private total = 0;
  private sleeper: (() => void) | null = null;
  private graceTimer: NodeJS.Timeout | null = null;
  /** the store failed past store()'s retries: claim no more, finish what is in flight, keep its results for the store */
  private storeLost = false;

  constructor(
    private readonly deps: TickDeps,
    private readonly options: TickOptions = {},
  ) {
    this.recorder = new AttemptRecorder(deps.db, this.owner, deps.logger, deps.clock, deps.settings.batchSize, deps.health);
    // What others held at the last claim bounds what this tick may send at once, for
    // every webhook it holds (never below one: holding a webhook's rows means others left room).
    this.lanes = new Lanes(
      deps.settings.concurrency,
      (id) => deps.settings.perWebhookConcurrency - (this.elsewhere.get(id) ?? 0),
      (d) => d.webhook_id,
      (d) => this.start(d),
    );
  }

  async run(): Promise<TickSummary> {
    const { db, clock, policy, logger } = this.deps;
    const started = performance.now();
    const stop = this.options.signal;
    if (stop?.aborted) this.onStop();
    else stop?.addEventListener("abort", this.onStop, { once: true });
    try {
      const synced = await this.store("read the database's clock", async () => {
        await clock.sync();
        return true;
      });
      if (synced) {
        this.cutoff = clock.now();
        this.summary.started_at = new Date(this.cutoff).toISOString();
        if (this.options.onProgress) this.total = await countDue(db, this.cutoff);
        // Secrets whose overlap has ended leave the store (they stopped signing already).
        await purgeExpiredSecrets(db, this.deps.keyring, clock.now()).catch(
          (err: unknown) => this.storeAway(err) || logger.warn({ err: (err as Error).message }, "could not remove expired secrets; the next tick tries again"),
        );
        // Housekeeping; if the store is busy it waits for the next tick.
        await expireWaiting(db, clock.now(), policy.maxAgeSeconds * 1000).catch(
          (err: unknown) => this.storeAway(err) || logger.warn({ err: (err as Error).message }, "could not expire deliveries that aged out while waiting"),
        );
        if (!this.stopped) {
          const probes = await this.store("claim probes", () => claimProbes(db, this.claimBasis()));
          if (probes) this.schedule(probes);
        }
        await this.claimUntilDone();
      }
      while (this.held > 0) await this.nap();
    } finally {
      await this.recorder.flush();
      if (this.graceTimer) clearTimeout(this.graceTimer);
      stop?.removeEventListener("abort", this.onStop);
    }
    if (!this.summary.started_at) this.summary.started_at = new Date(clock.now()).toISOString();
    this.summary.interrupted = this.options.signal?.aborted ?? false;
    this.summary.duration_ms = Math.round(performance.now() - started);
    const { error: _error, started_at: _started, ...counts } = this.summary;
    logger.info(counts, "tick");
    for (const o of this.deps.observers) o.tick?.(this.summary);
    return this.summary;
  }

  private get stopped(): boolean {
    return (this.options.signal?.aborted ?? false) || this.storeLost;
  }

  /** Claims until nothing this tick may take is left, keeping work at hand (see `alone`). */
  private async claimUntilDone(): Promise<void> {
    const { db, clock, settings } = this.deps;
    const cap = settings.perWebhookConcurrency;
    while (!this.stopped) {
      this.reopenDrained();
      const held = this.held;
      // Alone, a tick holds two batches and claims when half is left: whole batches,
      // so fewer claims, each a transaction and a walk over due rows, per delivery.
      const hold = 2 * (this.alone ? Math.max(settings.batchSize, settings.concurrency) : settings.concurrency);
      // After an empty claim, claim again only when something could have changed (a
      // full webhook drained, a failing one recovered), not on every finished request.
      if (this.exhausted || held > hold / 2) {
        if (this.exhausted && held === 0) return;
        await this.nap();
        continue;
      }
      const queueCap = this.queueCap();
      const recoveries = this.recoveries;
      const claim = await this.store("claim deliveries", async () => {
        await clock.sync();
        return claimDue(db, {
          ...this.claimBasis(),
          limit: Math.max(1, Math.min(settings.batchSize, hold - held)),
          exclude: [...this.down, ...this.full, ...this.sealedShut, ...[...this.load].filter(([, n]) => n >= queueCap).map(([id]) => id)],
          room: (webhookId, elsewhere) => (elsewhere === 0 ? queueCap : cap - elsewhere) - (this.load.get(webhookId) ?? 0),
        });
      });
      if (!claim) return;
      this.alone = claim.elsewhere.size === 0;
      this.elsewhere = claim.elsewhere;
      this.lanes.refreshLimits();
      this.schedule(claim.deliveries);
      for (const id of claim.full) this.full.add(id);
      // Others wait on what this tick holds: records end leases, so write them sooner.
      if (claim.crowded.length > 0 || (claim.full.length > 0 && !this.alone)) this.recorder.hurry();
      // A probe that succeeded while this claim ran: its webhook's backlog is claimable now.
      if (claim.exhausted && this.recoveries === recoveries) this.exhausted = true;
    }
  }

  private claimBasis() {
    return { owner: this.owner, cutoff: this.cutoff, now: this.deps.clock.now(), leaseMs: this.deps.settings.leaseSeconds * 1000 };
  }

  /**
   * Deliveries of one webhook a tick may hold: a webhook with a long queue (slow or
   * dead receiver) is left out of claims, so it cannot fill the tick with work that
   * waits while healthy receivers could be served.
   */
  private queueCap(): number {
    const { batchSize, concurrency, perWebhookConcurrency } = this.deps.settings;
    return Math.max(Math.min(batchSize, concurrency), perWebhookConcurrency * 4);
  }

  /** A full webhook half drained can take more. */
  private reopenDrained(): void {
    for (const id of this.full) {
      if ((this.load.get(id) ?? 0) <= this.queueCap() / 2) {
        this.full.delete(id);
        this.exhausted = false;
      }
    }
  }

  private schedule(batch: readonly ClaimedDelivery[]): void {
    for (const d of batch) {
      this.summary.claimed++;
      if (d.probe) this.summary.probes++;
      this.load.set(d.webhook_id, (this.load.get(d.webhook_id) ?? 0) + 1);
      this.held++;
      this.lanes.add(d);
    }
  }

  private start(d: ClaimedDelivery): void {
    this.deliver(d)
      .catch((err: unknown) => {
        // deliver() handles every request outcome; this is a bug guard, and the lease brings the row back.
        this.deps.logger.error({ err: (err as Error).message, delivery: d.id }, "unexpected error while delivering");
      })
      .finally(() => {
        const left = (this.load.get(d.webhook_id) ?? 1) - 1;
        if (left > 0) this.load.set(d.webhook_id, left);
        else this.load.delete(d.webhook_id);
        this.held--;
        this.lanes.done(d);
        this.wake();
      });
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const { settings, clock } = this.deps;
    if (this.down.has(d.webhook_id)) return this.defer(d, "endpoint_backoff");
    const hook = this.settingsOf(d);
    if (!hook) return;
    // Backpressure: never run more than a batch ahead of what is recorded.
    await this.recorder.room();
    // Never start a request that could outlive its lease: another dispatcher may
    // legitimately take the row then.
    if (this.stopped || clock.now() + settings.timeoutMs + this.leaseMargin() > d.lease_expires_at) return this.defer(d);
    const controller = new AbortController();
    this.inFlight.add(controller);
    const target = {
      webhookId: d.webhook_id,
      eventId: d.event_id,
      deliveryId: d.id,
      topic: d.topic,
      body: Buffer.from(d.payload, "utf8"),
      attempts: d.attempts,
    };
    const deadline = Date.now() + (d.lease_expires_at - clock.now() - this.leaseMargin());
    const ctx = { agents: this.deps.agents, tokens: this.deps.tokens, deadline, now: () => clock.now(), signal: controller.signal };
    const outcome = await attemptDelivery(target, hook, ctx).finally(() => this.inFlight.delete(controller));
    // Cut off by shutdown: not an attempt. The receiver may have seen it; it will be sent again.
    if (outcome.error === "aborted") return this.defer(d);

    const judged = judge(d, outcome, hook.policy, clock.now());
    for (const o of this.deps.observers) o.attempt?.(outcome, judged.verdict);
    this.recorder.add(judged.record, d.lease_expires_at);
    this.summary[judged.verdict]++;
    await this.learn(d, judged);
    if (judged.verdict !== "delivered") {
      this.deps.logger.warn(
        {
          webhook: d.webhook_id,
          delivery: d.id,
          event: d.event_id,
          attempt: judged.record.attempt.number,
          status: outcome.statusCode,
          error: outcome.error,
          message: outcome.errorMessage,
          next: judged.verdict === "failed" ? "failed" : new Date(judged.record.nextAttemptAt!).toISOString(),
        },
        "delivery attempt failed",
      );
    }
    this.progress();
  }

  /**
   * The claimed webhook's delivery settings, its secrets opened. When they cannot be (the key file lacks
   * their key id, or holds other key material under it) nothing is sent: an unsigned
   * request is never the fallback. The delivery waits, its wait reason naming the key
   * id, spending no attempt; the webhook is left out of this tick's claims and logged
   * once; the next tick tries again, so the deliveries go once the key is back.
   */
  private settingsOf(d: ClaimedDelivery): DeliverySettings | null {
    const { settings, policy, maxAttempts, keyring } = this.deps;
    try {
      return deliverySettingsOf(d, { ...settings, policy, maxAttempts, keyring });
    } catch (err) {
      if (!(err instanceof SecretKeyError)) throw err;
      if (!this.sealedShut.has(d.webhook_id)) {
        this.sealedShut.add(d.webhook_id);
        this.deps.logger.error({ webhook: d.webhook_id, key_id: err.keyId, code: err.code }, `not sending: ${err.message}`);
      }
      this.defer(d, err.reason);
      return null;
    }
  }

  /** Act on what an attempt says about its webhook. */
  private async learn(d: ClaimedDelivery, judged: Judgement): Promise<void> {
    const change = judged.change;
    if (!change) return;
    if (change.kind === "up") {
      this.down.delete(d.webhook_id);
      this.recorder.changeHealth(change);
      this.deps.logger.info({ webhook: d.webhook_id }, "webhook recovered");
      // Written now, so the next claim sees the webhook healthy and drains its backlog.
      await this.recorder.flush();
      this.recoveries++;
      this.exhausted = false;
      return;
    }
    // Already failing in this tick: the requests that were in flight with the first
    // failure belong to the same backoff step.
    if (this.down.has(d.webhook_id)) return;
    this.down.add(d.webhook_id);
    this.recorder.changeHealth(change);
    if (change.kind === "gone") this.deps.logger.warn({ webhook: d.webhook_id }, "receiver answered 410 Gone: webhook disabled");
  }

  private defer(d: ClaimedDelivery, reason?: string): void {
    this.recorder.release(d.id, d.lease_expires_at, reason);
    this.summary.deferred++;
    this.progress();
  }

  private leaseMargin(): number {
    const { leaseSeconds, timeoutMs } = this.deps.settings;
    return Math.min(LEASE_MARGIN_MS, (leaseSeconds * 1000 - timeoutMs) / 2);
  }

  private progress(): void {
    const s = this.summary;
    this.options.onProgress?.({ total: this.total, delivered: s.delivered, failed: s.failed, rescheduled: s.rescheduled, deferred: s.deferred });
  }

  /**
   * A store call retried a few times; on giving up the tick stops claiming, finishes
   * what is in flight, and ends with `error` set (the scheduler runs the next one as
   * soon as the store answers again).
   */
  private async store<T>(what: string, fn: () => Promise<T>): Promise<T | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        // An outage is logged once, by the store's health; anything else here.
        const away = this.storeAway(err);
        this.deps.logger[away ? "debug" : "warn"]({ err: (err as Error).message, try: attempt }, `could not ${what}`);
        if (attempt >= STORE_TRIES) {
          const explained = explainStoreError(err, this.deps.storeLocation)?.message ?? (err as Error).message;
          this.summary.error = `could not ${what}, will try again next tick: ${explained}`;
          this.storeLost = true;
          return null;
        }
        if (this.stopped) return null;
        await this.pause(STORE_RETRY_MS);
      }
    }
  }

  /** Reports `err` to the store's health; true when it means the store is away (and is logged there). */
  private storeAway(err: unknown): boolean {
    return this.deps.health?.failed(err) ?? false;
  }

  /** Wait `ms`, or less if a stop arrives. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.options.signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.options.signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** The claim loop sleeps until a delivery finishes or a stop arrives. */
  private nap(): Promise<void> {
    return new Promise<void>((resolve) => (this.sleeper = resolve));
  }

  private wake(): void {
    const s = this.sleeper;
    this.sleeper = null;
    s?.();
  }

  private readonly onStop = (): void => {
    this.graceTimer = setTimeout(() => {
      for (const c of this.inFlight) c.abort();
      // Results the store cannot take now are left to their leases.
      this.recorder.abandon();
    }, this.deps.settings.shutdownGraceMs);
    this.graceTimer.unref();
    this.wake();
  };
}
