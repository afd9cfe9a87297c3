/**
 * The dispatcher: what lasts across ticks (HTTP agents, observers, the clock) and
 * the rule that ticks never overlap within a process. Each tick is its own object
 * (tick.ts).
 */
import type { Agents } from "got";
import type { Logger } from "pino";
import type { Db } from "../store/connect.js";
import { readDatabaseTime } from "../store/databaseTime.js";
import type { StoreHealth } from "../store/storeHealth.js";
import type { RetryPolicy } from "../domain/retryPolicy.js";
import type { Keyring } from "../domain/secretBox.js";
import { DatabaseClock, systemClock, type Clock, type TickClock } from "./clock.js";
import type { DispatchObserver } from "./observer.js";
import { OAuthTokens } from "./oauthTokens.js";
import { createAgents, destroyAgents, type AgentRules } from "./request.js";
import { Tick, type DispatchSettings, type TickOptions, type TickSummary } from "./tick.js";
import { UNTRACED, type Tracing } from "../telemetry/tracing.js";

export type { DispatchSettings, TickOptions, TickProgress, TickSummary } from "./tick.js";

export interface DispatcherOptions {
  /** named in error messages */
  storeLocation?: string;
  /** where ticks report store errors (an outage is logged there, once) */
  health?: StoreHealth;
  agentRules?: AgentRules;
  /** this machine's clock (default: the system clock); the tick corrects it to the database's */
  localClock?: Clock;
  /** replaces the database clock altogether (tests move time with a ManualClock) */
  clock?: TickClock;
  /** opens the webhooks' sealed secrets to sign with */
  keyring: Keyring;
  /** limits.maxAttempts (default: no bound beyond each webhook's own) */
  maxAttempts?: number;
  /** OpenTelemetry traces of ticks, claims and attempts; null or absent: none */
  tracing?: Tracing | null;
  /** telemetry.propagateToReceivers: requests carry their attempt span's traceparent (only while tracing is on) */
  propagateToReceivers?: boolean;
}

export class Dispatcher {
  private readonly agents: Agents;
  private readonly clock: TickClock;
  /** receivers' OAuth2 tokens: fetched once, used by every tick until they expire */
  private readonly tokens = new OAuthTokens();
  private running: Promise<TickSummary> | null = null;
  private readonly observers = new Set<DispatchObserver>();
  /** propagateToReceivers without tracing has been logged */
  private saidUntraced = false;

  constructor(
    private readonly db: Db,
    private readonly settings: DispatchSettings,
    private readonly policy: RetryPolicy,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions,
  ) {
    this.agents = createAgents(options.agentRules);
    this.clock = options.clock ?? new DatabaseClock(() => readDatabaseTime(db), options.localClock ?? systemClock);
  }

  /** Report attempts and ticks to `observer` (metrics); returns a function that stops it. */
  observe(observer: DispatchObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** One pass. Ticks never overlap: a call while one runs returns that one. */
  tick(options: TickOptions = {}): Promise<TickSummary> {
    if (!this.running) {
      const { tracing, propagateToReceivers = false } = this.options;
      if (propagateToReceivers && !tracing && !this.saidUntraced) {
        this.saidUntraced = true;
        this.logger.warn("telemetry.propagateToReceivers is on, but traces are off (no OTEL_* variable asks for them): requests carry no traceparent");
      }
      const tick = new Tick(
        {
          db: this.db,
          settings: this.settings,
          policy: this.policy,
          logger: this.logger,
          clock: this.clock,
          agents: this.agents,
          observers: this.observers,
          storeLocation: this.options.storeLocation ?? "store",
          keyring: this.options.keyring,
          tokens: this.tokens,
          maxAttempts: this.options.maxAttempts ?? Number.MAX_SAFE_INTEGER,
          health: this.options.health ?? null,
          trace: tracing ? tracing.tick(propagateToReceivers) : UNTRACED,
        },
        options,
      );
      this.running = tick.run().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  close(): void {
    destroyAgents(this.agents);
  }
}
