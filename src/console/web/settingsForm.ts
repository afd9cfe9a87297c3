/**
 * A webhook's delivery settings in the create and edit forms (SPEC "Per-webhook
 * delivery settings"): each field the API takes, shown with its current value. Secrets
 * (a bearer token, an OAuth2 client secret) are write-only: the form says one is set,
 * never shows it, and an empty field keeps it. An edit sends only what differs from
 * the webhook as it is, so a value the person did not touch is never sent back; a new
 * webhook sends what was filled in (an empty field is the default, left to the API).
 */
import { ApiError, type ErrorDetail } from "./api.js";
import { copyButton, h } from "./dom.js";
import type { FieldErrors } from "./fieldErrors.js";
import type { Webhook } from "./types.js";

type Settings = Pick<
  Webhook,
  "headers" | "timeout_ms" | "max_attempts" | "retry_delays_seconds" | "rate_limit" | "filter" | "ordered" | "batch_size" | "signing"
>;

export interface SettingsForm {
  /** the settings' fieldsets, in a disclosure (open when `open`) */
  element: HTMLElement;
  /** the settings to send; throws an ApiError naming the field for text that cannot be read (a header line, JSON) */
  body(): Record<string, unknown>;
}

/** Nothing filled in: no value, unticked, or no entries. */
const blank = (v: unknown) => v === null || v === false || (typeof v === "object" && Object.keys(v as object).length === 0);

const numberInput = (name: string, value: number | null | undefined, step = "1") =>
  h("input", { name, type: "number", step, inputmode: step === "1" ? "numeric" : "decimal", value: value ?? "" });

/** The number in a field, or null when it is empty (the default). */
const numberOf = (input: HTMLInputElement) => (input.value.trim() === "" ? null : Number(input.value));

/** `Name: value` a line, as the CLI's --header takes them. */
function headersText(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join("\n");
}

function parseHeaders(text: string, problems: ErrorDetail[]): Record<string, string> {
  const headers: Record<string, string> = {};
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const colon = line.indexOf(":");
    if (colon < 0) problems.push({ field: "headers", message: `line ${i + 1} has no colon: write each header as Name: value` });
    else {
      const name = line.slice(0, colon).trim();
      // An object holds a name once: say so rather than keep only the last line.
      if (name in headers) problems.push({ field: `headers.${name}`, message: "is given twice" });
      headers[name] = line.slice(colon + 1).trim();
    }
  });
  return headers;
}

function parseFilter(text: string, problems: ErrorDetail[]): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    problems.push({ field: "filter", message: `is not valid JSON (${(err as Error).message})` });
    return null;
  }
}

/** Delays as numbers; a word that is not a number goes as it is, for the API to name. */
function parseDelays(text: string): (number | string)[] | null {
  const words = text.split(/[\s,]+/).filter((w) => w !== "");
  if (words.length === 0) return null;
  return words.map((w) => (Number.isFinite(Number(w)) ? Number(w) : w));
}

const secretHint = (what: string, set: boolean, extra = "") =>
  set ? `A ${what} is set; hookd never shows it. Leave this empty to keep it${extra}.` : `Stored encrypted and never shown again.`;

export function settingsForm(errors: FieldErrors, current: Webhook | null, open: boolean): SettingsForm {
  const auth = current?.auth ?? null;
  const oauth = auth?.type === "oauth2" ? auth : null;
  const rows = (text: string) => Math.min(12, Math.max(3, text.split("\n").length));

  const headerLines = headersText(current?.headers ?? {});
  const headers = h("textarea", { name: "headers", rows: rows(headerLines), spellcheck: false, placeholder: "X-Tenant: acme" }, headerLines);
  const timeout = numberInput("timeout_ms", current?.timeout_ms);
  const maxAttempts = numberInput("max_attempts", current?.max_attempts);
  const delays = h("input", {
    name: "retry_delays_seconds",
    inputmode: "numeric",
    placeholder: "60, 300, 3600",
    value: current?.retry_delays_seconds?.join(", ") ?? "",
  });
  const rate = numberInput("rate_limit", current?.rate_limit, "any");
  const batch = numberInput("batch_size", current?.batch_size ?? 1);
  const ordered = h("input", { name: "ordered", type: "checkbox", checked: current?.ordered ?? false });
  const filterText = current?.filter ? JSON.stringify(current.filter, null, 2) : "";
  const filter = h("textarea", { name: "filter", rows: rows(filterText), spellcheck: false, placeholder: '{"status": "paid"}' }, filterText);
  const signing = h(
    "select",
    { name: "signing" },
    h("option", { value: "hmac", selected: current?.signing === "hmac" }, "HMAC-SHA256 (X-Signature and v1)"),
    h("option", { value: "ed25519", selected: current?.signing === "ed25519" }, "Ed25519 (v1a, a key pair hookd makes)"),
  );

  const authType = h(
    "select",
    { name: "auth_type" },
    h("option", { value: "none", selected: !auth }, "None"),
    h("option", { value: "bearer", selected: auth?.type === "bearer" }, "Bearer"),
    h("option", { value: "oauth2", selected: !!oauth }, "OAuth2 client credentials"),
  );
  /** Write-only: never given a value; when one is stored, the placeholder says so. */
  const secretInput = (name: string, set: boolean) =>
    h("input", { name, type: "password", autocomplete: "new-password", spellcheck: false, placeholder: set ? "set (hidden): leave empty to keep it" : null });
  const token = secretInput("auth_token", auth?.type === "bearer");
  const tokenUrl = h("input", { name: "auth_token_url", type: "url", placeholder: "https://auth.example.com/oauth/token", value: oauth?.token_url ?? "" });
  const clientId = h("input", { name: "auth_client_id", autocomplete: "off", value: oauth?.client_id ?? "" });
  const clientSecret = secretInput("auth_client_secret", !!oauth);
  const scope = h("input", { name: "auth_scope", autocomplete: "off", value: oauth?.scope ?? "" });
  const bearerPart = h("div", {}, errors.field("auth.token", "Bearer token", token, secretHint("token", auth?.type === "bearer")));
  const oauthPart = h(
    "div",
    {},
    errors.field("auth.token_url", "Token URL", tokenUrl),
    errors.field("auth.client_id", "Client ID", clientId),
    errors.field(
      "auth.client_secret",
      "Client secret",
      clientSecret,
      secretHint("client secret", !!oauth, "; changing the other OAuth2 fields needs it again"),
    ),
    errors.field("auth.scope", "Scope", scope, "Optional: space-separated."),
  );
  const showAuth = () => {
    bearerPart.hidden = authType.value !== "bearer";
    oauthPart.hidden = authType.value !== "oauth2";
  };
  authType.addEventListener("change", showAuth);
  showAuth();

  /** The `auth` to send, or undefined to keep it as it is (nothing changed, no new secret). */
  const authValue = (): unknown => {
    if (authType.value === "none") return auth ? null : undefined;
    if (authType.value === "bearer") return token.value === "" && auth?.type === "bearer" ? undefined : { type: "bearer", token: token.value };
    const view = { token_url: tokenUrl.value.trim(), client_id: clientId.value, scope: scope.value.trim() || null };
    const same = oauth && view.token_url === oauth.token_url && view.client_id === oauth.client_id && view.scope === oauth.scope;
    if (clientSecret.value === "" && same) return undefined;
    const { scope: s, ...rest } = view;
    return { type: "oauth2", ...rest, ...(clientSecret.value === "" ? {} : { client_secret: clientSecret.value }), ...(s === null ? {} : { scope: s }) };
  };

  const publicKey = current?.public_key
    ? h(
        "p",
        {},
        "Public key (receivers verify with it): ",
        h("code", { class: "secret" }, current.public_key),
        " ",
        copyButton("Copy public key", () => current.public_key ?? ""),
      )
    : null;

  const element = h(
    "details",
    { class: "settings", open },
    h("summary", {}, "Delivery settings"),
    h(
      "fieldset",
      {},
      h("legend", {}, "Requests"),
      errors.field(
        "headers",
        "Custom headers",
        headers,
        "One a line, Name: value. Added to every request; shown on reads, so put credentials in Receiver auth.",
      ),
      errors.field("timeout_ms", "Timeout (ms)", timeout, "The whole request. Empty: the configured dispatch.timeoutMs, which is also the most allowed."),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Receiver auth"),
      errors.field("auth", "Authentication", authType, "The Authorization header hookd sends to the receiver."),
      bearerPart,
      oauthPart,
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Retries"),
      errors.field("max_attempts", "Max attempts", maxAttempts, "Empty: the configured retry.maxAttempts."),
      errors.field(
        "retry_delays_seconds",
        "Retry delays (seconds)",
        delays,
        "The wait after attempt 1, 2, …; the last repeats. Empty: the configured schedule.",
      ),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Flow"),
      errors.field("rate_limit", "Rate limit (per second)", rate, "Deliveries started per second, e.g. 0.5 for one every 2 s. Empty: no limit."),
      errors.field("ordered", "Ordered: one at a time, in publish order", ordered),
      errors.field("batch_size", "Batch size", batch, "Up to this many deliveries in one request (a JSON array). 1: one each."),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Which events"),
      errors.field("filter", "Payload filter (JSON)", filter, 'Only events whose payload matches, e.g. {"total": {"$gte": 100}}. Empty: every event.'),
    ),
    h("fieldset", {}, h("legend", {}, "Signing"), errors.field("signing", "Signature scheme", signing), publicKey),
  );

  const body = (): Record<string, unknown> => {
    const problems: ErrorDetail[] = [];
    const values: Settings = {
      headers: parseHeaders(headers.value, problems),
      timeout_ms: numberOf(timeout),
      max_attempts: numberOf(maxAttempts),
      retry_delays_seconds: parseDelays(delays.value) as number[] | null,
      rate_limit: numberOf(rate),
      filter: parseFilter(filter.value, problems) as Settings["filter"],
      ordered: ordered.checked,
      batch_size: numberOf(batch) ?? 1,
      signing: signing.value as Settings["signing"],
    };
    if (problems.length > 0) throw new ApiError(400, problems.map((p) => `${p.field}: ${p.message}`).join("; "), problems);
    const changed = ([key, value]: [string, unknown]) => (current ? JSON.stringify(value) !== JSON.stringify(current[key as keyof Settings]) : !blank(value));
    const out: Record<string, unknown> = Object.fromEntries(Object.entries(values).filter(changed));
    const a = authValue();
    if (a !== undefined) out.auth = a;
    return out;
  };
  return { element, body };
}
