/**
 * The columns that hold secrets hookd must read back, stored sealed (domain/secretBox.ts)
 * and never in clear: the one list that rekey, `hookd migrate`'s encryption of old
 * plaintext rows, import's key check and the tests of the raw database bytes walk. A
 * new column holding such a secret is added here and nowhere else.
 */
import type { Kysely } from "kysely";
import { isSealed, sealedKeyId, type Keyring } from "../domain/secretBox.js";
import type { Db } from "./connect.js";
import { describeTable } from "./introspect.js";

export interface SealedColumn {
  table: string;
  column: string;
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: "webhooks", column: "hash_secret" },
  // The whole JSON text (domain/secrets.ts's `[{secret, expires_at}]`) is one sealed value.
  { table: "webhooks", column: "previous_secrets" },
  // Per-webhook delivery settings (migration 009): the bearer token or OAuth2 client
  // secret; the current Ed25519 secret key; the keys a rotation keeps (JSON, sealed whole).
  { table: "webhooks", column: "auth_secret" },
  { table: "webhooks", column: "signing_key" },
  { table: "webhooks", column: "previous_signing_keys" },
];

/** A secret as it is written: sealed under the keyring's first key (null stays null). */
export function sealStored(keyring: Keyring, plaintext: string | null): string | null {
  return plaintext === null ? null : keyring.seal(plaintext);
}

/**
 * A stored secret as plaintext. A value that is not sealed text is a row written
 * before secrets were sealed (until `hookd migrate` seals it) and is used as it is;
 * anything that starts like sealed text must open, or SecretKeyError says why.
 */
export function openStored(keyring: Keyring, stored: string | null): string | null {
  if (stored === null) return null;
  return isSealed(stored) ? keyring.open(stored) : stored;
}

export interface WebhookSecrets {
  /** the current secret (null: the webhook signs nothing) */
  secret: string | null;
  /** the previous secrets' JSON (domain/secrets.ts), or null */
  previousSecrets: string | null;
}

/**
 * What signs a webhook's requests, opened from its row (a claimed delivery, a webhook).
 * Throws SecretKeyError when a secret cannot be opened: the caller must then send
 * nothing rather than an unsigned request.
 */
export function openWebhookSecrets(keyring: Keyring, row: { hash_secret: string | null; previous_secrets: string | null }): WebhookSecrets {
  return { secret: openStored(keyring, row.hash_secret), previousSecrets: openStored(keyring, row.previous_secrets) };
}

/** How many stored secrets are sealed under each key id, and how many are still in clear. */
export interface KeyUsage {
  byKey: Record<string, number>;
  plaintext: number;
}

const PAGE = 500;

/** A page of a sealed column's non-null values, with each row's primary key (`keyColumn`). */
export interface SealedPage {
  keyColumn: string;
  rows: { key: unknown; value: string }[];
}

/** Every non-null value of a sealed column, a page at a time in primary-key order. */
export async function* sealedColumnValues(db: Kysely<any>, where: SealedColumn, pageSize = PAGE): AsyncGenerator<SealedPage> {
  const { columns, primaryKey } = await describeTable(db, where.table);
  // A database not migrated yet (`hookd migrate` looks before it migrates) holds nothing here.
  if (!columns.some((c) => c.name === where.column)) return;
  if (primaryKey.length !== 1) throw new Error(`${where.table} must have a one-column primary key to hold sealed secrets`);
  const keyColumn = primaryKey[0]!;
  let after: unknown = null;
  for (;;) {
    let q = db
      .selectFrom(where.table)
      .select([`${keyColumn} as key`, `${where.column} as value`])
      .where(where.column, "is not", null)
      .orderBy(keyColumn)
      .limit(pageSize);
    if (after !== null) q = q.where(keyColumn, ">", after);
    const rows = (await q.execute()) as { key: unknown; value: string }[];
    if (rows.length === 0) return;
    yield { keyColumn, rows };
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.key;
  }
}

/** Counts over every sealed column (a read of each: for status, migrate and rekey reports, not a hot path). */
export async function keyUsage(db: Db): Promise<KeyUsage> {
  const usage: KeyUsage = { byKey: {}, plaintext: 0 };
  for (const where of SEALED_COLUMNS) {
    for await (const page of sealedColumnValues(db, where)) {
      for (const { value } of page.rows) {
        if (!isSealed(value)) usage.plaintext++;
        else {
          const id = sealedKeyId(value) ?? "(malformed)";
          usage.byKey[id] = (usage.byKey[id] ?? 0) + 1;
        }
      }
    }
  }
  return usage;
}
