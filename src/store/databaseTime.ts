/**
 * The database's own clock, in Unix milliseconds: what leases and due times are
 * compared with when several dispatchers on several machines share one store.
 */
import { sql } from "kysely";
import { dialectOf, type Db } from "./connect.js";

export async function readDatabaseTime(db: Db): Promise<number> {
  const expression =
    dialectOf(db) === "postgres"
      ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
      : // julianday has ~0.05 ms resolution here; 2440587.5 is the Unix epoch as a Julian day.
        sql<number>`cast(round((julianday('now') - 2440587.5) * 86400000) as integer)`;
  const { rows } = await sql<{ now: number | string }>`select ${expression} as now`.execute(db);
  return Number(rows[0]!.now);
}
