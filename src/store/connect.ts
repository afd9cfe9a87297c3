/**
 * Opening the store. This is the dialect corner: everything SQLite- or
 * PostgreSQL-specific about connections and transactions lives here.
 */
import { accessSync, constants, existsSync, mkdirSync, statfsSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import SQLite from "better-sqlite3";
import {
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
  sql,
  CompiledQuery,
  type DatabaseConnection,
  type QueryResult,
  type Transaction,
} from "kysely";
import { isPostgresUrl, sqliteFileOf } from "../config/databaseUrl.js";
import { HookdError } from "../errors.js";
import { classifyPostgresError, describePostgresFault } from "./postgresFaults.js";
import { guardedPool, statementDeadlineMs } from "./postgresPool.js";
import type { Database } from "./schema.js";
import type { BoundQuery } from "./boundQuery.js";
import { sqliteRuntimeProblem } from "./sqliteRuntime.js";
import { reusingStatements, runCompiled, type OwnSqliteDatabase } from "./statementCache.js";
import { ReadCache, readCacheOf } from "./readCache.js";
import { readNotices } from "./readNotices.js";

export type Dialect = "sqlite" | "postgres";
export type Db = Kysely<Database>;

export interface StoreOptions {
  url: string;
  /** SQLite: how long to wait for another process's write lock. */
  busyTimeoutMs?: number;
  /** PostgreSQL: connections in this process's pool (default 10). */
  poolSize?: number;
  /** PostgreSQL: the server cancels a statement running longer (0: no limit; default 30000). */
  statementTimeoutMs?: number;
  /** PostgreSQL: give up on a connection attempt after this long (default 10000). */
  connectTimeoutMs?: number;
  /**
   * SQLite: create the file (and its folder) when missing (default true). Commands
   * other than `migrate` and `serve` pass false, so a mistyped path is an error
   * instead of a new empty database.
   */
  create?: boolean;
}

export interface Store {
  readonly db: Db;
  readonly dialect: Dialect;
  /** Where the data lives, for messages (a file path or a URL without password). */
  readonly location: string;
  close(): Promise<void>;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  if (isPostgresUrl(options.url)) return openPostgres(options);
  return openSqlite(options);
}

/** Loads the SQLite addon when it is not on disk beside better-sqlite3 (the single binary carries its own). */
let addonLoader: (() => object) | null = null;
let addon: object | null = null;

export function useSqliteAddon(load: () => object): void {
  addonLoader = load;
  addon = null;
}

function sqliteAddon(): { nativeBinding?: string } {
  if (!addonLoader) return {};
  addon ??= addonLoader();
  // better-sqlite3 accepts the loaded addon object here; its type declarations only admit a path.
  return { nativeBinding: addon as unknown as string };
}

/** How long, outside a write transaction, the read cache trusts its last look at data_version. */
const RECHECK_MS = 1;

function openSqlite(options: StoreOptions): Store {
  const runtimeProblem = sqliteRuntimeProblem(process.versions.node);
  if (runtimeProblem) throw new HookdError("config_invalid", runtimeProblem);
  const file = sqliteFileOf(options.url);
  const create = options.create !== false;
  const busyMs = options.busyTimeoutMs ?? 5000;
  if (!create && file !== ":memory:" && !existsSync(file)) {
    throw new HookdError(
      "store_unavailable",
      `there is no database at ${path.resolve(file)}: check HOOKD_DB / db.url (only \`hookd migrate\` and \`hookd serve\` create a new one)`,
    );
  }
  let sqlite: SQLite.Database;
  try {
    if (create && file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    sqlite = new SQLite(file, { timeout: busyMs, fileMustExist: !create, ...sqliteAddon() });
    // WAL: readers never block the writer. FULL: a commit is on disk before we
    // acknowledge it, so an acknowledged event survives a power cut, not only a crash.
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = FULL");
    sqlite.pragma("foreign_keys = ON");
    // 4 MB of page cache, not better-sqlite3's 16 MB: the pages a tick or an insert
    // touches most (the right edges of the indexes, each webhook's pending rows) fit in
    // it, and a page it misses is a read from the OS's cache. The other 12 MB were a
    // tenth of a tick's peak RSS; a tick over 500,000 due may pay a few percent for them
    // (ten alternated pairs: 0.93x the rate at the median, inside the noise). README,
    // "Peak RSS under 150 MB".
    sqlite.pragma("cache_size = -4000");
  } catch (err) {
    throw explainStoreError(err, file) ?? new HookdError("store_unavailable", `cannot open the SQLite database ${file}: ${(err as Error).message}`);
  }
  const database = reusingStatements(sqlite);
  // Another connection's commit moves data_version: what the cache holds may be stale (readCache.ts).
  const dataVersion = sqlite.prepare("pragma data_version").pluck();
  let seen: unknown = dataVersion.get();
  let checkedAt = Number.NEGATIVE_INFINITY;
  const cache = new ReadCache((c) => {
    // Inside a write transaction the check is exact and cheap (the lock is held). Outside,
    // it opens and closes a read transaction (3-15 µs, 8% of ingest's time when made
    // for every request's API key), so it is made at most once a millisecond: a change
    // another process commits is seen by requests from a millisecond later on.
    if (!sqlite.inTransaction) {
      const at = performance.now();
      if (at - checkedAt < RECHECK_MS) return true;
      checkedAt = at;
    }
    const now = dataVersion.get();
    if (now !== seen) {
      seen = now;
      c.changed();
    }
    return true;
  });
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({
      database,
      onCreateConnection: async (connection) => {
        ownSqliteConnections.set(connection, database);
      },
    }),
    plugins: [cache],
  });
  busyTimeouts.set(db.getExecutor().adapter, busyMs);
  let closed = false;
  return {
    db,
    dialect: "sqlite",
    location: file,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/** pg is loaded only when a postgres:// URL is used: SQLite users never pay for it. */
async function openPostgres(options: StoreOptions): Promise<Store> {
  const { default: pg } = await import("pg");
  // bigint columns hold millisecond times, far below 2^53: read them as numbers. Set
  // on this pool only: pg's global parsers belong to the application hosting the library.
  const int8 = pg.types.builtins.INT8;
  const types = {
    getTypeParser: ((oid: number, format?: "text" | "binary") =>
      oid === int8 && format !== "binary" ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
  // A schema other than public: ?options=-c%20search_path%3Dmyschema in the URL; TLS: ?sslmode=verify-full.
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    statement_timeout: options.statementTimeoutMs || undefined,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types,
  });
  // Other processes' changes to cached rows arrive as notices (readNotices.ts).
  const notices = readNotices(pg.Client, {
    connectionString: options.url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // Named, so an operator (or a test) can tell it from the pool's connections in pg_stat_activity.
    application_name: `hookd reads ${process.pid}`,
  });
  // No error from a connection may crash the process, and no statement may wait forever (postgresPool.ts).
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: guardedPool(pool, statementDeadlineMs(options.statementTimeoutMs ?? 0)) }),
    plugins: [new ReadCache((c) => notices.listening(c))],
  });
  const location = withoutPassword(options.url);
  let closed = false;
  return {
    db,
    dialect: "postgres",
    location,
    async close() {
      if (closed) return;
      closed = true;
      await notices.close();
      await db.destroy();
    },
  };
}

/** A postgres:// URL fit for messages and logs: the password, in the userinfo or as a parameter, removed. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    u.password = "";
    // Rewritten only when present: serialising the parameters would re-encode the others.
    if (u.searchParams.has("password")) u.searchParams.delete("password");
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1@");
  }
}

export function dialectOf(db: Kysely<any>): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? "postgres" : "sqlite";
}

/** Kysely's connection object for each SQLite database this module opened, and the database under it. */
const ownSqliteConnections = new WeakMap<DatabaseConnection, OwnSqliteDatabase>();

/** Statements run one after another, each receiving the result of the one before; returns the outcome. */
export type Steps<T> = Generator<BoundQuery, T, QueryResult<unknown>>;

/**
 * Run `steps` on `trx` (a transaction or connection handle). On a SQLite connection
 * hookd opened, all of them run at once, inside one turn of the connection (better-
 * sqlite3 is synchronous, and Kysely's promise layers around each query cost more than
 * a small insert); the handle is checked once, as Kysely checks it before each query
 * (a committed transaction refuses), and nothing else can reach the connection in
 * between. On PostgreSQL and on an application's own Kysely connection (transactional
 * outbox) each statement goes through `trx.executeQuery` as usual.
 */
export async function runSteps<T>(trx: Kysely<Database>, steps: Steps<T>): Promise<T> {
  if (dialectOf(trx) === "sqlite") {
    const ran = await trx.getExecutor().provideConnection(async (connection) => {
      const database = ownSqliteConnections.get(connection);
      if (!database) return null;
      let step = steps.next();
      while (!step.done) step = steps.next(runCompiled(database, step.value));
      return { value: step.value };
    });
    if (ran) return ran.value;
  }
  let step = steps.next();
  while (!step.done) step = steps.next(await trx.executeQuery(CompiledQuery.raw(step.value.sql, step.value.parameters)));
  return step.value;
}

/** What group commit reads around each piece of work in a transaction (groupCommit.ts). */
export interface WriteProgress {
  /** SQLite's total_changes(): rows inserted, updated or deleted so far on the connection */
  changes(): number;
  /** false once SQLite has ended the transaction itself (it does on some errors: disk full, out of memory) */
  inTransaction(): boolean;
}

/** Synchronous readers of `conn`'s connection, when it is a SQLite one hookd opened; null otherwise. */
export async function writeProgressOf(conn: Kysely<Database>): Promise<WriteProgress | null> {
  if (dialectOf(conn) !== "sqlite") return null;
  return conn.getExecutor().provideConnection(async (connection) => {
    const database = ownSqliteConnections.get(connection);
    if (!database) return null;
    const total = database.prepare("select total_changes() as n");
    return {
      changes: () => (total.all([])[0] as { n: number }).n,
      inTransaction: () => database.inTransaction,
    };
  });
}

/** Connection-scoped handles inside our BEGIN IMMEDIATE (Kysely does not mark them as transactions). */
const openSqliteTransactions = new WeakSet<Kysely<Database>>();

/**
 * Run `fn` in a write transaction. On SQLite it is BEGIN IMMEDIATE: taking the write
 * lock up front means the busy timeout applies, instead of a read-then-write upgrade
 * failing at once with SQLITE_BUSY when another process wrote in between. Inside an
 * existing transaction (the library's transactional outbox) it just runs there.
 */
export async function writeTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction || openSqliteTransactions.has(db)) return fn(db);
  if (dialectOf(db) === "postgres") {
    return db
      .transaction()
      .execute((trx: Transaction<Database>) => fn(trx))
      .catch((err: unknown) => {
        // It may have changed cached rows, and read them back into the cache, before rolling back.
        readCacheOf(db)?.changed();
        throw err;
      });
  }
  return db.connection().execute(async (conn) => {
    openSqliteTransactions.add(conn);
    await beginImmediate(conn, busyTimeouts.get(db.getExecutor().adapter));
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => {});
      // It may have changed cached rows, and read them back into the cache, before rolling back.
      readCacheOf(db)?.changed();
      throw err;
    }
  });
}

/** db.busyTimeoutMs of each SQLite store, by its Kysely adapter (shared by its connections). */
const busyTimeouts = new WeakMap<object, number>();

/**
 * BEGIN IMMEDIATE, waiting up to `busyMs` for another process's write lock in steps of
 * 1 to 4 ms with the event loop free. SQLite's own busy handler would sleep inside the
 * call, in steps growing to 100 ms: the process stalls meanwhile (no request served),
 * and a lock freed early in a long step is seen late, which made the tail of publish
 * latency beside a dispatcher in another process (bench section 6).
 */
async function beginImmediate(conn: Kysely<Database>, busyMs: number | undefined): Promise<void> {
  if (busyMs === undefined || busyMs <= 0) {
    await sql`begin immediate`.execute(conn);
    return;
  }
  await sql`pragma busy_timeout = 0`.execute(conn);
  try {
    const deadline = performance.now() + busyMs;
    for (let step = 1; ; step = Math.min(step * 2, 4)) {
      try {
        await sql`begin immediate`.execute(conn);
        return;
      } catch (err) {
        if (!String((err as { code?: unknown }).code ?? "").startsWith("SQLITE_BUSY") || performance.now() >= deadline) throw err;
      }
      await sleep(Math.min(step, Math.max(0, deadline - performance.now())));
    }
  } finally {
    await sql.raw(`pragma busy_timeout = ${Math.floor(busyMs)}`).execute(conn);
  }
}

/**
 * A database failure in words a person can act on, or null if `err` is not one.
 * Disk full and read-only are told apart from other I/O errors by looking at the disk.
 */
export function explainStoreError(err: unknown, location: string): HookdError | null {
  if (err instanceof HookdError) return null;
  if (isPostgresUrl(location)) {
    const fault = classifyPostgresError(err);
    return fault && new HookdError("store_unavailable", describePostgresFault(fault, err, location));
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !code.startsWith("SQLITE_")) return null;
  const say = (message: string) => new HookdError("store_unavailable", message);
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return say(`the database ${location} is locked by another process; nothing was changed, try again (or raise db.busyTimeoutMs)`);
  }
  if (code.startsWith("SQLITE_READONLY") || (code.startsWith("SQLITE_CANTOPEN") && !writable(location))) {
    return say(`the database ${location} is read-only: hookd needs write access to the file and its folder; nothing was changed`);
  }
  if (code === "SQLITE_FULL" || (code.startsWith("SQLITE_IOERR") && diskIsFull(location))) {
    return say(`the disk holding the database ${location} is full; nothing was changed: free some space and try again`);
  }
  if (code.startsWith("SQLITE_CANTOPEN")) return say(`cannot open the database ${location}: check the path and its permissions`);
  return say(`database error on ${location}: ${(err as Error).message} (${code})`);
}

function writable(location: string): boolean {
  const file = path.resolve(location);
  try {
    accessSync(existsSync(file) ? file : path.dirname(file), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function diskIsFull(location: string): boolean {
  try {
    const s = statfsSync(path.dirname(path.resolve(location)));
    return s.bavail === 0;
  } catch {
    return false;
  }
}
