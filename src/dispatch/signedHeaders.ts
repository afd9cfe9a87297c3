/**
 * The headers of a delivery request, single or batched (pure): hookd's own, the
 * webhook's own (`headers`), `Authorization` from its `auth`, and the signatures.
 *
 * Signatures, for every secret and key valid at the time of sending:
 * - `X-Signature`: hex HMAC of the body under the OLDEST valid `hash_secret`
 *   (domain/secrets.ts says why); absent without one.
 * - `webhook-signature`: with `signing: "ed25519"`, one `v1a,` entry per valid key
 *   pair, newest first; then, when the webhook has a `hash_secret`, one `v1,` entry per
 *   valid secret, newest first, so a receiver checking `v1` keeps working when a
 *   webhook moves to Ed25519. Absent (with `webhook-id` and `webhook-timestamp`) when
 *   nothing signs.
 */
import { VERSION } from "../version.js";
import { validSecrets } from "../domain/secrets.js";
import { sign, standardSignatureHeader } from "../domain/signature.js";
import { signEd25519 } from "../domain/signing.js";

/** What signs a webhook's requests, opened; previous ones as their JSON columns (domain/secrets.ts). */
export interface RequestSigning {
  secret: string | null;
  /** the webhook's `previous_secrets`: secrets a rotation keeps valid for a while */
  previousSecrets?: string | null;
  /** `signing: "ed25519"`: the current secret key (`whsk_…`); null or absent for hmac */
  signingKey?: string | null;
  /** keys a rotation keeps valid, as `previous_signing_keys` */
  previousSigningKeys?: string | null;
}

/** What every request of a webhook carries besides its body and ids. */
export interface RequestCommon extends RequestSigning {
  url: string;
  webhookId: string;
  topic: string;
  attemptNumber: number;
  /** the webhook's own headers (`headers`), names already checked */
  headers?: Readonly<Record<string, string>>;
  /** the `Authorization` value (from `auth`), set by dispatch/receiverAuth.ts */
  authorization?: string | null;
  /** `traceparent` (and `tracestate`) of the attempt's span, with telemetry.propagateToReceivers */
  trace?: Readonly<Record<string, string>>;
}

export interface RequestIdentity {
  /** `X-Event-Id` and `X-Delivery-Id`, or for a batch `X-Batch-Size`, `X-Event-Ids` and `X-Delivery-Ids` */
  ids: Readonly<Record<string, string>>;
  /** `webhook-id`: the event's id, or the batch's */
  standardId: string;
}

export function requestHeaders(common: RequestCommon, identity: RequestIdentity, body: Buffer, nowMs: number): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  const headers: Record<string, string> = {
    ...common.headers,
    "content-type": "application/json",
    "user-agent": `hookd/${VERSION}`,
    "x-webhook-id": common.webhookId,
    ...identity.ids,
    "x-topic": common.topic,
    "x-attempt-number": String(common.attemptNumber),
    "x-timestamp": String(timestamp),
  };
  if (common.authorization) headers.authorization = common.authorization;
  // Webhooks' own headers may not use these names (domain/headers.ts), so nothing is overwritten.
  if (common.trace) Object.assign(headers, common.trace);
  const secrets = validSecrets(common.secret, common.previousSecrets ?? null, nowMs);
  const keys = validSecrets(common.signingKey ?? null, common.previousSigningKeys ?? null, nowMs);
  // One X-Signature only: the oldest valid secret, which every seed-003 receiver still accepts until the overlap ends.
  if (secrets.length > 0) headers["x-signature"] = sign(secrets[secrets.length - 1]!, body);
  if (secrets.length === 0 && keys.length === 0) return headers;
  const entries = keys.map((k) => signEd25519(k, identity.standardId, timestamp, body));
  if (secrets.length > 0) entries.push(standardSignatureHeader(secrets, identity.standardId, timestamp, body));
  headers["webhook-id"] = identity.standardId;
  headers["webhook-timestamp"] = String(timestamp);
  headers["webhook-signature"] = entries.join(" ");
  return headers;
}
