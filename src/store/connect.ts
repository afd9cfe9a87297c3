/**
 * Opening the store. This is the dialect corner: everything SQLite- or
 * PostgreSQL-specific about connections and transactions lives here.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type Transaction } from "kysely";
import pg from "pg";
import { HookdError } from "../errors.js";
import type { Database } from "./schema.js";

export type Dialect = "sqlite" | "postgres";
export type Db = Kysely<Database>;

export interface StoreOptions {
  url: string;
  busyTimeoutMs?: number;
  /** PostgreSQL only: the schema to use (tests give each file its own). */
  schema?: string;
}

export interface Store {
  readonly db: Db;
  readonly dialect: Dialect;
  /** Where the data lives, for messages (a file path or a URL without password). */
  readonly location: string;
  close(): Promise<void>;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

// bigint columns hold millisecond times, far below 2^53: read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export function openStore(options: StoreOptions): Store {
  if (isPostgresUrl(options.url)) return openPostgres(options);
  return openSqlite(options);
}

function openSqlite(options: StoreOptions): Store {
  const file = options.url.startsWith("file:") ? options.url.slice(5) : options.url;
  let sqlite: SQLite.Database;
  try {
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    sqlite = new SQLite(file, { timeout: options.busyTimeoutMs ?? 5000 });
    // WAL: readers never block the writer. FULL: a commit is on disk before we
    // acknowledge it, so an acknowledged event survives a power cut, not only a crash.
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = FULL");
    sqlite.pragma("foreign_keys = ON");
  } catch (err) {
    throw new HookdError("store_unavailable", `cannot open the SQLite database ${file}: ${(err as Error).message}`);
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
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

function openPostgres(options: StoreOptions): Store {
  const pool = new pg.Pool({ connectionString: options.url, max: 10 });
  if (options.schema) {
    const schema = options.schema;
    pool.on("connect", (client) => {
      void client.query(`set search_path to "${schema.replaceAll('"', "")}"`);
    });
  }
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const location = options.url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
  let closed = false;
  return {
    db,
    dialect: "postgres",
    location,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

export function dialectOf(db: Kysely<any>): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? "postgres" : "sqlite";
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
  if (dialectOf(db) === "postgres") return db.transaction().execute((trx: Transaction<Database>) => fn(trx));
  return db.connection().execute(async (conn) => {
    openSqliteTransactions.add(conn);
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => {});
      throw err;
    }
  });
}
