/**
 * The I/O half of the URL policy (src/urlPolicy.ts is the pure half): resolve host
 * names and refuse non-public addresses. Used twice: when a webhook is saved, so the
 * user hears about a bad URL at once, and for every connection the dispatcher opens,
 * on the address actually dialled, so a name that resolves somewhere else later
 * (DNS rebinding) still cannot reach the internal network.
 */
import dns, { type LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { HookdError, validationError, type ErrorDetail } from "./errors.js";
import { checkWebhookInput, type WebhookInput, type WebhookRules } from "./store/webhooks.js";
import type { WebhookTable } from "./store/schema.js";
import { checkUrl, isPublicAddress } from "./urlPolicy.js";

/** The error code src/dispatch/outcome.ts classifies as "blocked". */
export const BLOCKED_ADDRESS = "ERR_HOOKD_BLOCKED_ADDRESS";

export function blockedAddressError(host: string, address: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(
    host === address ? `refused to connect to non-public address ${address}` : `refused to connect to ${host}: it resolves to non-public address ${address}`,
  );
  err.code = BLOCKED_ADDRESS;
  return err;
}

/** The first address that is not public, if any. */
function firstNonPublic(addresses: readonly LookupAddress[]): string | null {
  return addresses.find((a) => !isPublicAddress(a.address))?.address ?? null;
}

/** Why `host` (a name, not an address) may not be a webhook's host, or null when every address it resolves to is public. */
export async function hostProblem(host: string): Promise<string | null> {
  let addresses: LookupAddress[];
  try {
    addresses = await dns.promises.lookup(host, { all: true, verbatim: true });
  } catch (err) {
    return `host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? "lookup failed"})`;
  }
  const bad = firstNonPublic(addresses);
  return bad === null ? null : `host ${host} resolves to a non-public address (${bad})`;
}

/**
 * A `lookup` for sockets that fails with ERR_HOOKD_BLOCKED_ADDRESS when the name
 * resolves to any non-public address, so the connection is never attempted.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) {
      callback(err, "", 0);
      return;
    }
    const bad = firstNonPublic(addresses);
    if (bad !== null) {
      callback(blockedAddressError(hostname, bad), "", 0);
      return;
    }
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

/** Problems other than the URL's, so one answer can name every bad field. */
function otherProblems(check: () => unknown): ErrorDetail[] {
  try {
    check();
    return [];
  } catch (err) {
    if (err instanceof HookdError) return err.details.filter((d) => d.field !== "url");
    throw err;
  }
}

/**
 * Save-time half of the address rule (the dispatcher's agents check again at connect
 * time): where private addresses are not allowed, a host name must resolve, and only
 * to public addresses. Syntax, scheme and IP literals are checkWebhookInput's.
 */
export async function refuseNonPublicHost(input: WebhookInput, rules: WebhookRules, mode: "create" | "update", current?: WebhookTable): Promise<void> {
  if (rules.url.allowPrivateAddresses || typeof input.url !== "string") return;
  const check = checkUrl(input.url, rules.url);
  if (!check.ok || check.isAddress) return;
  const problem = await hostProblem(check.host);
  if (problem === null) return;
  throw validationError([{ field: "url", message: problem }, ...otherProblems(() => checkWebhookInput(input, rules, mode, current))]);
}
