/**
 * The store being away, as pure rules: which errors mean the database is unavailable
 * (rather than a bug in a query), how the store's health moves between up and down,
 * and the capped backoff every wait for the database uses. No I/O: errors and `now`
 * in, the next state and what to tell the operator out (storeHealth.ts does the telling).
 */
import { classifyPostgresError, NO_ANSWER, type PostgresFault } from "./postgresFaults.js";

/** SQLite result codes that say the file cannot be used (locked, read-only, full, gone), not that a query is wrong. */
export const SQLITE_FAULT = /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|CORRUPT|NOTADB)/;

/**
 * Why the store is unavailable: a PostgreSQL fault, or an SQLite result code family.
 * A statement cancelled by `statement_timeout` is not one: the server answered.
 */
export type OutageKind = Exclude<PostgresFault, "statement_timeout"> | `sqlite_${string}`;

export function outageOf(err: unknown): OutageKind | null {
  const fault = classifyPostgresError(err);
  if (fault) return fault === "statement_timeout" ? null : fault;
  const code = (err as { code?: unknown } | null)?.code;
  const family = typeof code === "string" ? SQLITE_FAULT.exec(code)?.[1] : undefined;
  return family ? `sqlite_${family.toLowerCase()}` : null;
}

/**
 * Outages that pass by themselves (a restart, a failover, a pause, a full pool, a
 * primary demoted to a standby while its address moves to the new one): worth
 * waiting out even where hookd otherwise stops, e.g. a migration cut off mid-way.
 * Wrong credentials, a missing database or missing rights need a person.
 */
export function passesByItself(kind: OutageKind): boolean {
  return kind === "unreachable" || kind === "shutting_down" || kind === "too_many_connections" || kind === "not_answering" || kind === "read_only";
}

/** The store did not answer within `ms`: a statement past its deadline, a health probe past its bound. */
export class NoAnswerError extends Error {
  readonly code = NO_ANSWER;
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "NoAnswerError";
  }
}

/** `attempt` (from 1) waits `firstMs`, doubling each time, never more than `capMs`. */
export function backoffMs(attempt: number, firstMs: number, capMs: number): number {
  return Math.min(capMs, firstMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
}

export interface StoreHealthState {
  readonly up: boolean;
  /** when the outage began (null while up) */
  readonly downSince: number | null;
  /** what the first failure of the outage was */
  readonly kind: OutageKind | null;
  /** probes that failed during this outage (they space out the next probe) */
  readonly failedProbes: number;
  /** when the last outage that was reported ended (null: none yet) */
  readonly backAt: number | null;
  /** this outage began within RELAPSE_MS of the last one's end: it is not reported again */
  readonly relapse: boolean;
}

export const HEALTHY: StoreHealthState = Object.freeze({ up: true, downSince: null, kind: null, failedProbes: 0, backAt: null, relapse: false });

/**
 * A database that keeps failing and recovering (a disk full enough to refuse big writes
 * but not the probe's small one) would otherwise log a warning every few probes: an
 * outage beginning this soon after the last one ended is the same episode, and is not
 * reported again (the health, /healthz and /metrics still show it).
 */
export const RELAPSE_MS = 60_000;

/** The next state, and what to say: "down" once when an outage begins, "back" once when it ends. */
export type HealthStep =
  | { state: StoreHealthState; say: null }
  | { state: StoreHealthState; say: "down" }
  | { state: StoreHealthState; say: "back"; downMs: number };

/** A store call failed with `kind`. Only the first failure of an outage is news, and not even that in a relapse. */
export function afterFailure(state: StoreHealthState, kind: OutageKind, now: number): HealthStep {
  if (!state.up) return { state, say: null };
  const relapse = state.backAt !== null && now - state.backAt < RELAPSE_MS;
  const next = { up: false, downSince: now, kind, failedProbes: 0, backAt: state.backAt, relapse };
  return relapse ? { state: next, say: null } : { state: next, say: "down" };
}

/**
 * A probe (read and write, rolled back) answered `ok`. Only a probe ends an outage: a
 * read that works while writes fail (a read-only disk, a held lock) is no recovery.
 */
export function afterProbe(state: StoreHealthState, ok: boolean, now: number): HealthStep {
  if (state.up) return { state, say: null };
  if (!ok) return { state: { ...state, failedProbes: state.failedProbes + 1 }, say: null };
  // A relapse ends quietly, and the episode's window runs from its first recovery.
  if (state.relapse) return { state: { ...HEALTHY, backAt: state.backAt }, say: null };
  return { state: { ...HEALTHY, backAt: now }, say: "back", downMs: now - (state.downSince ?? now) };
}

/** First probe soon after the failure, then spaced out: never more than this apart. */
export const PROBE_FIRST_MS = 200;
export const PROBE_CAP_MS = 2_000;

export function nextProbeInMs(state: StoreHealthState): number {
  return backoffMs(state.failedProbes + 1, PROBE_FIRST_MS, PROBE_CAP_MS);
}
