/**
 * A webhook's signing secrets over time (pure): the current one, and the previous ones
 * a rotation keeps valid for an overlap so receivers can switch without a failed
 * verification.
 *
 * The rule (README "Rotating a secret"):
 * - A rotation makes the new secret current; the old current one stays valid until
 *   `now + overlap`. Earlier previous secrets keep their own expiry, cut to that same
 *   time if it is sooner: a rotation never lengthens an old secret's life, and
 *   `overlap 0` retires every previous secret at once.
 * - At most MAX_VALID_SECRETS are valid at once (the current and two previous): one
 *   rotation during an overlap is fine (a new secret lost before it was saved, or
 *   replaced at once); a third within the overlap is refused rather than silently
 *   retiring a secret some receiver may still hold.
 * - `webhook-signature` carries one entry per valid secret, newest first.
 * - `X-Signature` carries only one signature, so it stays on the OLDEST valid secret:
 *   a seed-003 receiver that has done nothing yet keeps verifying for the whole
 *   overlap, and has until `previous_secret_expires_at` to accept the new secret too.
 */
import { HookdError } from "../errors.js";

export const MAX_VALID_SECRETS = 3;

export interface PreviousSecret {
  secret: string;
  /** Unix ms; the secret no longer signs from this moment on */
  expires_at: number;
}

/** The `webhooks.previous_secrets` column (JSON, newest first) → the entries still valid at `now`. */
export function livePrevious(column: string | null, now: number): PreviousSecret[] {
  if (!column) return [];
  const parsed = JSON.parse(column) as PreviousSecret[];
  return parsed.filter((p) => p.expires_at > now);
}

export function previousColumn(previous: readonly PreviousSecret[]): string | null {
  return previous.length === 0 ? null : JSON.stringify(previous);
}

/** Every secret that signs at `now`, newest first; none without a current secret. */
export function validSecrets(current: string | null, previous: string | null, now: number): string[] {
  if (!current) return [];
  return [current, ...livePrevious(previous, now).map((p) => p.secret)];
}

/** When the last previous secret stops signing, or null when none is valid. */
export function previousExpiresAt(previous: string | null, now: number): number | null {
  const live = livePrevious(previous, now);
  return live.length === 0 ? null : Math.max(...live.map((p) => p.expires_at));
}

export interface RotationInput {
  current: string | null;
  previous: string | null;
  next: string;
  overlapMs: number;
  now: number;
}

/** The previous secrets after a rotation to `next` (newest first), or a conflict naming what to do. */
export function rotate(input: RotationInput): PreviousSecret[] {
  const { current, next, overlapMs, now } = input;
  const live = livePrevious(input.previous, now);
  if (next === current || live.some((p) => p.secret === next)) {
    throw new HookdError("validation_failed", "hash_secret: must differ from the webhook's valid secrets", [
      { field: "hash_secret", message: "must differ from the webhook's valid secrets" },
    ]);
  }
  if (overlapMs <= 0) return [];
  const until = now + overlapMs;
  const kept = live.map((p) => ({ secret: p.secret, expires_at: Math.min(p.expires_at, until) }));
  const previous = current ? [{ secret: current, expires_at: until }, ...kept] : kept;
  if (previous.length + 1 > MAX_VALID_SECRETS) {
    const soonest = new Date(Math.min(...live.map((p) => p.expires_at))).toISOString();
    throw new HookdError(
      "conflict",
      `at most ${MAX_VALID_SECRETS} secrets may be valid at once and this webhook already has ${live.length + 1} ` +
        `until ${soonest}: rotate again after that, or with an overlap of 0 to retire every previous secret now`,
    );
  }
  return previous;
}
