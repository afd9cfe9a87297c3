/**
 * Secret rotation in the store: make a new secret current while the previous ones
 * stay valid for an overlap (the rule is in domain/secrets.ts), and delete previous
 * secrets once they have expired.
 */
import { randomBytes } from "node:crypto";
import { validationError, type ErrorDetail } from "../errors.js";
import { livePrevious, previousColumn, rotate } from "../domain/secrets.js";
import { SecretKeyError, type Keyring } from "../domain/secretBox.js";
import { secretProblem } from "../domain/signature.js";
import { dialectOf, writeTransaction, type Db } from "./connect.js";
import { openStored, openWebhookSecrets, sealStored } from "./sealedColumns.js";
import type { WebhookWithSecret } from "./webhooks.js";

/** `whsec_` + 32 random bytes in base64, as Standard Webhooks libraries expect. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}
import { getWebhook } from "./webhooks.js";

/** The longest overlap accepted: a month is plenty to update every receiver. */
export const MAX_OVERLAP_SECONDS = 30 * 86_400;

export interface RotateInput {
  hash_secret?: unknown;
  overlap_seconds?: unknown;
}

function checkRotateInput(input: RotateInput, defaultOverlapSeconds: number): { secret: string; overlapMs: number } {
  const details: ErrorDetail[] = [];
  let secret = generateSecret();
  if (input.hash_secret !== undefined) {
    if (typeof input.hash_secret !== "string" || input.hash_secret === "" || input.hash_secret.length > 512) {
      details.push({ field: "hash_secret", message: "must be a non-empty string of at most 512 characters" });
    } else {
      const problem = secretProblem(input.hash_secret);
      if (problem) details.push({ field: "hash_secret", message: problem });
      else secret = input.hash_secret;
    }
  }
  let overlap = defaultOverlapSeconds;
  if (input.overlap_seconds !== undefined) {
    const o = input.overlap_seconds;
    if (typeof o !== "number" || !Number.isInteger(o) || o < 0 || o > MAX_OVERLAP_SECONDS) {
      details.push({ field: "overlap_seconds", message: `must be an integer from 0 to ${MAX_OVERLAP_SECONDS}` });
    } else overlap = o;
  }
  if (details.length > 0) throw validationError(details);
  return { secret, overlapMs: overlap * 1000 };
}

/**
 * Rotate `id`'s secret. Returns the updated row as stored (sealed) and the new secret
 * in clear: the caller shows it once. Read and write happen in one transaction (the
 * row locked on PostgreSQL), so two rotations at once cannot lose one another's
 * secret. Secrets that cannot be opened (SecretKeyError) refuse the rotation; setting
 * `hash_secret` outright (an update) replaces them without reading them.
 */
export async function rotateSecret(
  db: Db,
  keyring: Keyring,
  id: string,
  customerId: string | null,
  input: RotateInput,
  defaultOverlapSeconds: number,
  now = Date.now(),
): Promise<WebhookWithSecret> {
  const { secret, overlapMs } = checkRotateInput(input, defaultOverlapSeconds);
  // The row as this transaction left it: read again afterwards, it could carry a
  // concurrent rotation's secret instead of the one this caller must be shown.
  return writeTransaction(db, async (trx) => {
    const hook = await getWebhook(trx, id, customerId);
    const locked =
      dialectOf(trx) === "postgres" ? await trx.selectFrom("webhooks").selectAll().where("id", "=", hook.id).forUpdate().executeTakeFirstOrThrow() : hook;
    const opened = openWebhookSecrets(keyring, locked);
    const previous = rotate({ current: opened.secret, previous: opened.previousSecrets, next: secret, overlapMs, now });
    const changes = { hash_secret: keyring.seal(secret), previous_secrets: sealStored(keyring, previousColumn(previous)), updated_at: now };
    await trx.updateTable("webhooks").set(changes).where("id", "=", hook.id).execute();
    return { row: { ...locked, ...changes }, secret };
  });
}

/**
 * Delete previous secrets that have expired (each tick does this); returns how many
 * webhooks changed. A webhook whose secrets cannot be opened is left as it is: its
 * deliveries already wait, saying why (dispatch/tick.ts).
 */
export async function purgeExpiredSecrets(db: Db, keyring: Keyring, now = Date.now()): Promise<number> {
  // Only webhooks in an overlap have any: a handful of rows, filtered here rather than in SQL JSON.
  const rows = await db.selectFrom("webhooks").select(["id", "previous_secrets"]).where("previous_secrets", "is not", null).execute();
  let changed = 0;
  for (const row of rows) {
    let opened: string | null;
    try {
      opened = openStored(keyring, row.previous_secrets);
    } catch (err) {
      if (err instanceof SecretKeyError) continue;
      throw err;
    }
    const live = previousColumn(livePrevious(opened, now));
    if (live === opened) continue;
    const column = sealStored(keyring, live);
    // Compare-and-set: a rotation that just rewrote the column wins.
    const res = await db
      .updateTable("webhooks")
      .set({ previous_secrets: column })
      .where("id", "=", row.id)
      .where("previous_secrets", "=", row.previous_secrets)
      .executeTakeFirst();
    changed += Number(res.numUpdatedRows);
  }
  return changed;
}
