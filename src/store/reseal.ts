/**
 * Sealing stored secrets again: `hookd secrets rekey` moves every one under the key
 * file's first key; `hookd migrate` seals the ones still in clear from before secrets
 * were sealed. Both walk SEALED_COLUMNS in small transactions while `hookd serve` keeps
 * running on any number of nodes:
 * - each write is conditional on the value being the one read, so a concurrent
 *   rotate-secret or update is never overwritten (the row is simply looked at again);
 * - a value is replaced by the same secret sealed anew, and every node's key file still
 *   holds the old key, so a delivery claimed with the old value still signs.
 */
import type { Kysely } from "kysely";
import { isSealed, SecretKeyError, sealedKeyId, type Keyring } from "../domain/secretBox.js";
import { writeTransaction, type Db } from "./connect.js";
import { openStored, SEALED_COLUMNS, sealedColumnValues, type SealedColumn } from "./sealedColumns.js";

/** Rows per transaction: short enough that a tick or a publish never waits long behind one. */
export const RESEAL_BATCH = 100;
/** Passes over a column while rows keep changing under it. */
const PASSES = 3;

export interface ResealReport {
  /** the key everything is sealed under now */
  key: string;
  /** values sealed anew */
  resealed: number;
  /** of those, values that were in clear */
  fromPlaintext: number;
  /** values that could not be opened, by key id: left as they are */
  unreadable: Record<string, number>;
}

/**
 * `"rekey"`: every value not under the first key (plaintext included) is sealed under
 * it. `"plaintext"`: only values in clear are sealed; sealed ones are left alone.
 */
export async function resealSecrets(db: Db, keyring: Keyring, mode: "rekey" | "plaintext", batchSize = RESEAL_BATCH): Promise<ResealReport> {
  const report: ResealReport = { key: keyring.primaryId, resealed: 0, fromPlaintext: 0, unreadable: {} };
  for (const where of SEALED_COLUMNS) {
    for (let pass = 1; pass <= PASSES; pass++) {
      const unreadable: Record<string, number> = {};
      const raced = await resealColumn(db, keyring, where, mode, batchSize, report, unreadable);
      // What could not be opened is counted on the last pass over the column only.
      if (raced === 0 || pass === PASSES) {
        for (const [id, n] of Object.entries(unreadable)) report.unreadable[id] = (report.unreadable[id] ?? 0) + n;
        break;
      }
    }
  }
  return report;
}

/** One pass over a column; returns how many rows changed under it (to be looked at again). */
async function resealColumn(
  db: Db,
  keyring: Keyring,
  where: SealedColumn,
  mode: "rekey" | "plaintext",
  batchSize: number,
  report: ResealReport,
  unreadable: Record<string, number>,
): Promise<number> {
  let raced = 0;
  for await (const page of sealedColumnValues(db, where, batchSize)) {
    const changes: { key: unknown; from: string; to: string; plain: boolean }[] = [];
    for (const { key, value } of page.rows) {
      const sealed = isSealed(value);
      if (sealed && (mode === "plaintext" || sealedKeyId(value) === keyring.primaryId)) continue;
      try {
        changes.push({ key, from: value, to: keyring.seal(openStored(keyring, value)!), plain: !sealed });
      } catch (err) {
        if (!(err instanceof SecretKeyError)) throw err;
        unreadable[err.keyId] = (unreadable[err.keyId] ?? 0) + 1;
      }
    }
    if (changes.length === 0) continue;
    await writeTransaction(db, async (trx) => {
      for (const change of changes) {
        const res = await (trx as Kysely<any>)
          .updateTable(where.table)
          .set({ [where.column]: change.to })
          .where(page.keyColumn, "=", change.key)
          .where(where.column, "=", change.from)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) {
          raced++;
          continue;
        }
        report.resealed++;
        if (change.plain) report.fromPlaintext++;
      }
    });
  }
  return raced;
}
