/**
 * STAND-IN for issue 23's secretBox (branch `secrets`), with the contract agreed for it:
 * a Keyring seals the secrets hookd stores and opens them to sign with. Until that
 * lands, the keyring in use is `plainKeyring`, which stores secrets as they are; every
 * secret this branch stores goes through `keyring.seal` / `keyring.open`
 * (store/sealedColumns.ts), so the real keyring replaces this file and nothing else.
 */
export interface Keyring {
  /** the id of the key that seals */
  readonly primaryId: string;
  /** every key id, in file order */
  readonly ids: readonly string[];
  seal(plaintext: string): string;
  open(sealed: string): string;
}

const SEALED_PREFIX = "hkd1:";

/** Whether `value` is sealed text. */
export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

/** Seals nothing: what this branch runs with until secrets at rest land. */
export function plainKeyring(): Keyring {
  return { primaryId: "plain", ids: ["plain"], seal: (plaintext) => plaintext, open: (sealed) => sealed };
}
