/** What tests check about deliveries after dispatchers ran. */
import type { Db } from "../../src/store/connect.js";

/** Deliveries by status, e.g. `{ delivered: 600 }`. */
export async function countByStatus(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom("deliveries")
    .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
    .groupBy("status")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
