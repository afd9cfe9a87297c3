/**
 * A webhook's delivery settings as a request needs them: ONE type, made by ONE
 * function from the webhook's columns (a claimed delivery's row, or the webhook
 * itself for a test send), with its secrets opened and the configured defaults and
 * bounds applied. Whatever sends to a webhook (a tick's single or batched requests, the
 * API's test send) takes this and nothing else from the row.
 */
import type { RetryPolicy } from "../domain/retryPolicy.js";
import { authViewOf, receiverAuthOf, type ReceiverAuth } from "../domain/receiverAuth.js";
import { headersOf } from "../domain/headers.js";
import { policyFor, timeoutFor } from "../domain/retrySettings.js";
import type { Keyring } from "../domain/secretBox.js";
import type { SigningScheme } from "../domain/signing.js";
import type { WebhookTable } from "../store/schema.js";
import { openStored } from "../store/sealedColumns.js";
import { WEBHOOK_SETTINGS } from "../store/claimed.js";
import type { RequestSigning } from "./signedHeaders.js";

/** The webhook columns the settings are made from (loadClaimed selects them all). */
const SETTINGS_COLUMNS = ["url", "hash_secret", "previous_secrets", ...WEBHOOK_SETTINGS] as const;

export type SettingsColumns = Pick<WebhookTable, (typeof SETTINGS_COLUMNS)[number]>;

export interface DeliverySettings {
  url: string;
  /** secrets and keys that sign, opened */
  signing: RequestSigning & { scheme: SigningScheme };
  /** the webhook's own headers */
  headers: Readonly<Record<string, string>>;
  auth: ReceiverAuth | null;
  /** the whole-request timeout: the webhook's, never past dispatch.timeoutMs */
  timeoutMs: number;
  /** the retry policy its deliveries run by */
  policy: RetryPolicy;
  /** what the tick's scheduling reads: pacing, strict order, batching */
  flow: { rateLimit: number | null; ordered: boolean; batchSize: number };
}

/** What the settings fall back to and are bounded by: the configuration, and the keyring that opens secrets. */
export interface SettingsBase {
  timeoutMs: number;
  policy: RetryPolicy;
  /** limits.maxAttempts */
  maxAttempts: number;
  /** dispatch.maxBatchSize */
  maxBatchSize: number;
  keyring: Keyring;
}

/** Throws what the keyring throws when a secret cannot be opened: the caller must then send nothing. */
export function deliverySettingsOf(row: SettingsColumns, base: SettingsBase): DeliverySettings {
  const open = (v: string | null) => openStored(base.keyring, v);
  return {
    url: row.url,
    signing: {
      scheme: row.signing,
      secret: open(row.hash_secret),
      previousSecrets: open(row.previous_secrets),
      signingKey: row.signing === "ed25519" ? open(row.signing_key) : null,
      previousSigningKeys: row.signing === "ed25519" ? open(row.previous_signing_keys) : null,
    },
    headers: headersOf(row.headers),
    auth: receiverAuthOf(authViewOf(row.auth), open(row.auth_secret)),
    timeoutMs: timeoutFor(base.timeoutMs, row.timeout_ms),
    policy: policyFor(base.policy, row, base),
    flow: { rateLimit: row.rate_limit, ordered: row.ordered === 1, batchSize: Math.min(row.batch_size, base.maxBatchSize) },
  };
}

/**
 * deliverySettingsOf, made once per webhook for as long as its columns stay the same (a
 * tick's claims carry each webhook's columns with every delivery). Opening its secrets
 * (AES-GCM) and parsing its JSON columns cost more per request than signing it: about
 * 20 µs, where the whole request costs a few hundred. A change (a rotation, a PATCH
 * seen by a later claim) makes them again; a secret that cannot be opened throws every
 * time, as deliverySettingsOf does.
 */
export function settingsMemo(base: SettingsBase): (webhookId: string, row: SettingsColumns) => DeliverySettings {
  const made = new Map<string, { row: SettingsColumns; settings: DeliverySettings }>();
  return (webhookId, row) => {
    const kept = made.get(webhookId);
    if (kept && SETTINGS_COLUMNS.every((c) => kept.row[c] === row[c])) return kept.settings;
    const settings = deliverySettingsOf(row, base);
    made.set(webhookId, { row, settings });
    return settings;
  };
}
