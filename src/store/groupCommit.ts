/**
 * Group commit: concurrent writers share one SQLite transaction and one fsync.
 *
 * With `synchronous=FULL` every commit waits for the disk, and better-sqlite3 waits on
 * the event loop, so one transaction per request caps ingest at the disk's fsync rate.
 * Here work that arrives while a commit is under way queues, and the next turn of the
 * event loop runs the whole queue in one BEGIN IMMEDIATE … COMMIT. A piece of work that
 * throws (bad input, a missing customer) fails alone: only its caller sees the error,
 * and none of its writes are committed. Every caller's promise settles after the COMMIT
 * that holds its writes, never before: acknowledged still means on disk.
 *
 * No savepoints on the way there: SQLite copies every page a savepoint's writes touch to
 * a temporary file first, which made each publish's inserts (16 index pages) cost 3.5×
 * as much (bench section 3). Work that throws before writing anything (the checks that
 * refuse bad input all run first) needs no undoing. Only when one throws after writing
 * does the batch start again, each piece in its own savepoint (total_changes() tells).
 * (A transaction SQLite ended itself, on disk full say, starts again the same way and
 * fails as a whole there.)
 *
 * On PostgreSQL each piece of work runs as it comes: the pool runs statements
 * concurrently, and publishes made at the same moment already share one statement and
 * one commit (publishBatch.ts).
 */
import { CompiledQuery } from "kysely";
import { dialectOf, writeProgressOf, writeTransaction, type Db } from "./connect.js";
import { observePublishBatches } from "./publishBatch.js";

export type Work<T> = (trx: Db) => Promise<T>;

export interface GroupCommit {
  /** Run `work`: on SQLite in a write transaction shared with concurrent callers; resolves once committed. */
  run<T>(work: Work<T>): Promise<T>;
}

interface Job {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/** Enough to amortise the fsync; bounded so one batch cannot hold the write lock for long. */
const MAX_BATCH = 256;

// Compiled once: they run twice per piece of work when a batch runs in savepoints.
const SAVEPOINT = CompiledQuery.raw("savepoint grouped");
const RELEASE = CompiledQuery.raw("release grouped");
const ROLLBACK_TO = CompiledQuery.raw("rollback to grouped");

/** `committed(n)`: a commit held n pieces of work (for the ingest metrics). */
export function groupCommit(db: Db, committed: (n: number) => void = () => {}): GroupCommit {
  if (dialectOf(db) === "postgres") {
    // Each piece of work as it comes; the publish statements report how many events each committed.
    observePublishBatches(db, committed);
    return { run: (work) => work(db) };
  }

  let queue: Job[] = [];
  let pending = false;

  // setImmediate, not a microtask: requests whose bytes arrived during the last commit
  // are read in this turn's poll phase and join the batch before it starts.
  const schedule = () => {
    if (pending) return;
    pending = true;
    setImmediate(() => void flush());
  };

  const flush = async () => {
    const jobs = queue.slice(0, MAX_BATCH);
    queue = queue.slice(jobs.length);
    try {
      const outcomes = await commitTogether(db, jobs);
      committed(jobs.length);
      for (const [i, o] of outcomes.entries()) {
        if (o.ok) jobs[i]!.resolve(o.value);
        else jobs[i]!.reject(o.err);
      }
    } catch (err) {
      // The transaction itself failed (busy, disk full): nothing in it was committed.
      for (const job of jobs) job.reject(err);
    } finally {
      pending = false;
      if (queue.length > 0) schedule();
    }
  };

  return {
    run<T>(work: Work<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
        schedule();
      });
    },
  };
}

/** One transaction for all `jobs`; the outcomes hold only once this resolves (committed). */
async function commitTogether(db: Db, jobs: readonly Job[]): Promise<Outcome[]> {
  if (jobs.length === 1) {
    // Alone: its own transaction, exactly as without group commit.
    try {
      return [{ ok: true, value: await writeTransaction(db, jobs[0]!.work) }];
    } catch (err) {
      return [{ ok: false, err }];
    }
  }
  try {
    return await writeTransaction(db, (trx) => runEach(trx, jobs));
  } catch (err) {
    if (!(err instanceof NeedsSavepoints)) throw err;
  }
  // Rolled back: again, each piece in a savepoint of its own.
  return writeTransaction(db, (trx) => runEachInSavepoint(trx, jobs));
}

/** A piece of work threw after writing (or SQLite ended the transaction): the others' writes cannot be kept without its. */
class NeedsSavepoints extends Error {}

/** Each job in turn, no savepoints; throws NeedsSavepoints (rolling the transaction back) if one fails after writing. */
async function runEach(trx: Db, jobs: readonly Job[]): Promise<Outcome[]> {
  const progress = await writeProgressOf(trx);
  if (!progress) return runEachInSavepoint(trx, jobs);
  const outcomes: Outcome[] = [];
  for (const job of jobs) {
    const before = progress.changes();
    try {
      outcomes.push({ ok: true, value: await job.work(trx) });
    } catch (err) {
      if (!progress.inTransaction() || progress.changes() !== before) throw new NeedsSavepoints();
      outcomes.push({ ok: false, err });
    }
  }
  return outcomes;
}

async function runEachInSavepoint(trx: Db, jobs: readonly Job[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const job of jobs) {
    await trx.executeQuery(SAVEPOINT);
    try {
      const value = await job.work(trx);
      await trx.executeQuery(RELEASE);
      outcomes.push({ ok: true, value });
    } catch (err) {
      // If even this fails, the transaction is unusable: the batch fails as a whole.
      await trx.executeQuery(ROLLBACK_TO);
      await trx.executeQuery(RELEASE);
      outcomes.push({ ok: false, err });
    }
  }
  return outcomes;
}
