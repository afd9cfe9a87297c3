/**
 * One tick: claim due deliveries under a lease, send them under a global concurrency
 * limit, record every attempt, until nothing due (as of the tick's start) remains.
 * No transaction is ever open across a request. A tick is an object: its state is
 * its fields, each step a small method, and its clock is injected.
 *
 * Cluster-wide rules, with any number of dispatchers on one store:
 * - Fair share: claims share their batch among customers by weight, then among each
 *   customer's webhooks (store/claims.ts), and the lanes share request slots the same
 *   way (lanes.ts), so one customer's burst or slow receivers hold only its share.
 * - Per-webhook cap: every claim (claims are serialised) counts the deliveries other
 *   dispatchers hold of each webhook, E. With E = 0 a tick may queue many of that
 *   webhook's deliveries and sends up to the cap at once; with E > 0 it holds at most
 *   cap − E of them and sends at most cap − E at once, so requests in flight to a
 *   webhook stay within the cap in all.
 * - Circuit breaker (domain/breaker.ts): a failure reschedules its own delivery; the
 *   webhook as a whole backs off only when the breaker opens (failures in a row, a
 *   failure rate over the window, or a round of which nothing answered), on this
 *   tick's view or on the memory all dispatchers share. Then this tick hands back what
 *   it holds of it unsent, and later ticks send one probe per backoff step.
 * - Payloads: each event's bytes are read once and shared by its deliveries in hand;
 *   claims wait while the tick holds more than dispatch.maxHeldBytes.
 * - Strict order, batches and pace come from the claim: an ordered webhook's head only,
 *   batches of a webhook's deliveries in publish order, a rate-limited webhook's start times.
 * - Time is the database's: the clock is synced before every claim.
 */
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import type { Agents } from "got";
import type { Logger } from "pino";
import type { HookdSettings } from "../config/schema.js";
import { loadPayloads, type ClaimedDelivery } from "../store/claimed.js";
import { claimDue, countDue } from "../store/claims.js";
import { claimProbes } from "../store/probes.js";
import { purgeExpiredSecrets } from "../store/rotation.js";
import { explainStoreError, type Db } from "../store/connect.js";
import { expireWaiting } from "../store/endpointHealth.js";
import type { StoreHealth } from "../store/storeHealth.js";
import type { RetryPolicy } from "../domain/retryPolicy.js";
import { SecretKeyError, type Keyring } from "../domain/secretBox.js";
import { attemptBatch, attemptDelivery } from "./attempt.js";
import type { TickClock } from "./clock.js";
import { settingsMemo, type DeliverySettings } from "./deliverySettings.js";
import { HeldPayloads } from "./heldPayloads.js";
import type { OAuthTokens } from "./oauthTokens.js";
import type { DispatchObserver } from "./observer.js";
import { EndpointWatch } from "./endpointWatch.js";
import { Pace } from "./pace.js";
import { AttemptRecorder } from "./recorder.js";
import { Lanes, type LaneOwner } from "./lanes.js";
import type { TickProgress, TickSummary } from "../domain/tickSummary.js";
import { unitsOf, type Unit } from "./units.js";
import { judge, type Judgement } from "./verdict.js";
import type { TickTrace } from "../telemetry/tracing.js";

export type { TickProgress, TickSummary } from "../domain/tickSummary.js";

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
  /** this tick's spans (telemetry/tracing.ts); UNTRACED when traces are off */
  trace: TickTrace;
}

/** Margin kept between a request's deadline and its lease's end (less when leases are short). */
const LEASE_MARGIN_MS = 5_000;
const STORE_TRIES = 3;
const STORE_RETRY_MS = 1_000;
/** How often a tick asks again for work other dispatchers hold the room of, and for how long without taking any. */
const CROWDED_POLL_MS = 50;
const CROWDED_WAIT_MS = 5_000;

/** A controller whose signal any number of requests may listen to at once (no MaxListenersExceededWarning). */
function abortsManyRequests(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

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
  /** what may be sent now: the global limit shared fairly, and per webhook the cap less what others held at the last claim */
  private readonly lanes: Lanes<Unit>;
  /** requests of each webhook this tick holds: claimed and not yet finished */
  private readonly load = new Map<string, number>();
  /** each claimed webhook's customer and its weight */
  private readonly owners = new Map<string, LaneOwner>();
  /** deliveries per request of each webhook claimed (its batch_size) */
  private readonly batchOf = new Map<string, number>();
  /** each webhook's endpoint as this tick sees it: down, its breaker memory, its rounds */
  private readonly watch: EndpointWatch;
  /** webhooks that had more due than room; claimed again once half drained */
  private readonly full = new Set<string>();
  /** webhooks whose secrets cannot be opened (settingsOf): nothing is sent to them */
  private readonly sealedShut = new Set<string>();
  /** each claimed webhook's delivery settings, made once while its columns stay the same */
  private readonly settingsMemo: ReturnType<typeof settingsMemo>;
  /** each event's payload once, shared by its deliveries in hand */
  private readonly payloads = new HeldPayloads();
  /** payload bytes read and deliveries claimed so far: what a claimed delivery costs in bytes, on average */
  private bytesRead = 0;
  private deliveriesRead = 0;
  /** rate-limited webhooks' requests, held to their start times and one gap apart */
  private readonly pace: Pace;
  /** deliveries held: claimed and not yet finished */
  private held = 0;
  /**
   * Aborts every request in flight when the grace period ends. One for the tick, not one
   * per request: each request adds its own listener and removes it when it ends
   * (request.ts), and a controller and signal per request cost about 2% of a tick's CPU.
   */
  private readonly cutShort = abortsManyRequests();
  /** the last claim found nothing more it could take */
  private exhausted = false;
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
  /** wakes the claim loop when a rate-limited webhook may start again, or crowded room may have freed */
  private paceTimer: NodeJS.Timeout | null = null;
  /** when a claim last took something (database time) */
  private lastTaken = 0;
  /** the store failed past store()'s retries: claim no more, finish what is in flight, keep its results for the store */
  private storeLost = false;

  constructor(
    private readonly deps: TickDeps,
    private readonly options: TickOptions = {},
  ) {
    const breaker = { rules: deps.settings.breaker, opened: (id: string, reason: string) => this.watch.openedElsewhere(id, reason) };
    const { settings, policy, maxAttempts, keyring } = deps;
    this.settingsMemo = settingsMemo({ ...settings, policy, maxAttempts, keyring });
    this.recorder = new AttemptRecorder(deps.db, this.owner, deps.logger, deps.clock, deps.settings.batchSize, deps.health, breaker);
    this.watch = new EndpointWatch({
      rules: deps.settings.breaker,
      recorder: this.recorder,
      logger: deps.logger,
      observers: deps.observers,
      hold: (id, held) => (held ? this.lanes.pause(id) : this.lanes.resume(id)),
      recovered: () => {
        this.exhausted = false;
      },
    });
    // What others held at the last claim bounds what this tick may send at once, for
    // every webhook it holds (never below one: holding a webhook's rows means others left room).
    this.lanes = new Lanes<Unit>(
      deps.settings.concurrency,
      (id) => deps.settings.perWebhookConcurrency - Math.ceil((this.elsewhere.get(id) ?? 0) / (this.batchOf.get(id) ?? 1)),
      (u) => u.webhookId,
      (u) => ({ customerId: u.customerId, weight: u.weight }),
      (u) => this.start(u),
    );
    this.pace = new Pace(
      (u) => this.lanes.add(u),
      (ms) => this.pause(ms),
      () => this.stopped,
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
        this.lastTaken = this.cutoff;
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
          const claiming = this.deps.trace.claim("probes");
          const probes = await this.store("claim probes", () => claimProbes(db, this.claimBasis()));
          claiming.end(probes?.length ?? null);
          if (probes && (await this.readPayloads(probes))) this.schedule(probes);
        }
        await this.claimUntilDone();
      }
      while (this.held > 0) await this.nap();
    } finally {
      await this.recorder.flush();
      if (this.graceTimer) clearTimeout(this.graceTimer);
      if (this.paceTimer) clearTimeout(this.paceTimer);
      stop?.removeEventListener("abort", this.onStop);
    }
    if (!this.summary.started_at) this.summary.started_at = new Date(clock.now()).toISOString();
    this.summary.interrupted = this.options.signal?.aborted ?? false;
    this.summary.duration_ms = Math.round(performance.now() - started);
    const { error: _error, started_at: _started, ...counts } = this.summary;
    logger.info(counts, "tick");
    this.deps.trace.end(this.summary);
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
      // Payload bytes bound what is held too (large events × fan-out): claim when under it.
      const heavy = held > 0 && this.payloads.bytes >= settings.maxHeldBytes;
      // After an empty claim, claim again only when something could have changed (a
      // full webhook drained, a failing one recovered, an ordered head done, a pace), not on every finished request.
      if (this.exhausted || held > hold / 2 || heavy) {
        if (this.exhausted && held === 0 && this.paceTimer === null) return;
        await this.nap();
        continue;
      }
      const queueCap = this.queueCap();
      const mark = this.watch.mark();
      // As many as the bytes left may hold, at what a delivery has cost so far (large events × fan-out).
      const perDelivery = this.deliveriesRead > 0 ? this.bytesRead / this.deliveriesRead : 0;
      const byBytes = perDelivery > 0 ? Math.floor((settings.maxHeldBytes - this.payloads.bytes) / perDelivery) : Number.POSITIVE_INFINITY;
      const claiming = this.deps.trace.claim("due");
      const claim = await this.store("claim deliveries", async () => {
        await clock.sync();
        return claimDue(db, {
          ...this.claimBasis(),
          limit: Math.max(1, Math.min(settings.batchSize, hold - held, byBytes)),
          exclude: [...this.watch.down, ...this.full, ...this.sealedShut, ...[...this.load].filter(([, n]) => n >= queueCap).map(([id]) => id)],
          room: (webhookId, elsewhere) => (elsewhere === 0 ? queueCap : cap - elsewhere) - (this.load.get(webhookId) ?? 0),
          holding: [...this.load.keys()],
        });
      });
      claiming.end(claim?.deliveries.length ?? null);
      if (!claim) return;
      this.alone = claim.elsewhere.size === 0;
      this.elsewhere = claim.elsewhere;
      // Open as the claim saw it, unless its probe succeeded here meanwhile.
      this.watch.openedInClaim(claim.opened, mark);
      if (!(await this.readPayloads(claim.deliveries))) return;
      this.schedule(claim.deliveries);
      this.lanes.refreshLimits();
      for (const id of claim.full) this.full.add(id);
      this.shareBacklog(claim.deliveries);
      // Others wait on what this tick holds: records end leases, so write them sooner.
      if (claim.crowded.length > 0 || (claim.full.length > 0 && !this.alone)) this.recorder.hurry();
      if (claim.pacedUntil !== null) this.wakeAt(claim.pacedUntil);
      if (claim.deliveries.length > 0) this.lastTaken = clock.now();
      // Due work whose room other dispatchers hold: claim again shortly, as their records
      // free it, for a while; past that it is theirs, or the next tick's.
      if (claim.crowded.length > 0 && claim.deliveries.length === 0 && clock.now() - this.lastTaken < CROWDED_WAIT_MS) {
        this.exhausted = true;
        this.wakeAt(clock.now() + CROWDED_POLL_MS);
        continue;
      }
      // A probe that succeeded while this claim ran: its webhook's backlog is claimable now.
      if (claim.exhausted && !this.watch.recoveredSince(mark)) this.exhausted = true;
    }
  }

  private claimBasis() {
    return { owner: this.owner, cutoff: this.cutoff, now: this.deps.clock.now(), leaseMs: this.deps.settings.leaseSeconds * 1000 };
  }

  /**
   * Requests to one webhook a tick may hold: a webhook with a long queue (slow or
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

  /** Tell the lanes which webhooks have more due than held, so their customers keep their share meanwhile. */
  private shareBacklog(claimed: readonly ClaimedDelivery[]): void {
    for (const d of claimed) this.owners.set(d.webhook_id, { customerId: d.customer_id, weight: d.weight });
    const backlog = new Map<string, LaneOwner>();
    for (const id of this.full) {
      const owner = this.owners.get(id);
      if (owner && !this.watch.down.has(id)) backlog.set(id, owner);
    }
    this.lanes.setBacklog(backlog);
  }

  /** A rate-limited webhook left out for its pace: claim again when it may start. */
  private wakeAt(at: number): void {
    if (this.paceTimer) return;
    this.paceTimer = setTimeout(
      () => {
        this.paceTimer = null;
        this.exhausted = false;
        this.wake();
      },
      Math.max(0, at - this.deps.clock.now()),
    );
  }

  /**
   * Holds these deliveries' events and reads the payloads not here yet; false when the
   * store gave up (the deliveries are let go, left to their leases). Held first: a
   * payload here already stays while the read waits, whatever finishes meanwhile.
   */
  private async readPayloads(deliveries: readonly ClaimedDelivery[]): Promise<boolean> {
    for (const d of deliveries) this.payloads.hold(d.event_id);
    const missing = this.payloads.missing(deliveries.map((d) => d.event_id));
    if (missing.length > 0) {
      const read = await this.store("read payloads", () => loadPayloads(this.deps.db, missing));
      if (!read) {
        for (const d of deliveries) this.payloads.release(d.event_id);
        return false;
      }
      for (const [id, body] of read) {
        this.payloads.put(id, body);
        this.bytesRead += body.length;
      }
    }
    this.deliveriesRead += deliveries.length;
    return true;
  }

  /** Claimed deliveries → requests (batches of a webhook's deliveries in publish order), into the lanes or their pace. */
  private schedule(claimed: readonly ClaimedDelivery[]): void {
    const { units, batchOf } = unitsOf(claimed, this.deps.settings.maxBatchSize);
    for (const [id, size] of batchOf) this.batchOf.set(id, size);
    const now: Unit[] = [];
    for (const unit of units) {
      for (const d of unit.deliveries) {
        this.summary.claimed++;
        if (d.probe) this.summary.probes++;
        this.held++;
      }
      this.load.set(unit.webhookId, (this.load.get(unit.webhookId) ?? 0) + 1);
      const wait = unit.deliveries[0]!.not_before - this.deps.clock.now();
      if (wait <= 0 || this.stopped) now.push(unit);
      else {
        this.pace.hold(unit, wait);
        for (const o of this.deps.observers) o.paced?.(unit.deliveries.length);
      }
    }
    this.lanes.addAll(now);
  }

  private start(u: Unit): void {
    const round = this.watch.startRound(u.webhookId);
    this.deliver(u, round)
      .catch((err: unknown) => {
        // deliver() handles every request outcome; this is a bug guard, and the lease brings the rows back.
        this.deps.logger.error({ err: (err as Error).message, delivery: u.deliveries[0]!.id }, "unexpected error while delivering");
      })
      .finally(() => {
        const left = (this.load.get(u.webhookId) ?? 1) - 1;
        if (left > 0) this.load.set(u.webhookId, left);
        else this.load.delete(u.webhookId);
        for (const d of u.deliveries) this.payloads.release(d.event_id);
        this.held -= u.deliveries.length;
        // An ordered webhook's next head may be claimable now.
        if (u.deliveries[0]!.ordered === 1) this.exhausted = false;
        this.lanes.done(u);
        this.wake();
      });
  }

  private async deliver(u: Unit, round: number): Promise<void> {
    const { settings, clock } = this.deps;
    const first = u.deliveries[0]!;
    if (this.watch.down.has(u.webhookId)) return this.deferAll(u, "endpoint_backoff");
    const hook = this.settingsOf(u);
    if (!hook) return;
    // Backpressure: never run more than a batch ahead of what is recorded.
    await this.recorder.room();
    await this.pace.keepGap(u);
    // Never start a request that could outlive its lease: another dispatcher may
    // legitimately take the rows then.
    if (this.stopped || clock.now() + settings.timeoutMs + this.leaseMargin() > first.lease_expires_at) return this.deferAll(u);
    const bodies = u.deliveries.map((d) => this.payloads.get(d.event_id));
    if (bodies.some((b) => b === undefined)) return this.deferAll(u);
    const deadline = Date.now() + (first.lease_expires_at - clock.now() - this.leaseMargin());
    const span = this.deps.trace.attempt(u.webhookId, hook.url, u.deliveries);
    const ctx = { agents: this.deps.agents, tokens: this.deps.tokens, deadline, now: () => clock.now(), signal: this.cutShort.signal, trace: span.headers };
    const sending =
      u.deliveries.length === 1
        ? attemptDelivery(
            { webhookId: u.webhookId, eventId: first.event_id, deliveryId: first.id, topic: first.topic, body: bodies[0]!, attempts: first.attempts },
            hook,
            ctx,
          )
        : attemptBatch(
            u.webhookId,
            first.topic,
            u.deliveries.map((d, i) => ({ deliveryId: d.id, eventId: d.event_id, payload: bodies[i]!, attempts: d.attempts })),
            hook,
            ctx,
          );
    const outcome = await sending;
    // Cut off by shutdown: not an attempt. The receiver may have seen it; it will be sent again.
    if (outcome.error === "aborted") {
      span.end(outcome, null);
      return this.deferAll(u);
    }

    const now = clock.now();
    let judged: Judgement | null = null;
    for (const d of u.deliveries) {
      const j = judge(d, outcome, hook.policy, now);
      judged ??= j;
      for (const o of this.deps.observers) o.attempt?.(outcome, j.verdict);
      this.recorder.add(j.record, d.lease_expires_at);
      this.summary[j.verdict]++;
    }
    span.end(outcome, judged!.verdict);
    await this.watch.learn(first, judged!, round);
    // An ordered webhook's next head is claimable only once this one's state is written.
    if (first.ordered === 1) await this.recorder.flush();
    if (judged!.verdict !== "delivered") {
      this.deps.logger.warn(
        {
          webhook: u.webhookId,
          delivery: first.id,
          event: first.event_id,
          batch: u.deliveries.length > 1 ? u.deliveries.length : undefined,
          attempt: judged!.record.attempt.number,
          status: outcome.statusCode,
          error: outcome.error,
          message: outcome.errorMessage,
          next: judged!.verdict === "failed" ? "failed" : new Date(judged!.record.nextAttemptAt!).toISOString(),
        },
        "delivery attempt failed",
      );
    }
    this.progress();
  }

  /**
   * The claimed webhook's delivery settings, its secrets opened. When they cannot be (the key file lacks
   * their key id, or holds other key material under it) nothing is sent: an unsigned
   * request is never the fallback. The deliveries wait, their wait reason naming the key
   * id, spending no attempt; the webhook is left out of this tick's claims and logged
   * once; the next tick tries again, so the deliveries go once the key is back.
   */
  private settingsOf(u: Unit): DeliverySettings | null {
    try {
      return this.settingsMemo(u.webhookId, u.deliveries[0]!);
    } catch (err) {
      if (!(err instanceof SecretKeyError)) throw err;
      if (!this.sealedShut.has(u.webhookId)) {
        this.sealedShut.add(u.webhookId);
        this.deps.logger.error({ webhook: u.webhookId, key_id: err.keyId, code: err.code }, `not sending: ${err.message}`);
      }
      this.deferAll(u, err.reason);
      return null;
    }
  }

  private deferAll(u: Unit, reason?: string): void {
    for (const d of u.deliveries) this.defer(d, reason);
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
    // Requests waiting for their pace go to the lanes now, which hand them back unsent.
    this.pace.releaseAll();
    if (this.paceTimer) clearTimeout(this.paceTimer);
    this.paceTimer = null;
    this.graceTimer = setTimeout(() => {
      this.cutShort.abort();
      // Results the store cannot take now are left to their leases.
      this.recorder.abandon();
    }, this.deps.settings.shutdownGraceMs);
    this.graceTimer.unref();
    this.wake();
  };
}
