/**
 * Which webhook URLs hookd may POST to, in one place: the syntax and scheme rules, the
 * address rule, and name resolution when a webhook is saved. The store calls `checkUrl`
 * and `resolvedUrlProblem` before it saves a URL; the dispatcher's agents apply the same
 * address rule to every address they dial (dispatch/connectGuard.ts), so a name
 * re-pointed later (DNS rebinding) still cannot reach the internal network.
 */
import dns, { type LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";

export interface UrlRules {
  allowHttp: boolean;
  allowPrivateAddresses: boolean;
}

export const MAX_URL_LENGTH = 2048;

const nonPublic = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  nonPublic.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["::", 96], // IPv4-compatible (deprecated)
  ["::ffff:0:0:0", 96], // IPv4-translated (SIIT): a translator turns it into whatever IPv4 it embeds
  ["64:ff9b::", 96], // NAT64: reaches whatever IPv4 it embeds
  ["64:ff9b:1::", 48],
  ["100::", 64],
  ["2001::", 23],
  ["2001:db8::", 32],
  ["2002::", 16], // 6to4 embeds an IPv4 address
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link local
  ["fec0::", 10], // site local (deprecated)
  ["ff00::", 8], // multicast
] as const) {
  nonPublic.addSubnet(net, prefix, "ipv6");
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), if it is one. */
function mappedIpv4(ip: string): string | null {
  const lower = ip.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return null;
}

/** True for an address on the public internet; false for loopback, private, link-local, … */
export function isPublicAddress(ip: string): boolean {
  const bare = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  const family = isIP(bare);
  if (family === 4) return !nonPublic.check(bare, "ipv4");
  if (family === 6) {
    const v4 = mappedIpv4(bare);
    if (v4 !== null) return isPublicAddress(v4);
    return !nonPublic.check(bare, "ipv6");
  }
  return false;
}

/**
 * Control characters (C0, DEL, C1), any Unicode whitespace, and lone surrogates. The URL
 * parser would quietly drop tabs and newlines or percent-encode the rest, so what the
 * user sees stored would differ from what they sent; and raw, they reach terminals.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE_CHARACTER = /[\u0000-\u0020\u007f-\u009f\s]|\p{Surrogate}/u;

export type UrlCheck = { ok: true; url: string; host: string; isAddress: boolean } | { ok: false; reason: string };

/**
 * Syntax and scheme rules, and the address rule for IP literals. Pure. `url` is the
 * normalised form, the one to store. WHATWG parsing already turns odd IPv4 spellings
 * (2130706433, 0x7f.1, 0177.0.0.1) into dotted form.
 */
export function checkUrl(raw: string, rules: UrlRules): UrlCheck {
  const unsafe = UNSAFE_CHARACTER.exec(raw);
  if (unsafe) {
    return { ok: false, reason: `must not contain whitespace, control characters or lone surrogates (found ${JSON.stringify(unsafe[0])} at ${unsafe.index})` };
  }
  if (raw.length > MAX_URL_LENGTH) return { ok: false, reason: `must be at most ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "is not a valid absolute URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, reason: "must use https (or http where allowed)" };
  if (url.protocol === "http:" && !rules.allowHttp) return { ok: false, reason: "must use https in this environment" };
  if (url.username || url.password) return { ok: false, reason: "must not carry credentials" };
  if (url.href.length > MAX_URL_LENGTH) return { ok: false, reason: `must be at most ${MAX_URL_LENGTH} characters once normalised` };
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const isAddress = isIP(host) !== 0;
  if (!rules.allowPrivateAddresses) {
    if (isAddress && !isPublicAddress(host)) return { ok: false, reason: `points at a non-public address (${host})` };
    if (!isAddress && (host === "localhost" || host.endsWith(".localhost") || !host.includes(".")))
      return { ok: false, reason: `points at a local host name (${host})` };
  }
  return { ok: true, url: url.href, host, isAddress };
}

/** The first address that is not public, if any. */
export function firstNonPublic(addresses: readonly LookupAddress[]): string | null {
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
 * The save-time half of the address rule for a URL `checkUrl` accepted: where private
 * addresses are not allowed, its host name must resolve, and only to public addresses.
 */
export async function resolvedUrlProblem(check: Extract<UrlCheck, { ok: true }>, rules: UrlRules): Promise<string | null> {
  if (rules.allowPrivateAddresses || check.isAddress) return null;
  return hostProblem(check.host);
}
