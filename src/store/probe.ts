/**
 * Can the store be read and written right now? For /healthz, and for the store's
 * health while it is down: a load balancer should stop sending to a node whose database
 * answers `select 1` but refuses its tables (rights revoked, schema dropped) or its
 * writes (read-only, full, locked past the busy timeout, a standby). Changes nothing.
 */
import { sql } from "kysely";
import { dialectOf, writeTransaction, type Db } from "./connect.js";

const ROLLBACK = Symbol("rollback");
const PROBE_ROW = { id: "hookd-health-probe", name: "health probe", weight: 1, created_at: 0 };

export interface ProbeOptions {
  /**
   * The store is known to be down and this asks whether it is back (storeHealth.ts). On
   * SQLite it then fails at once on another process's write lock instead of waiting
   * db.busyTimeoutMs, which better-sqlite3 does synchronously: a probe repeated during
   * the outage would freeze the process for that long each time.
   */
  recovering?: boolean;
}

export async function probeStore(db: Db, options: ProbeOptions = {}): Promise<void> {
  await db.selectFrom("customers").select("id").limit(1).execute();
  if (dialectOf(db) === "sqlite") return sqliteWrite(db, options.recovering ?? false);
  // PostgreSQL checks rights, read-only transactions and locks as the row goes in.
  try {
    await writeTransaction(db, async (trx) => {
      await trx.insertInto("customers").values(PROBE_ROW).execute();
      throw ROLLBACK;
    });
  } catch (err) {
    if (err !== ROLLBACK) throw err;
  }
}

/**
 * SQLite writes nothing to disk before a commit, so a write rolled back cannot tell a
 * read-only or full disk from a good one: commit a row inserted and deleted in the same
 * transaction (one small WAL append).
 */
async function sqliteWrite(db: Db, impatient: boolean): Promise<void> {
  const write = (conn: Db) =>
    writeTransaction(conn, async (trx) => {
      await trx.insertInto("customers").values(PROBE_ROW).execute();
      await trx.deleteFrom("customers").where("id", "=", PROBE_ROW.id).execute();
    });
  if (!impatient) return write(db);
  await db.connection().execute(async (conn) => {
    const { rows } = await sql<{ timeout: number }>`pragma busy_timeout`.execute(conn);
    const timeout = Number(rows[0]?.timeout ?? 0);
    await sql`pragma busy_timeout = 0`.execute(conn);
    try {
      await write(conn);
    } finally {
      await sql.raw(`pragma busy_timeout = ${timeout}`).execute(conn);
    }
  });
}
