import { randomUUID } from "node:crypto";
import { validationError } from "../errors.js";
import type { Db } from "./connect.js";
import type { CustomerTable } from "./schema.js";

/** The most a customer's weight may be: its share against a customer of weight 1. */
export const MAX_WEIGHT = 1000;

export async function createCustomer(db: Db, name: string, now = Date.now(), weight = 1): Promise<CustomerTable> {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 200) {
    throw validationError([{ field: "name", message: "must be 1 to 200 characters" }]);
  }
  checkWeight(weight);
  const row: CustomerTable = { id: randomUUID(), name: trimmed, weight, created_at: now };
  await db.insertInto("customers").values(row).execute();
  return row;
}

export async function getCustomer(db: Db, id: string): Promise<CustomerTable | undefined> {
  return db.selectFrom("customers").selectAll().where("id", "=", id).executeTakeFirst();
}

function checkWeight(weight: number): void {
  if (!Number.isInteger(weight) || weight < 1 || weight > MAX_WEIGHT) {
    throw validationError([{ field: "weight", message: `must be an integer from 1 to ${MAX_WEIGHT}` }]);
  }
}

/** A customer's share of a tick's slots against others with due work; false when there is no such customer. */
export async function setCustomerWeight(db: Db, id: string, weight: number): Promise<boolean> {
  checkWeight(weight);
  const { numUpdatedRows } = await db.updateTable("customers").set({ weight }).where("id", "=", id).executeTakeFirst();
  return numUpdatedRows > 0n;
}
