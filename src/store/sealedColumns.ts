/**
 * The columns that hold secrets hookd must read back, stored sealed
 * (domain/secretBox.ts): the one list that rekey, migration and export checks walk. A
 * new column holding such a secret is added here and nowhere else.
 */
import { isSealed, type Keyring } from "../domain/secretBox.js";

export interface SealedColumn {
  table: string;
  column: string;
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: "webhooks", column: "hash_secret" },
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

/** A stored secret as plaintext; a value written before secrets were sealed is used as it is. */
export function openStored(keyring: Keyring, stored: string | null): string | null {
  if (stored === null) return null;
  return isSealed(stored) ? keyring.open(stored) : stored;
}
