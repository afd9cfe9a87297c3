/**
 * pg's Pool as Kysely sees it, with what a process that must outlive its database needs:
 *
 * - Every client listens for 'error' for as long as it lives. pg's pool listens only
 *   while a client is idle; a client checked out (a transaction, a claim, the migration
 *   lock) whose server goes away emits 'error' with nobody listening, and Node ends the
 *   process (issue 27: every dispatcher died on `pg_ctl restart -m fast`). The query in
 *   progress fails with the error anyway, and pg's pool discards the broken client when
 *   it comes back.
 * - Every statement has a deadline, db.statementTimeoutMs plus a margin. The server's
 *   own timeout cancels a slow statement first; a paused or cut-off server cannot, and a
 *   query on it would wait forever (TCP keeps a silent connection open). Past the
 *   deadline the query fails as `not_answering` and the client is discarded, so the
 *   next one dials anew (after a failover, whatever the address now points at).
 *   Migrations run without one (`withoutDeadline`), as they run without a statement timeout.
 *
 * Types only from pg: it is loaded by connect.ts, and only for postgres:// URLs.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from "kysely";
import type pg from "pg";
import { NoAnswerError } from "./outage.js";

/** Set while a caller runs statements that may legitimately take longer than any deadline. */
const unbounded = new AsyncLocalStorage<true>();

/** Run `fn` with no client-side deadline on its statements (migrations: an index build may take minutes). */
export function withoutDeadline<T>(fn: () => Promise<T>): Promise<T> {
  return unbounded.run(true, fn);
}

/** How long a statement may go unanswered: the server's timeout plus as much again (at most 5 s more); none without one. */
export function statementDeadlineMs(statementTimeoutMs: number): number | null {
  return statementTimeoutMs > 0 ? statementTimeoutMs + Math.min(statementTimeoutMs, 5_000) : null;
}

export function guardedPool(pool: pg.Pool, deadlineMs: number | null): PostgresPool {
  // An idle client whose server went away: the pool has already dropped it and makes a new one on demand.
  pool.on("error", () => {});
  // A checked-out client's error also fails its query in progress, which its caller handles.
  pool.on("connect", (client) => client.on("error", () => {}));
  const guarded = new WeakMap<pg.PoolClient, GuardedClient>();
  return {
    async connect() {
      const client = await pool.connect();
      let g = guarded.get(client);
      if (!g) {
        g = new GuardedClient(client, deadlineMs);
        guarded.set(client, g);
      }
      return g;
    },
    end: () => pool.end(),
  };
}

class GuardedClient implements PostgresPoolClient {
  /** set once a statement went unanswered: the connection is given up */
  private broken: Error | null = null;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly deadlineMs: number | null,
  ) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(text: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // Kysely streams only with a cursor configured; hookd configures none.
    if (typeof text !== "string") return (this.client as unknown as { query(c: PostgresCursor<R>): PostgresCursor<R> }).query(text);
    if (this.broken) return Promise.reject(this.broken);
    const running = this.client.query(text, parameters as unknown[]) as unknown as Promise<PostgresQueryResult<R>>;
    const deadline = this.deadlineMs;
    if (deadline === null || unbounded.getStore()) return running;
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        this.broken = new NoAnswerError(deadline);
        reject(this.broken);
      }, deadline);
      timer.unref();
      // Once the deadline has passed, what the query does later (it fails when the pool ends the connection) is nobody's business.
      running.then(
        (result) => {
          clearTimeout(timer);
          if (!settled) resolve(result);
        },
        (err: unknown) => {
          clearTimeout(timer);
          if (!settled) reject(err);
        },
      );
    });
  }

  /** Back to the pool; a client given up is passed with its error, so the pool ends it instead of reusing it. */
  release(): void {
    const broken = this.broken;
    this.broken = null;
    this.client.release(broken ?? undefined);
  }
}
