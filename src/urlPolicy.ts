/**
 * Which webhook URLs are allowed. Pure: the address checks take literal addresses;
 * resolving names is the caller's business (at create time and again at connect time).
 */
import { BlockList, isIP } from "node:net";

export interface UrlRules {
  allowHttp: boolean;
  allowPrivateAddresses: boolean;
}

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

export type UrlCheck = { ok: true; url: URL; host: string; isAddress: boolean } | { ok: false; reason: string };

/**
 * Syntax and scheme rules, and the address rule for IP literals. WHATWG parsing
 * already turns odd IPv4 spellings (2130706433, 0x7f.1, 0177.0.0.1) into dotted form.
 */
export function checkUrl(raw: string, rules: UrlRules): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "is not a valid absolute URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, reason: "must use https (or http where allowed)" };
  if (url.protocol === "http:" && !rules.allowHttp) return { ok: false, reason: "must use https in this environment" };
  if (url.username || url.password) return { ok: false, reason: "must not carry credentials" };
  if (raw.length > 2048) return { ok: false, reason: "must be at most 2048 characters" };
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const isAddress = isIP(host) !== 0;
  if (!rules.allowPrivateAddresses) {
    if (isAddress && !isPublicAddress(host)) return { ok: false, reason: `points at a non-public address (${host})` };
    if (!isAddress && (host === "localhost" || host.endsWith(".localhost") || !host.includes(".")))
      return { ok: false, reason: `points at a local host name (${host})` };
  }
  return { ok: true, url, host, isAddress };
}
