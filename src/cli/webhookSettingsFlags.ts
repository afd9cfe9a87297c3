/**
 * The delivery-settings flags of `webhooks create|update`, named after the fields
 * (SPEC "Per-webhook delivery settings"), and what they become: the same input the
 * API takes, so the same rules (domain/webhookSettings.ts) judge both. A value that
 * is not even of the flag's form (a header without a colon, a number that is not one,
 * a filter that is not JSON) is a usage error here; the rest is the rules' to refuse.
 */
import { InvalidArgumentError, type Command } from "commander";
import { validationError } from "../errors.js";
import { SETTING_FIELDS, type SettingField, type SettingsInput } from "../domain/webhookSettings.js";

export interface SettingsFlags {
  header?: [string, string][];
  authBearer?: string;
  authOauth2TokenUrl?: string;
  authOauth2ClientId?: string;
  authOauth2ClientSecret?: string;
  authOauth2Scope?: string;
  timeoutMs?: number;
  maxAttempts?: number;
  retryDelays?: number[];
  rateLimit?: number;
  filter?: Record<string, unknown>;
  ordered?: boolean;
  batchSize?: number;
  signing?: string;
  reset?: SettingField[];
}

function header(value: string, previous: [string, string][] = []): [string, string][] {
  const colon = value.indexOf(":");
  if (colon <= 0) throw new InvalidArgumentError(`--header must be 'Name: value' (got ${JSON.stringify(value)})`);
  return [...previous, [value.slice(0, colon).trim(), value.slice(colon + 1).trim()]];
}

export const whole = (flag: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be a whole number`);
  return Number(value);
};

function number(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("--rate-limit must be a number (deliveries per second)");
  return n;
}

function delays(value: string): number[] {
  const parts = value.split(",").map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) throw new InvalidArgumentError("--retry-delays must be whole seconds separated by commas, e.g. 60,300,3600");
  return parts.map(Number);
}

function json(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`--filter must be JSON: ${(err as Error).message}`);
  }
  return parsed as Record<string, unknown>;
}

function boolean(value: string): boolean {
  if (value === "true" || value === "false") return value === "true";
  throw new InvalidArgumentError("--ordered must be true or false");
}

function field(value: string, previous: SettingField[] = []): SettingField[] {
  if (!(SETTING_FIELDS as readonly string[]).includes(value)) throw new InvalidArgumentError(`--reset must name one of ${SETTING_FIELDS.join(", ")}`);
  return [...previous, value as SettingField];
}

/** Adds the settings flags to `create` (or, with `reset`, to `update`). */
export function settingsOptions(cmd: Command, reset: boolean): Command {
  cmd
    .option("--header <'Name: value'>", "a header added to every request (repeat for more)", header)
    .option("--auth-bearer <token>", "send Authorization: Bearer <token>")
    .option("--auth-oauth2-token-url <url>", "OAuth2 client credentials: the token endpoint")
    .option("--auth-oauth2-client-id <id>", "OAuth2 client credentials: the client id")
    .option("--auth-oauth2-client-secret <secret>", "OAuth2 client credentials: the client secret (never shown again)")
    .option("--auth-oauth2-scope <scope>", "OAuth2 client credentials: the scope to ask for")
    .option("--timeout-ms <n>", "request timeout, 1000 up to dispatch.timeoutMs", whole("--timeout-ms"))
    .option("--max-attempts <n>", "attempts before a delivery fails, up to limits.maxAttempts", whole("--max-attempts"))
    .option("--retry-delays <seconds,...>", "delays after each failed attempt, e.g. 60,300,3600 (the last repeats)", delays)
    .option("--rate-limit <n>", "deliveries started per second, at most", number)
    .option("--filter <json>", "only events whose payload matches (README: Filters)", json)
    .option("--ordered <bool>", "true: strict first-in-first-out", boolean)
    .option("--batch-size <n>", "deliveries per request (batched POST), up to dispatch.maxBatchSize", whole("--batch-size"))
    .option("--signing <scheme>", "hmac or ed25519");
  if (reset) cmd.option("--reset <field>", `set a setting back to its default (repeatable): ${SETTING_FIELDS.join(", ")}`, field);
  return cmd;
}

/** The flags as the API's input fields; only the fields given (or reset). */
export function settingsInput(flags: SettingsFlags): SettingsInput {
  const input: SettingsInput = {};
  if (flags.header) {
    const seen = new Set<string>();
    for (const [name] of flags.header) {
      if (seen.has(name.toLowerCase())) throw validationError([{ field: "--header", message: `${name} is given twice` }]);
      seen.add(name.toLowerCase());
    }
    input.headers = Object.fromEntries(flags.header);
  }
  const oauth2 = [flags.authOauth2TokenUrl, flags.authOauth2ClientId, flags.authOauth2ClientSecret, flags.authOauth2Scope].some((v) => v !== undefined);
  if (oauth2 && flags.authBearer !== undefined) {
    throw validationError([{ field: "--auth-bearer", message: "give either --auth-bearer or the --auth-oauth2-* options, not both" }]);
  }
  if (flags.authBearer !== undefined) input.auth = { type: "bearer", token: flags.authBearer };
  if (oauth2) {
    input.auth = {
      type: "oauth2",
      token_url: flags.authOauth2TokenUrl,
      client_id: flags.authOauth2ClientId,
      client_secret: flags.authOauth2ClientSecret,
      ...(flags.authOauth2Scope === undefined ? {} : { scope: flags.authOauth2Scope }),
    };
  }
  const given: Partial<Record<SettingField, unknown>> = {
    timeout_ms: flags.timeoutMs,
    max_attempts: flags.maxAttempts,
    retry_delays_seconds: flags.retryDelays,
    rate_limit: flags.rateLimit,
    filter: flags.filter,
    ordered: flags.ordered,
    batch_size: flags.batchSize,
    signing: flags.signing,
  };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) input[k as SettingField] = v;
  for (const f of flags.reset ?? []) {
    if (input[f] !== undefined) throw validationError([{ field: "--reset", message: `${f} is both set and reset` }]);
    input[f] = null;
  }
  return input;
}
