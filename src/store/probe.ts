/**
 * Can the store be read and written right now? For /healthz: a load balancer should
 * stop sending to a node whose database answers `select 1` but refuses its tables
 * (rights revoked, schema dropped) or its writes (read-only, locked past the busy
 * timeout). Changes nothing: the write is rolled back.
 */
import { writeTransaction, type Db } from "./connect.js";

const ROLLBACK = Symbol("rollback");

export async function probeStore(db: Db): Promise<void> {
  await db.selectFrom("customers").select("id").limit(1).execute();
  try {
    await writeTransaction(db, async (trx) => {
      await trx.insertInto("customers").values({ id: "hookd-health-probe", name: "health probe", created_at: 0 }).execute();
      throw ROLLBACK;
    });
  } catch (err) {
    if (err !== ROLLBACK) throw err;
  }
}
