/**
 * A tick's view of each webhook's endpoint: which are down (nothing more is sent to
 * them this tick), the breaker's memory as this tick's outcomes extend it, and its
 * rounds of requests. The rules are domain/breaker.ts's; this applies them to what a
 * tick sees and writes what they decide through the recorder, which every dispatcher's
 * claims read back.
 */
import type { Logger } from "pino";
import { remember, Rounds, tripReason, type BreakerMemory, type BreakerRules } from "../domain/breaker.js";
import type { ClaimedDelivery } from "../store/claimed.js";
import type { DispatchObserver } from "./observer.js";
import type { AttemptRecorder } from "./recorder.js";
import type { Judgement } from "./verdict.js";

export interface EndpointWatchDeps {
  rules: BreakerRules;
  recorder: AttemptRecorder;
  logger: Logger;
  observers: ReadonlySet<DispatchObserver>;
  /** send no more to this webhook for now (a round of which nothing answered yet), or again */
  hold(webhookId: string, held: boolean): void;
  /** a webhook recovered: its backlog is claimable again */
  recovered(): void;
}

export class EndpointWatch {
  /** webhooks whose breaker opened during this tick: nothing more is sent to them */
  private readonly downSet = new Set<string>();
  /** the breaker's memory of each webhook: the claim's shared memory, then this tick's outcomes */
  private readonly memory = new Map<string, BreakerMemory>();
  private readonly rounds = new Map<string, Rounds>();
  /** webhooks that recovered during this tick, so far: a claim under way may not have seen the last one */
  private recoveries = 0;
  /** per webhook, the value of `recoveries` its probe's success made */
  private readonly recoveredAt = new Map<string, number>();

  constructor(private readonly deps: EndpointWatchDeps) {}

  get down(): ReadonlySet<string> {
    return this.downSet;
  }

  /** A mark to pass to `openedInClaim`, taken before a claim starts. */
  mark(): number {
    return this.recoveries;
  }

  /** Whether a webhook recovered since `mark` (a claim that began before it saw it open). */
  recoveredSince(mark: number): boolean {
    return this.recoveries !== mark;
  }

  /** A claim begun at `mark` found these webhooks open: down, unless a probe of theirs succeeded here meanwhile. */
  openedInClaim(ids: readonly string[], mark: number): void {
    for (const id of ids) if ((this.recoveredAt.get(id) ?? -1) <= mark) this.openedElsewhere(id, null);
  }

  /** A request to the webhook starts: its round's number. */
  startRound(id: string): number {
    return this.roundsOf(id).start();
  }

  /** Act on what an attempt says about its webhook: a probe's result or 410 at once, the rest through the breaker. */
  async learn(d: ClaimedDelivery, judged: Judgement, round: number): Promise<void> {
    const { recorder, logger, rules } = this.deps;
    const change = judged.change;
    const id = d.webhook_id;
    if (change?.kind === "up") {
      this.memory.delete(id);
      recorder.changeHealth(change);
      logger.info({ webhook: id }, "webhook recovered");
      // Written now, so the next claim sees the webhook healthy and drains its backlog.
      await recorder.flush();
      this.recoveries++;
      this.recoveredAt.set(id, this.recoveries);
      // After the write: a claim that returned meanwhile saw it open and said so.
      this.downSet.delete(id);
      this.deps.recovered();
      return;
    }
    if (change) {
      // A probe's failure or 410: written whatever this tick knew (the claim reports a probed webhook as open).
      this.downSet.add(id);
      recorder.changeHealth(change);
      if (change.kind === "gone") logger.warn({ webhook: id }, "receiver answered 410 Gone: webhook disabled");
      return;
    }
    const failed = judged.endpoint === "failing";
    const memory = remember(this.memory.get(id) ?? { streak: d.failure_streak, recent: d.recent_outcomes }, failed, rules);
    this.memory.set(id, memory);
    recorder.remember(id, failed, judged.openUntil, judged.error);
    const rounds = this.roundsOf(id);
    const roundReason = rounds.finish(round, judged.unanswered);
    const reason = this.downSet.has(id) ? null : (tripReason(memory, rules) ?? roundReason);
    if (reason) {
      this.downSet.add(id);
      recorder.changeHealth({ kind: "down", webhookId: id, backoffUntil: judged.openUntil, error: judged.error ?? reason, probe: false, reason });
      logger.warn({ webhook: id, reason, until: new Date(judged.openUntil).toISOString() }, "circuit breaker opened: the webhook backs off");
      for (const o of this.deps.observers) o.breakerOpened?.(id, reason);
    }
    // Nobody answered while the rest of the round is still out: send no more to it until
    // the round tells whether the endpoint is down (else each timeout starts another).
    this.deps.hold(id, rounds.doubtful);
  }

  /** Another dispatcher (or the shared memory, as this tick's records were written) found the endpoint down. */
  openedElsewhere(id: string, reason: string | null): void {
    if (this.downSet.has(id)) return;
    this.downSet.add(id);
    this.deps.logger.info({ webhook: id, reason: reason ?? undefined }, "circuit breaker open: not sending to the webhook");
  }

  private roundsOf(id: string): Rounds {
    let r = this.rounds.get(id);
    if (!r) {
      r = new Rounds();
      this.rounds.set(id, r);
    }
    return r;
  }
}
