/**
 * How hookd authenticates to a receiver (`auth`): a static bearer token, or OAuth2
 * client credentials whose token hookd fetches itself. The rules for what a webhook
 * may store, and the split the store keeps: the public part (type, token URL, client
 * id, scope), shown on reads, and the secret (the token or the client secret), which
 * is stored sealed and never shown again.
 */
import type { SettingProblem } from "./settingProblem.js";

/** The URL policy for the token endpoint (domain/urlPolicy.ts, as for webhook URLs): the URL to store, or why not. */
export type UrlCheck = (url: string) => Promise<{ url: string } | { problem: string }>;

/** What reads show. */
export type AuthView = { type: "bearer" } | { type: "oauth2"; token_url: string; client_id: string; scope: string | null };

/** What a request needs: the view plus the secret, opened. */
export type ReceiverAuth =
  | { type: "bearer"; token: string }
  | { type: "oauth2"; tokenUrl: string; clientId: string; clientSecret: string; scope: string | null };

const MAX_TOKEN = 4096;
const MAX_CREDENTIAL = 1024;
/** Bearer tokens and scopes go into headers and form bodies: visible ASCII only (scope: space-separated). */
const VISIBLE = /^[\x21-\x7e]+$/;
const SCOPE = /^[\x21-\x7e]+( [\x21-\x7e]+)*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]|\p{Surrogate}/u;

const FIELDS = { bearer: ["type", "token"], oauth2: ["type", "token_url", "client_id", "client_secret", "scope"] } as const;

export interface CheckedAuth {
  view: AuthView;
  /** the bearer token or the OAuth2 client secret, to be sealed */
  secret: string;
}

/** Check an `auth` value (not null); `checkTokenUrl` applies the URL policy to the token endpoint. */
export async function checkAuth(value: unknown, checkTokenUrl: UrlCheck): Promise<{ auth: CheckedAuth } | { problems: SettingProblem[] }> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { problems: [{ field: "auth", message: 'must be {"type": "bearer", …} or {"type": "oauth2", …}, or null' }] };
  }
  const input = value as Record<string, unknown>;
  const type = input.type;
  if (type !== "bearer" && type !== "oauth2") return { problems: [{ field: "auth.type", message: "must be bearer or oauth2" }] };
  const problems: SettingProblem[] = Object.keys(input)
    .filter((k) => !(FIELDS[type] as readonly string[]).includes(k))
    .map((k) => ({ field: `auth.${k}`, message: `is not a field of ${type} auth; allowed: ${FIELDS[type].join(", ")}` }));

  if (type === "bearer") {
    const token = input.token;
    if (typeof token !== "string" || token.length > MAX_TOKEN || !VISIBLE.test(token)) {
      problems.push({ field: "auth.token", message: `is required: 1 to ${MAX_TOKEN} visible ASCII characters (no spaces)` });
    }
    return problems.length > 0 ? { problems } : { auth: { view: { type }, secret: token as string } };
  }

  let tokenUrl = "";
  if (typeof input.token_url !== "string" || input.token_url === "") {
    problems.push({ field: "auth.token_url", message: "is required: the OAuth2 token endpoint's URL" });
  } else {
    const checked = await checkTokenUrl(input.token_url);
    if ("problem" in checked) problems.push({ field: "auth.token_url", message: checked.problem });
    else tokenUrl = checked.url;
  }
  for (const field of ["client_id", "client_secret"] as const) {
    const v = input[field];
    if (typeof v !== "string" || v === "" || v.length > MAX_CREDENTIAL || CONTROL.test(v)) {
      problems.push({ field: `auth.${field}`, message: `is required: 1 to ${MAX_CREDENTIAL} characters, no control characters` });
    }
  }
  const scope = input.scope ?? null;
  if (scope !== null && (typeof scope !== "string" || scope.length > MAX_CREDENTIAL || !SCOPE.test(scope))) {
    problems.push({ field: "auth.scope", message: `must be space-separated scope names (visible ASCII, at most ${MAX_CREDENTIAL} characters), or left out` });
  }
  if (problems.length > 0) return { problems };
  return {
    auth: {
      view: { type, token_url: tokenUrl, client_id: input.client_id as string, scope: scope as string | null },
      secret: input.client_secret as string,
    },
  };
}

/** The `webhooks.auth` column (the view, JSON) → the view; null without auth. */
export function authViewOf(column: string | null): AuthView | null {
  return column ? (JSON.parse(column) as AuthView) : null;
}

/** What a request needs, from the view and the opened secret. */
export function receiverAuthOf(view: AuthView | null, secret: string | null): ReceiverAuth | null {
  if (!view || secret === null) return null;
  if (view.type === "bearer") return { type: "bearer", token: secret };
  return { type: "oauth2", tokenUrl: view.token_url, clientId: view.client_id, clientSecret: secret, scope: view.scope };
}
