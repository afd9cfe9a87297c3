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
import { generateSigningKey, publicKeyOf } from "../domain/signing.js";
import { dialectOf, writeTransaction, type Db } from "./connect.js";
import type { WebhookTable } from "./schema.js";
import { openStored, sealStored } from "./sealedColumns.js";

/** `whsec_` + 32 random bytes in base64, as Standard Webhooks libraries expect. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}
import { getWebhook, type WebhookWithSecret } from "./webhooks.js";

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
 * Rotate `id`'s signing material. Returns the updated row as stored and the new secret
 * in clear (null when the webhook has none): the caller shows it once. With
 * `signing: "ed25519"` the key pair is rotated too, under the same overlap rules (a new
 * `public_key`); its HMAC secret only when it has one or one is given. Read and write
 * happen in one transaction (the row locked on PostgreSQL), so two rotations at once
 * cannot lose one another's secret. Secrets that cannot be opened
 * (SecretKeyError) refuse the rotation; setting `hash_secret` outright (an update)
 * replaces them without reading them.
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
    const ed25519 = locked.signing === "ed25519";
    const changes: Partial<WebhookTable> = { updated_at: now };
    const rotatesHmac = !ed25519 || locked.hash_secret !== null || input.hash_secret !== undefined;
    if (rotatesHmac) {
      const current = openStored(keyring, locked.hash_secret);
      const previous = rotate({ current, previous: openStored(keyring, locked.previous_secrets), next: secret, overlapMs, now });
      Object.assign(changes, { hash_secret: keyring.seal(secret), previous_secrets: sealStored(keyring, previousColumn(previous)) });
    }
    if (ed25519) {
      const key = generateSigningKey();
      const current = openStored(keyring, locked.signing_key);
      const previous = rotate({ current, previous: openStored(keyring, locked.previous_signing_keys), next: key, overlapMs, now });
      Object.assign(changes, {
        signing_key: keyring.seal(key),
        previous_signing_keys: sealStored(keyring, previousColumn(previous)),
        public_key: publicKeyOf(key),
      });
    }
    await trx.updateTable("webhooks").set(changes).where("id", "=", hook.id).execute();
    return { row: { ...locked, ...changes }, secret: rotatesHmac ? secret : null };
  });
}

/** Columns of previous secrets a rotation keeps: HMAC secrets and Ed25519 keys alike. */
const PREVIOUS_COLUMNS = ["previous_secrets", "previous_signing_keys"] as const;

/** Delete previous secrets and keys that have expired (each tick does this); returns how many webhooks changed. */
export async function purgeExpiredSecrets(db: Db, keyring: Keyring, now = Date.now()): Promise<number> {
  let changed = 0;
  for (const column of PREVIOUS_COLUMNS) {
    // Only webhooks in an overlap have any: a handful of rows, filtered here rather than in SQL JSON.
    const rows = await db
      .selectFrom("webhooks")
      .select(["id", `${column} as stored`])
      .where(column, "is not", null)
      .execute();
    for (const row of rows) {
      let opened: string | null;
      try {
        opened = openStored(keyring, row.stored);
      } catch (err) {
        // Its deliveries already wait, saying why (dispatch/tick.ts).
        if (err instanceof SecretKeyError) continue;
        throw err;
      }
      const live = previousColumn(livePrevious(opened, now));
      if (live === opened) continue;
      // Compare-and-set: a rotation that just rewrote the column wins.
      const res = await db
        .updateTable("webhooks")
        .set({ [column]: sealStored(keyring, live) })
        .where("id", "=", row.id)
        .where(column, "=", row.stored)
        .executeTakeFirst();
      changed += Number(res.numUpdatedRows);
    }
  }
  return changed;
}
