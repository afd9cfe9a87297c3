import { randomUUID } from "node:crypto";
import { validationError } from "../errors.js";
import type { Db } from "./connect.js";
import type { CustomerTable } from "./schema.js";

export async function createCustomer(db: Db, name: string, now = Date.now()): Promise<CustomerTable> {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 200) {
    throw validationError([{ field: "name", message: "must be 1 to 200 characters" }]);
  }
  const row: CustomerTable = { id: randomUUID(), name: trimmed, created_at: now };
  await db.insertInto("customers").values(row).execute();
  return row;
}

export async function getCustomer(db: Db, id: string): Promise<CustomerTable | undefined> {
  return db.selectFrom("customers").selectAll().where("id", "=", id).executeTakeFirst();
}
